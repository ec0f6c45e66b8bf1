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
returned. The formats are described in ``docs/events.md``.

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
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from foedus.diagnostics import Diagnostic, EventError, Span, did_you_mean, error
from foedus.engine.model import Event, FieldValue
from foedus.language.model import EventType, FieldKind, Treaty

RESERVED = ("id", "at", "type")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
ARROW_SUFFIXES = (".arrow", ".feather", ".ipc")
NUMBER_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
# Common non-ISO codes people write for a party, mapped to the ISO 3166 code.
PARTY_ALIASES = {"UK": "GB", "EL": "GR", "USA": "US", "RUS": "RU", "UKR": "UA"}
TIME_HINT = "write an ISO 8601 time with a UTC offset, such as 2022-03-29T10:00:00+03:00"

__all__ = [
    "EventChecker",
    "event_format",
    "event_to_record",
    "load_columns",
    "load_events",
    "read_events_text",
    "write_events",
]


# ---------------------------------------------------------------- locating problems


@dataclass(frozen=True, slots=True)
class Where:
    """Where a record came from: file, line (or row) and, for text formats, the raw line."""

    file: str
    line: int
    raw: str | None = None
    csv_header: tuple[str, ...] | None = None

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"

    def span(self, key: str | None = None, value: Any = None) -> Span:
        """Point at the field's key or value in the raw line when it can be found, else column 1."""
        column, width = 1, 1
        if self.raw is not None and key is not None:
            found = self._find(key, value)
            if found is not None:
                column, width = found
        return Span.point(self.file, self.line, column, width)

    def _find(self, key: str, value: Any) -> tuple[int, int] | None:
        raw = self.raw or ""
        if self.csv_header is not None:
            # Cell offsets are exact only when no cell is quoted.
            if '"' in raw or key not in self.csv_header:
                return None
            cells = raw.split(",")
            index = self.csv_header.index(key)
            if index >= len(cells):
                return None
            start = sum(len(c) + 1 for c in cells[:index])
            return start + 1, max(len(cells[index]), 1)
        quoted = json.dumps(key, ensure_ascii=False)
        at = raw.find(quoted + ":")
        if at < 0:
            at = raw.find(quoted)
        if at < 0:
            return None
        if value is not None and not isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False)
            vat = raw.find(text, at + len(quoted))
            if vat >= 0:
                return vat + 1, len(text)
        return at + 1, len(quoted)


# ---------------------------------------------------------------- the record checker


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


