"""Batch runs: a whole event file in, one :class:`~foedus.engine.model.RunResult` out.

Stage: after ``language.check``; reads the log like ``engine.events_io`` and gives the
result :class:`~foedus.engine.monitor.Monitor` gives for the same events and "as of".
This is what ``foedus run`` uses.

How it stays fast and small:

* The file is read in blocks (JSON Lines) or record batches (Parquet, Arrow) with
  ``pyarrow`` and checked column by column. Nothing is kept of a row but its id (for the
  duplicate check) unless its event type concerns the treaty; those rows are kept as
  compact columns, never as :class:`~foedus.engine.model.Event` objects.
* All or nothing: if any check fails anywhere (or the file is one the vectorised reader
  cannot take: CSV, blank lines, numeric ids, ...), the columns are dropped and the file
  is read again by the record checker of ``events_io``, which gives the exact diagnostics
  and, with ``skip_invalid``, the valid events. Nothing is evaluated before the whole
  file has been checked.
* Evaluation (:mod:`foedus.engine.columnar`) runs over the kept columns when every clause
  has the shape it handles; otherwise the kept rows become events for the monitor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from foedus.diagnostics import Diagnostic, EventError, error
from foedus.engine.events_check import RESERVED, EventChecker
from foedus.engine.events_io import event_format, file_missing, load_events
from foedus.engine.model import Event, RunResult
from foedus.engine.monitor import Monitor
from foedus.engine.plan import Plan, compile_treaty
from foedus.language.model import FieldKind, Treaty

__all__ = ["BatchRun", "EmptyLogError", "EventFrame", "read_frame", "run_file", "run_file_full"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BLOCK_BYTES = 16 * 2**20
BATCH_ROWS = 1 << 20
# An ISO 8601 time with an offset that both pyarrow and datetime.fromisoformat read alike.
ISO_RE = (
    r"^\s*\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d"
    r"(:[0-5]\d(\.\d{1,6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)\s*$"
)


class EmptyLogError(EventError):
    """The log has no valid event and no "as of" was given; ``skipped`` are the diagnostics
    of the records skipped with ``skip_invalid``."""

    def __init__(self, skipped: list[Diagnostic]) -> None:
        super().__init__([no_as_of()])
        self.skipped = skipped


class Fallback(Exception):
    """The vectorised reader cannot vouch for the file: read it record by record."""


@dataclass
class EventFrame:
    """A checked event log, kept as columns: only the rows whose type concerns the treaty.

    ``rows`` has the columns ``id``, ``at`` (microseconds since the epoch, UTC),
    ``at_text`` (the original text of the time, or null when the file held a timestamp),
    ``type``, then one column per field of the kept types (text or float64), sorted by
    ``(at, id)``. ``count`` is the number of events in the file, ``latest`` the time of
    the latest one as the record reader would give it (its first occurrence).
    """

    file: str
    count: int
    latest: datetime | None
    rows: Any  # pyarrow.Table
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class BatchRun:
    """The result of a batch run, the diagnostics of skipped records, and how it was computed."""

    result: RunResult
    diagnostics: list[Diagnostic]
    count: int  # valid events in the file
    path: str  # "columnar", "monitor" (kept rows fed to the monitor) or "records"


# ---------------------------------------------------------------- public entry points


def run_file(
    treaty: Treaty, path: str | Path, as_of: datetime | None = None, skip_invalid: bool = False
) -> RunResult:
    """Apply ``treaty`` to the event file at ``path`` as of ``as_of`` (default: latest event).

    The same result as loading the file with ``events_io.load_events`` and asking a
    :class:`~foedus.engine.monitor.Monitor` fed with every event, in bounded memory.

    Raises:
        EventError: the file is missing, unreadable or (without ``skip_invalid``) holds an
            invalid record, or it is empty and no ``as_of`` is given (``no-as-of``);
            nothing is evaluated then.
    """
    return run_file_full(treaty, path, as_of, skip_invalid).result


def run_file_full(
    treaty: Treaty,
    path: str | Path,
    as_of: datetime | None = None,
    skip_invalid: bool = False,
    *,
    columnar: bool = True,
) -> BatchRun:
    """:func:`run_file` with the diagnostics of skipped records and the event count."""
    plan = compile_treaty(treaty)
    frame = read_frame(treaty, path, skip_invalid=skip_invalid, plan=plan)
    if frame is None:  # the record path: exact diagnostics, or all the valid events
        events, diags = load_events(path, treaty, skip_invalid=skip_invalid)
        if as_of is None and not events:
            raise EmptyLogError(diags)
        when = as_of if as_of is not None else max(e.at for e in events)
        monitor = Monitor(treaty)
        monitor.feed_many(events)
        return BatchRun(monitor.status(when), diags, len(events), "records")
    when = as_of if as_of is not None else frame.latest
    if when is None:
        raise EmptyLogError(frame.diagnostics)
    from foedus.engine.columnar import evaluate_columns, supports

    rows = _until(frame.rows, when)
    if columnar and supports(plan):
        result = evaluate_columns(plan, rows, when)
        return BatchRun(result, frame.diagnostics, frame.count, "columnar")
    monitor = Monitor(treaty)
    monitor.feed_many(frame_events(treaty, rows), presorted=True)  # rows are sorted
    return BatchRun(monitor.status(when), frame.diagnostics, frame.count, "monitor")


def to_micros(at: datetime) -> int:
    """Microseconds since the epoch of an aware datetime, exactly."""
    return (at - EPOCH) // timedelta(microseconds=1)


def _until(rows: Any, as_of: datetime) -> Any:
    import pyarrow.compute as pc

    limit = to_micros(as_of)
    if rows.num_rows == 0:
        return rows
    top = pc.max(rows.column("at")).as_py()
    if top is None or top <= limit:
        return rows
    return rows.filter(pc.less_equal(rows.column("at"), limit))


def frame_events(treaty: Treaty, rows: Any) -> Iterator[Event]:
    """The kept rows as events, in order (for the monitor, when columns do not suffice)."""
    types = {e.name: [f.name for f in e.fields] for e in treaty.events}
    names = [n for n in rows.column_names if n not in ("id", "at", "at_text", "type")]
    step = 65_536
    for start in range(0, rows.num_rows, step):
        part = rows.slice(start, step)
        ids = part.column("id").to_pylist()
        ats = times(part.column("at").to_pylist(), part.column("at_text").to_pylist())
        kinds = part.column("type").to_pylist()
        cols = {n: part.column(n).to_pylist() for n in names}
        for i, (event_id, at, type_name) in enumerate(zip(ids, ats, kinds, strict=True)):
            yield Event(event_id, at, type_name, {f: cols[f][i] for f in types[type_name]})


def times(micros: list[int], texts: list[str | None]) -> list[datetime]:
    """Datetimes as the record reader gives them: from the text (keeping its offset) if any."""
    return [
        datetime.fromisoformat(t.strip()) if t is not None else EPOCH + timedelta(microseconds=us)
        for us, t in zip(micros, texts, strict=True)
    ]


# ---------------------------------------------------------------- reading


def relevant_types(plan: Plan) -> set[str]:
    """Event types that can change a run of ``plan``: triggers, actions, votes, conditions."""
    out = set(plan.by_type)
    for c in plan.clauses:
        if c.action is not None:
            out.add(c.action.event)
        if c.vote_event:
            out.add(c.vote_event)
    return out


def read_frame(
    treaty: Treaty, path: str | Path, *, skip_invalid: bool = False, plan: Plan | None = None
) -> EventFrame | None:
    """Read and check an events file as columns; None if it must be read record by record.

    Raises:
        EventError: the file is missing.
    """
    import pyarrow as pa

    file = str(path)
    if not Path(path).exists():
        raise EventError([file_missing(file)])
    plan = plan or compile_treaty(treaty)
    fmt = event_format(path)
    reader = _Reader(treaty, relevant_types(plan), file)
    try:
        if fmt == "jsonl":
            reader.read_jsonl(Path(path))
        elif fmt in ("parquet", "arrow"):
            reader.read_table_batches(Path(path), fmt)
        else:
            return None
        return reader.finish()
    except (Fallback, pa.ArrowException, OSError, ValueError, UnicodeDecodeError):
        return None  # the record reader names the problem (bad rows, unreadable file)


class _Reader:
    """Streams blocks through the vectorised checks, keeping ids and the relevant rows."""

    def __init__(self, treaty: Treaty, relevant: set[str], file: str) -> None:
        import pyarrow as pa

        self.treaty = treaty
        self.checker = EventChecker(treaty)
        self.file = file
        self.relevant = sorted(relevant & set(self.checker.types))
        self.kinds: dict[str, FieldKind] = {}
        self.mixed = False  # a field name with a number kind in one type, text in another
        for e in treaty.events:
            for f in e.fields:
                previous = self.kinds.setdefault(f.name, f.type.kind)
                if (previous is FieldKind.NUMBER) != (f.type.kind is FieldKind.NUMBER):
                    self.mixed = True
        self.keep = sorted({f.name for t in self.relevant for f in self.checker.types[t].fields})
        self.ids: list[Any] = []
        # ids strictly ascending by (length, text) so far: then they are unique, no hashing
        self.ascending = True
        self.last_id: str | None = None
        self.parts: list[Any] = []
        self.count = 0
        self.latest: tuple[int, str | None] | None = None
        self.pa = pa

    # -- formats

    def read_jsonl(self, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.json as pj

        names = set(self.kinds)
        if self.mixed or names & {*RESERVED, "fields"}:
            raise Fallback
        field_types = [
            (n, pa.float64() if k is FieldKind.NUMBER else pa.string())
            for n, k in sorted(self.kinds.items())
        ]
        schema = pa.schema(
            [
                ("id", pa.string()),
                ("at", pa.string()),
                ("type", pa.string()),
                *([("fields", pa.struct(field_types))] if field_types else []),
                *field_types,
            ]
        )
        options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
        first = True
        for block in _blocks(path):
            if first:
                if block.startswith(b"\xef\xbb\xbf"):
                    block = block[3:]
                first = False
            block.decode("utf-8")  # the record reader refuses what is not UTF-8
            if not block.strip():
                continue
            if b"\n\n" in block or b"\r" in block or block.startswith(b"\n"):
                raise Fallback  # line numbers would not match rows: let the record reader go
            table = pj.read_json(pa.BufferReader(block), parse_options=options)
            self._jsonl_table(table, [n for n, _ in field_types])

    def read_table_batches(self, path: Path, fmt: str) -> None:
        import pyarrow as pa

        if fmt == "parquet":
            import pyarrow.parquet as pq

            schema = pq.read_schema(path)
            text = [f.name for f in schema if f.name not in ("id", "at") and _is_text(f.type)]
            source = pq.ParquetFile(path, read_dictionary=text)
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
        if any(c not in names for c in RESERVED) or "fields" in names:
            raise Fallback
        for batch in batches:
            self._columns_table(pa.Table.from_batches([batch]))

    # -- checks

    def _jsonl_table(self, table: Any, field_names: list[str]) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = table.num_rows
        if n == 0:
            return
        ids = table.column("id")
        at_text = table.column("at")
        types = table.column("type")
        bad = _blank(ids)
        bad = pc.or_(bad, pc.invert(pc.match_substring_regex(at_text, ISO_RE)))
        declared = pa.array(sorted(self.checker.types), pa.string())
        bad = pc.or_(bad, pc.invert(pc.is_in(types, value_set=declared)))
        if _any(bad):
            raise Fallback
        utc = pa.timestamp("us", tz="UTC")
        try:
            at = pc.cast(pc.cast(at_text, utc), pa.int64())
        except pa.ArrowInvalid:  # spaces around a time: trimming every one costs more
            at = pc.cast(pc.cast(pc.utf8_trim_whitespace(at_text), utc), pa.int64())
        merged: dict[str, Any] = {}
        if field_names:
            nested = table.column("fields")
            has_nested = pc.is_valid(nested)
            anywhere_top = None
            for name in field_names:
                top = table.column(name)
                inner = pc.struct_field(nested, name)
                valid_top = pc.is_valid(top)
                anywhere_top = valid_top if anywhere_top is None else pc.or_(anywhere_top,
                                                                              valid_top)
                merged[name] = pc.if_else(has_nested, inner, top)
            if _any(pc.and_(has_nested, anywhere_top)):
                raise Fallback
        self._check_fields(types, merged, n)
        self._keep(ids, at, at_text, types, merged)

    def _columns_table(self, table: Any) -> None:
        """Check one record batch of a Parquet or Arrow file (accepting what ``load_columns``
        accepts; anything it would question goes to the record path)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        n = table.num_rows
        if n == 0:
            return
        ids = table.column("id")
        if not pa.types.is_string(ids.type):
            ids = pc.cast(ids, pa.string())
        bad = _blank(ids)
        utc = pa.timestamp("us", tz="UTC")
        at = table.column("at")
        if pa.types.is_timestamp(at.type):
            if at.type.tz is None:
                raise Fallback
            at = pc.cast(at, utc, safe=False)
        elif pa.types.is_string(at.type) or pa.types.is_large_string(at.type):
            at = pc.cast(at, utc)  # ArrowInvalid: the record path names the bad rows
        else:
            raise Fallback
        bad = pc.or_(bad, pc.is_null(at))
        types = table.column("type")
        declared = pa.array(sorted(self.checker.types), pa.string())
        bad = pc.or_(bad, pc.invert(pc.is_in(types, value_set=declared)))
        if _any(bad):
            raise Fallback
        merged: dict[str, Any] = {}
        for name in table.column_names:
            if name in RESERVED:
                continue
            col = table.column(name)
            if self.kinds.get(name) is FieldKind.NUMBER:
                if pa.types.is_dictionary(col.type):
                    col = _plain(col)
                if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                    from foedus.engine.events_columns import NUMBER_RE

                    numeric = pc.match_substring_regex(col, NUMBER_RE)
                    if _any(pc.and_kleene(pc.is_valid(col), pc.invert(numeric))):
                        raise Fallback
                if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
                        or pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
                    raise Fallback
                col = pc.cast(col, pa.float64())
            merged[name] = col
        self._check_fields(types, merged, n)
        self._keep(ids, pc.cast(at, pa.int64()), None, types, merged)

    def _check_fields(self, types: Any, merged: dict[str, Any], n: int) -> None:
        """Fields present, absent and of the right kind, per event type."""
        import pyarrow as pa
        import pyarrow.compute as pc

        checker = self.checker
        masks = _type_masks(types, list(checker.types))
        valid = {name: pc.is_valid(values) for name, values in merged.items()}
        members: dict[tuple[str, tuple[str, ...]], Any] = {}
        for name, etype in checker.types.items():
            is_type = masks[name]
            if is_type is None:
                continue
            declared = {f.name for f in etype.fields}
            for column in merged:
                if column not in declared and _any(pc.and_(is_type, valid[column])):
                    raise Fallback
            for decl in etype.fields:
                values = merged.get(decl.name)
                if values is None or _any(pc.and_(is_type, pc.invert(valid[decl.name]))):
                    raise Fallback
                kind = decl.type.kind
                if kind is FieldKind.NUMBER:
                    ok = pc.is_finite(values)
                elif not _is_text(values.type):
                    raise Fallback
                else:
                    allowed = {
                        FieldKind.PARTY: checker.parties,
                        FieldKind.TERRITORY: checker.territories,
                        FieldKind.ENUM: decl.type.options,
                    }.get(kind)
                    if allowed is None:
                        continue
                    key = (decl.name, tuple(allowed))
                    if key not in members:
                        members[key] = _member(values, pa.array(list(allowed), pa.string()))
                    ok = members[key]
                if _any(pc.and_kleene(is_type, pc.invert(ok))):
                    raise Fallback

    # -- keeping

    def _keep(self, ids: Any, at: Any, at_text: Any, types: Any, merged: dict[str, Any]) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = len(ids)
        self.ids.extend(ids.chunks if hasattr(ids, "chunks") else [ids])
        if self.ascending:
            self.ascending = _ascending(ids, self.last_id)
            self.last_id = ids[n - 1].as_py()
        self.count += n
        top = pc.max(at).as_py()
        if self.latest is None or top > self.latest[0]:
            index = pc.index(at, top).as_py()
            text = at_text[index].as_py() if at_text is not None else None
            self.latest = (top, text)
        mask = pc.is_in(types, value_set=pa.array(self.relevant, pa.string()))
        if not self.relevant or not _any(mask):
            return
        columns: dict[str, Any] = {
            "id": ids,
            "at": at,
            "at_text": at_text if at_text is not None else pa.nulls(n, pa.string()),
            "type": types,
        }
        for name in self.keep:
            kind = pa.float64() if self.kinds.get(name) is FieldKind.NUMBER else pa.string()
            columns[name] = merged.get(name, pa.nulls(n, kind))
        table = pa.table(columns)
        if not pc.all(mask).as_py():
            table = table.filter(mask)
        for i, name in enumerate(table.column_names):
            if pa.types.is_dictionary(table.column(name).type):
                table = table.set_column(i, name, _plain(table.column(name)))
        self.parts.append(table.combine_chunks())

    def finish(self) -> EventFrame:
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.ids and not self.ascending:
            every = pa.chunked_array(self.ids, pa.string())
            if len(pc.unique(every)) != self.count:
                raise Fallback  # a repeated id: the record reader names both lines
        self.ids = []
        if self.parts:
            rows = pa.concat_tables(self.parts).combine_chunks()
        else:
            fields = [
                (n, pa.float64() if self.kinds.get(n) is FieldKind.NUMBER else pa.string())
                for n in self.keep
            ]
            rows = pa.table(
                {"id": pa.array([], pa.string()), "at": pa.array([], pa.int64()),
                 "at_text": pa.array([], pa.string()), "type": pa.array([], pa.string()),
                 **{n: pa.array([], t) for n, t in fields}}
            )
        self.parts = []
        rows = sort_rows(rows)
        latest = None
        if self.latest is not None:
            us, text = self.latest
            latest = times([us], [text])[0]
        return EventFrame(self.file, self.count, latest, rows)


