"""A treaty compiled for running: one frozen plan per clause, indexed by event type.

Stage: after ``language.check`` (the :class:`~foedus.language.model.Treaty`); every
executor (``engine.state`` one event at a time, ``engine.columns`` a column at a time)
runs the same :class:`Plan`. The plan holds each rule of the semantics once, as pure
methods: when a trigger counts (:meth:`TriggerPlan.test`), who owes
(:meth:`ObligorsPlan.resolve`), what fulfils (:meth:`ActionPlan.test`), for whom
(:meth:`ClausePlan.beneficiary`) and by when (:meth:`DeadlinePlan.due`). Nothing in a plan
changes during a run; what an executor caches lives in the executor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from foedus.engine.deadlines import due_at, elapsed_due
from foedus.engine.matching import MISSING, Bindings, Matcher, Test, fmt_value, obligors_label
from foedus.events.model import instant
from foedus.language.model import (
    Calendar,
    Clause,
    ClauseKind,
    Condition,
    ConditionEffect,
    Const,
    Deadline,
    DeadlineKind,
    Decision,
    Guard,
    Obligation,
    Obligors,
    Op,
    Pattern,
    Permission,
    Prohibition,
    Quantifier,
    Ref,
    Rule,
    Step,
    Treaty,
    Trigger,
    TriggerKind,
    Unit,
    Value,
    Verdict,
    Window,
)

__all__ = [
    "ActionPlan",
    "ClausePlan",
    "ConditionPlan",
    "DeadlinePlan",
    "DecisionPlan",
    "ObligationPlan",
    "ObligorsPlan",
    "PermissionPlan",
    "Plan",
    "ProhibitionPlan",
    "TriggerPlan",
    "beneficiary",
    "compile_treaty",
    "ref_key",
]

# units of a fixed length of elapsed time: hours in any zone, days and weeks in UTC
FIXED_HOURS = {Unit.HOURS: 1, Unit.DAYS: 24, Unit.WEEKS: 168}


def ref_key(refs: tuple[Ref, ...], bindings: Bindings) -> Any:
    """The values ``refs`` take under ``bindings``: what a rule that reads them depends on.

    >>> from foedus.language.model import FieldKind
    >>> r = Ref("attack", "aggressor", FieldKind.PARTY)
    >>> ref_key((r,), {"attack": ({"aggressor": "RU"}, None, "e1")})
    'RU'
    """
    if len(refs) == 1:
        ref = refs[0]
        bound = bindings.get(ref.binding)
        return bound[0].get(ref.field, MISSING) if bound is not None else MISSING
    out = []
    for ref in refs:
        bound = bindings.get(ref.binding)
        out.append(bound[0].get(ref.field, MISSING) if bound is not None else MISSING)
    return tuple(out)


# ---------------------------------------------------------------- parts of a clause


@dataclass(frozen=True, slots=True, eq=False)
class TriggerPlan:
    """What makes a clause arise: an event matching a pattern, or another clause's verdict."""

    kind: TriggerKind
    binding: str | None
    events: tuple[str, ...]  # the event types of an event trigger (several: `a | b(...)`)
    pattern: Pattern | None
    static: Test | None  # the pattern's test (patterns of triggers refer to no binding)
    carve_outs: bool  # the pattern has `not` / `not within` constraints
    guard: Guard | None
    source: str | None  # the clause whose verdict or outcome triggers

    def bind(self, fields: Mapping[str, Any], at: datetime | None, event_id: str | None,
             bindings: Bindings | None = None) -> Bindings:
        """The bindings a trigger gives the clause: its name bound to the causing event."""
        out = dict(bindings) if bindings else {}
        if self.binding:
            out[self.binding] = (fields, at, event_id)
        return out


