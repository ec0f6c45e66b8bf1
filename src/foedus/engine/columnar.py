"""Clauses evaluated over whole columns: the batch path's engine for the common treaty shape.

Stage: after ``engine.batch`` (a checked log kept as columns sorted by ``(at, id)``);
before ``engine.results``, which turns the records built here into the same
:class:`~foedus.engine.model.RunResult` the monitor gives.

Supported (:func:`supports`): treaties whose clauses are all event-triggered `each`
obligations with a fixed-length deadline in UTC (hours, days, weeks), no guard, no verdict
triggers, obligors and action constraints that refer only to the trigger; and no
conditions, decisions, prohibitions or permissions. Everything else goes to the monitor.

How: a clause's trigger test, carve-out reason, obligors, beneficiary and action test are
computed once per distinct combination of the trigger's field values, with the monitor's
own matcher. The action test is evaluated once per distinct combination of the action's
field values and mapped back onto the rows with a join. For each obligor, a backward fill
over row positions gives, for every row, the next matching action by that obligor; the
trigger's fulfilment is that action if it comes no later than the due time and ``as_of``.
An event never fulfils the obligation it triggers, since only later rows count.
"""

from __future__ import annotations

import gc
from datetime import datetime, timedelta
from typing import Any

from foedus.engine.batch import times, to_micros
from foedus.engine.matching import Test, fmt_value
from foedus.engine.model import ObligationStatus, RunResult
from foedus.engine.plan import ClausePlan, Plan
from foedus.engine.results import build_result
from foedus.engine.runtime import Runtime
from foedus.language.model import ClauseKind, Const, Quantifier, Ref, TriggerKind

__all__ = ["evaluate_columns", "supports"]

FULFILLED = ObligationStatus.FULFILLED
VIOLATED = ObligationStatus.VIOLATED


def supports(plan: Plan) -> bool:
    """Whether every clause of ``plan`` has the shape :func:`evaluate_columns` handles."""
    if (plan.has_entry or plan.on_verdict or plan.on_entry or plan.at_start
            or plan.prohibition_plans or plan.permission_plans or plan.condition_plans):
        return False
    return all(_clause_ok(plan, c) for c in plan.clauses)


def _clause_ok(plan: Plan, c: ClausePlan) -> bool:
    trigger = c.trigger
    if (c.kind is not ClauseKind.OBLIGATION or not c.fast or c.on_fulfilled or c.on_violated
            or trigger is None or trigger.kind is not TriggerKind.EVENT
            or trigger.pattern is None or c.obligors is None or c.action is None
            or c.obligors.quantifier is not Quantifier.EACH or c.delta is None):
        return False
    declared = plan.treaty.event(trigger.pattern.event)
    if declared is None:
        return False
    names = {f.name for f in declared.fields}
    refs = [*c.action_refs, *c.obligor_refs]
    if isinstance(c.beneficiary, Ref):
        refs.append(c.beneficiary)
    return all(r.binding == c.binding_name and r.field in names for r in refs)


class _Trigger:
    """What a clause makes of one distinct combination of trigger field values."""

    __slots__ = ("beneficiary", "obligors", "test", "variant", "why")

    def __init__(self) -> None:
        self.why: str | None = None
        self.obligors: tuple[str, ...] = ()
        self.variant: Any = None
        self.test: Test | None = None
        self.beneficiary: str | None = None