def _ascending(ids: Any, before: str | None) -> bool:
    """Whether ``ids`` (after ``before``) rise strictly in (length, text) order: "e9" < "e10".

    Logs numbered as they are written pass this in one vectorised pass, which proves the
    ids distinct without hashing them.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(ids)
    if before is not None:
        first = ids[0].as_py()
        if (len(first.encode()), first.encode()) <= (len(before.encode()), before.encode()):
            return False
    if n < 2:
        return True
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    size = pc.binary_length(ids)
    a, b = ids.slice(0, n - 1), ids.slice(1)
    la, lb = size.slice(0, n - 1), size.slice(1)
    rising = pc.or_(pc.less(la, lb), pc.and_(pc.equal(la, lb), pc.less(a, b)))
    return bool(pc.all(rising).as_py())


def sort_rows(rows: Any) -> Any:
    """Rows in the order the engine applies them: by time, then id (skipped if already so)."""
    import pyarrow.compute as pc

    n = rows.num_rows
    if n < 2:
        return rows
    at = rows.column("at")
    ids = rows.column("id")
    a0, a1 = at.slice(0, n - 1), at.slice(1)
    out_of_order = pc.less(a1, a0)
    ties = pc.and_(pc.equal(a1, a0), pc.less(ids.slice(1), ids.slice(0, n - 1)))
    if not _any(pc.or_(out_of_order, ties)):
        return rows
    order = pc.sort_indices(rows, sort_keys=[("at", "ascending"), ("id", "ascending")])
    return rows.take(order)


def _blank(ids: Any) -> Any:
    """Null ids, and ids that are empty once stripped (pyarrow's spaces include Python's)."""
    import pyarrow.compute as pc

    empty = pc.equal(pc.binary_length(ids), 0)
    return pc.or_(pc.is_null(ids), pc.or_(empty, pc.utf8_is_space(ids)))


def _chunks(col: Any) -> list[Any]:
    return list(col.chunks) if hasattr(col, "chunks") else [col]


def _member(col: Any, allowed: Any) -> Any:
    """Whether each value is in ``allowed``; a dictionary's values are tested once each."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = []
    for chunk in _chunks(col):
        if pa.types.is_dictionary(chunk.type):
            ok = pc.is_in(chunk.dictionary, value_set=allowed)
            out.append(pc.take(ok, chunk.indices))
        else:
            out.append(pc.is_in(chunk, value_set=allowed))  # null: false (absent is checked)
    return pa.chunked_array(out, pa.bool_())


