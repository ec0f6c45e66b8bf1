"""The columnar executor: a whole sorted log evaluated a column at a time.

Stage: after the events stage has read a table log into columns (``events.tables``);
gives the result :class:`~foedus.engine.state.RunState` gives for the same events, through
the same rules of ``engine.plan`` and the same records and results. Only the walk over the
events differs, so it serves the treaties whose every clause it can walk that way
(:func:`supports`): event-triggered `each` obligations with a deadline of fixed length,
no guard, no clause waiting for their verdicts, triggers and actions of one event type
each, and no conditions, decisions, prohibitions or permissions.

How: the plan's rules (trigger test, carve-out reason, obligors, action test,
beneficiary) are applied once per distinct combination of the trigger's field values,
the action test once per distinct combination of the action's field values. Then for
each action test and obligor the rows that could fulfil are a sorted array of positions,
and ``numpy.searchsorted`` finds, for every trigger at once, the first of them after it:
the obligation is fulfilled if that action comes no later than the due time. An event
never fulfils what it triggers, since only later rows count. A violated obligation's late
performance is the same search from the due time: the first of those rows after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from foedus.engine.caches import Caches
from foedus.engine.deadlines import elapsed_due
from foedus.engine.matching import Test
from foedus.engine.model import FIELDS, TIME_FIELDS, ObligationStatus, RunResult, TreatyStatus
from foedus.engine.model import NonArising as PublicNonArising
from foedus.engine.plan import ObligationPlan, Plan, beneficiary
from foedus.engine.records import EachRecord, NonArising
from foedus.engine.results import LazyTuple, View, instances, once
from foedus.events.model import LAST_INSTANT, ONE_MICROSECOND, from_micros, micros
from foedus.language.model import Quantifier, TriggerKind

__all__ = ["evaluate", "supports"]

FULFILLED = ObligationStatus.FULFILLED
VIOLATED = ObligationStatus.VIOLATED


def supports(plan: Plan) -> bool:
    """Whether every clause of ``plan`` is one this executor walks (see the module)."""
    if (plan.has_entry or plan.on_verdict or plan.on_entry or plan.at_start or plan.standing
            or plan.conditions):
        return False
    for c in plan.clauses:
        if not isinstance(c, ObligationPlan) or c.trigger is None:
            return False
        if (c.trigger.kind is not TriggerKind.EVENT or c.trigger.guard is not None
                or c.obligors.spec.quantifier is not Quantifier.EACH
                or c.deadline.fixed is None or len(c.trigger.events) != 1
                or len(c.action.events) != 1 or c.action.actors[c.action.events[0]] is None):
            return False
    return True


class _Trigger:
    """What a clause makes of one combination of its trigger's field values."""

    __slots__ = ("beneficiary", "bindings", "fields", "obligors", "test", "why")

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields
        self.why: str | None = None
        self.obligors: tuple[str, ...] = ()
        self.test: Test | None = None
        self.beneficiary: str | None = None
        self.bindings: Any = {}


def _judge(plan: Plan, c: ObligationPlan, caches: Caches,
           fields: Mapping[str, Any]) -> _Trigger | None:
    """The rules of ``c`` for one combination of trigger fields; None if the trigger does
    not match and no carve-out says why (then the event is not the clause's business)."""
    info = _Trigger(fields)
    trigger = c.trigger
    assert trigger is not None
    if trigger.static is not None and not trigger.static(fields):
        if not trigger.carve_outs or trigger.pattern is None:
            return None
        info.why = plan.matcher.mismatch(trigger.pattern, fields, {}, c.id)
        return info if info.why is not None else None
    bindings = {trigger.binding: (fields, None, None)} if trigger.binding and c.binds else {}
    info.bindings = bindings
    obligors = caches.obligors_of(c.obligors, bindings)
    if not obligors:
        info.why = c.obligors.none_left(bindings)
        return info
    info.obligors = obligors
    info.test = caches.action_of(c.action, bindings)
    info.beneficiary = beneficiary(c.beneficiary, bindings)
    return info


