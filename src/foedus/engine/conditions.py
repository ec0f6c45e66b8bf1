"""Treaty status: entry into force, suspension, resumption and termination.

Stage: part of ``engine.runtime`` (a mixin of :class:`~foedus.engine.runtime.Runtime`);
the rules are in ``docs/semantics.md`` §2.
"""

from __future__ import annotations

from datetime import datetime

from foedus.engine.matching import fmt_time
from foedus.engine.model import DecisionStatus, TreatyStatus
from foedus.engine.plan import ClausePlan
from foedus.engine.records import DISCHARGED, IN_FORCE, PENDING, Group, Item
from foedus.events.model import Event
from foedus.language.model import ConditionEffect

__all__ = ["Conditions"]


class Conditions:
    """Condition clauses move the treaty's status (works on the state of ``Runtime``)."""

    def _reason_not_in_force(self) -> str:
        if self.status is TreatyStatus.NOT_IN_FORCE:
            return "treaty not in force yet"
        since = f" since {fmt_time(self.status_at)}" if self.status_at else ""
        if self.status is TreatyStatus.SUSPENDED:
            return f"treaty suspended{since} (event {self.status_event})"
        return f"treaty terminated{since} (event {self.status_event})"

    def _conditions(self, ev: Event, plans: list[ClausePlan]) -> None:
        """Let ``ev`` advance the current step of each condition clause that counts now."""
        status = self.status
        for plan in plans:
            effect = plan.effect
            if effect is ConditionEffect.ENTRY_INTO_FORCE:
                live = status is TreatyStatus.NOT_IN_FORCE
            elif effect is ConditionEffect.SUSPENSION:
                live = status is IN_FORCE
            elif effect is ConditionEffect.RESUMPTION:
                live = status is TreatyStatus.SUSPENDED
            else:
                live = status is IN_FORCE or status is TreatyStatus.SUSPENDED
            state = self.cond[plan.id]
            if not live or state[0] >= len(plan.steps):
                continue
            step = state[0]
            patterns = plan.steps[step]
            for j, p in enumerate(patterns):
                if j not in state[1] and p.event == ev.type and plan.step_tests[step][j](ev.fields):
                    state[1].add(j)
                    break
            if len(state[1]) == len(patterns):
                state[0] += 1
                state[1] = set()
                if state[0] == len(plan.steps):
                    state[2], state[3] = ev.at, ev.id
                    self._condition_met(plan, ev)
                    status = self.status

    def _condition_met(self, plan: ClausePlan, ev: Event) -> None:
        """A condition clause is complete: change the treaty's status at ``ev``."""
        effect = plan.effect
        if effect is ConditionEffect.ENTRY_INTO_FORCE:
            entries = [p for p in self.plan.condition_plans
                       if p.effect is ConditionEffect.ENTRY_INTO_FORCE]
            if all(self.cond[p.id][0] >= len(p.steps) for p in entries):
                self._set_status(IN_FORCE, ev)
                self.entered_at, self.entry_event = ev.at, ev.id
                self._arise_on_entry(ev.at, ev.id)
            return
        if effect is ConditionEffect.TERMINATION:
            self._set_status(TreatyStatus.TERMINATED, ev)
            self._terminate(ev)
            return
        # suspension and resumption may alternate: reset both for the next round
        for other in self.plan.condition_plans:
            if other.effect in (ConditionEffect.SUSPENSION, ConditionEffect.RESUMPTION):
                self.cond[other.id] = [0, set(), self.cond[other.id][2], self.cond[other.id][3]]
        self._set_status(
            TreatyStatus.SUSPENDED if effect is ConditionEffect.SUSPENSION else IN_FORCE, ev
        )

    def _set_status(self, status: TreatyStatus, ev: Event) -> None:
        self.status, self.status_at, self.status_event = status, ev.at, ev.id

    def _terminate(self, ev: Event) -> None:
        """The treaty terminated at ``ev``: discharge what is pending, lapse open decisions."""
        for item in self.arisen[self._first_open():]:
            if item.status is not PENDING or item.plan.standalone:
                continue
            if type(item) is Group:
                self._settle_group(item, DISCHARGED, ev.at, ev.id)
            else:
                assert isinstance(item, Item)
                self._settle(item, DISCHARGED, ev.at, ev.id)
        for opened in list(self.dec_open.values()):
            for dec in list(opened.values()):
                if not dec.plan.standalone:
                    self._resolve(dec, DecisionStatus.LAPSED, ev.at, ev.id)

    def _arise_on_entry(self, at: datetime | None, event_id: str | None) -> None:
        for plan in self.plan.on_entry:
            self._arise(plan, {}, event_id, at, "in-force", {})