def _type_masks(types: Any, names: list[str]) -> dict[str, Any]:
    """Per declared type, the mask of its rows (None when it has none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = _chunks(types)
    out: dict[str, Any] = {}
    for name in names:
        parts = []
        for chunk in chunks:
            if pa.types.is_dictionary(chunk.type):
                codes = chunk.dictionary.to_pylist()
                if name in codes:
                    parts.append(pc.equal(chunk.indices, codes.index(name)))
                else:
                    parts.append(pa.nulls(len(chunk), pa.bool_()).fill_null(False))
            else:
                parts.append(pc.equal(chunk, name))
        mask = pa.chunked_array(parts, pa.bool_())
        out[name] = mask if _any(mask) else None
    return out


def _is_text(kind: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _plain(col: Any) -> Any:
    """A dictionary-encoded column as plain text (others unchanged)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(col.type):
        return pc.cast(col, col.type.value_type)
    return col


def _any(mask: Any) -> bool:
    import pyarrow.compute as pc

    return bool(pc.any(pc.fill_null(mask, True)).as_py())


def _blocks(path: Path) -> Iterator[bytes]:
    """The file in blocks of whole lines."""
    with path.open("rb") as f:
        rest = b""
        while True:
            chunk = f.read(BLOCK_BYTES)
            if not chunk:
                break
            data = rest + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            rest = data[cut + 1 :]
            yield data[: cut + 1]
        if rest:
            yield rest + b"\n"


def no_as_of() -> Diagnostic:
    """The diagnostic for an empty log without an as-of time."""
    return error(
        "no-as-of",
        "the event log is empty, so there is no latest event to evaluate at",
        suggestion="give a time with --as-of, such as 2022-04-01T00:00:00Z",
    )

