"""What the commands read: treaties and logs from files or standard input, and times.

Every file argument may be ``-``, standard input. A treaty is read from it whole (within
the size limit sources have); a log is copied to a temporary file first, block by block,
so that a run reads it as it reads any file (in bounded memory, again when it must).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import foedus
from foedus import MAX_SOURCE_BYTES
from foedus.diagnostics import Diagnostic, Span, error

__all__ = ["STDIN", "AsOfError", "events_file", "parse_as_of", "read_treaty"]

STDIN = "-"
STDIN_PATH = Path("/dev/stdin")
SUFFIXES = {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet", "arrow": ".arrow"}


def is_stdin(path: Path | str) -> bool:
    return str(path) == STDIN


def read_treaty(path: Path) -> foedus.CheckResult:
    """Check the treaty at ``path``, or on standard input for ``-`` (imports are then
    found from the current folder)."""
    if not is_stdin(path):
        return foedus.check_file(path)
    data = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)  # decode_source names the limit
    text, problems = foedus.decode_source(data, "<stdin>")
    if text is None:
        return foedus.CheckResult(None, problems, {})
    return foedus.check_source(text, "<stdin>", base_dir=Path.cwd())


@contextmanager
def events_file(path: Path, fmt: str | None) -> Iterator[Path]:
    """The log to read: ``path`` itself, or standard input copied to a temporary file with
    the suffix of ``fmt`` (JSON Lines unless given). A file named with an unknown suffix is
    read as ``fmt`` when given."""
    if not is_stdin(path) and fmt is None:
        yield path
        return
    suffix = SUFFIXES[fmt or "jsonl"]
    if is_stdin(path) and suffix in (".jsonl", ".csv") and STDIN_PATH.exists():
        # a text log is read as a stream, once, line by line within the record limit
        yield STDIN_PATH
        return
    with tempfile.TemporaryDirectory(prefix="foedus-") as folder:
        copy = Path(folder) / f"events{suffix}"
        if is_stdin(path):
            with copy.open("wb") as sink:
                shutil.copyfileobj(sys.stdin.buffer, sink, 1 << 20)
        else:
            try:
                copy.symlink_to(path.resolve())
            except OSError:
                shutil.copyfile(path, copy)
        yield copy


class AsOfError(ValueError):
    """An --as-of that cannot be read; ``diagnostic`` says why, with a hint."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def parse_as_of(text: str, zone: str, now: datetime | None = None) -> datetime:
    """An --as-of: ``now``, a bare date (the start of that day in the treaty's ``zone``),
    or an ISO 8601 time with an offset.

    >>> parse_as_of("2025-04-01", "Europe/Kyiv").isoformat()
    '2025-04-01T00:00:00+03:00'
    >>> parse_as_of("2022-04-01T10:00:00Z", "UTC").isoformat()
    '2022-04-01T10:00:00+00:00'
    """
    where = Span.point("--as-of", 1, 1, len(text))
    stripped = text.strip()
    if stripped == "now":
        return now or datetime.now(UTC)
    try:
        day = date.fromisoformat(stripped) if len(stripped) == 10 else None
    except ValueError:
        day = None
    if day is not None:
        tz = ZoneInfo(zone)
        try:
            # the day's first instant (a midnight in a gap moves forward, as deadlines do)
            return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC).astimezone(tz)
        except OverflowError:  # the first day of year 1, east of Greenwich
            raise AsOfError(error(
                "bad-as-of",
                f"as of {stripped} is out of range",
                where,
                suggestion="a time must lie between 0001-01-02 and 9999-12-30",
            )) from None
    try:
        at = datetime.fromisoformat(stripped)
    except ValueError:
        raise AsOfError(error(
            "bad-as-of",
            f"cannot read time `{text}`",
            where,
            suggestion="write `now`, a date such as 2022-04-01 (its start in the treaty's "
            "zone), or a time with a UTC offset such as 2022-04-01T00:00:00+03:00",
        )) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise AsOfError(error(
            "naive-as-of",
            f"time `{text}` has no time zone",
            where,
            suggestion="add a UTC offset such as +03:00 or Z, or give a bare date, which is "
            f"read in the treaty's zone ({zone})",
        ))
    return at