def _trigger_info(plan: Plan, c: ClausePlan, fields: dict[str, Any]) -> _Trigger | None:
    """None if the trigger pattern fails without a carve-out (not the clause's business)."""
    matcher = plan.matcher
    info = _Trigger()
    assert c.trigger is not None and c.trigger.pattern is not None and c.obligors is not None
    if c.trigger_test is not None and not c.trigger_test(fields):
        if not c.has_carve_outs:
            return None
        info.why = matcher.mismatch(c.trigger.pattern, fields, {}, c.id)
        return info if info.why is not None else None
    binding = c.binding_name
    bindings = {binding: (fields, None, None)} if binding else {}
    obligors = c.static_obligors
    if obligors is None:
        obligors = matcher.obligors(c.obligors, bindings)
    if not obligors:
        why = f"no obligor left: every {c.obligors.among.name} is excepted"
        if c.obligors.exceptions:
            why += f" ({matcher.exceptions_text(c.obligors, bindings)})"
        info.why = why
        return info
    info.obligors = obligors
    if c.static_action is not None:
        info.test, info.variant = c.static_action, None
    else:
        assert c.action is not None
        # the action's references are to the trigger (see _clause_ok): its values
        info.variant = tuple(fields.get(r.field) for r in c.action_refs)
        info.test = matcher.pattern(c.action, bindings)
    value = c.beneficiary
    if isinstance(value, Ref):
        got = fields.get(value.field)
        info.beneficiary = got if type(got) is str else fmt_value(got)
    elif isinstance(value, Const):
        info.beneficiary = fmt_value(value.value)
    elif value is not None:
        info.beneficiary = value.name  # type: ignore[union-attr]
    return info


def _match_rows(rows: Any, type_mask: Any, names: list[str], test: Test) -> Any:
    """Positions (sorted) of the rows of ``type_mask`` whose fields pass ``test``.

    The test runs once per distinct combination of the fields, not once per row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    idx = pc.indices_nonzero(type_mask)
    if len(idx) == 0:
        return idx
    if not names:
        return idx if test({}) else idx.slice(0, 0)
    sub = rows.select(names).take(idx)
    sub = sub.append_column("__i", pa.array(range(len(idx)), pa.int64()))
    uniq = sub.group_by(names, use_threads=False).aggregate([("__i", "min")])
    flags = [bool(test(r)) for r in uniq.select(names).to_pylist()]
    if all(flags):
        return idx
    if not any(flags):
        return idx.slice(0, 0)
    good = uniq.select(names).filter(pa.array(flags))
    joined = sub.join(good, keys=names, join_type="left semi", use_threads=False)
    local = pc.sort_indices(joined.column("__i"))
    return pc.take(idx, pc.take(joined.column("__i"), local))


def _next_after(index: Any, positions: Any) -> Any:
    """For each row r, the first of ``positions`` strictly after r (null if none).

    ``index`` is the row numbers 0..n-1.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(index)
    if n == 0:
        return pa.array([], pa.int64())
    marks = pa.nulls(n, pa.int64())
    if len(positions):
        marks = pc.if_else(pc.is_in(index, value_set=positions), index, marks)
    filled = pc.fill_null_backward(marks)
    return pa.concat_arrays([filled.slice(1), pa.nulls(1, pa.int64())])