@dataclass(frozen=True, slots=True, eq=False)
class ObligorsPlan:
    """Who owes (or votes): the members of a role or group minus the exceptions."""

    spec: Obligors
    static: tuple[str, ...] | None  # when no exception refers to a binding
    refs: tuple[Ref, ...]
    label: str  # "guarantor", "any of guarantor", "2 of guarantor"
    matcher: Matcher

    @property
    def quantifier(self) -> Quantifier:
        return self.spec.quantifier

    @property
    def k(self) -> int:
        """How many distinct members must act for a collective obligation (1 for any)."""
        return 1 if self.spec.quantifier is Quantifier.ANY else self.spec.k

    def resolve(self, bindings: Bindings) -> tuple[str, ...]:
        """The members, in declaration order, minus the exceptions under ``bindings``."""
        if self.static is not None:
            return self.static
        return self.matcher.obligors(self.spec, bindings)

    def none_left(self, bindings: Bindings, decision: bool = False) -> str:
        """Why no instance arose when every member is excepted."""
        who = "no voter left" if decision else "no obligor left"
        bound = self.spec.bound
        if bound is not None:
            got = fmt_value(self.matcher.resolve(bound, bindings))
            return f"{who}: {bound.binding}.{bound.field} = {got} is not a party"
        why = f"{who}: every {self.spec.among.name} is excepted"
        if self.spec.exceptions:
            why += f" ({self.matcher.exceptions_text(self.spec, bindings)})"
        return why


@dataclass(frozen=True, slots=True, eq=False)
class ActionPlan:
    """What an obligor must (or must not, or may) do: a pattern on events of one type, or
    of any of several (each with its own actor)."""

    pattern: Pattern
    events: tuple[str, ...]
    actors: Mapping[str, str | None]  # per event type, the field that says who acted
    static: Test | None  # when no constraint refers to a binding
    refs: tuple[Ref, ...]
    matcher: Matcher

    def test(self, bindings: Bindings) -> Test:
        """The test an event's fields must pass, with references resolved."""
        if self.static is not None:
            return self.static
        return self.matcher.pattern(self.pattern, bindings)


@dataclass(frozen=True, slots=True, eq=False)
class DeadlinePlan:
    """By when: a deadline, and its fixed elapsed length when it has one."""

    spec: Deadline
    fixed: timedelta | None  # "within N hours", or days/weeks in UTC, from the trigger
    trigger_binding: str | None
    calendars: Mapping[str, Calendar]

    def due(self, at: datetime | None, bindings: Bindings) -> datetime | None:
        """The due instant for a clause triggered at ``at`` (None: no anchor to count from),
        as an instant that compares as one (``events.model.instant``)."""
        if self.fixed is not None and at is not None:
            return instant(elapsed_due(at, self.fixed))
        due = due_at(self.spec, self.anchor(at, bindings), self.calendars)
        return instant(due) if due is not None else None

    def anchor(self, at: datetime | None, bindings: Bindings) -> datetime | None:
        """When the clock starts: the trigger, or the event bound to ``of NAME``."""
        anchor = self.spec.anchor
        if anchor is None or anchor == self.trigger_binding:
            return at
        bound = bindings.get(anchor)
        return bound[1] if bound is not None and bound[1] is not None else at


# ---------------------------------------------------------------- clauses


@dataclass(frozen=True, slots=True, eq=False)
class ClausePlan:
    """One clause: its source, its position and its trigger (None: from the start).

    ``binds`` says whether anything of the clause reads its trigger's bindings (a
    reference, a guard, a deadline counted from a bound event, or clauses that wait for
    its verdicts); if not, an executor need not build them.
    """

    index: int
    clause: Clause
    trigger: TriggerPlan | None
    binds: bool

    @property
    def id(self) -> str:
        return self.clause.id

    @property
    def kind(self) -> ClauseKind:
        return self.clause.kind

    @property
    def standalone(self) -> bool:
        return self.clause.standalone


@dataclass(frozen=True, slots=True, eq=False)
class ObligationPlan(ClausePlan):
    obligors: ObligorsPlan
    action: ActionPlan
    beneficiary: Value | None
    deadline: DeadlinePlan

    def beneficiary_of(self, bindings: Bindings) -> str | None:
        return beneficiary(self.beneficiary, bindings)


@dataclass(frozen=True, slots=True, eq=False)
class ProhibitionPlan(ClausePlan):
    obligors: ObligorsPlan
    action: ActionPlan
    beneficiary: Value | None
    window: Window
    deadline: DeadlinePlan | None  # how long a triggered prohibition lasts

    def beneficiary_of(self, bindings: Bindings) -> str | None:
        return beneficiary(self.beneficiary, bindings)


@dataclass(frozen=True, slots=True, eq=False)
class PermissionPlan(ClausePlan):
    obligors: ObligorsPlan
    action: ActionPlan
    window: Window


