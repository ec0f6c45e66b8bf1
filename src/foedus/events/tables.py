"""Table formats: Parquet and Arrow IPC, read in record batches and checked by columns.

Stage: the first step of reading a table log. :func:`table_batches` yields the file's
record batches; :func:`check_batch` accepts the plainly valid rows of one batch with
``pyarrow.compute`` and hands every other row, as a record, to the acceptance rule
(``events.accept``), which accepts it or says why not. So a table gets the verdicts and
messages a JSON Lines log gets, and the vectorised checks only ever make reading faster:
a row they do not vouch for is still judged by the rule.

A table holds cells: a number field may be a numeric column or numeric text, and an
empty string is an absent field, as in CSV. ``at`` is a timestamp column with a time
zone, or text in ISO 8601 with an offset; times are kept to the microsecond.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from foedus.diagnostics import Diagnostic, EventError, Span, error
from foedus.events.accept import RESERVED, Acceptor
from foedus.events.model import EPOCH, FIRST_INSTANT, LAST_INSTANT, Event, FieldValue, micros
from foedus.events.where import Where
from foedus.language.model import FieldKind

__all__ = ["BATCH_ROWS", "CheckedBatch", "check_batch", "table_batches"]

BATCH_ROWS = 1 << 16
UTC_US = pa.timestamp("us", tz="UTC")
# The ISO 8601 times that pyarrow and datetime.fromisoformat read alike.
ISO_RE = (
    r"^\s*\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d"
    r"(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)\s*$"
)
# Numbers written as text that pyarrow and float() read alike.
NUMBER_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
# The instants an event may have (as the rule says), in microseconds since the epoch.
MIN_US = micros(FIRST_INSTANT)
MAX_US = micros(LAST_INSTANT)


def table_batches(path: Path, fmt: str, name: str | None = None) -> Iterator[pa.Table]:
    """The record batches of a Parquet or Arrow file, as tables with unique column names
    (``name``: what messages call the file, when not its path).

    Raises:
        EventError: the file cannot be read as that format, or lacks a reserved column.
    """
    file = name or str(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            source = pq.ParquetFile(path)
            names = source.schema_arrow.names
            batches: Iterator[Any] = source.iter_batches(batch_size=BATCH_ROWS)
        else:
            mm = pa.memory_map(str(path))
            try:
                ipc: Any = pa.ipc.open_file(mm)
                batches = (ipc.get_batch(i) for i in range(ipc.num_record_batches))
            except pa.ArrowInvalid:
                mm.seek(0)
                ipc = pa.ipc.open_stream(mm)
                batches = iter(ipc)
            names = ipc.schema.names
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise EventError([_unreadable(file, exc)]) from None
    _check_columns(file, names)
    first = 1
    try:
        for batch in batches:
            batch.validate(full=True)  # e.g. text that is not UTF-8: refused here, named
            table = pa.Table.from_batches([batch])
            _check_times(file, table, first)
            first += table.num_rows
            if table.num_rows:
                yield table
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise EventError([_unreadable(file, exc)]) from None


def _check_times(file: str, table: pa.Table, first: int) -> None:
    """A timestamp column without a zone holds no instants: one problem, not one per row."""
    at = table.schema.field("at").type
    if pa.types.is_timestamp(at) and at.tz is None and table.num_rows:
        raise EventError([error(
            "event-naive-time",
            f"column `at` is {at}, a timestamp without a time zone",
            Span.point(file, first, 1),
            suggestion="store times as timestamps with a zone (e.g. timestamp[us, tz=UTC]) "
            "or as ISO 8601 text with an offset",
        )])


def _check_columns(file: str, names: list[str]) -> None:
    missing = [c for c in RESERVED if c not in names]
    twice = sorted(n for n, k in Counter(names).items() if k > 1)
    problems = []
    if missing:
        problems.append(error(
            "events-missing-column",
            "events table lacks column" + ("s " if len(missing) > 1 else " ")
            + ", ".join(f"`{c}`" for c in missing),
            Span.point(file, 1, 1),
            suggestion="an events table has columns id, at, type, then one per field",
        ))
    if twice:
        problems.append(error(
            "events-duplicate-column",
            "events table has more than one column named " + ", ".join(f"`{n}`" for n in twice),
            Span.point(file, 1, 1),
            suggestion="give each column its own name",
        ))
    if problems:
        raise EventError(problems)


def _unreadable(file: str, exc: Exception) -> Diagnostic:
    return error("events-file-unreadable", f"cannot read events file `{file}`: {exc}",
                 context=file)


# ---------------------------------------------------------------- checking a batch


class CheckedBatch:
    """One batch after acceptance: the accepted rows and the problems found.

    ``rows`` holds, in file order, the rows the columns vouched for: ``id`` (text), ``at``
    (int64 microseconds since the epoch, UTC), ``type`` and the field columns (text, or
    float64 for number fields), with their row numbers in ``lines`` (1 = the file's first
    row); ``extra`` the events the rule accepted among the other rows.
    """

    __slots__ = ("extra", "lines", "problems", "rows")

    def __init__(self, rows: pa.Table, lines: pa.Array, extra: list[Event],
                 problems: list[Diagnostic]) -> None:
        self.rows = rows
        self.lines = lines
        self.extra = extra
        self.problems = problems

    def events(self, file: str) -> list[Event]:
        """Every accepted row as an event, in file order."""
        rows = self.rows
        out: list[Event] = []
        if rows.num_rows:
            ids = rows.column("id").to_pylist()
            ats = micros_to_times(rows.column("at").to_pylist())
            types = rows.column("type").to_pylist()
            lines = self.lines.to_pylist()
            columns = {name: rows.column(name).to_pylist()
                       for name in rows.column_names if name not in RESERVED}
            for i in range(rows.num_rows):
                fields: dict[str, FieldValue] = {}
                for name, values in columns.items():
                    value = values[i]
                    if value is not None:
                        fields[name] = value
                out.append(Event(ids[i], ats[i], types[i], fields, f"{file}:{lines[i]}"))
        if self.extra:
            out.extend(self.extra)
            out.sort(key=_line)
        return out

    def table(self) -> pa.Table:
        """Every accepted row as columns (as ``rows``), in file order.

        The rows the rule accepted are added to the others; a field name that is a number
        in one event type and text in another has no single column type, so such a
        treaty is walked event by event (see ``Acceptor.mixed``).
        """
        if not self.extra:
            return self.rows
        columns: dict[str, Any] = {
            "id": pa.array([e.id for e in self.extra], pa.string()),
            "at": pa.array([micros(e.at) for e in self.extra],
                           pa.int64()),
            "type": pa.array([e.type for e in self.extra], pa.string()),
        }
        for name in self.rows.column_names:
            if name not in RESERVED:
                kind = self.rows.schema.field(name).type
                columns[name] = pa.array([e.fields.get(name) for e in self.extra], kind)
        both = pa.concat_tables([self.rows, pa.table(columns)])
        lines = pa.concat_arrays([self.lines, pa.array([_line(e) for e in self.extra],
                                                        pa.int64())])
        return both.take(pc.sort_indices(lines))


def _line(event: Event) -> int:
    return int(event.source.rsplit(":", 1)[1]) if event.source else 0


def micros_to_times(micros: list[int]) -> list[datetime]:
    """Datetimes in UTC from microseconds since the epoch (faster than ``to_pylist``)."""
    epoch, us = EPOCH, timedelta(microseconds=1)
    return [epoch + m * us for m in micros]


def check_batch(table: pa.Table, acceptor: Acceptor, file: str, first_row: int) -> CheckedBatch:
    """Accept the rows of ``table`` (whose first row is row ``first_row`` of the file)."""
    n = table.num_rows
    ids, suspect = _ids(table, acceptor.limit)
    at, more = _times(table)
    suspect = pc.or_(suspect, more)
    types = _plain(table.column("type"))
    if not _is_text(types.type):
        suspect = _all(n)
        types = pa.nulls(n, pa.string())
    else:
        declared = pa.array(sorted(acceptor.types), pa.string())
        suspect = pc.or_(suspect, pc.invert(pc.fill_null(pc.is_in(types, value_set=declared),
                                                         False)))
    fields, more = _fields(table, types, acceptor)
    suspect = pc.fill_null(pc.or_(suspect, more), True)
    if acceptor.mixed:  # a field name both a number and text: no one column type for it
        suspect = _all(n)
    accepted: list[Event] = []
    problems: list[Diagnostic] = []
    names = table.column_names
    if acceptor.exact_ids:
        # In file order: an id seen before makes its row suspect; the rule names it.
        id_list = ids.to_pylist()
        flags = suspect.to_pylist()
        seen = acceptor.seen
        keep = []
        for i in range(n):
            if not flags[i]:
                event_id = id_list[i]
                if event_id not in seen:
                    seen[event_id] = first_row + i
                    keep.append(i)
                    continue
            _judge(acceptor, table, names, file, first_row + i, i, accepted, problems)
        chosen = pa.array(keep, pa.int64())
    else:
        chosen = pc.indices_nonzero(pc.invert(suspect))
        for i in pc.indices_nonzero(suspect).to_pylist():
            _judge(acceptor, table, names, file, first_row + i, i, accepted, problems)
    rows = pa.table({"id": ids, "at": at, "type": types, **fields}).take(chosen)
    lines = pc.add(chosen.cast(pa.int64()), first_row)
    return CheckedBatch(rows, lines, accepted, problems)


def _judge(acceptor: Acceptor, table: pa.Table, names: list[str], file: str, line: int,
           i: int, accepted: list[Event], problems: list[Diagnostic]) -> None:
    """Hand row ``i`` to the rule."""
    event, found = acceptor.accept(_row(table, names, i), Where(file, line), cells=True)
    problems.extend(found)
    if event is not None:
        accepted.append(event)


def _ids(table: pa.Table, limit: int) -> tuple[pa.Array, pa.Array]:
    """The id column as text, and the rows whose id the columns cannot vouch for (blank,
    or longer than the record limit)."""
    n = table.num_rows
    ids = _plain(table.column("id"))
    if pa.types.is_integer(ids.type):
        ids = pc.cast(ids, pa.string())
    elif not _is_text(ids.type):
        return pa.nulls(n, pa.string()), _all(n)
    blank = pc.or_(pc.equal(pc.binary_length(ids), 0), pc.utf8_is_space(ids))
    return ids, pc.fill_null(pc.or_(blank, _longer(ids, limit)), True)


def _times(table: pa.Table) -> tuple[pa.Array, pa.Array]:
    """``at`` as int64 microseconds (UTC), and the rows it cannot vouch for."""
    n = table.num_rows
    at = _plain(table.column("at"))
    if pa.types.is_timestamp(at.type) and at.type.tz is not None:
        at = pc.cast(at, UTC_US, safe=False)
    elif _is_text(at.type):
        iso = pc.fill_null(pc.match_substring_regex(at, ISO_RE), False)
        text = pc.if_else(iso, pc.utf8_trim_whitespace(at), "1970-01-01T00:00:00Z")
        try:
            at = pc.cast(text, UTC_US)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return pa.nulls(n, pa.int64()), _all(n)
        at = pc.if_else(iso, at, pa.scalar(None, UTC_US))
    else:
        return pa.nulls(n, pa.int64()), _all(n)
    micros = pc.cast(at, pa.int64())
    out_of_range = pc.or_(pc.less(micros, MIN_US), pc.greater(micros, MAX_US))
    return micros, pc.fill_null(out_of_range, True)


def _fields(
    table: pa.Table, types: pa.Array, acceptor: Acceptor
) -> tuple[dict[str, pa.Array], pa.Array]:
    """The field columns (text or float64), and the rows whose fields they cannot vouch for.

    Per declared type: every declared field present and valid, every other column absent
    (null, or empty text).
    """
    n = table.num_rows
    kinds: dict[str, FieldKind] = {}
    for etype in acceptor.types.values():
        for f in etype.fields:
            kinds.setdefault(f.name, f.type.kind)
    suspect = pa.array([False] * n, pa.bool_())
    columns: dict[str, pa.Array] = {}
    present: dict[str, pa.Array] = {}
    for name in table.column_names:
        if name in RESERVED:
            continue
        col = _plain(table.column(name))
        if _is_text(col.type):
            present[name] = pc.fill_null(pc.greater(pc.binary_length(col), 0), False)
            columns[name] = pc.if_else(present[name], col, pa.scalar(None, pa.string()))
        elif pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            present[name] = pc.is_valid(col)
            columns[name] = col
        else:  # lists, binary, booleans, ...: the rule names them where they are given
            present[name] = pc.is_valid(col)
            suspect = pc.or_(suspect, present[name])
            columns[name] = pa.nulls(n, pa.string())
    out: dict[str, pa.Array] = {}
    for name, col in columns.items():
        kind = kinds.get(name)
        if kind is FieldKind.NUMBER:
            if _is_text(col.type):
                numeric = pc.fill_null(pc.match_substring_regex(col, NUMBER_RE), False)
                suspect = pc.or_(suspect, pc.and_(present[name], pc.invert(numeric)))
                col = pc.cast(pc.if_else(numeric, col, pa.scalar(None, pa.string())),
                              pa.float64())
            else:
                col = pc.cast(col, pa.float64(), safe=False)
            finite = pc.fill_null(pc.is_finite(col), False)
            suspect = pc.or_(suspect, pc.and_(present[name], pc.invert(finite)))
        elif not _is_text(col.type):
            suspect = pc.or_(suspect, present[name])  # a number where text is expected
            col = pa.nulls(n, pa.string())
        out[name] = col
    for type_name, etype in acceptor.types.items():
        is_type = pc.fill_null(pc.equal(types, type_name), False)
        if not pc.any(is_type).as_py():
            continue
        declared = {f.name for f in etype.fields}
        for name, here in present.items():
            if name not in declared:
                suspect = pc.or_(suspect, pc.and_(is_type, here))
        for decl in etype.fields:
            here = present.get(decl.name)
            if here is None:
                suspect = pc.or_(suspect, is_type)
                continue
            ok = here
            allowed = acceptor.allowed(decl.type.kind, decl.type.options)
            if decl.type.kind is FieldKind.NUMBER:
                ok = pc.and_(ok, pc.fill_null(pc.is_finite(out[decl.name]), False))
            elif allowed is not None:
                inside = pc.is_in(out[decl.name], value_set=pa.array(list(allowed), pa.string()))
                ok = pc.and_(ok, pc.fill_null(inside, False))
            elif _is_text(out[decl.name].type):
                short = pc.invert(pc.fill_null(_longer(out[decl.name], acceptor.limit), False))
                ok = pc.and_(ok, short)
            suspect = pc.or_(suspect, pc.and_(is_type, pc.invert(ok)))
    return out, suspect


def _longer(text: pa.Array, limit: int) -> pa.Array:
    """Where ``text`` holds more than ``limit`` characters (null stays null)."""
    return pc.greater(pc.utf8_length(text), limit)


def _row(table: pa.Table, names: list[str], i: int) -> dict[str, Any]:
    """Row ``i`` as a record for the rule; a value Python cannot hold (a time past year
    9999) is shown as text, or as its type when even that fails."""
    out: dict[str, Any] = {}
    for name, column in zip(names, table.columns, strict=True):
        scalar = column[i]
        if pa.types.is_timestamp(scalar.type):
            out[name] = _timestamp(scalar)
            continue
        try:
            out[name] = scalar.as_py()
        except (ValueError, OverflowError, pa.ArrowException):
            try:
                out[name] = str(scalar)
            except (ValueError, OverflowError, pa.ArrowException):
                out[name] = f"<{scalar.type}>"
    return out


_PER_UNIT = {"s": 1_000_000, "ms": 1000, "us": 1}  # microseconds per unit


def _timestamp(scalar: Any) -> datetime | str | None:
    """A timestamp cell as the columns read it: to the microsecond (finer units are cut,
    as ``_times`` cuts them), in UTC, or with no zone for the rule to refuse; a time past
    what ``datetime`` holds (year 11476) as ISO text, for the rule to name."""
    if not scalar.is_valid:
        return None
    kind = scalar.type
    value = scalar.cast(pa.int64()).as_py()
    us = value // 1000 if kind.unit == "ns" else value * _PER_UNIT[kind.unit]
    if not MIN_US - 86_400_000_000 <= us <= MAX_US + 86_400_000_000:
        return f"{np.datetime64(value, kind.unit)}{'Z' if kind.tz else ''}"
    at = EPOCH + timedelta(microseconds=us)
    return at if kind.tz is not None else at.replace(tzinfo=None)


def _plain(col: Any) -> Any:
    """A column as one array, dictionary-encoded text decoded."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    if pa.types.is_large_string(col.type):
        col = pc.cast(col, pa.string())
    return col


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _all(n: int) -> pa.Array:
    return pa.array([True] * n, pa.bool_())