class EventChecker:
    """Checks raw records (JSON objects or CSV rows) against a treaty's event declarations.

    ``strings`` is set for CSV-like sources where every cell is text: numbers are then read
    from their text and an empty cell means the field is absent.
    """

    def __init__(self, treaty: Treaty):
        self.treaty = treaty
        self.types: dict[str, EventType] = {e.name: e for e in treaty.events}
        self.parties = tuple(p.code for p in treaty.parties)
        self.party_set = frozenset(self.parties)
        self.territories = tuple(t.name for t in treaty.territories)
        self.territory_set = frozenset(self.territories)
        self.seen: dict[str, int] = {}  # event id -> line of first occurrence

    # -- one record

    def check(
        self, record: Any, where: Where, *, strings: bool = False
    ) -> tuple[Event | None, list[Diagnostic]]:
        """Return the event, or None and the diagnostics that explain why there is none."""
        if not isinstance(record, dict):
            return None, [
                error(
                    "event-not-object",
                    f"each record must be a JSON object, found {_kind_of(record)}",
                    where.span(),
                    suggestion='write one object per line: {"id": ..., "at": ..., "type": ...}',
                )
            ]
        diags: list[Diagnostic] = []
        raw_id = record.get("id")
        if isinstance(raw_id, int | float) and not isinstance(raw_id, bool):
            raw_id = str(raw_id) if not isinstance(raw_id, float) else _show(raw_id)
        if raw_id is None or (isinstance(raw_id, str) and raw_id.strip() == ""):
            diags.append(
                error(
                    "event-empty-id",
                    "event has no id" if raw_id is None else "event has an empty id",
                    where.span("id", raw_id),
                    suggestion="give every event a unique, non-empty `id`",
                )
            )
            event_id = None
        elif not isinstance(raw_id, str):
            diags.append(
                error(
                    "event-wrong-type",
                    f"`id` must be text, found {_kind_of(raw_id)}",
                    where.span("id", raw_id),
                )
            )
            event_id = None
        else:
            event_id = raw_id
        context = f"event {event_id}" if event_id else None

        at = self._time(record.get("at"), where, context, diags)
        type_name = record.get("type")
        fields_in = self._fields_of(record, where, context, diags, strings)
        etype: EventType | None = None
        if type_name is None or type_name == "":
            diags.append(
                error(
                    "event-missing-key",
                    "event has no `type`",
                    where.span("type"),
                    context=context,
                    suggestion="name one of the declared event types: " + self._type_list(),
                )
            )
        elif not isinstance(type_name, str) or type_name not in self.types:
            guess = did_you_mean(str(type_name), self.types) if isinstance(type_name, str) else None
            diags.append(
                error(
                    "event-unknown-type",
                    f"unknown event type `{_show(type_name)}`",
                    where.span("type", type_name),
                    context=context,
                    notes=(f"the treaty declares: {self._type_list()}",),
                    suggestion=f"did you mean `{guess}`?" if guess else None,
                )
            )
        else:
            etype = self.types[type_name]

        values: dict[str, FieldValue] = {}
        if etype is not None and fields_in is not None:
            values = self._check_fields(etype, fields_in, where, context, diags, strings)

        if event_id is not None:
            first = self.seen.get(event_id)
            if first is not None:
                diags.append(
                    error(
                        "event-duplicate-id",
                        f"event id `{event_id}` is used twice",
                        where.span("id", event_id),
                        context=context,
                        notes=(f"first used at {where.file}:{first}",),
                        suggestion="every event needs its own id",
                    )
                )
            elif not diags:
                self.seen[event_id] = where.line
        if diags or event_id is None or at is None or etype is None:
            return None, diags
        return Event(event_id, at, etype.name, values, where.source), []

    def _type_list(self) -> str:
        return ", ".join(sorted(self.types)) or "(none)"

    def _time(
        self, raw: Any, where: Where, context: str | None, diags: list[Diagnostic]
    ) -> datetime | None:
        if raw is None or raw == "":
            diags.append(
                error(
                    "event-missing-key",
                    "event has no time `at`",
                    where.span("at"),
                    context=context,
                    suggestion=TIME_HINT,
                )
            )
            return None
        if isinstance(raw, datetime):
            parsed = raw
        elif not isinstance(raw, str):
            diags.append(
                error(
                    "event-bad-time",
                    f"time `at` must be text, found {_kind_of(raw)}",
                    where.span("at", raw),
                    context=context,
                    suggestion=TIME_HINT,
                )
            )
            return None
        else:
            try:
                parsed = datetime.fromisoformat(raw.strip())
            except ValueError:
                diags.append(
                    error(
                        "event-bad-time",
                        f"cannot read time `{raw}`",
                        where.span("at", raw),
                        context=context,
                        suggestion=TIME_HINT,
                    )
                )
                return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            diags.append(
                error(
                    "event-naive-time",
                    f"time `{_show(raw) if not isinstance(raw, datetime) else raw.isoformat()}` "
                    "has no time zone",
                    where.span("at", raw if isinstance(raw, str) else None),
                    context=context,
                    suggestion="add a UTC offset such as +03:00 or Z",
                )
            )
            return None
        return parsed

    def _fields_of(
        self,
        record: dict[str, Any],
        where: Where,
        context: str | None,
        diags: list[Diagnostic],
        strings: bool,
    ) -> dict[str, Any] | None:
        nested = record.get("fields")
        out: dict[str, Any] = {}
        if nested is not None and not strings:
            if not isinstance(nested, dict):
                diags.append(
                    error(
                        "event-not-object",
                        f"`fields` must be a JSON object, found {_kind_of(nested)}",
                        where.span("fields"),
                        context=context,
                    )
                )
                return None
            out.update(nested)
        for key, value in record.items():
            if key in RESERVED or (key == "fields" and not strings):
                continue
            if key in out:
                diags.append(
                    error(
                        "event-duplicate-field",
                        f"field `{key}` is given both in `fields` and at the top level",
                        where.span(key),
                        context=context,
                        suggestion="give each field once",
                    )
                )
                continue
            out[key] = value
        # Absent and empty are the same: null in JSON, an empty cell in CSV.
        return {k: v for k, v in out.items() if v is not None and not (strings and v == "")}

    def _check_fields(
        self,
        etype: EventType,
        given: dict[str, Any],
        where: Where,
        context: str | None,
        diags: list[Diagnostic],
        strings: bool,
    ) -> dict[str, FieldValue]:
        values: dict[str, FieldValue] = {}
        declared = [f.name for f in etype.fields]
        signature = ", ".join(f"{f.name}: {f.type.describe()}" for f in etype.fields)
        for name in given:
            if etype.field(name) is None:
                guess = did_you_mean(name, [d for d in declared if d not in given])
                diags.append(
                    error(
                        "event-extra-field",
                        f"event type `{etype.name}` has no field `{name}`",
                        where.span(name),
                        context=context,
                        notes=(f"`{etype.name}` is declared as {etype.name}({signature})",),
                        suggestion=f"did you mean `{guess}`?" if guess else "remove the field",
                    )
                )
        for decl in etype.fields:
            if decl.name not in given:
                diags.append(
                    error(
                        "event-missing-field",
                        f"event of type `{etype.name}` lacks field `{decl.name}`",
                        where.span(),
                        context=context,
                        notes=(f"`{etype.name}` is declared as {etype.name}({signature})",),
                        suggestion=f"add `{decl.name}`: a {decl.type.describe()}",
                    )
                )
                continue
            value = self._value(
                decl.name,
                decl.type.kind,
                decl.type.options,
                given[decl.name],
                where,
                context,
                diags,
                strings,
            )
            if value is not None:
                values[decl.name] = value
        return values

    def _value(
        self,
        name: str,
        kind: FieldKind,
        options: tuple[str, ...],
        raw: Any,
        where: Where,
        context: str | None,
        diags: list[Diagnostic],
        strings: bool,
    ) -> FieldValue | None:
        span = where.span(name, raw)
        if kind is FieldKind.NUMBER:
            if isinstance(raw, bool) or not isinstance(raw, int | float | str):
                number = None
            elif isinstance(raw, str):
                number = _parse_number(raw) if strings else None
            else:
                number = float(raw)
            if number is None or not math.isfinite(number):
                diags.append(
                    error(
                        "event-wrong-type",
                        f"field `{name}` must be a number, found {_kind_of(raw)} `{_show(raw)}`",
                        span,
                        context=context,
                        suggestion="write a number such as 3 or 2.5, without quotes"
                        if not strings
                        else "write a number such as 3 or 2.5",
                    )
                )
                return None
            return number
        if not isinstance(raw, str):
            diags.append(
                error(
                    "event-wrong-type",
                    f"field `{name}` must be {_expected(kind, options)}, "
                    f"found {_kind_of(raw)} `{_show(raw)}`",
                    span,
                    context=context,
                    suggestion="write it as a JSON string in quotes",
                )
            )
            return None
        if kind is FieldKind.PARTY and raw not in self.party_set:
            alias = PARTY_ALIASES.get(raw.upper())
            guess = alias if alias in self.party_set else did_you_mean(raw, self.parties)
            diags.append(
                error(
                    "event-unknown-party",
                    f"unknown party `{raw}` in field `{name}`",
                    span,
                    context=context,
                    notes=(f"the treaty's parties are: {', '.join(sorted(self.parties))}",),
                    suggestion=f"did you mean `{guess}`?" if guess else None,
                )
            )
            return None
        if kind is FieldKind.TERRITORY and raw not in self.territory_set:
            guess = did_you_mean(raw, self.territories)
            diags.append(
                error(
                    "event-unknown-territory",
                    f"unknown territory `{raw}` in field `{name}`",
                    span,
                    context=context,
                    notes=(f"the treaty's territories are: {', '.join(sorted(self.territories))}",),
                    suggestion=f"did you mean `{guess}`?" if guess else None,
                )
            )
            return None
        if kind is FieldKind.ENUM and raw not in options:
            guess = did_you_mean(raw, options)
            diags.append(
                error(
                    "event-unknown-option",
                    f"`{raw}` is not an option of field `{name}`",
                    span,
                    context=context,
                    notes=(f"`{name}` is one of: {' | '.join(options)}",),
                    suggestion=f"did you mean `{guess}`?" if guess else None,
                )
            )
            return None
        return raw