@dataclass(frozen=True, slots=True, eq=False)
class DecisionPlan(ClausePlan):
    voters: ObligorsPlan
    rule: Rule
    deadline: DeadlinePlan
    vote_event: str
    voter_field: str


@dataclass(frozen=True, slots=True, eq=False)
class ConditionPlan(ClausePlan):
    effect: ConditionEffect
    steps: tuple[tuple[Step, ...], ...]
    tests: tuple[tuple[Test | None, ...], ...]  # None for a verdict
    target: str | None = None  # the clause it governs; None: the treaty


def beneficiary(value: Value | None, bindings: Bindings) -> str | None:
    """For whom a duty is owed: a party, a bound field's value, or a role's name."""
    if value is None:
        return None
    if isinstance(value, Ref):
        bound = bindings.get(value.binding)
        got = bound[0].get(value.field, MISSING) if bound is not None else MISSING
        return got if type(got) is str else fmt_value(got)
    if isinstance(value, Const):
        return fmt_value(value.value)
    return value.name


# ---------------------------------------------------------------- the whole treaty


@dataclass(frozen=True, slots=True, eq=False)
class TypePlan:
    """What one event type can do, in the order the state applies it."""

    conditions: tuple[ConditionPlan, ...] = ()
    votes: tuple[DecisionPlan, ...] = ()
    prohibitions: bool = False  # some prohibition forbids events of this type
    permissions: tuple[PermissionPlan, ...] = ()
    triggers: tuple[ClausePlan, ...] = ()


@dataclass(slots=True, eq=False)
class _Slots:
    """What one event type does, gathered while a treaty is compiled."""

    conditions: list[ConditionPlan] = field(default_factory=list)
    votes: list[DecisionPlan] = field(default_factory=list)
    prohibitions: bool = False
    permissions: list[PermissionPlan] = field(default_factory=list)
    triggers: list[ClausePlan] = field(default_factory=list)

    def frozen(self) -> TypePlan:
        return TypePlan(
            conditions=tuple(self.conditions),
            votes=tuple(self.votes),
            prohibitions=self.prohibitions,
            permissions=tuple(self.permissions),
            triggers=tuple(self.triggers),
        )


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """The whole treaty compiled: clause plans, what each event type does, verdict triggers."""

    treaty: Treaty
    matcher: Matcher
    clauses: tuple[ClausePlan, ...]
    by_id: Mapping[str, ClausePlan]
    by_type: Mapping[str, TypePlan]
    actor_of: Mapping[str, str | None]
    on_verdict: Mapping[tuple[TriggerKind, str], tuple[ClausePlan, ...]]
    on_entry: tuple[ClausePlan, ...]  # arise when the treaty enters into force
    at_start: tuple[ClausePlan, ...]  # arise at the start of a run
    standing: tuple[ProhibitionPlan, ...]  # untriggered prohibitions: apply from the start
    has_entry: bool
    zone: str = "UTC"
    conditions: tuple[ConditionPlan, ...] = ()
    action_types: frozenset[str] = frozenset()  # event types that can fulfil obligations
    # obligation clauses whose action lists several event types (indexed under each)
    several_types: frozenset[str] = frozenset()
    # clauses whose fulfilments / violations trigger other clauses
    fulfilled_watched: frozenset[str] = frozenset()
    violated_watched: frozenset[str] = frozenset()
    # conditions with a verdict among their steps, by the verdict they wait for
    conditions_on_verdict: Mapping[tuple[TriggerKind, str], tuple[ConditionPlan, ...]] = \
        field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.treaty.name

    @property
    def tz(self) -> ZoneInfo:
        """The zone in which times are shown: the treaty's."""
        return ZoneInfo(self.zone)

    def relevant_types(self) -> frozenset[str]:
        """Event types that can change a run: triggers, actions, votes, condition steps."""
        out = set(self.by_type)
        for c in self.clauses:
            action = getattr(c, "action", None)
            if isinstance(action, ActionPlan):
                out.update(action.events)
        return frozenset(out)


def _refs(values: tuple[Value, ...]) -> tuple[Ref, ...]:
    return tuple(v for v in values if isinstance(v, Ref))


def _obligors(spec: Obligors, matcher: Matcher) -> ObligorsPlan:
    refs = _refs((*spec.exceptions, *((spec.bound,) if spec.bound else ())))
    static = None if refs else matcher.obligors(spec, {})
    return ObligorsPlan(spec, static, refs, obligors_label(spec), matcher)


