"""The columnar path: Parquet, Arrow or CSV read with pyarrow and checked vectorised.

Stage: after ``language.check``, before the monitor; called by
``events_io.load_columns``. Whole columns are checked with ``pyarrow.compute``; only the
rows that fail are handed to :class:`~foedus.engine.events_check.EventChecker`, so the
diagnostics are the ones the record path gives. Events are then built lazily, batch by batch.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from foedus.diagnostics import Diagnostic, EventError, Span, error
from foedus.engine.events_check import RESERVED, EventChecker, Where
from foedus.engine.events_io import event_format, file_missing, file_unreadable
from foedus.engine.model import Event, FieldValue
from foedus.language.model import FieldKind, Treaty

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NUMBER_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


# ---------------------------------------------------------------- the columnar path


def read_columns(
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
        raise EventError([file_missing(file)])
    try:
        table = _read_table(path, fmt)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise EventError([file_unreadable(file, exc)]) from None
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
            at_col = pc.cast(at, utc, safe=False)  # below a microsecond: Python has no room
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
        # Building datetimes from integers is several times faster than to_pylist().
        micros = pc.cast(at_col.slice(start, batch), pa.int64()).to_pylist()
        at_list = [EPOCH + timedelta(microseconds=us) for us in micros]
        type_list = part.column("type").to_pylist()
        columns: dict[str, list[Any]] = {}
        for name in part.column_names:
            if name in RESERVED:
                continue
            col = part.column(name)
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                columns[name] = col.to_pylist()
            else:  # numbers: floats, as the record path gives
                columns[name] = pc.cast(col, pa.float64()).to_pylist()
        specs = {
            t: [(fname, columns[fname], numeric) for fname, numeric in fs]
            for t, fs in field_specs.items()
            if all(fname in columns for fname, _ in fs)
        }
        first_line = start + line_offset
        for i, (event_id, at, type_name) in enumerate(
            zip(id_list, at_list, type_list, strict=True)
        ):
            values: dict[str, FieldValue] = {
                fname: float(col[i]) if numeric else col[i]
                for fname, col, numeric in specs[type_name]
            }
            yield Event(event_id, at, type_name, values, f"{file}:{first_line + i}")