def _expected(kind: FieldKind, options: tuple[str, ...]) -> str:
    if kind is FieldKind.ENUM:
        return "one of " + " | ".join(options)
    return {"party": "a party code", "territory": "a territory name", "text": "text"}[kind.value]


def _parse_number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


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
) -> tuple[list[Event], list[Diagnostic]]:
    """Read events from JSON Lines or CSV text; see :func:`load_events`."""
    checker = EventChecker(treaty)
    events: list[Event] = []
    diags: list[Diagnostic] = []
    for record, where, strings, problem in _records(text, file, fmt):
        if problem is not None:
            diags.append(problem)
            continue
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
    path: str | Path, treaty: Treaty, skip_invalid: bool = False
) -> tuple[list[Event], list[Diagnostic]]:
    """Read and check an event log: JSON Lines, CSV, Parquet or Arrow (by file suffix).

    Args:
        path: the events file.
        treaty: the checked treaty whose event declarations the events must follow.
        skip_invalid: keep the valid events and return the diagnostics of the others.

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
        raise EventError([_missing(file)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EventError([_unreadable(file, exc)]) from None
    return read_events_text(text, treaty, file, fmt=fmt, skip_invalid=skip_invalid)


def _missing(file: str) -> Diagnostic:
    return error(
        "events-file-missing",
        f"events file `{file}` does not exist",
        context=file,
        suggestion="check the path; events are read from .jsonl, .csv, .parquet or .arrow files",
    )


def _unreadable(file: str, exc: Exception) -> Diagnostic:
    return error("events-file-unreadable", f"cannot read events file `{file}`: {exc}", context=file)


# ---------------------------------------------------------------- the columnar path


def load_columns(
    path: str | Path, treaty: Treaty, *, skip_invalid: bool = False
) -> tuple[Iterator[Event], list[Diagnostic]]:
    """Read a Parquet, Arrow or CSV file as columns, check it vectorised, and yield events.

    The checks run on whole columns with ``pyarrow.compute``; only rows that fail are
    checked again one by one to produce the same diagnostics as :func:`load_events`.
    For Parquet and Arrow the span's line is the row number (1 = first row); for CSV it
    is the file line.

    Returns:
        A lazy iterator of events in file order, and the diagnostics (with ``skip_invalid``).

    Raises:
        EventError: any row is invalid and ``skip_invalid`` is false.
    """
    import pyarrow as pa

    file = str(path)
    fmt = event_format(path)
    if not Path(path).exists():
        raise EventError([_missing(file)])
    try:
        table = _read_table(path, fmt)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise EventError([_unreadable(file, exc)]) from None
    checker = EventChecker(treaty)
    missing = [c for c in RESERVED if c not in table.column_names]
    if missing:
        raise EventError(
            [
                error(
                    "events-missing-column",
                    "events table lacks column"
                    + ("s " if len(missing) > 1 else " ")
                    + ", ".join(f"`{c}`" for c in missing),
                    Span.point(file, 1, 1),
                    suggestion="an events table has columns id, at, type, then one per field",
                )
            ]
        )
    line_offset = 2 if fmt == "csv" else 1  # CSV: header is line 1; tables: rows from 1
    bad, at_col = _vector_check(table, checker)
    diags: list[Diagnostic] = []
    if bad:
        rows = table.take(sorted(bad)).to_pylist() if bad else []
        text_lines = (
            Path(path).read_text(encoding="utf-8-sig").splitlines() if fmt == "csv" else None
        )
        header = tuple(table.column_names) if fmt == "csv" else None
        # Duplicate ids name the first occurrence: prime the checker with good rows' ids.
        ids = table.column("id").to_pylist()
        for index, row in zip(sorted(bad), rows, strict=True):
            line = index + line_offset
            raw = text_lines[line - 1] if text_lines and line - 1 < len(text_lines) else None
            record = {k: _plain(v) for k, v in row.items()}
            event_id = record.get("id")
            if isinstance(event_id, str) and event_id not in checker.seen:
                first = ids.index(event_id)
                if first < index:
                    checker.seen[event_id] = first + line_offset
            _, found = checker.check(record, Where(file, line, raw, header), strings=True)
            if not found:
                found = [
                    error(
                        "event-wrong-type",
                        "row has a value of the wrong kind",
                        Span.point(file, line, 1),
                    )
                ]
            diags.extend(found)
        if not skip_invalid:
            raise EventError(diags)
        keep = [i for i in range(table.num_rows) if i not in bad]
        table = table.take(keep)
        at_col = at_col.take(keep)
    return _iter_table(table, at_col, checker, file, line_offset), diags


def _plain(value: Any) -> Any:
    # A naive timestamp column gives naive datetimes: the checker names the missing zone.
    return value.isoformat() if isinstance(value, datetime) else value


def _read_table(path: str | Path, fmt: str) -> Any:
    import pyarrow as pa

    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    if fmt == "arrow":
        with pa.memory_map(str(path)) as source:
            try:
                return pa.ipc.open_file(source).read_all()
            except pa.ArrowInvalid:
                source.seek(0)
                return pa.ipc.open_stream(source).read_all()
    import pyarrow.csv as pcsv

    # Every column as text, empty cell = null: the checks below give the kinds meaning.
    with open(path, "rb") as f:
        header = f.readline().decode("utf-8-sig").strip()
    names = next(csv.reader([header])) if header else []
    return pcsv.read_csv(
        path,
        convert_options=pcsv.ConvertOptions(
            column_types={n.strip(): pa.string() for n in names},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )


def _vector_check(table: Any, checker: EventChecker) -> tuple[set[int], Any]:
    """Indices of rows that fail any check, and the ``at`` column as UTC timestamps."""
    import pyarrow as pa
    import pyarrow.compute as pc

    bad: set[int] = set()

    def mark(mask: Any) -> None:
        mask = pc.fill_null(mask, True)
        if pc.any(mask).as_py():
            bad.update(pc.indices_nonzero(mask).to_pylist())

    ids = table.column("id")
    if not pa.types.is_string(ids.type) and not pa.types.is_large_string(ids.type):
        ids = pc.cast(ids, pa.string())
    mark(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(ids)), 0))
    mark(pc.is_null(ids))
    if pc.count_distinct(ids).as_py() != len(ids) - ids.null_count:
        counts = pc.value_counts(ids)
        dupes = set(
            counts.filter(pc.greater(counts.field("counts"), 1)).field("values").to_pylist()
        )
        # The first occurrence is valid; later ones are marked.
        seen: set[str] = set()
        for i, value in enumerate(ids.to_pylist()):
            if value in dupes:
                if value in seen:
                    bad.add(i)
                seen.add(value)

    utc = pa.timestamp("us", tz="UTC")
    at = table.column("at")
    if pa.types.is_timestamp(at.type):
        if at.type.tz is None:
            bad.update(range(table.num_rows))
            at_col = at
        else:
            at_col = pc.cast(at, utc)
    else:
        try:
            at_col = pc.cast(at, utc)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # Find the rows one by one; the record checker names the problem.
            parsed = []
            for i, v in enumerate(at.to_pylist()):
                try:
                    value = datetime.fromisoformat(v) if isinstance(v, str) else None
                except ValueError:
                    value = None
                if value is None or value.tzinfo is None:
                    bad.add(i)
                    value = None
                parsed.append(value)
            at_col = pa.array(parsed, type=utc)
    mark(pc.is_null(at_col))

    types = table.column("type")
    mark(pc.invert(pc.is_in(types, value_set=pa.array(sorted(checker.types), pa.string()))))
    field_columns = [c for c in table.column_names if c not in RESERVED and c != "fields"]
    if "fields" in table.column_names:
        bad.update(range(table.num_rows))  # nested fields: leave them to the record checker
    for name, etype in checker.types.items():
        is_type = pc.fill_null(pc.equal(types, name), False)
        if not pc.any(is_type).as_py():
            continue
        declared = {f.name for f in etype.fields}
        for column in field_columns:
            if column not in declared:
                mark(pc.and_kleene(is_type, pc.is_valid(table.column(column))))
        for decl in etype.fields:
            if decl.name not in table.column_names:
                mark(is_type)
                continue
            col = table.column(decl.name)
            mark(pc.and_kleene(is_type, pc.is_null(col)))
            kind = decl.type.kind
            if kind is FieldKind.NUMBER:
                if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                    numeric = pc.match_substring_regex(col, NUMBER_RE)
                    mark(pc.and_kleene(is_type, pc.invert(numeric)))
                    col = pc.cast(pc.if_else(numeric, col, "0"), pa.float64())
                elif not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
                    mark(is_type)
                    continue
                mark(pc.and_kleene(is_type, pc.invert(pc.is_finite(pc.cast(col, pa.float64())))))
                continue
            if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
                mark(is_type)
                continue
            allowed = {
                FieldKind.PARTY: checker.parties,
                FieldKind.TERRITORY: checker.territories,
                FieldKind.ENUM: decl.type.options,
            }.get(kind)
            if allowed is not None:
                inside = pc.is_in(col, value_set=pa.array(list(allowed), pa.string()))
                mark(pc.and_kleene(is_type, pc.invert(inside)))
    return bad, at_col


def _iter_table(
    table: Any, at_col: Any, checker: EventChecker, file: str, line_offset: int
) -> Iterator[Event]:
    import pyarrow as pa
    import pyarrow.compute as pc

    field_specs: dict[str, list[tuple[str, bool]]] = {
        name: [(f.name, f.type.kind is FieldKind.NUMBER) for f in etype.fields]
        for name, etype in checker.types.items()
    }
    batch = 65_536
    for start in range(0, table.num_rows, batch):
        part = table.slice(start, batch)
        ids = part.column("id")
        if not pa.types.is_string(ids.type):
            ids = pc.cast(ids, pa.string())
        id_list = ids.to_pylist()
        at_list = at_col.slice(start, batch).to_pylist()
        type_list = part.column("type").to_pylist()
        columns: dict[str, list[Any]] = {}
        for name in part.column_names:
            if name in RESERVED:
                continue
            columns[name] = part.column(name).to_pylist()
        for i, (event_id, at, type_name) in enumerate(
            zip(id_list, at_list, type_list, strict=True)
        ):
            values: dict[str, FieldValue] = {}
            for fname, numeric in field_specs[type_name]:
                v = columns[fname][i]
                values[fname] = float(v) if numeric else v
            yield Event(event_id, at, type_name, values, f"{file}:{start + i + line_offset}")


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