class Columns:
    """A sorted log as columns: what the executor reads of it."""

    def __init__(self, rows: pa.Table) -> None:
        self.rows = rows
        self.n = rows.num_rows
        self.at = rows.column("at").to_numpy() if self.n else np.zeros(0, np.int64)
        self.types = rows.column("type") if self.n else pa.array([], pa.string())

    def ids(self, positions: list[int]) -> dict[int, str]:
        """The ids of the rows at ``positions`` (a log's ids are not all read into Python)."""
        if not positions:
            return {}
        taken = self.rows.column("id").take(pa.array(positions, pa.int64())).to_pylist()
        return dict(zip(positions, taken, strict=True))

    def of_type(self, name: str) -> np.ndarray:
        """Positions of the rows of event type ``name``."""
        if self.n == 0:
            return np.zeros(0, np.int64)
        mask = pc.equal(self.types, name).to_numpy(zero_copy_only=False)
        return np.flatnonzero(mask)

    def combinations(self, names: list[str], positions: np.ndarray
                     ) -> tuple[list[tuple[Any, ...]], np.ndarray]:
        """The distinct combinations of fields ``names`` at ``positions``, and for each
        position the index of its combination (the rules then run once per combination)."""
        if not names:
            return [()], np.zeros(len(positions), np.int64)
        present = [n for n in names if n in self.rows.column_names]
        taken = self.rows.select(present).take(pa.array(positions, pa.int64()))
        n = len(positions)
        codes = np.zeros((n, len(names)), np.int32)
        dictionaries: list[list[Any]] = []
        for j, name in enumerate(names):
            if name not in present:  # no row of the log has this field
                dictionaries.append([None])
                continue
            encoded = pc.dictionary_encode(taken.column(name).combine_chunks(),
                                           null_encoding="encode")
            codes[:, j] = encoded.indices.to_numpy(zero_copy_only=False)
            dictionaries.append(encoded.dictionary.to_pylist())
        sizes = [max(len(d), 1) for d in dictionaries]
        if n == 0:
            return [], np.zeros(0, np.int64)
        span = float(np.prod(np.array(sizes, np.float64)))
        if span < 2.0**62:  # one number per row: its combination in mixed radix
            key = np.zeros(n, np.int64)
            for j, size in enumerate(sizes):
                key *= size
                key += codes[:, j]
            del codes
            if span <= 4 * n + 1024:  # few possible keys: mark them, no sort
                seen = np.zeros(int(span), bool)
                seen[key] = True
                unique_keys = np.flatnonzero(seen)
                renumber = np.zeros(int(span), np.int64)
                renumber[unique_keys] = np.arange(len(unique_keys))
                inverse = renumber[key]
            else:
                unique_keys, inverse = np.unique(key, return_inverse=True)
            unique = np.empty((len(unique_keys), len(names)), np.int64)
            rest = unique_keys.astype(np.int64)
            for j in range(len(names) - 1, -1, -1):
                rest, unique[:, j] = np.divmod(rest, sizes[j])
        else:
            unique, inverse = np.unique(codes, axis=0, return_inverse=True)
        combos = [tuple(values[code] for values, code in zip(dictionaries, row, strict=True))
                  for row in unique.tolist()]
        return combos, inverse.reshape(-1)


class _Verdicts:
    """The verdicts of one clause as arrays, one entry per (trigger row, obligor)."""

    __slots__ = ("clause", "combo", "infos", "late", "parties", "party", "position", "row",
                 "settled", "state")

    def __init__(self, clause: ObligationPlan, infos: list[_Trigger | None],
                 parties: list[str]) -> None:
        self.clause = clause
        self.infos = infos  # per trigger combination
        self.parties = parties  # the treaty's parties: obligors are numbered by it
        self.row: list[np.ndarray] = []  # trigger rows
        self.combo: list[np.ndarray] = []  # their combination
        self.party: list[np.ndarray] = []  # the obligor's number
        self.position: list[np.ndarray] = []  # the obligor's place in the obligor set
        self.state: list[np.ndarray] = []  # 0 pending, 1 fulfilled, 2 violated
        self.settled: list[np.ndarray] = []  # the fulfilling row, or -1
        self.late: list[np.ndarray] = []  # the row that performed it late, or -1


