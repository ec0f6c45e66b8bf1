"""Text formats: JSON Lines and CSV, read as a stream of raw records.

Stage: the first step of reading a text log; each record then goes through the
acceptance rule (``events.accept``). Files are read line by line, never whole, so a
large log costs memory only for what the caller keeps. A line that cannot be a record
(invalid JSON, a CSV row with too many cells) comes out as a diagnostic instead.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from foedus.diagnostics import Diagnostic, EventError, Span, error
from foedus.events.accept import RECORD_LIMIT, RESERVED
from foedus.events.where import Where

if TYPE_CHECKING:
    from _csv import Reader  # what csv.reader returns (no public name in csv)

__all__ = ["Overlong", "RawRecord", "bounded_lines", "csv_records", "jsonl_records"]


class RawRecord(NamedTuple):
    """A record as read, where it came from, whether it holds cells, or why it is none."""

    record: Any
    where: Where
    cells: bool
    problem: Diagnostic | None = None


# the C scanner that json.loads wraps (typeshed does not list the attribute)
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_SPACE = " \t\n\r"


class Overlong(NamedTuple):
    """A line longer than the record limit: its start, and the limit it passed."""

    start: str
    limit: int


def bounded_lines(f: IO[str], limit: int = RECORD_LIMIT) -> Iterator[str | Overlong]:
    """The lines of ``f``, each read within ``limit`` characters. A longer line comes out
    as :class:`Overlong` and ends the lines: the rest of it is not read, so that no line,
    however long (or endless, as ``/dev/zero``), is held whole or waited for."""
    while True:
        line = f.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(("\n", "\r")):
            yield line
            continue
        yield Overlong(line[:200], limit)
        return


def _overlong(file: str, number: int, line: Overlong) -> EventError:
    """The end of a text log at a line too long to read: the log cannot be read past it,
    so no run goes on without the rest (not even one that skips invalid records)."""
    return EventError([error(
        "event-too-large",
        f"line {number} is longer than the limit of {line.limit:,} characters; the log "
        "is not read past it",
        Span.point(file, number, 1),
        suggestion="raise the limit with --max-record if records this large are meant",
    )])


def _loads(line: str) -> Any:
    """``json.loads(line)`` with its messages, without its Python wrapper's two regexes."""
    if line.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", line, 0)
    start = len(line) - len(line.lstrip(_SPACE))
    try:
        value, end = _SCAN(line, start)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", line, stop.value) from None
    if end != len(line) and line[end:].strip(_SPACE):
        raise json.JSONDecodeError("Extra data", line, end + len(line[end:]) - len(
            line[end:].lstrip(_SPACE)))
    return value


def jsonl_records(lines: Iterable[str | Overlong], file: str) -> Iterator[RawRecord]:
    """One record per non-blank line of JSON Lines text."""
    loads = _loads
    for number, line in enumerate(lines, start=1):
        if type(line) is Overlong:
            raise _overlong(file, number, line)
        assert isinstance(line, str)
        if not line or line.isspace():
            continue
        line = line.rstrip("\r\n")
        where = Where(file, number, line)
        try:
            record = loads(line)
        except json.JSONDecodeError as exc:
            yield RawRecord(None, where, False, error(
                "event-invalid-json",
                f"line is not valid JSON: {exc.msg}",
                Span.point(file, number, exc.colno),
                suggestion="each line must hold one complete JSON object",
            ))
            continue
        except (RecursionError, ValueError) as exc:  # nested too deep, a number too long
            reason = "it nests too deep" if isinstance(exc, RecursionError) else str(exc)
            yield RawRecord(None, where, False, error(
                "event-invalid-json",
                f"line cannot be read as JSON: {reason}",
                Span.point(file, number, 1),
                suggestion="each line must hold one flat JSON object",
            ))
            continue
        yield RawRecord(record, where, False)


def csv_records(lines: Iterable[str | Overlong], file: str,
                limit: int = RECORD_LIMIT) -> Iterator[RawRecord]:
    """One record per non-empty row of CSV text with a header line; cells stay text.

    A line longer than the record limit ends the file with a problem: where the next row
    begins is not known (a quoted cell may hold line breaks).
    """
    raw_lines: list[str] = []
    overlong: list[Overlong] = []

    def remember(source: Iterable[str | Overlong]) -> Iterator[str]:
        for line in source:
            if type(line) is Overlong:
                overlong.append(line)
                return
            assert isinstance(line, str)
            raw_lines.append(line.rstrip("\r\n"))
            yield line

    csv.field_size_limit(limit)  # a cell whose quote never closes would be the whole file
    reader = csv.reader(remember(lines))
    yield from _csv_rows(reader, raw_lines, file)
    if overlong:
        raise _overlong(file, reader.line_num + 1, overlong[0])


def _csv_rows(reader: Reader, raw_lines: list[str], file: str) -> Iterator[RawRecord]:
    header_row = next(reader, None)
    if header_row is None:
        return
    header = tuple(h.strip() for h in header_row)
    missing = [c for c in RESERVED if c not in header]
    twice = sorted(h for h, k in Counter(header).items() if k > 1)
    first = raw_lines[0] if raw_lines else ""
    if missing:
        yield RawRecord(None, Where(file, 1), True, error(
            "events-missing-column",
            f"CSV header lacks column{'s' if len(missing) > 1 else ''} "
            + ", ".join(f"`{c}`" for c in missing),
            Span.point(file, 1, 1, len(first) or 1),
            suggestion="the first line must name the columns: id,at,type, then one per field",
        ))
        return
    if twice:
        yield RawRecord(None, Where(file, 1), True, error(
            "events-duplicate-column",
            "CSV header names more than one column " + ", ".join(f"`{h}`" for h in twice),
            Span.point(file, 1, 1, len(first) or 1),
            suggestion="give each column its own name",
        ))
        return
    raw_lines.clear()
    start = reader.line_num + 1
    for row in _rows(reader, file):
        if isinstance(row, Diagnostic):
            yield RawRecord(None, Where(file, start), True, row)
            return
        number = start
        start = reader.line_num + 1
        raw = raw_lines[0] if raw_lines else None  # a quoted cell may span lines
        raw_lines.clear()
        if not any(cell.strip() for cell in row):
            continue
        where = Where(file, number, raw, header)
        if len(row) > len(header):
            yield RawRecord(None, where, True, error(
                "events-bad-row",
                f"row has {len(row)} cells but the header names {len(header)} columns",
                where.span(),
                suggestion="quote cells that contain commas",
            ))
            continue
        yield RawRecord(dict(zip(header, row, strict=False)), where, True)


def _rows(reader: Reader, file: str) -> Iterator[list[str] | Diagnostic]:
    """The rows of a CSV reader; a row it cannot read ends the file with a diagnostic."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield error(
                "events-bad-row",
                f"cannot read this CSV row: {exc}",
                Span.point(file, reader.line_num or 1, 1),
                suggestion="check the quoting of the row's cells (a quote opened and not "
                "closed makes the rest of the file one cell)",
            )
            return
        yield row
