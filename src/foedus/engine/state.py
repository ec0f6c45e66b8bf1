"""The state of a run, and the order in which events and deadlines change it.

Stage: after ``engine.plan``; the executors (``engine.monitor`` for streams, the batch
runner for files) apply sorted events to a :class:`RunState`, and ``engine.results``
reads its record store. The state is a composition of one part per construct —
:class:`~foedus.engine.status.TreatyState`, :class:`~foedus.engine.obligations.Obligations`,
:class:`~foedus.engine.prohibitions.Prohibitions`,
:class:`~foedus.engine.decisions.Decisions` — sharing one
:class:`~foedus.engine.records.RecordStore` and one :class:`~foedus.engine.clock.Clock`.
This class connects them: a trigger makes a clause arise in the right part, a verdict or
an outcome fires the clauses waiting for it, a change of status reaches every part.

Processing one event at time t (``docs/semantics.md`` §1):

1. deadlines due strictly before t are settled, in due order (verdict triggers fire);
2. condition clauses advance (the treaty may enter into force, be suspended, resume or
   terminate: the change takes effect at this event);
3. open obligations whose action the event matches are fulfilled; votes are counted;
   prohibitions and permissions are checked;
4. clauses triggered by the event arise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from heapq import heappop
from itertools import islice
from types import MappingProxyType
from typing import Any

from foedus.engine.caches import Caches
from foedus.engine.clock import Clock, Scheduled
from foedus.engine.decisions import Decisions
from foedus.engine.matching import Bindings, fmt_time, render_guard
from foedus.engine.model import DecisionStatus, TreatyStatus
from foedus.engine.obligations import Arise, Obligations
from foedus.engine.plan import (
    ClausePlan,
    ConditionPlan,
    DecisionPlan,
    ObligationPlan,
    Plan,
    ProhibitionPlan,
    TypePlan,
)
from foedus.engine.prohibitions import Prohibitions
from foedus.engine.records import DecisionRecord, NonArising, RecordStore, Violation
from foedus.engine.status import TreatyState
from foedus.events.model import Event
from foedus.language.model import ConditionEffect, TriggerKind

__all__ = ["RunState"]

IN_FORCE = TreatyStatus.IN_FORCE
OUTCOME_TRIGGER = {DecisionStatus.ADOPTED: TriggerKind.ADOPTED,
                   DecisionStatus.REJECTED: TriggerKind.REJECTED}
Handler = Callable[[Event], None]
EMPTY_TYPE = TypePlan()
NO_BINDINGS: Bindings = MappingProxyType({})


def _in_order(calls: tuple[Handler, ...], ev: Event) -> None:
    for call in calls:
        call(ev)


class RunState:
    """The mutable state of one run (see the module docstring for the order of work)."""

    __slots__ = ("_arisers", "_firers", "caches", "clock", "decisions", "obligations", "plan",
                 "prohibitions", "status", "store")

    def __init__(self, plan: Plan, caches: Caches | None = None) -> None:
        self.plan = plan
        self.caches = caches if caches is not None else Caches()
        self.clock = Clock()
        self.store = RecordStore(tuple(p.id for p in plan.clauses
                                       if p.kind.value == "permission"))
        self.status = TreatyState(plan)
        self.obligations = Obligations(plan, self.store, self.clock, self.caches,
                                       self._on_verdict)
        self.prohibitions = Prohibitions(self.store, self.caches, self._on_violation)
        self.decisions = Decisions(self.store, self.clock, self._on_outcome)
        self._arisers: dict[int, Arise] = {}
        self._firers: dict[int, Arise] = {}
        for p in plan.standing:
            self.prohibitions.activate(p, {}, None, None, "all", self._members(p, {}), None)
        for start in plan.at_start:
            self._arise(start, None, None, "start")

    def clone(self) -> RunState:
        """An independent copy: open records are copied, settled ones shared."""
        new = RunState.__new__(RunState)
        memo: dict[int, Any] = {}
        new.plan, new.caches = self.plan, self.caches
        new.store = self.store.clone(memo)
        new.clock = self.clock.clone(memo)
        new.status = self.status.clone()
        new.obligations = self.obligations.clone(new.store, new.clock, new._on_verdict, memo)
        new.prohibitions = self.prohibitions.clone(new.store, new._on_violation)
        new.decisions = self.decisions.clone(new.store, new.clock, new._on_outcome, memo)
        new._arisers, new._firers = {}, {}  # closures over the copy's parts, made on demand
        return new

    # ------------------------------------------------------------ time

    def advance(self, until: datetime) -> None:
        """Settle every deadline strictly before ``until``, in due order."""
        heap = self.clock.heap
        while heap and heap[0][0] < until:
            self._expire(heappop(heap)[2])
        self.clock.reached(until)

    def _expire(self, record: Scheduled) -> None:
        if not record.open:
            return  # settled early: its heap entry is simply skipped
        if type(record) is DecisionRecord:
            self.decisions.close(record)
        else:
            self.obligations.expire(record)

    def apply(self, events: Sequence[Event], start: int, stop: int) -> None:
        """Apply ``events[start:stop]``, sorted and after everything applied so far."""
        handlers = self._handlers()
        heap = self.clock.heap
        expire = self._expire
        last = None
        for ev in islice(events, start, stop):
            at = ev.at
            while heap and heap[0][0] < at:  # deadlines before the event, in due order
                record = heappop(heap)[2]
                if record.open:  # (one settled early is simply skipped)
                    expire(record)
            handler = handlers.get(ev.type)
            if handler is not None:
                handler(ev)
            last = ev
        if last is not None:
            clock = self.clock
            clock.last_at, clock.last_id = last.at, last.id
            clock.reached(last.at)
        self.clock.pos += stop - start

    def _handlers(self) -> dict[str, Handler]:
        """Per event type, what it does, in order: condition clauses (so that the event
        sees the status it brings), fulfilment of open obligations, votes, prohibitions,
        permissions, and the clauses it triggers."""
        plan = self.plan
        out: dict[str, Handler] = {}
        for t in sorted(set(plan.by_type) | plan.action_types):
            spec = plan.by_type.get(t, EMPTY_TYPE)
            calls: list[Handler] = []
            if spec.conditions:
                calls.append(partial(self._step_conditions, spec.conditions))
            if t in plan.action_types:
                calls.append(self.obligations.fulfilling(t, plan.actor_of.get(t) or ""))
            calls.extend(self._after_fulfilment(spec))
            if len(calls) == 1:
                out[t] = calls[0]
            elif calls:
                out[t] = partial(_in_order, tuple(calls))
        return out

    def _step_conditions(self, plans: tuple[ConditionPlan, ...], ev: Event) -> None:
        self.status.step(ev, plans, self._on_status)

    def _after_fulfilment(self, spec: TypePlan) -> list[Handler]:
        calls: list[Handler] = []
        if spec.votes:
            votes, vote = spec.votes, self.decisions.vote
            calls.append(lambda ev: vote(ev, votes))
        if spec.prohibitions:
            check, status = self.prohibitions.check, self.status
            why_off = status.why_clause_off
            calls.append(lambda ev: check(ev, status.status is IN_FORCE, status.off, why_off))
        if spec.permissions:
            permissions, exercise, status = spec.permissions, self.prohibitions.exercise, \
                self.status
            calls.append(lambda ev: exercise(ev, permissions, status.status is IN_FORCE,
                                             status.off))
        calls.extend(self._trigger_handler(p) for p in spec.triggers)
        return calls

    # ------------------------------------------------------------ arising

    def _trigger_handler(self, plan: ClausePlan) -> Handler:
        """What an event of the trigger's type does for ``plan``."""
        trigger = plan.trigger
        assert trigger is not None
        test, fire, missed = trigger.static, self._firer(plan), self._missed
        binding = trigger.binding if plan.binds else None

        def on_trigger(ev: Event) -> None:
            fields = ev.fields
            if test is not None and not test(fields):
                missed(ev, plan)
                return
            bindings = {binding: (fields, ev.at, ev.id)} if binding else NO_BINDINGS
            fire(bindings, ev.id, ev.at, ev.id, fields, ev.type)

        return on_trigger

    def _missed(self, ev: Event, plan: ClausePlan) -> None:
        """Record the carve-out that kept ``ev`` from triggering ``plan``, if it was one."""
        trigger = plan.trigger
        if trigger is not None and trigger.carve_outs and trigger.pattern is not None:
            why = self.plan.matcher.mismatch(trigger.pattern, ev.fields, {}, plan.id)
            if why is not None:
                self._not_arisen(ev.at, plan, ev.id, why)

    def _not_arisen(self, at: datetime | None, plan: ClausePlan, event: str, why: str) -> None:
        self.store.not_arisen.append(NonArising(at, plan.index, plan.id, event, why))

    def _firer(self, plan: ClausePlan) -> Arise:
        """What a trigger of ``plan`` does: arise, unless the treaty's status or the guard
        says no. Every reason for creating nothing is recorded as a non-arising."""
        got = self._firers.get(plan.index)
        if got is not None:
            return got
        create = self._creator(plan)
        standalone = plan.clause.standalone
        trigger = plan.trigger
        guard = trigger.guard if trigger is not None else None
        status, matcher, not_arisen = self.status, self.plan.matcher, self._not_arisen
        clause_id = plan.id

        def fire(bindings: Bindings, trigger_id: str | None, at: datetime | None, key: str,
                 fields: Mapping[str, Any], kind: str | None) -> str | None:
            if not standalone and status.status is not IN_FORCE:
                why: str | None = status.why_not_in_force()
            elif status.off and clause_id in status.off:
                why = status.why_clause_off(clause_id)
            elif guard is not None and not matcher.guard(guard, bindings):
                why = f"the guard `if {render_guard(guard)}` does not hold"
            else:
                why = create(bindings, trigger_id, at, key, fields, kind)
            if why is not None:
                not_arisen(at, plan, trigger_id or key, why)
            return why

        self._firers[plan.index] = fire
        return fire

    def _arise(self, plan: ClausePlan, trigger_id: str | None, at: datetime | None,
               key: str) -> None:
        """``plan`` arises whatever the treaty's status (at the start, or on entry into
        force), unless a condition of its own keeps it from applying."""
        if plan.id in self.status.off:
            self._not_arisen(at, plan, trigger_id or key, self.status.why_clause_off(plan.id))
            return
        why = self._creator(plan)({}, trigger_id, at, key, {}, None)
        if why is not None:
            self._not_arisen(at, plan, trigger_id or key, why)

    def _creator(self, plan: ClausePlan) -> Arise:
        """What ``plan`` creates when it arises: obligations, a prohibition period or a
        decision; or the reason it creates nothing."""
        got = self._arisers.get(plan.index)
        if got is not None:
            return got
        create: Arise
        if isinstance(plan, ObligationPlan):
            create = self.obligations.arising(plan)
        elif isinstance(plan, ProhibitionPlan):
            create = partial(self._prohibit, plan)
        elif isinstance(plan, DecisionPlan):
            create = partial(self._decide, plan)
        else:  # pragma: no cover - conditions and permissions have no trigger
            raise AssertionError(f"clause {plan.id} cannot arise")
        self._arisers[plan.index] = create
        return create

    def _decide(self, plan: DecisionPlan, bindings: Bindings, trigger_id: str | None,
                at: datetime | None, key: str, fields: Mapping[str, Any],
                kind: str | None) -> str | None:
        voters = self.caches.obligors_of(plan.voters, bindings)
        if not voters:
            return plan.voters.none_left(bindings, decision=True)
        return self.decisions.open_decision(plan, voters, bindings, trigger_id, kind, at, key,
                                            fields)

    def _members(self, plan: ProhibitionPlan, bindings: Bindings) -> tuple[str, ...]:
        return self.caches.obligors_of(plan.obligors, bindings)

    def _prohibit(self, plan: ProhibitionPlan, bindings: Bindings, trigger_id: str | None,
                  at: datetime | None, key: str, fields: Mapping[str, Any],
                  kind: str | None) -> str | None:
        members = self._members(plan, bindings)
        if not members:
            return plan.obligors.none_left(bindings)
        end = plan.deadline.due(at, bindings) if plan.deadline is not None else None
        # one verdict may settle several instances (an `each` obligation): each starts its
        # own period, named after the instance (docs/semantics.md §3.6)
        verdict = plan.trigger is not None and plan.trigger.kind in (TriggerKind.FULFILLED,
                                                                    TriggerKind.VIOLATED)
        self.prohibitions.activate(plan, bindings, at, end,
                                   key if verdict else trigger_id or key, members, trigger_id)
        return None

    # ------------------------------------------------------------ consequences

    def _on_verdict(
        self,
        kind: TriggerKind,
        plan: ClausePlan,
        instance: str,
        obligor: str,
        owed: str | None,
        cause_id: str | None,
        cause: Mapping[str, Any],
        bindings: Bindings,
        at: datetime | None,
    ) -> None:
        """An instance of ``plan`` was fulfilled or violated: fire the clauses waiting for it.

        The waiting clause's binding exposes the causing event's fields, ``obligor`` and
        ``beneficiary``.
        """
        if at is not None and (kind, plan.id) in self.plan.conditions_on_verdict:
            self.status.verdict(kind, plan.id, at, instance, self._on_status)
        fields = dict(cause)
        fields["obligor"] = obligor
        fields["beneficiary"] = owed
        for dep in self.plan.on_verdict.get((kind, plan.id), ()):
            mine = dict(bindings)
            if dep.trigger is not None and dep.trigger.binding:
                mine[dep.trigger.binding] = (fields, at, cause_id)
            self._firer(dep)(mine, cause_id, at, instance, fields, None)

    def _on_violation(self, violation: Violation) -> None:
        if violation.plan.id in self.plan.violated_watched:
            period = violation.period
            self._on_verdict(TriggerKind.VIOLATED, violation.plan, violation.id,
                             violation.actor, violation.beneficiary, violation.event_id,
                             violation.fields, period.bindings, violation.at)

    def _on_outcome(self, dec: DecisionRecord) -> None:
        """A decision resolved: fire the clauses gated on its outcome, note the others."""
        fired = OUTCOME_TRIGGER.get(dec.state)
        at = dec.resolved_at
        if fired is not None and at is not None and \
                (fired, dec.plan.id) in self.plan.conditions_on_verdict:
            self.status.verdict(fired, dec.plan.id, at, dec.id, self._on_status)
        for kind in (TriggerKind.ADOPTED, TriggerKind.REJECTED):
            for dep in self.plan.on_verdict.get((kind, dec.plan.id), ()):
                if kind is fired:
                    bindings = dict(dec.bindings)
                    if dep.trigger is not None and dep.trigger.binding:
                        bindings[dep.trigger.binding] = (dec.trigger_fields, dec.trigger_at,
                                                         dec.trigger_id)
                    self._firer(dep)(bindings, dec.trigger_id, at, dec.id, dec.trigger_fields,
                                     None)
                else:
                    why = (f"decision {dec.id} was {dec.state.value} at "
                           f"{fmt_time(at, self.plan.tz)}")
                    self._not_arisen(at, dep, dec.trigger_id or dec.id, why)

    def _on_status(self, effect: ConditionEffect, at: datetime, by: str,
                   target: str | None) -> None:
        """A condition changed the status of the treaty (``target`` None) or of a clause,
        at ``at``, by the event or the verdict ``by``."""
        if target is not None:
            if effect is ConditionEffect.TERMINATION:
                self.obligations.discharge(at, by, target)
                self.decisions.lapse_all(at, by, target)
        elif effect is ConditionEffect.ENTRY_INTO_FORCE:
            for plan in self.plan.on_entry:
                self._arise(plan, by, at, "in-force")
        elif effect is ConditionEffect.TERMINATION:
            self.obligations.discharge(at, by)
            self.decisions.lapse_all(at, by)

