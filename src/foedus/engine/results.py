"""From runtime state to a :class:`RunResult`, with an :class:`Explanation` for every entry.

Stage: after ``engine.runtime`` (the state as of one instant); before the report and the
CLI, which only render these values. Explanations are built here, lazily, so the hot
path of the monitor never formats a string.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar, overload

from foedus.engine.decisions import votes_needed
from foedus.engine.matching import fmt_time, render_pattern
from foedus.engine.model import (
    DecisionInstance,
    DecisionStatus,
    Explanation,
    NonArising,
    ObligationInstance,
    ObligationStatus,
    ProhibitionStatus,
    RunResult,
)
from foedus.engine.plan import ClausePlan
from foedus.engine.records import Activation, DecisionItem, Group, Item, ref_key
from foedus.engine.runtime import Runtime
from foedus.language.model import RuleKind

__all__ = ["LazyTuple", "build_result", "clause_explanation", "fmt_time"]

T = TypeVar("T")

PENDING = ObligationStatus.PENDING
FULFILLED = ObligationStatus.FULFILLED
VIOLATED = ObligationStatus.VIOLATED


def _explanation(plan: ClausePlan, reason: str, events: tuple[str, ...]) -> Explanation:
    clause = plan.clause
    return Explanation(clause.id, clause.title, clause.quotes, reason, events)


def _origin(item: Item | DecisionItem) -> str:
    trigger = item.plan.trigger
    if item.trigger_id is None:
        return "arose at the start" if item.trigger_at is None else "arose"
    when = fmt_time(item.trigger_at)
    if trigger is None or trigger.pattern is None:
        if trigger is not None and trigger.clause is not None:
            return (f"arose when clause {trigger.clause} was {trigger.kind.value} at {when} "
                    f"(from event {item.trigger_id})")
        return f"arose when the treaty entered into force at {when} (event {item.trigger_id})"
    return f"arose from {trigger.pattern.event} {item.trigger_id} at {when}"


def _obligation(item: Item) -> ObligationInstance:
    plan = item.plan
    assert plan.action is not None
    action = render_pattern(plan.action, item.bindings)
    origin = _origin(item)
    events: list[str] = [item.trigger_id] if item.trigger_id else []
    status = item.status
    due = fmt_time(item.due_at)
    if item.kind == "prohibition":
        reason = (f"{item.obligor} did {action} (event {item.settled_by} at "
                  f"{fmt_time(item.settled_at)}) while the prohibition applied.")
        events = [e for e in (*events, item.settled_by) if e]
    elif status is ObligationStatus.FULFILLED:
        acted = item.acted or {}
        if item.k > 1 or acted:
            who = ", ".join(f"{p} ({e})" for p, e in acted.items())
            reason = (f"It {origin}; due {due}; fulfilled when {len(acted)} of "
                      f"{plan.obligors.among.name if plan.obligors else '?'} did {action}: {who}.")
            events.extend(acted.values())
        else:
            reason = (f"It {origin}; due {due}; fulfilled by {item.settled_by} at "
                      f"{fmt_time(item.settled_at)}: {action} by {item.obligor}.")
            events.append(str(item.settled_by))
    elif status is ObligationStatus.VIOLATED:
        acted = item.acted or {}
        partial = f" (only {len(acted)} of {item.k} acted)" if item.k > 1 else ""
        reason = f"It {origin}; due {due}; no {action} by {item.obligor} by then{partial}."
        events.extend(acted.values())
    elif status is ObligationStatus.DISCHARGED:
        reason = (f"It {origin}; due {due}; discharged when the treaty terminated at "
                  f"{fmt_time(item.settled_at)} (event {item.settled_by}).")
        events.append(str(item.settled_by))
    else:
        reason = f"It {origin}; due {due}; no {action} by {item.obligor} yet."
    return ObligationInstance(
        id=item.id,
        clause=plan.id,
        kind=item.kind,
        obligor=item.obligor,
        action=action,
        beneficiary=item.beneficiary,
        trigger_event=item.trigger_id,
        triggered_at=item.trigger_at,
        due_at=item.due_at,
        status=status,
        settled_at=item.settled_at,
        settled_by=item.settled_by,
        explanation=_explanation(plan, reason, tuple(events)),
    )


def _group(group: Group, actions: dict[Any, str]) -> list[ObligationInstance]:
    """The instances of a group: the same as ``_obligation(group.item(p))`` for each obligor,
    with the parts they share (action, origin, due time) rendered once.

    ``actions`` caches the rendered action per clause and values of the action's
    references, which is all the rendering depends on: groups that share them share it.
    """
    plan = group.plan
    clause = plan.clause
    assert plan.action is not None
    bindings = group.bindings
    try:
        key = (plan.id, ref_key(plan.action_refs, bindings))
        action = actions.get(key)
        if action is None:
            action = actions[key] = render_pattern(plan.action, bindings)
    except TypeError:  # a value that cannot be a key: render it here
        action = render_pattern(plan.action, bindings)
    head = f"It {_origin(group)}; due {fmt_time(group.due_at)}; "
    trigger_id = group.trigger_id
    base = (trigger_id,) if trigger_id else ()
    outcome = group.outcome
    key_prefix = group.key
    clause_id, title, quotes = clause.id, clause.title, clause.quotes
    plan_id = plan.id
    beneficiary, trigger_at, due_at = group.beneficiary, group.trigger_at, group.due_at
    out = []
    append = out.append
    for party in group.obligors:
        got = outcome.get(party)
        settled_at = settled_by = None
        events = base
        if got is None:
            status = PENDING
            reason = f"{head}no {action} by {party} yet."
        else:
            status, settled_at, settled_by = got
            if status is FULFILLED:
                reason = (f"{head}fulfilled by {settled_by} at {fmt_time(settled_at)}: "
                          f"{action} by {party}.")
                events = (*base, str(settled_by))
            elif status is VIOLATED:
                reason = f"{head}no {action} by {party} by then."
            else:
                reason = (f"{head}discharged when the treaty terminated at "
                          f"{fmt_time(settled_at)} (event {settled_by}).")
                events = (*base, str(settled_by))
        append(ObligationInstance(
            key_prefix + party, plan_id, "obligation", party, action, beneficiary,
            trigger_id, trigger_at, due_at, status, settled_at, settled_by,
            Explanation(clause_id, title, quotes, reason, events),
        ))
    return out


def _respected(act: Activation, as_of: datetime) -> ObligationInstance:
    plan = act.plan
    assert plan.action is not None
    action = render_pattern(plan.action, act.bindings)
    members = ", ".join(sorted(act.members)) or "nobody"
    scope = []
    if act.start_at is not None:
        scope.append(f"from {fmt_time(act.start_at)}")
    if act.end_at is not None:
        scope.append(f"until {fmt_time(act.end_at)}")
    closed = act.end_at is not None and as_of > act.end_at
    when = " ".join(scope) or "while the treaty is in force"
    reason = f"No {action} by {members} {when}, as of {fmt_time(as_of)}."
    return ObligationInstance(
        id=act.key,
        clause=plan.id,
        kind="prohibition",
        obligor=plan.label,
        action=action,
        beneficiary=None,
        trigger_event=act.trigger_id,
        triggered_at=act.trigger_at,
        due_at=act.end_at,
        status=ProhibitionStatus.RESPECTED,
        settled_at=act.end_at if closed else None,
        settled_by=None,
        explanation=_explanation(plan, reason, (act.trigger_id,) if act.trigger_id else ()),
    )


def _rule_text(dec: DecisionItem) -> str:
    rule = dec.plan.rule
    assert rule is not None
    n = len(dec.voters)
    if rule.kind is RuleKind.UNANIMITY:
        return f"unanimity (all {n} must vote yes)"
    if rule.kind is RuleKind.MAJORITY:
        return f"majority ({votes_needed(rule, n)} of {n} yes)"
    if rule.kind is RuleKind.QUALIFIED:
        return f"{rule.num}/{rule.den} majority ({votes_needed(rule, n)} of {n} yes)"
    if rule.kind is RuleKind.AT_LEAST:
        return f"at least {rule.k} yes of {n}"
    return "consensus (adopted unless a voter objects)"


def _decision(dec: DecisionItem) -> DecisionInstance:
    plan = dec.plan
    tally = ", ".join(f"{v} {c}" for v, c in dec.tally.items()) or "no votes"
    base = (f"It {_origin(dec)}; voters {', '.join(dec.voters)}; rule {_rule_text(dec)}; "
            f"time to decide until {fmt_time(dec.closes_at)}; votes: {tally}.")
    if dec.status is DecisionStatus.OPEN:
        reason = base + " Still open."
    elif dec.resolved_by is not None:
        reason = base + f" {dec.status.value.capitalize()} at {fmt_time(dec.resolved_at)} "
        reason += f"(event {dec.resolved_by})."
    elif dec.status is DecisionStatus.ADOPTED:
        reason = base + " Adopted when the time to decide ended with no objection."
    else:
        reason = base + " Lapsed: the time to decide ended without a result."
    events = tuple(e for e in (dec.trigger_id, *dec.vote_ids) if e)
    return DecisionInstance(
        id=dec.id,
        clause=plan.id,
        trigger_event=dec.trigger_id or "",
        opened_at=dec.trigger_at,
        closes_at=dec.closes_at,
        voters=dec.voters,
        status=dec.status,
        tally=dict(sorted(dec.tally.items())),
        resolved_at=dec.resolved_at,
        explanation=_explanation(plan, reason, events),
    )


def _condition_text(runtime: Runtime, plan: ClausePlan) -> str:
    step, matched, done_at, done_by = runtime.cond[plan.id]
    total = len(plan.steps)
    if done_at is not None and step >= total:
        return f"met at {fmt_time(done_at)} (event {done_by})"
    if step >= total:
        return "met"
    waiting = [render_pattern(p) for j, p in enumerate(plan.steps[step]) if j not in matched]
    prefix = f"met at {fmt_time(done_at)} (event {done_by}); again: " if done_at else ""
    return f"{prefix}step {step + 1} of {total}: waiting for {' and '.join(waiting)}"


class LazyTuple(Sequence[T]):
    """A tuple whose items are built on first access: the compact result store.

    The monitor keeps one small record per instance and only builds the
    :class:`ObligationInstance` values (with their explanations) when they are read. It
    compares equal to a tuple, or to another :class:`LazyTuple`, with the same items.

    >>> LazyTuple(lambda: (1, 2), 2) == (1, 2)
    True
    """

    __slots__ = ("_build", "_built", "_size")

    def __init__(self, build: Callable[[], tuple[T, ...]], size: int) -> None:
        self._build: Callable[[], tuple[T, ...]] | None = build
        self._built: tuple[T, ...] | None = None
        self._size = size

    def materialize(self) -> tuple[T, ...]:
        """Every item, as a tuple.

        The cyclic collector is paused while the items are built: they make no cycles,
        and it would otherwise rescan the growing result every few hundred allocations
        (about a third of the time on a large result).
        """
        if self._built is None:
            assert self._build is not None
            enabled = gc.isenabled()
            gc.disable()
            try:
                self._built = self._build()
            finally:
                if enabled:
                    gc.enable()
            self._build = None  # drop the records it was built from
        return self._built

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> Any:
        return self.materialize()[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self.materialize())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyTuple):
            return self.materialize() == other.materialize()
        if isinstance(other, tuple):
            return self.materialize() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.materialize())


def _instances(
    records: list[Item | Group | Activation], breaches: dict[str, int], as_of: datetime
) -> tuple[ObligationInstance, ...]:
    out: list[ObligationInstance] = []
    actions: dict[Any, str] = {}
    for x in records:
        if type(x) is Group:
            out.extend(_group(x, actions))  # type: ignore[arg-type]
        elif type(x) is Activation:
            if not breaches.get(x.key):
                out.append(_respected(x, as_of))  # type: ignore[arg-type]
        else:
            out.append(_obligation(x))  # type: ignore[arg-type]
    return tuple(out)


def _not_arisen(records: list[tuple[Any, ...]]) -> tuple[NonArising, ...]:
    return tuple(NonArising(c, e, r) for _, _, c, e, r in records)


def build_result(runtime: Runtime, as_of: datetime) -> RunResult:
    """The run result of ``runtime`` (a private copy advanced to ``as_of``).

    Entries come in the order they arose, which depends only on the sorted events: the
    trigger time, then the event id, then the clause order, then the obligor order.
    """
    plan = runtime.plan
    return RunResult(
        treaty=plan.treaty.name,
        as_of=as_of,
        treaty_status=runtime.status,
        obligations=LazyTuple(  # type: ignore[arg-type]
            partial(_instances, runtime.arisen, runtime.breaches, as_of),
            runtime.n_instances + runtime.n_activations - len(runtime.breaches),
        ),
        decisions=tuple(_decision(d) for d in runtime.decisions),
        not_arisen=LazyTuple(  # type: ignore[arg-type]
            partial(_not_arisen, runtime.not_arisen), len(runtime.not_arisen)
        ),
        conditions={p.id: _condition_text(runtime, p) for p in plan.condition_plans},
        permissions={k: tuple(v) for k, v in sorted(runtime.permissions.items())},
    )


def clause_explanation(plan: ClausePlan, result: RunResult) -> Explanation:
    """Why a clause produced what it did: its instances, and every trigger that did not count."""
    mine = [o for o in result.obligations if o.clause == plan.id]
    decisions = [d for d in result.decisions if d.clause == plan.id]
    missed = [n for n in result.not_arisen if n.clause == plan.id]
    parts = []
    if mine or decisions:
        parts.append(f"{len(mine) + len(decisions)} instance(s) arose or were recorded.")
    for n in missed:
        parts.append(f"Event {n.event} did not count: {n.reason}.")
    if not parts:
        if plan.clause.kind.value == "condition":
            parts.append(f"Condition: {result.conditions.get(plan.id, '')}.")
        elif plan.trigger is not None and plan.trigger.pattern is not None:
            parts.append(f"No {plan.trigger.pattern.event} event matched "
                         f"{render_pattern(plan.trigger.pattern)}.")
        else:
            parts.append("Nothing arose from this clause.")
    return _explanation(plan, " ".join(parts), tuple(n.event for n in missed))