def _action(pattern: Pattern, treaty: Treaty, matcher: Matcher) -> ActionPlan:
    refs = _refs(tuple(c.value for c in pattern.constraints))
    actors = {}
    for event in pattern.events:
        declared = treaty.event(event)
        actors[event] = declared.actor if declared is not None else None
    static = None if refs else matcher.pattern(pattern, {})
    return ActionPlan(pattern, pattern.events, actors, static, refs, matcher)


def _deadline(deadline: Deadline, trigger: Trigger | None,
              calendars: Mapping[str, Calendar]) -> DeadlinePlan:
    fixed = None
    binding = trigger.binding if trigger is not None else None
    d = deadline
    if (d.kind is DeadlineKind.WITHIN and d.duration is not None
            and d.duration.unit in FIXED_HOURS
            and (d.duration.unit is Unit.HOURS or d.zone == "UTC")
            and trigger is not None and (d.anchor is None or d.anchor == binding)):
        fixed = timedelta(hours=d.duration.amount * FIXED_HOURS[d.duration.unit])
    return DeadlinePlan(deadline, fixed, binding, calendars)


def _window(window: Window) -> Window:
    """A window whose bounds compare as instants."""
    start, end = window.start_at, window.end_at
    return Window(instant(start) if start is not None else None,
                  instant(end) if end is not None else None)


def _trigger(trigger: Trigger | None, matcher: Matcher) -> TriggerPlan | None:
    if trigger is None:
        return None
    pattern = trigger.pattern if trigger.kind is TriggerKind.EVENT else None
    return TriggerPlan(
        kind=trigger.kind,
        binding=trigger.binding,
        events=pattern.events if pattern is not None else (),
        pattern=pattern,
        static=matcher.pattern(pattern, {}) if pattern and pattern.constraints else None,
        carve_outs=pattern is not None
        and any(c.op in (Op.NE, Op.NOT_WITHIN) for c in pattern.constraints),
        guard=trigger.guard,
        source=trigger.clause,
    )


def _binds(body: Any, watched: bool) -> bool:
    """Whether a clause reads its trigger's bindings (see ``ClausePlan.binds``)."""
    if watched:
        return True
    trigger = getattr(body, "trigger", None)
    if trigger is not None and trigger.guard is not None:
        return True
    values: list[Any] = []
    for name in ("obligors", "voters"):
        part = getattr(body, name, None)
        if part is not None:
            values.extend(part.exceptions)
            values.append(part.bound)
    action = getattr(body, "action", None)
    if action is not None:
        values.extend(c.value for c in action.constraints)
    values.append(getattr(body, "beneficiary", None))
    deadline = getattr(body, "deadline", None)
    anchored = deadline is not None and deadline.anchor not in (
        None, trigger.binding if trigger is not None else None)
    return anchored or any(isinstance(v, Ref) for v in values)


def _clause_plan(
    index: int, clause: Clause, treaty: Treaty, matcher: Matcher,
    calendars: Mapping[str, Calendar], watched: bool,
) -> ClausePlan:
    body = clause.body
    binds = _binds(body, watched)
    if isinstance(body, Obligation):
        return ObligationPlan(
            index, clause, _trigger(body.trigger, matcher), binds,
            obligors=_obligors(body.obligors, matcher),
            action=_action(body.action, treaty, matcher),
            beneficiary=body.beneficiary,
            deadline=_deadline(body.deadline, body.trigger, calendars),
        )
    if isinstance(body, Prohibition):
        return ProhibitionPlan(
            index, clause, _trigger(body.trigger, matcher), binds,
            obligors=_obligors(body.obligors, matcher),
            action=_action(body.action, treaty, matcher),
            beneficiary=body.beneficiary,
            window=_window(body.window),
            deadline=_deadline(body.deadline, body.trigger, calendars)
            if body.deadline is not None else None,
        )
    if isinstance(body, Permission):
        return PermissionPlan(
            index, clause, None, binds,
            obligors=_obligors(body.obligors, matcher),
            action=_action(body.action, treaty, matcher),
            window=_window(body.window),
        )
    if isinstance(body, Decision):
        vote_type = treaty.event(body.vote_event)
        return DecisionPlan(
            index, clause, _trigger(body.trigger, matcher), binds,
            voters=_obligors(body.voters, matcher),
            rule=body.rule,
            deadline=_deadline(body.deadline, body.trigger, calendars),
            vote_event=body.vote_event,
            voter_field=(vote_type.actor if vote_type is not None else None) or "by",
        )
    assert isinstance(body, Condition)
    return ConditionPlan(
        index, clause, None, binds,
        effect=body.effect,
        steps=body.steps,
        tests=tuple(tuple(matcher.pattern(p, {}) if isinstance(p, Pattern) else None
                          for p in step) for step in body.steps),
        target=body.target,
    )


