"""Batch runs: a whole log file in, one :class:`~foedus.engine.model.RunResult` out.

Stage: after ``events`` (the log is read and accepted by :class:`~foedus.events.LogReader`);
gives the result a :class:`~foedus.engine.monitor.Monitor` fed with every event gives.
``foedus run``, ``explain`` and ``report`` all run this way.

How a log is walked:

* **In order, as read.** Events are applied to one :class:`~foedus.engine.state.RunState`
  batch by batch as they are read, while the log is in ``(at, id)`` order (as logs
  usually are); nothing of an event is kept once applied. A log found out of order is read
  again, whole, and sorted before it is applied.
* **By columns.** A Parquet or Arrow log of a treaty the columnar executor serves
  (``engine.columns.supports``) is kept as columns of the rows whose type the treaty
  reads, and evaluated a column at a time.
* **All or nothing.** Every record is judged before any result is given: one invalid
  record (without ``skip_invalid``) and :class:`~foedus.diagnostics.EventError` carries
  every problem; events applied meanwhile are discarded with the state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from foedus.diagnostics import Diagnostic, EventError, error
from foedus.engine import columns
from foedus.engine.model import EventExplanation, Explanation, RunResult
from foedus.engine.plan import Plan, compile_treaty
from foedus.engine.results import build_result, explain, explain_event_id
from foedus.engine.spill import BLOCK, in_order
from foedus.engine.state import RunState
from foedus.events.accept import RECORD_LIMIT
from foedus.events.model import (
    FIRST_INSTANT,
    LAST_INSTANT,
    Event,
    from_micros,
    instant,
    micros,
)
from foedus.events.read import STOP_AFTER, LogReader, Progress, RepeatedIds
from foedus.language.model import Treaty

__all__ = ["BatchRun", "EmptyLogError", "run_file", "run_file_full"]



class EmptyLogError(EventError):
    """The log has no valid event and no "as of" was given; ``skipped`` are the diagnostics
    of the records skipped with ``skip_invalid``."""

    def __init__(self, skipped: list[Diagnostic]) -> None:
        super().__init__([no_as_of(bool(skipped))])
        self.skipped = skipped


@dataclass
class BatchRun:
    """A batch run: its result, the problems of skipped records, the events applied.

    ``events`` holds the accepted events only when the run was asked to keep them.
    """

    result: RunResult
    diagnostics: list[Diagnostic]
    count: int
    plan: Plan
    path: str  # how the log was walked: "in order", "sorted" or "columns"
    events: list[Event] = field(default_factory=list)
    skipped: int = 0  # records skipped (their first problems are ``diagnostics``)

    def explain(self, item_id: str) -> Explanation | None:
        """The explanation of an instance or decision, or of a clause, by id."""
        return explain(self.plan, self.result, item_id)

    def explain_event(self, event_id: str) -> EventExplanation | None:
        """What the event ``event_id`` did, and why not more; None when it is not among
        ``events`` (the run must keep them)."""
        return explain_event_id(self.result, self.events, event_id)


def run_file(
    treaty: Treaty, path: str | Path, as_of: datetime | None = None, skip_invalid: bool = False
) -> RunResult:
    """Apply ``treaty`` to the events in ``path`` and return the state as of ``as_of``.

    ``as_of`` defaults to the time of the latest event.

    Raises:
        EventError: the file is missing, unreadable or (without ``skip_invalid``) holds an
            invalid record, or it is empty and no ``as_of`` is given (``no-as-of``);
            nothing is evaluated then.
        ValueError: ``as_of`` has no time zone, or lies outside 0001-01-02 to 9999-12-30.
    """
    return run_file_full(treaty, path, as_of, skip_invalid).result


@dataclass(frozen=True)
class _Walk:
    """What a batch run was asked: the log, when, and what to keep."""

    plan: Plan
    path: str | Path
    as_of: datetime | None
    skip_invalid: bool
    progress: Progress | None
    keep_events: bool
    verdicts: bool
    by_columns: bool
    fmt: str | None = None
    name: str | None = None
    limit: int = RECORD_LIMIT
    exact_ids: bool = False

    def reader(self) -> LogReader:
        return LogReader(self.path, self.plan.treaty, fmt=self.fmt, name=self.name,
                         progress=self.progress, exact_ids=self.exact_ids, limit=self.limit,
                         stop_after=None if self.skip_invalid else STOP_AFTER)

    def state(self) -> RunState:
        return RunState(self.plan)

    def applied(self, state: RunState, events: list[Event]) -> None:
        """Apply ``events`` (in order); a run that keeps counts only then forgets what
        was settled before the oldest open record."""
        state.apply(events, 0, len(events))
        if not self.verdicts:
            state.store.forget_settled()

    def finish(self, reader: LogReader, latest: datetime | None) -> datetime:
        """Raise for what was refused; the evaluation time otherwise."""
        if reader.problems and not self.skip_invalid:
            raise EventError(reader.problems)
        when = self.as_of if self.as_of is not None else latest
        if when is None:
            raise EmptyLogError(reader.problems)
        return when


def run_file_full(
    treaty: Treaty,
    path: str | Path,
    as_of: datetime | None = None,
    skip_invalid: bool = False,
    *,
    progress: Progress | None = None,
    keep_events: bool = False,
    verdicts: bool = True,
    by_columns: bool = True,
    fmt: str | None = None,
    name: str | None = None,
    limit: int = RECORD_LIMIT,
) -> BatchRun:
    """:func:`run_file` with the problems of skipped records and the number of events.

    ``keep_events`` keeps every accepted event (for a report that shows them);
    ``verdicts=False`` keeps counts only: ``result.counts()`` is complete, while
    ``result.obligations`` lists only what was still open, so that memory holds what is
    open rather than the history (``foedus run --format summary``);
    ``by_columns=False`` walks a table log event by event even when columns could;
    ``fmt`` names the log's format (jsonl, csv, parquet, arrow) when its suffix does not,
    and ``name`` what messages call it (``<stdin>``, say); ``limit`` is the most
    characters a record may hold (``events.accept.RECORD_LIMIT``).
    """
    if as_of is not None and as_of.utcoffset() is None:
        raise ValueError(f"as of {as_of.isoformat()} has no time zone")
    if as_of is not None and not FIRST_INSTANT <= as_of <= LAST_INSTANT:
        raise ValueError(f"as of {as_of.isoformat()} is out of range")
    if as_of is not None:
        as_of = instant(as_of)
    # A pipe can be read once only: its ids are checked as they come and its events are
    # sorted as they are read, never by reading it again (see ``_run``).
    once = not _regular_file(path)
    walk = _Walk(compile_treaty(treaty), path, as_of, skip_invalid, progress, keep_events,
                 verdicts, by_columns, fmt, name, limit, exact_ids=once)
    try:
        return _run(walk)
    except RepeatedIds:  # read again, naming each repeated id and where it was first
        return _run(replace(walk, exact_ids=True))


def _regular_file(path: str | Path) -> bool:
    """Whether ``path`` is a regular file (not a pipe; a name the system cannot look up is
    not one either: reading it will say why)."""
    try:
        return Path(path).is_file()
    except OSError:
        return False


def _run(walk: _Walk) -> BatchRun:
    """One reading of the log. Without exact ids the ids are checked for repeats at the
    end, all at once, rather than kept in a dictionary as they come."""
    reader = walk.reader()
    if (walk.by_columns and reader.tabular and not walk.keep_events
            and not reader.acceptor.mixed and columns.supports(walk.plan)):
        return _by_columns(walk, reader)
    if walk.exact_ids and not _regular_file(walk.path):
        return _sorted(walk)  # a pipe: no second reading if it is out of order
    return _in_order(walk, reader)


def _in_order(walk: _Walk, reader: LogReader) -> BatchRun:
    relevant = walk.plan.relevant_types()
    as_of = walk.as_of
    state = walk.state()
    kept: list[Event] = []
    count = 0
    latest: datetime | None = None
    last: tuple[datetime, str] | None = None
    for batch in reader.batches():
        count += len(batch)
        if walk.keep_events:
            kept.extend(batch)
        for ev in batch:
            key = (ev.at, ev.id)
            if last is not None and key <= last:
                return _sorted(walk)
            last = key
        if batch:
            latest = batch[-1].at
        walk.applied(state, [e for e in batch
                             if e.type in relevant and (as_of is None or e.at <= as_of)])
    when = walk.finish(reader, latest)
    state.advance(when)
    return BatchRun(build_result(state, when), reader.problems, count, walk.plan, "in order",
                    kept, reader.refused)


class _Tally:
    """What a pass over a log counts: events accepted, the latest time, events kept."""

    def __init__(self, keep: bool) -> None:
        self.count = 0
        self.latest: datetime | None = None
        self.keep = keep
        self.kept: list[Event] = []

    def relevant(self, reader: LogReader, types: frozenset[str]) -> Iterator[Event]:
        """The accepted events of ``types``, in file order, counting every event."""
        for batch in reader.batches():
            self.count += len(batch)
            if self.keep:
                self.kept.extend(batch)
            for ev in batch:
                if self.latest is None or ev.at > self.latest:
                    self.latest = ev.at
                if ev.type in types:
                    yield ev


def _sorted(walk: _Walk) -> BatchRun:
    """The log is not in ``(at, id)`` order: read it again and apply it sorted, in runs
    sorted on disk when it is large (``engine.spill``). Nothing is applied before the
    whole log has been read."""
    reader = walk.reader()
    tally = _Tally(walk.keep_events)
    state = walk.state()
    block: list[Event] = []
    for ev in in_order(tally.relevant(reader, walk.plan.relevant_types())):
        if walk.as_of is None or ev.at <= walk.as_of:
            block.append(ev)
            if len(block) >= BLOCK:
                walk.applied(state, block)
                block = []
    walk.applied(state, block)
    when = walk.finish(reader, tally.latest)
    state.advance(when)
    return BatchRun(build_result(state, when), reader.problems, tally.count, walk.plan,
                    "sorted", tally.kept, reader.refused)


def _by_columns(walk: _Walk, reader: LogReader) -> BatchRun:
    plan = walk.plan
    relevant = pa.array(sorted(plan.relevant_types()), pa.string())
    parts: list[pa.Table] = []
    count = 0
    latest_us: int | None = None
    for checked in reader.checked_batches():
        rows = checked.table()
        count += rows.num_rows
        if rows.num_rows:
            top = pc.max(rows.column("at")).as_py()
            latest_us = top if latest_us is None else max(latest_us, top)
            wanted = pc.is_in(rows.column("type"), value_set=relevant)
            parts.append(_compact(rows if pc.all(wanted).as_py() else rows.filter(wanted)))
    latest = from_micros(latest_us) if latest_us is not None else None
    when = walk.finish(reader, latest)
    rows = _sorted_rows(parts, micros(when))
    result = columns.evaluate(plan, rows, when)
    return BatchRun(result, reader.problems, count, plan, "columns", skipped=reader.refused)


def _compact(rows: pa.Table) -> pa.Table:
    """Text columns but the ids as dictionaries with the narrowest indices: a log repeats
    its types and parties."""
    for i, name in enumerate(rows.column_names):
        column = rows.column(i)
        if name != "id" and pa.types.is_string(column.type):
            encoded = pc.dictionary_encode(column)
            size = max((len(chunk.dictionary) for chunk in encoded.chunks), default=0)
            index = pa.int8() if size < 2**7 else pa.int16() if size < 2**15 else None
            if index is not None:
                encoded = encoded.cast(pa.dictionary(index, pa.string()))
            rows = rows.set_column(i, name, encoded)
    return rows


def _sorted_rows(parts: list[pa.Table], until_us: int) -> pa.Table:
    """The kept rows in ``(at, id)`` order, none after ``until_us``."""
    if not parts:
        return pa.table({"id": pa.array([], pa.string()), "at": pa.array([], pa.int64()),
                         "type": pa.array([], pa.string())})
    rows = pa.concat_tables(parts, promote_options="permissive")
    parts.clear()
    late = pc.greater(rows.column("at"), until_us)
    if pc.any(late).as_py():
        rows = rows.filter(pc.invert(late))
    n = rows.num_rows
    if n > 1:
        at, ids = rows.column("at"), rows.column("id")
        a0, a1 = at.slice(0, n - 1), at.slice(1)
        disorder = pc.or_(pc.less(a1, a0),
                          pc.and_(pc.equal(a1, a0), pc.less(ids.slice(1), ids.slice(0, n - 1))))
        if pc.any(disorder).as_py():
            order = pc.sort_indices(rows, sort_keys=[("at", "ascending"), ("id", "ascending")])
            rows = rows.take(order)
    return rows


def no_as_of(skipped: bool = False) -> Diagnostic:
    """The diagnostic for a log with no valid event and no as-of time."""
    what = ("every record of the event log was skipped" if skipped
            else "the event log is empty")
    return error(
        "no-as-of",
        f"{what}, so there is no latest event to evaluate at",
        suggestion="give a time with --as-of, such as 2022-04-01T00:00:00Z",
    )
