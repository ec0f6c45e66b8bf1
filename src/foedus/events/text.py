"""Text formats: JSON Lines and CSV, read as a stream of raw records.

Stage: the first step of reading a text log; each record then goes through the
acceptance rule (``events.accept``). Files are read line by line, never whole, so a
large log costs memory only for what the caller keeps. A line that cannot be a record
(invalid JSON, a CSV row with too many cells) comes out as a diagnostic instead.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from foedus.diagnostics import Diagnostic, Span, error
from foedus.events.accept import RESERVED
from foedus.events.where import Where

if TYPE_CHECKING:
    from _csv import Reader  # what csv.reader returns (no public name in csv)

__all__ = ["RawRecord", "csv_records", "jsonl_records"]


class RawRecord(NamedTuple):
    """A record as read, where it came from, whether it holds cells, or why it is none."""

    record: Any
    where: Where
    cells: bool
    problem: Diagnostic | None = None


# the C scanner that json.loads wraps (typeshed does not list the attribute)
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_SPACE = " \t\n\r"
CELL_LIMIT = 64 * 2**20  # a CSV cell may hold as much as a JSON Lines value


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


def jsonl_records(lines: Iterable[str], file: str) -> Iterator[RawRecord]:
    """One record per non-blank line of JSON Lines text."""
    loads = _loads
    for number, line in enumerate(lines, start=1):
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


def csv_records(lines: Iterable[str], file: str) -> Iterator[RawRecord]:
    """One record per non-empty row of CSV text with a header line; cells stay text."""
    raw_lines: list[str] = []

    def remember(source: Iterable[str]) -> Iterator[str]:
        for line in source:
            raw_lines.append(line.rstrip("\r\n"))
            yield line

    csv.field_size_limit(CELL_LIMIT)
    reader = csv.reader(remember(lines))
    header_row = next(reader, None)
    if header_row is None:
        return
    header = tuple(h.strip() for h in header_row)
    missing = [c for c in RESERVED if c not in header]
    twice = sorted({h for h in header if header.count(h) > 1})
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