def compile_treaty(treaty: Treaty) -> Plan:
    """Compile ``treaty``: a plan per clause, and the clauses each event type concerns."""
    matcher = Matcher(treaty)
    calendars = {c.name: c for c in treaty.calendars}
    sources = {t.clause for c in treaty.clauses
               if (t := getattr(c.body, "trigger", None)) is not None and t.clause is not None}
    clauses = tuple(_clause_plan(i, c, treaty, matcher, calendars, c.id in sources)
                    for i, c in enumerate(treaty.clauses))
    has_entry = any(isinstance(c, ConditionPlan) and c.target is None
                    and c.effect is ConditionEffect.ENTRY_INTO_FORCE for c in clauses)
    slots: dict[str, _Slots] = {}

    def slot(event: str) -> _Slots:
        got = slots.get(event)
        if got is None:
            got = slots[event] = _Slots()
        return got

    on_verdict: dict[tuple[TriggerKind, str], list[ClausePlan]] = {}
    conditions_on_verdict: dict[tuple[TriggerKind, str], list[ConditionPlan]] = {}
    on_entry: list[ClausePlan] = []
    at_start: list[ClausePlan] = []
    standing: list[ProhibitionPlan] = []
    for plan in clauses:
        if isinstance(plan, ConditionPlan):
            for event in sorted({e for step in plan.steps for p in step
                                 if isinstance(p, Pattern) for e in p.events}):
                slot(event).conditions.append(plan)
            for verdict in dict.fromkeys(p for step in plan.steps for p in step
                                         if isinstance(p, Verdict)):
                conditions_on_verdict.setdefault((verdict.kind, verdict.clause),
                                                 []).append(plan)
            continue
        if isinstance(plan, PermissionPlan):
            for event in plan.action.events:
                slot(event).permissions.append(plan)
            continue
        if isinstance(plan, ProhibitionPlan):
            for event in plan.action.events:
                slot(event).prohibitions = True
        if isinstance(plan, DecisionPlan):
            slot(plan.vote_event).votes.append(plan)
        trigger = plan.trigger
        if trigger is None and isinstance(plan, ProhibitionPlan):
            standing.append(plan)
        elif trigger is None or trigger.kind is TriggerKind.IN_FORCE:
            (at_start if plan.standalone or not has_entry else on_entry).append(plan)
        elif trigger.events:
            for event in trigger.events:
                slot(event).triggers.append(plan)
        elif trigger.source is not None:
            on_verdict.setdefault((trigger.kind, trigger.source), []).append(plan)
    by_type = {event: parts.frozen() for event, parts in slots.items()}
    return Plan(
        treaty=treaty,
        matcher=matcher,
        clauses=clauses,
        by_id={p.id: p for p in clauses},
        by_type=by_type,
        actor_of={e.name: e.actor for e in treaty.events},
        on_verdict={k: tuple(v) for k, v in on_verdict.items()},
        on_entry=tuple(on_entry),
        at_start=tuple(at_start),
        standing=tuple(standing),
        has_entry=has_entry,
        zone=treaty.zone,
        conditions=tuple(c for c in clauses if isinstance(c, ConditionPlan)),
        action_types=frozenset(e for c in clauses if isinstance(c, ObligationPlan)
                               for e in c.action.events),
        several_types=frozenset(c.id for c in clauses if isinstance(c, ObligationPlan)
                                and len(c.action.events) > 1),
        fulfilled_watched=frozenset(c for k, c in (*on_verdict, *conditions_on_verdict)
                                    if k is TriggerKind.FULFILLED),
        violated_watched=frozenset(c for k, c in (*on_verdict, *conditions_on_verdict)
                                   if k is TriggerKind.VIOLATED),
        conditions_on_verdict={k: tuple(v) for k, v in conditions_on_verdict.items()},
    )

