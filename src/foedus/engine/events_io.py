"""Event logs in and out: JSON Lines, CSV, Parquet and Arrow, checked against a treaty.

Stage: after ``language.check`` (which gives the :class:`~foedus.language.model.Treaty`
whose ``event`` declarations we check against); before the monitor, which consumes
the :class:`~foedus.engine.model.Event` values returned here.

Two readers:

* :func:`load_events` reads any format record by record and reports every problem as a
  :class:`~foedus.diagnostics.Diagnostic` naming the file, the line and the field.
* :func:`load_columns` reads Parquet, Arrow or CSV with ``pyarrow``, checks whole columns
  at once with ``pyarrow.compute`` and only falls back to the record checker for the rows
  that fail, so the diagnostics are the same as :func:`load_events` gives.

Both are all-or-nothing unless ``skip_invalid`` is set: one bad record and
:class:`~foedus.diagnostics.EventError` is raised with every diagnostic, and no event is
returned. The formats are described in ``docs/events.md``. The record checker lives in
``events_check``, the vectorised path in ``events_columns``.

>>> from foedus.language import model as m
>>> attack = m.EventType("attack", (m.FieldDecl("victim", m.FieldType(m.FieldKind.PARTY)),), None)
>>> treaty = m.Treaty("t", "", (m.Party("UA", "Ukraine", ()),), (), (), (), (attack,), (), ())
>>> events, _ = read_events_text(
...     '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "attack", "victim": "UA"}', treaty)
>>> events[0].fields
{'victim': 'UA'}
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from foedus.diagnostics import Diagnostic, EventError, Span, error
from foedus.engine.events_check import RESERVED, EventChecker, Where
from foedus.engine.model import Event, FieldValue
from foedus.language.model import Treaty

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
ARROW_SUFFIXES = (".arrow", ".feather", ".ipc")
PROGRESS_EVERY = 10_000
Progress = Callable[[int], None]

__all__ = [
    "EventChecker",
    "event_format",
    "event_to_record",
    "load_columns",
    "load_events",
    "read_events_text",
    "write_events",
]


# ---------------------------------------------------------------- formats


def event_format(path: str | Path) -> str:
    """The format of an events file, from its suffix: jsonl, csv, parquet or arrow.

    >>> event_format("log.ndjson"), event_format("x.CSV"), event_format("a.pq")
    ('jsonl', 'csv', 'parquet')
    """
    suffix = Path(path).suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in ARROW_SUFFIXES:
        return "arrow"
    return "jsonl"


def _finish(
    events: list[Event], diags: list[Diagnostic], skip_invalid: bool
) -> tuple[list[Event], list[Diagnostic]]:
    if diags and not skip_invalid:
        raise EventError(diags)
    return events, diags


def read_events_text(
    text: str,
    treaty: Treaty,
    file: str = "<events>",
    *,
    fmt: str = "jsonl",
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> tuple[list[Event], list[Diagnostic]]:
    """Read events from JSON Lines or CSV text; see :func:`load_events`."""
    checker = EventChecker(treaty)
    events: list[Event] = []
    diags: list[Diagnostic] = []
    for count, (record, where, strings, problem) in enumerate(_records(text, file, fmt), 1):
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
        if problem is not None:
            diags.append(problem)
            continue
        event = checker.fast(record, where, strings)
        if event is None:
            event, found = checker.check(record, where, strings=strings)
            diags.extend(found)
        if event is not None:
            events.append(event)
    return _finish(events, diags, skip_invalid)


def _records(
    text: str, file: str, fmt: str
) -> Iterator[tuple[Any, Where, bool, Diagnostic | None]]:
    if fmt == "csv":
        yield from _csv_records(text, file)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = Where(file, number, line)
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield (
                None,
                where,
                False,
                error(
                    "event-invalid-json",
                    f"line is not valid JSON: {exc.msg}",
                    Span.point(file, number, exc.colno),
                    suggestion="each line must hold one complete JSON object",
                ),
            )
            continue
        yield record, where, False, None


def _csv_records(text: str, file: str) -> Iterator[tuple[Any, Where, bool, Diagnostic | None]]:
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text))
    header_row = next(reader, None)
    if header_row is None:
        return
    header = tuple(h.strip() for h in header_row)
    missing = [c for c in RESERVED if c not in header]
    if missing:
        yield (
            None,
            Where(file, 1),
            True,
            error(
                "events-missing-column",
                f"CSV header lacks column{'s' if len(missing) > 1 else ''} "
                + ", ".join(f"`{c}`" for c in missing),
                Span.point(file, 1, 1, len(lines[0]) if lines else 1),
                suggestion="the first line must name the columns: id,at,type, then one per field",
            ),
        )
        return
    start = reader.line_num + 1
    for row in reader:
        number = start
        start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        raw = lines[number - 1] if number - 1 < len(lines) else None
        where = Where(file, number, raw, header)
        if len(row) > len(header):
            yield (
                None,
                where,
                True,
                error(
                    "events-bad-row",
                    f"row has {len(row)} cells but the header names {len(header)} columns",
                    where.span(),
                    suggestion="quote cells that contain commas",
                ),
            )
            continue
        yield dict(zip(header, row, strict=False)), where, True, None


def load_events(
    path: str | Path,
    treaty: Treaty,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> tuple[list[Event], list[Diagnostic]]:
    """Read and check an event log: JSON Lines, CSV, Parquet or Arrow (by file suffix).

    Args:
        path: the events file.
        treaty: the checked treaty whose event declarations the events must follow.
        skip_invalid: keep the valid events and return the diagnostics of the others.
        progress: called with the number of records read so far, every 10,000 records
            (text formats only), so that an interface can show a progress bar.

    Returns:
        The events in file order and, with ``skip_invalid``, the diagnostics.

    Raises:
        EventError: any record is invalid and ``skip_invalid`` is false; nothing is returned.
    """
    file = str(path)
    fmt = event_format(path)
    if fmt in ("parquet", "arrow"):
        events, diags = load_columns(path, treaty, skip_invalid=skip_invalid)
        return list(events), diags
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EventError([file_missing(file)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EventError([file_unreadable(file, exc)]) from None
    return read_events_text(
        text, treaty, file, fmt=fmt, skip_invalid=skip_invalid, progress=progress
    )


def file_missing(file: str) -> Diagnostic:
    return error(
        "events-file-missing",
        f"events file `{file}` does not exist",
        context=file,
        suggestion="check the path; events are read from .jsonl, .csv, .parquet or .arrow files",
    )


def file_unreadable(file: str, exc: Exception) -> Diagnostic:
    return error("events-file-unreadable", f"cannot read events file `{file}`: {exc}", context=file)


def load_columns(
    path: str | Path, treaty: Treaty, *, skip_invalid: bool = False
) -> tuple[Iterator[Event], list[Diagnostic]]:
    """Read a columnar file checked vectorised; see :func:`events_columns.read_columns`."""
    from foedus.engine.events_columns import read_columns

    return read_columns(path, treaty, skip_invalid=skip_invalid)


# ---------------------------------------------------------------- writing


def event_to_record(event: Event) -> dict[str, Any]:
    """The JSON Lines record of an event, with its fields nested under ``fields``."""
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "type": event.type,
        "fields": dict(event.fields),
    }


def write_events(path: str | Path, events: Iterable[Event], fmt: str | None = None) -> None:
    """Write events as JSON Lines, CSV, Parquet or Arrow (by suffix unless ``fmt`` is given).

    Numbers are written as numbers, everything else as text; for tables, ``at`` becomes
    a UTC timestamp column and a field absent from an event is null.
    """
    fmt = fmt or event_format(path)
    items = list(events)
    if fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as f:
            for e in items:
                f.write(json.dumps(event_to_record(e), ensure_ascii=False, sort_keys=True))
                f.write("\n")
        return
    names = sorted({k for e in items for k in e.fields})
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow([*RESERVED, *names])
            for e in items:
                writer.writerow(
                    [e.id, e.at.isoformat(), e.type, *(_cell(e.fields.get(n)) for n in names)]
                )
        return
    import pyarrow as pa

    columns: dict[str, Any] = {
        "id": pa.array([e.id for e in items], pa.string()),
        "at": pa.array([e.at for e in items], pa.timestamp("us", tz="UTC")),
        "type": pa.array([e.type for e in items], pa.string()),
    }
    for n in names:
        values = [e.fields.get(n) for e in items]
        numeric = all(isinstance(v, int | float) for v in values if v is not None)
        columns[n] = pa.array(values, pa.float64() if numeric else pa.string())
    table = pa.table(columns)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)


def _cell(value: FieldValue | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def sorted_events(events: Sequence[Event]) -> list[Event]:
    """Events in the order the engine applies them: by time, then id."""
    return sorted(events, key=lambda e: e.order_key)
