"""Prohibitions and permissions: periods in which they apply, violations, exercises.

Stage: part of ``engine.runtime`` (a mixin of :class:`~foedus.engine.runtime.Runtime`);
the rules are in ``docs/semantics.md`` §6.
"""

from __future__ import annotations

from datetime import datetime

from foedus.engine.matching import MISSING, Bindings, fmt_value
from foedus.engine.model import ProhibitionStatus
from foedus.engine.plan import ClausePlan
from foedus.engine.records import IN_FORCE, Activation, Item, earlier, later
from foedus.events.model import Event
from foedus.language.model import TriggerKind

__all__ = ["Prohibitions"]


class Prohibitions:
    """Each act a prohibition forbids is one violation (works on the state of ``Runtime``)."""

    def _activate(
        self,
        plan: ClausePlan,
        bindings: Bindings,
        at: datetime | None,
        end: datetime | None,
        key: str,
        members: frozenset[str] | None = None,
        trigger_id: str | None = None,
    ) -> None:
        """Start a period of ``plan`` with id ``<clause>/<key>``; ``key`` "all" is untriggered."""
        if members is None:
            members = frozenset(plan.static_obligors or ())
        test = plan.static_action
        if test is None and plan.action is not None:
            test = self.plan.matcher.pattern(plan.action, bindings)
        start = later(plan.window.start_at, at)
        stop = earlier(plan.window.end_at, end)
        act = Activation(plan, f"{plan.id}/{key}", members, start, stop, test,
                         trigger_id or (None if key == "all" else key), bindings, at)
        event = plan.action.event if plan.action is not None else ""
        self.activations.setdefault(event, {})[act.key] = act
        self.arisen.append(act)
        self.n_activations += 1

    def _prohibitions(self, ev: Event, event_type: str) -> None:
        """``ev`` violates every prohibition period it falls in whose obligors include its actor."""
        acts = self.activations.get(event_type)
        if not acts:
            return
        at = ev.at
        fields = ev.fields
        in_force = self.status is IN_FORCE
        violated: set[str] | None = None  # clauses this event already violated
        for act in list(acts.values()):
            plan = act.plan
            if not (in_force or plan.standalone):
                continue
            if act.start_at is not None and at < act.start_at:
                continue
            if act.end_at is not None and at > act.end_at:
                continue
            actor = fields.get(plan.actor_field or "", MISSING)
            if actor not in act.members or (act.test is not None and not act.test(fields)):
                continue
            self.breaches[act.key] = self.breaches.get(act.key, 0) + 1
            # inside overlapping periods of one clause the act is still one violation,
            # recorded against the oldest period; the others are breached all the same
            if violated is None:
                violated = {plan.id}
            elif plan.id in violated:
                continue
            else:
                violated.add(plan.id)
            beneficiary = None
            if plan.beneficiary is not None:
                got = self.plan.matcher.resolve(plan.beneficiary, act.bindings)
                beneficiary = (
                    plan.beneficiary.name if isinstance(got, frozenset) else fmt_value(got)
                )
            item = Item(f"{plan.id}/{ev.id}/{actor}", plan, actor, (actor,), 1, beneficiary,
                        act.trigger_id, act.trigger_at,
                        fields, None, act.test, act.bindings)
            item.kind = "prohibition"
            item.status = ProhibitionStatus.VIOLATED
            item.settled_at, item.settled_by = at, ev.id
            self.arisen.append(item)
            self.n_instances += 1
            if plan.on_violated:
                self._verdict(TriggerKind.VIOLATED, item, at, fields)

    def _permissions(self, ev: Event, plans: list[ClausePlan]) -> None:
        """Record ``ev`` under each permission it exercises."""
        in_force = self.status is IN_FORCE
        for plan in plans:
            if not (in_force or plan.standalone):
                continue
            window = plan.window
            if window.start_at is not None and ev.at < window.start_at:
                continue
            if window.end_at is not None and ev.at > window.end_at:
                continue
            actor = ev.fields.get(plan.actor_field or "", MISSING)
            if plan.static_obligors is not None and actor not in plan.static_obligors:
                continue
            if plan.static_action is not None and not plan.static_action(ev.fields):
                continue
            self.permissions[plan.id].append(ev.id)
