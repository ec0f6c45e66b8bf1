"""Foedus: treaties and contracts as executable code.

The pipeline, in order (see docs/pipeline.md): ``language`` (text -> checked treaty),
``events`` (logs -> accepted events), ``engine`` (treaty + events -> verdicts),
``analysis``, then the interfaces (``cli``) which use only the names exported here.

>>> r = check_source('treaty t "T"\\nrole r\\nparty A role r\\nevent go(by: party)\\n'
...                  'clause c quote "A will not go" A must not go()')
>>> r.ok
True
"""

from importlib.metadata import PackageNotFoundError, version

from foedus.diagnostics import (
    Diagnostic,
    EventError,
    FoedusError,
    Severity,
    Span,
    TreatyError,
    render_json,
    render_text,
)
from foedus.engine.batch import BatchRun, EmptyLogError, run_file, run_file_full
from foedus.engine.model import RunResult
from foedus.engine.monitor import Monitor
from foedus.events import (
    RECORD_LIMIT,
    Event,
    LogReader,
    ReadProgress,
    event_format,
    load_events,
    read_events_text,
    write_events,
)
from foedus.language.check import CheckResult, check_file, check_source
from foedus.language.describe import describe_clause, describe_treaty
from foedus.language.model import Treaty, to_json
from foedus.language.parser import MAX_SOURCE_BYTES, decode_source, parse, read_source
from foedus.language.printer import format_source

try:
    __version__ = version("foedus")
except PackageNotFoundError:  # pragma: no cover - run from a source tree, not installed
    __version__ = "0+unknown"

__all__ = [
    "MAX_SOURCE_BYTES",
    "RECORD_LIMIT",
    "BatchRun",
    "CheckResult",
    "Diagnostic",
    "EmptyLogError",
    "Event",
    "EventError",
    "FoedusError",
    "LogReader",
    "Monitor",
    "ReadProgress",
    "RunResult",
    "Severity",
    "Span",
    "Treaty",
    "TreatyError",
    "check_file",
    "check_source",
    "decode_source",
    "describe_clause",
    "describe_treaty",
    "event_format",
    "format_source",
    "load_events",
    "parse",
    "read_events_text",
    "read_source",
    "render_json",
    "render_text",
    "run_file",
    "run_file_full",
    "to_json",
    "write_events",
]