def evaluate(plan: Plan, rows: pa.Table, as_of: datetime, caches: Caches | None = None
             ) -> RunResult:
    """The result of ``plan`` over ``rows`` as of ``as_of``.

    ``rows`` are the log's rows of the event types the plan reads, sorted by ``(at, id)``,
    none after ``as_of``: columns ``id``, ``at`` (int64 microseconds since the epoch, UTC),
    ``type`` and one per field. The verdicts are computed as columns; records (for
    explanations) are built from them only when the result's instances are read.
    """
    caches = caches or Caches()
    log = Columns(rows)
    as_of_us = micros(as_of)
    missed: list[tuple[int, int, NonArising]] = []
    verdicts = [_clause(plan, c, caches, log, as_of_us, missed) for c in plan.clauses
                if isinstance(c, ObligationPlan)]
    missed.sort(key=lambda x: (x[0], x[1]))
    not_arisen = [m for _, _, m in missed]
    order, merged = _merge(verdicts)
    view = View(plan, as_of, {})
    size = len(order[0]) if order else 0

    def records() -> list[Any]:
        return _records(log, merged, order, view)

    return RunResult(
        treaty=plan.name,
        as_of=as_of.astimezone(view.tz),
        treaty_status=TreatyStatus.IN_FORCE,
        obligations=LazyTuple(lambda: instances(records(), view), size),
        decisions=(),
        not_arisen=LazyTuple(lambda: tuple(_public(m) for m in not_arisen), len(not_arisen)),
        conditions={},
        permissions={},
        zone=plan.zone,
        columns=once(lambda: _table(log, merged, order, view)),
        counter=lambda: _counts(merged),
    )


def _counts(merged: list[_Verdicts]) -> dict[str, dict[str, int]]:
    """``RunResult.counts`` from the state arrays."""
    out: dict[str, dict[str, int]] = {}
    names = ("pending", "fulfilled", "violated")
    for verdict in merged:
        per = out.setdefault(verdict.clause.id, {})
        for code, n in enumerate(np.bincount(verdict.state[0], minlength=3).tolist()):
            if n:
                per[names[code]] = per.get(names[code], 0) + n
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def _public(m: NonArising) -> PublicNonArising:
    return PublicNonArising(m.clause, m.event, m.reason)


def _clause(
    plan: Plan,
    c: ObligationPlan,
    caches: Caches,
    log: Columns,
    as_of_us: int,
    missed: list[tuple[int, int, NonArising]],
) -> _Verdicts:
    """The verdicts of clause ``c``; its non-arisings go to ``missed`` (keyed by row)."""
    assert c.trigger is not None and len(c.trigger.events) == 1
    assert c.deadline.fixed is not None
    (event,) = c.trigger.events
    declared = plan.treaty.event(event)
    names = [f.name for f in declared.fields] if declared is not None else []
    rows = log.of_type(event)
    combos, which = log.combinations(names, rows)
    infos = [_judge(plan, c, caches, dict(zip(names, key, strict=True))) for key in combos]
    parties = [p.code for p in plan.treaty.parties]
    number = {p: i for i, p in enumerate(parties)}
    out = _Verdicts(c, infos, parties)
    if len(rows) == 0:
        return out
    for k, info in enumerate(infos):
        if info is None or info.why is None:
            continue
        refused = rows[which == k].tolist()
        ids = log.ids(refused)
        for row in refused:
            at = from_micros(int(log.at[row]))
            missed.append((row, c.index, NonArising(at, c.index, c.id, ids[row], info.why)))
    actions = _Actions(plan, c, log, number)
    for k, info in enumerate(infos):
        if info is None or info.why is not None:
            continue
        owing = rows[which == k]
        due = _due(log.at[owing], c)
        assert info.test is not None
        for place, party in enumerate(info.obligors):
            positions = actions.positions(info.test, number[party])
            found = np.full(len(owing), -1, np.int64)
            late = np.full(len(owing), -1, np.int64)
            if len(positions):
                index = np.searchsorted(positions, owing, side="right")
                has = index < len(positions)
                found[has] = positions[index[has]]
            met = (found >= 0) & (log.at[np.maximum(found, 0)] <= due)
            state = np.where(met, 1, np.where(due < as_of_us, 2, 0)).astype(np.int8)
            if len(positions):  # the first of the same rows after the due time
                index = np.searchsorted(log.at[positions], due, side="right")
                has = (index < len(positions)) & (state == 2)
                late[has] = positions[index[has]]
            out.row.append(owing)
            out.combo.append(np.full(len(owing), k, np.int32))
            out.party.append(np.full(len(owing), number[party], np.int32))
            out.position.append(np.full(len(owing), place, np.int32))
            out.state.append(state)
            out.settled.append(np.where(met, found, -1))
            out.late.append(late)
    return out