def evaluate_columns(plan: Plan, rows: Any, as_of: datetime) -> RunResult:
    """The run result of ``plan`` over ``rows`` (kept columns, sorted, none after ``as_of``).

    The cyclic collector is paused meanwhile, as in ``Monitor.status``: the records make no
    cycles, and it would otherwise rescan them every few thousand allocations.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _evaluate(plan, rows, as_of)
    finally:
        if enabled:
            gc.enable()


def _evaluate(plan: Plan, rows: Any, as_of: datetime) -> RunResult:
    import pyarrow as pa
    import pyarrow.compute as pc

    asof_us = to_micros(as_of)
    n = rows.num_rows
    types = rows.column("type")
    at_us = rows.column("at")
    treaty = plan.treaty
    arisen: list[tuple[int, int, Any]] = []
    missed: list[tuple[int, int, tuple[Any, ...]]] = []
    index = pa.array(range(n), pa.int64()) if n else pa.array([], pa.int64())
    for c in plan.clauses:
        assert c.trigger is not None and c.trigger.pattern is not None and c.delta is not None
        assert c.action is not None
        ttype = c.trigger.pattern.event
        tdecl = treaty.event(ttype)
        assert tdecl is not None
        names = [f.name for f in tdecl.fields]
        tidx = pc.indices_nonzero(pc.equal(types, ttype))
        if len(tidx) == 0:
            continue
        trig = rows.select(["id", "at", "at_text", *names]).take(tidx)
        t_rows = tidx.to_pylist()
        t_ids = trig.column("id").to_pylist()
        t_us = trig.column("at").to_pylist()
        t_at = times(t_us, trig.column("at_text").to_pylist())
        cols = [trig.column(name).to_pylist() for name in names]
        delta_us = c.delta // timedelta(microseconds=1)
        cache: dict[tuple[Any, ...], _Trigger | None] = {}
        live: list[tuple[int, dict[str, Any], _Trigger]] = []  # (trigger ordinal, fields, info)
        for j in range(len(t_ids)):
            key = tuple(col[j] for col in cols)
            fields = dict(zip(names, key, strict=True))
            if key in cache:
                info = cache[key]
            else:
                info = cache[key] = _trigger_info(plan, c, fields)
            if info is None:
                continue
            if info.why is not None:
                missed.append((t_rows[j], c.index, (t_at[j], c.index, c.id, t_ids[j], info.why)))
                continue
            live.append((j, fields, info))
        if not live:
            continue
        # fulfilment: per action test and obligor, the next matching action after each row
        atype = c.action.event
        actor_field = plan.actor_of.get(atype)
        adecl = treaty.event(atype)
        anames = [f.name for f in adecl.fields] if adecl is not None else []
        found: dict[tuple[int, str], tuple[int | None, bool]] = {}
        by_variant: dict[Any, list[tuple[int, Test, tuple[str, ...]]]] = {}
        for j, _, info in live:
            assert info.test is not None
            by_variant.setdefault(info.variant, []).append((j, info.test, info.obligors))
        if actor_field and actor_field in rows.column_names:
            type_mask = pc.equal(types, atype)
            for members in by_variant.values():
                matched = _match_rows(rows, type_mask, anames, members[0][1])
                actors = pc.take(rows.column(actor_field), matched)
                ordinals = [j for j, _, _ in members]
                positions = pa.array([t_rows[j] for j in ordinals], pa.int64())
                limits = pa.array(
                    [min(t_us[j] + delta_us, asof_us) for j in ordinals], pa.int64()
                )
                parties = sorted({p for _, _, obligors in members for p in obligors})
                for party in parties:
                    mine = pc.filter(matched, pc.equal(actors, party))
                    cand = pc.take(_next_after(index, mine), positions)
                    ok = pc.less_equal(pc.take(at_us, cand), limits)
                    for j, row, good in zip(ordinals, cand.to_pylist(), ok.to_pylist(),
                                            strict=True):
                        found[(j, party)] = (row, bool(good))
        # the fulfilling rows' ids and times, fetched together
        wanted = sorted({row for row, good in found.values() if good and row is not None})
        acts: dict[int, tuple[str, datetime]] = {}
        if wanted:
            got = rows.select(["id", "at", "at_text"]).take(pa.array(wanted, pa.int64()))
            a_times = times(got.column("at").to_pylist(), got.column("at_text").to_pylist())
            for row, event_id, at in zip(wanted, got.column("id").to_pylist(), a_times,
                                         strict=True):
                acts[row] = (event_id, at)
        prefix = c.prefix
        for j, fields, info in live:
            at = t_at[j]
            violated = t_us[j] + delta_us < asof_us
            event_id = t_ids[j]
            due = at + c.delta
            outcome: dict[str, tuple[ObligationStatus, datetime | None, str | None]] = {}
            for party in info.obligors:
                row, good = found.get((j, party), (None, False))
                if good and row is not None:
                    act_id, act_at = acts[row]
                    outcome[party] = (FULFILLED, act_at, act_id)
                elif violated:
                    outcome[party] = (VIOLATED, due, None)
            group = Runtime.each_group(prefix + event_id + "/", c, info.obligors,
                                       info.beneficiary, event_id, at, fields, due, info.test,
                                       outcome)
            arisen.append((t_rows[j], c.index, group))
    arisen.sort(key=lambda x: (x[0], x[1]))
    missed.sort(key=lambda x: (x[0], x[1]))
    runtime = Runtime.from_records(plan, [g for _, _, g in arisen],
                                   [m for _, _, m in missed])
    return build_result(runtime, as_of)
