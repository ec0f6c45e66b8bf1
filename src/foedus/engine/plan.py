"""A treaty compiled for monitoring: per-clause plans and indexes by event type.

Stage: after ``language.check`` (the :class:`~foedus.language.model.Treaty`); before
``engine.runtime``, whose state machine dispatches each event through ``by_type``.
Everything here is immutable once built and shared by every copy of the runtime state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from foedus.engine.matching import Matcher, Test, fmt_value, obligors_label
from foedus.language.model import (
    Clause,
    ClauseKind,
    Condition,
    ConditionEffect,
    Const,
    Deadline,
    DeadlineKind,
    Decision,
    Obligation,
    Obligors,
    Pattern,
    Permission,
    Prohibition,
    Quantifier,
    Ref,
    RoleSet,
    Rule,
    Treaty,
    Trigger,
    TriggerKind,
    Unit,
    Value,
    Window,
)

__all__ = ["ClausePlan", "Plan", "TypePlan", "compile_treaty"]

# units that are a fixed number of hours in UTC (no DST there)
FIXED_UNITS = {Unit.HOURS: 1, Unit.DAYS: 24, Unit.WEEKS: 168}


def _has_ref(value: Any) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, Pattern):
        return any(_has_ref(c.value) for c in value.constraints)
    if isinstance(value, Obligors):
        return any(isinstance(v, Ref) for v in value.exceptions)
    return False


@dataclass(eq=False)
class ClausePlan:
    """One clause, with its patterns precompiled where they do not depend on bindings."""

    index: int
    clause: Clause
    id: str
    kind: ClauseKind
    standalone: bool
    trigger: Trigger | None = None
    trigger_test: Test | None = None
    has_carve_outs: bool = False
    obligors: Obligors | None = None
    static_obligors: tuple[str, ...] | None = None
    label: str = ""
    action: Pattern | None = None
    actor_field: str | None = None
    static_action: Test | None = None
    beneficiary: Value | None = None
    deadline: Deadline | None = None
    # fast path: a fixed length from the trigger ("within N hours", or days in UTC)
    delta: timedelta | None = None
    # the monitor's fast path applies (each-obligation, fixed deadline, no guard)
    fast: bool = False
    obligor_field: str | None = None  # the single reference of the exceptions, if to the trigger
    action_field: str | None = None  # the single reference of the action, if to the trigger
    on_fulfilled: bool = False  # another clause is triggered by this one's verdicts
    on_violated: bool = False
    binding_name: str | None = None
    prefix: str = ""
    action_type: str = ""
    beneficiary_text: str | None = None
    window: Window = field(default_factory=Window)
    rule: Rule | None = None
    vote_event: str = ""
    steps: tuple[tuple[Pattern, ...], ...] = ()
    step_tests: tuple[tuple[Test, ...], ...] = ()
    effect: ConditionEffect | None = None
    # references the action pattern and the exceptions depend on, and closures/obligor
    # tuples already built for given reference values (a pure cache shared by copies)
    action_refs: tuple[Ref, ...] = ()
    action_cache: dict[tuple[Any, ...], Test] = field(default_factory=dict)
    obligor_refs: tuple[Ref, ...] = ()
    obligor_cache: dict[tuple[Any, ...], tuple[str, ...]] = field(default_factory=dict)

    @property
    def binding(self) -> str | None:
        return self.trigger.binding if self.trigger is not None else None


@dataclass(eq=False)
class TypePlan:
    """What one event type can do: advance conditions, vote, violate, exercise, trigger."""

    conditions: list[ClausePlan] = field(default_factory=list)
    votes: list[ClausePlan] = field(default_factory=list)
    prohibitions: list[ClausePlan] = field(default_factory=list)
    permissions: list[ClausePlan] = field(default_factory=list)
    triggers: list[ClausePlan] = field(default_factory=list)


@dataclass(eq=False)
class Plan:
    """The whole treaty compiled: clause plans, what each event type does, verdict triggers."""

    treaty: Treaty
    matcher: Matcher
    clauses: list[ClausePlan]
    by_id: dict[str, ClausePlan]
    by_type: dict[str, TypePlan]
    actor_of: dict[str, str | None]
    on_verdict: dict[tuple[TriggerKind, str], list[ClausePlan]]
    on_entry: list[ClausePlan]  # non-standalone: arise when the treaty enters into force
    at_start: list[ClausePlan]  # standalone triggerless clauses, or all when no entry clause
    has_entry: bool
    calendars: Mapping[str, Any]
    prohibition_plans: list[ClausePlan]
    permission_plans: list[ClausePlan]
    condition_plans: list[ClausePlan]


def _clause_plan(index: int, clause: Clause, matcher: Matcher, treaty: Treaty) -> ClausePlan:
    body = clause.body
    plan = ClausePlan(index, clause, clause.id, clause.kind, clause.standalone)
    if isinstance(body, Obligation | Prohibition | Decision):
        plan.trigger = body.trigger
        trigger = body.trigger
        if trigger is not None and trigger.kind is TriggerKind.EVENT and trigger.pattern:
            plan.trigger_test = matcher.pattern(trigger.pattern, {})
            plan.has_carve_outs = any(c.op.value in ("!=", "not within")
                                      for c in trigger.pattern.constraints)
    if isinstance(body, Obligation | Prohibition | Permission):
        plan.obligors = body.obligors
        plan.action = body.action
        event_type = treaty.event(body.action.event)
        plan.actor_field = event_type.actor if event_type is not None else None
        if not _has_ref(body.action):
            plan.static_action = matcher.pattern(body.action, {})
        plan.action_refs = tuple(
            c.value for c in body.action.constraints if isinstance(c.value, Ref)
        )
    if isinstance(body, Obligation | Prohibition):
        plan.beneficiary = body.beneficiary
    if isinstance(body, Obligation):
        plan.deadline = body.deadline
        d = body.deadline
        if (
            d.kind is DeadlineKind.WITHIN
            and d.duration is not None
            and d.duration.unit in FIXED_UNITS
            and d.zone == "UTC"
            and (d.anchor is None or (body.trigger and d.anchor == body.trigger.binding))
        ):
            plan.delta = timedelta(hours=d.duration.amount * FIXED_UNITS[d.duration.unit])
    if isinstance(body, Prohibition):
        plan.window = body.window
        plan.deadline = body.deadline
    if isinstance(body, Permission):
        plan.window = body.window
    if isinstance(body, Decision):
        plan.obligors = body.voters
        plan.rule = body.rule
        plan.deadline = body.deadline
        plan.vote_event = body.vote_event
        vote_type = treaty.event(body.vote_event)
        plan.actor_field = (vote_type.actor if vote_type is not None else None) or "by"
    if isinstance(body, Condition):
        plan.effect = body.effect
        plan.steps = body.steps
        plan.step_tests = tuple(
            tuple(matcher.pattern(p, {}) for p in step) for step in body.steps
        )
    plan.binding_name = plan.trigger.binding if plan.trigger is not None else None
    plan.prefix = f"{plan.id}/"
    plan.action_type = plan.action.event if plan.action is not None else ""
    if isinstance(plan.beneficiary, Const):
        plan.beneficiary_text = fmt_value(plan.beneficiary.value)
    elif isinstance(plan.beneficiary, RoleSet):
        plan.beneficiary_text = plan.beneficiary.name
    plan.fast = (
        isinstance(body, Obligation)
        and plan.delta is not None
        and body.obligors.quantifier is Quantifier.EACH
        and body.trigger is not None
        and body.trigger.kind is TriggerKind.EVENT
        and body.trigger.guard is None
    )
    binding = plan.binding_name
    if len(plan.action_refs) == 1 and plan.action_refs[0].binding == binding:
        plan.action_field = plan.action_refs[0].field
    if plan.obligors is not None:
        refs = tuple(v for v in plan.obligors.exceptions if isinstance(v, Ref))
        if len(refs) == 1 and refs[0].binding == binding:
            plan.obligor_field = refs[0].field
        plan.label = obligors_label(plan.obligors)
        if not _has_ref(plan.obligors):
            plan.static_obligors = matcher.obligors(plan.obligors, {})
        plan.obligor_refs = tuple(v for v in plan.obligors.exceptions if isinstance(v, Ref))
    return plan


def compile_treaty(treaty: Treaty) -> Plan:
    """Index the clauses of ``treaty`` by the event types that concern them."""
    matcher = Matcher(treaty)
    clauses = [_clause_plan(i, c, matcher, treaty) for i, c in enumerate(treaty.clauses)]
    by_type: dict[str, TypePlan] = {}
    on_verdict: dict[tuple[TriggerKind, str], list[ClausePlan]] = {}
    on_entry: list[ClausePlan] = []
    at_start: list[ClausePlan] = []
    has_entry = any(
        isinstance(c.body, Condition) and c.body.effect is ConditionEffect.ENTRY_INTO_FORCE
        for c in treaty.clauses
    )

    def slot(event: str) -> TypePlan:
        return by_type.setdefault(event, TypePlan())

    for plan in clauses:
        body = plan.clause.body
        if isinstance(body, Condition):
            for event in sorted({p.event for step in body.steps for p in step}):
                slot(event).conditions.append(plan)
            continue
        if isinstance(body, Permission):
            slot(body.action.event).permissions.append(plan)
            continue
        if isinstance(body, Prohibition):
            slot(body.action.event).prohibitions.append(plan)
        if isinstance(body, Decision):
            slot(body.vote_event).votes.append(plan)
        trigger = plan.trigger
        if trigger is None and isinstance(body, Prohibition):
            continue  # applies from the start, within its window (see Runtime)
        if trigger is None or trigger.kind is TriggerKind.IN_FORCE:
            if plan.standalone or not has_entry:
                at_start.append(plan)
            else:
                on_entry.append(plan)
        elif trigger.kind is TriggerKind.EVENT and trigger.pattern is not None:
            slot(trigger.pattern.event).triggers.append(plan)
        elif trigger.clause is not None:
            on_verdict.setdefault((trigger.kind, trigger.clause), []).append(plan)
    for plan in clauses:
        plan.on_fulfilled = (TriggerKind.FULFILLED, plan.id) in on_verdict
        plan.on_violated = (TriggerKind.VIOLATED, plan.id) in on_verdict
    return Plan(
        treaty=treaty,
        matcher=matcher,
        clauses=clauses,
        by_id={p.id: p for p in clauses},
        by_type=by_type,
        actor_of={e.name: e.actor for e in treaty.events},
        on_verdict=on_verdict,
        on_entry=on_entry,
        at_start=at_start,
        has_entry=has_entry,
        calendars={c.name: c for c in treaty.calendars},
        prohibition_plans=[p for p in clauses if p.kind is ClauseKind.PROHIBITION],
        permission_plans=[p for p in clauses if p.kind is ClauseKind.PERMISSION],
        condition_plans=[p for p in clauses if p.kind is ClauseKind.CONDITION],
    )