LAST_US = micros(LAST_INSTANT)


def _due(at_us: np.ndarray, c: ObligationPlan) -> np.ndarray:
    """The due instants (microseconds) of deadlines of fixed length triggered at ``at_us``:
    ``deadlines.elapsed_due`` over a column, the last instant where the sum is past it."""
    assert c.deadline.fixed is not None
    due: np.ndarray = np.minimum(at_us + c.deadline.fixed // ONE_MICROSECOND, LAST_US)
    return due


class _Actions:
    """The rows that could fulfil one clause: per action test and obligor, sorted positions."""

    def __init__(self, plan: Plan, c: ObligationPlan, log: Columns,
                 number: dict[str, int]) -> None:
        (event,) = c.action.events
        actor = c.action.actors[event]
        assert actor is not None
        declared = plan.treaty.event(event)
        self.names = [f.name for f in declared.fields] if declared is not None else []
        self.rows = log.of_type(event)
        self.combos, self.combo = log.combinations(self.names, self.rows)
        actor_at = self.names.index(actor)
        actor_of_combo = np.array([number.get(key[actor_at], -1) for key in self.combos],
                                  np.int32)
        self.actors = actor_of_combo[self.combo] if len(self.combos) else self.combo
        self.passing: dict[int, np.ndarray] = {}
        self.cache: dict[tuple[int, int], np.ndarray] = {}

    def positions(self, test: Test, party: int) -> np.ndarray:
        key = (id(test), party)
        got = self.cache.get(key)
        if got is None:
            passing = self.passing.get(id(test))
            if passing is None:
                names = self.names
                flags = [bool(test(dict(zip(names, c, strict=True)))) for c in self.combos]
                passing = self.passing[id(test)] = np.array(flags, bool)[self.combo]
            got = self.cache[key] = self.rows[passing & (self.actors == party)]
        return got


def _merge(verdicts: list[_Verdicts]) -> tuple[tuple[np.ndarray, ...], list[_Verdicts]]:
    """Every clause's verdicts in the order they arise: trigger row, clause, obligor.

    Returns (row, clause number, index within that clause's arrays) in that order.
    """
    rows, clauses, places, within = [], [], [], []
    kept: list[_Verdicts] = []
    for verdict in verdicts:
        if not verdict.row:
            continue
        number = len(kept)
        kept.append(verdict)
        for name in ("row", "position", "combo", "party", "state", "settled", "late"):
            setattr(verdict, name, [np.concatenate(getattr(verdict, name))])
        row = verdict.row[0]
        rows.append(row)
        clauses.append(np.full(len(row), verdict.clause.index, np.int32))
        places.append(verdict.position[0])
        within.append((np.full(len(row), number, np.int32), np.arange(len(row))))
    if not kept:
        return (), []
    row, clause, place = (np.concatenate(x) for x in (rows, clauses, places))
    order = np.lexsort((place, clause, row))
    del row, clause, place
    which = np.concatenate([w for w, _ in within])[order]
    index = np.concatenate([i for _, i in within])[order]
    return (which, index), kept


def _table(log: Columns, merged: list[_Verdicts], order: tuple[np.ndarray, ...],
           view: View) -> pa.Table:
    """The verdict columns (``RunResult.table``) straight from the arrays."""
    utc = pa.timestamp("us", tz="UTC")
    if not order:
        return pa.table({name: pa.array([], utc if name in TIME_FIELDS else pa.string())
                         for name in FIELDS})
    which, index = order
    parts = []
    for number, verdict in enumerate(merged):
        pick = index[which == number]
        c = verdict.clause
        row = verdict.row[0][pick]
        combo = verdict.combo[0][pick]
        party = np.array(verdict.parties, dtype=object)[verdict.party[0][pick]]
        state = verdict.state[0][pick]
        settled = verdict.settled[0][pick]
        late = verdict.late[0][pick]
        infos = verdict.infos
        actions = [view.action(c, info) if info is not None and info.test else None
                   for info in infos]
        action_data = [view.action_json(c, info) if info is not None and info.test else None
                       for info in infos]
        owed = [info.beneficiary if info is not None else None for info in infos]
        trigger_ids = log.rows.column("id").take(pa.array(row))
        at = log.at[row]
        due = _due(at, c)
        fulfilled = state == 1
        settled_at = np.where(fulfilled, log.at[np.maximum(settled, 0)], due)
        settled_by = log.rows.column("id").take(pa.array(np.maximum(settled, 0)))
        parties = pa.array(party.tolist(), pa.string())
        n = len(row)
        parts.append(pa.table({
            "id": pc.binary_join_element_wise(c.id, trigger_ids, parties, "/"),
            "clause": pa.array([c.id] * n, pa.string()),
            "kind": pa.array(["obligation"] * n, pa.string()),
            "obligor": parties,
            "action": pa.array(actions, pa.string()).take(pa.array(combo)),
            "action_fields": pa.array(action_data, pa.string()).take(pa.array(combo)),
            "beneficiary": pa.array(owed, pa.string()).take(pa.array(combo)),
            "trigger_event": trigger_ids,
            "triggered_at": pa.array(at).cast(utc),
            "due_at": pa.array(due).cast(utc),
            "state": pa.array(["pending", "fulfilled", "violated"]).take(pa.array(state)),
            "settled_at": pa.array(settled_at, mask=state == 0).cast(utc),
            "settled_by": pc.if_else(pa.array(fulfilled), settled_by,
                                     pa.scalar(None, pa.string())),
            "performed_at": pa.array(log.at[np.maximum(late, 0)], mask=late < 0).cast(utc),
            "performed_by": pc.if_else(
                pa.array(late >= 0),
                log.rows.column("id").take(pa.array(np.maximum(late, 0))),
                pa.scalar(None, pa.string())),
            "__order": pa.array(np.flatnonzero(which == number)),
        }))
    table = pa.concat_tables(parts)
    return table.take(pc.sort_indices(table.column("__order"))).drop_columns(["__order"])


def _records(log: Columns, merged: list[_Verdicts], order: tuple[np.ndarray, ...],
             view: View) -> list[Any]:
    """The verdicts as records, in order (for instances and their explanations)."""
    if not order:
        return []
    which, index = order
    wanted: set[int] = set()
    for number, verdict in enumerate(merged):
        pick = index[which == number]
        wanted.update(verdict.row[0][pick].tolist())
        wanted.update(verdict.settled[0][pick][verdict.settled[0][pick] >= 0].tolist())
        wanted.update(verdict.late[0][pick][verdict.late[0][pick] >= 0].tolist())
    ids = log.ids(sorted(wanted))
    out: list[Any] = []
    last: tuple[int, int] | None = None
    record: EachRecord | None = None
    for number, i in zip(which.tolist(), index.tolist(), strict=True):
        verdict = merged[number]
        row = int(verdict.row[0][i])
        if (row, number) != last:
            last = (row, number)
            c = verdict.clause
            info = verdict.infos[int(verdict.combo[0][i])]
            assert info is not None and info.test is not None and c.deadline.fixed is not None
            trigger_at = from_micros(int(log.at[row]))
            record = EachRecord(c, f"{c.id}/{ids[row]}/", info.obligors, info.beneficiary,
                                ids[row], c.trigger.events[0], trigger_at, info.fields,
                                elapsed_due(trigger_at, c.deadline.fixed), info.test,
                                info.bindings)
            out.append(record)
        assert record is not None
        state = int(verdict.state[0][i])
        party = verdict.parties[int(verdict.party[0][i])]
        if state == 1:
            act = int(verdict.settled[0][i])
            at = from_micros(int(log.at[act]))
            record.settle(party, (FULFILLED, at, ids[act]))
        elif state == 2:
            record.settle(party, (VIOLATED, record.due_at, None))
            act = int(verdict.late[0][i])
            if act >= 0:
                view.late[record.key + party] = (from_micros(int(log.at[act])), ids[act])
    return out


