"""The treaty's status: entry into force, suspension, resumption and termination.

Stage: part of the run state (``engine.state``); the rules are in ``docs/semantics.md`` §2.
Condition clauses move the status; the state acts on each change (clauses arise on
entry into force, pending duties are discharged on termination).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from foedus.engine.matching import fmt_time
from foedus.engine.model import TreatyStatus
from foedus.engine.plan import ConditionPlan, Plan
from foedus.events.model import Event
from foedus.language.model import ConditionEffect

__all__ = ["ConditionProgress", "TreatyState"]

IN_FORCE = TreatyStatus.IN_FORCE
NOT_IN_FORCE = TreatyStatus.NOT_IN_FORCE
SUSPENDED = TreatyStatus.SUSPENDED
TERMINATED = TreatyStatus.TERMINATED
Change = Callable[[ConditionEffect, Event], None]  # a condition changed the status


class ConditionProgress:
    """How far one condition clause has got: its current step, the patterns met in it."""

    __slots__ = ("matched", "met_at", "met_by", "step")

    def __init__(self) -> None:
        self.step = 0
        self.matched: set[int] = set()
        self.met_at: datetime | None = None  # when the last step was last completed
        self.met_by: str | None = None

    def copy(self) -> ConditionProgress:
        new = ConditionProgress()
        new.step, new.matched = self.step, set(self.matched)
        new.met_at, new.met_by = self.met_at, self.met_by
        return new


class TreatyState:
    """The treaty's status and the progress of its condition clauses."""

    __slots__ = ("conditions", "entered_at", "entry_event", "plan", "progress", "since_at",
                 "since_event", "status")

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.conditions = plan.conditions
        self.status = NOT_IN_FORCE if plan.has_entry else IN_FORCE
        self.since_at: datetime | None = None
        self.since_event: str | None = None
        self.entered_at: datetime | None = None
        self.entry_event: str | None = None
        self.progress = {p.id: ConditionProgress() for p in plan.conditions}

    def clone(self) -> TreatyState:
        new = TreatyState.__new__(TreatyState)
        new.plan, new.conditions, new.status = self.plan, self.conditions, self.status
        new.since_at, new.since_event = self.since_at, self.since_event
        new.entered_at, new.entry_event = self.entered_at, self.entry_event
        new.progress = {k: v.copy() for k, v in self.progress.items()}
        return new

    def why_not_in_force(self) -> str:
        """Why a clause that needs the treaty in force did not arise now."""
        if self.status is NOT_IN_FORCE:
            return "treaty not in force yet"
        since = f" since {fmt_time(self.since_at, self.plan.tz)}" if self.since_at else ""
        if self.status is SUSPENDED:
            return f"treaty suspended{since} (event {self.since_event})"
        return f"treaty terminated{since} (event {self.since_event})"

    def _counts(self, effect: ConditionEffect) -> bool:
        """Whether a condition with ``effect`` counts events in the current status."""
        status = self.status
        if effect is ConditionEffect.ENTRY_INTO_FORCE:
            return status is NOT_IN_FORCE
        if effect is ConditionEffect.SUSPENSION:
            return status is IN_FORCE
        if effect is ConditionEffect.RESUMPTION:
            return status is SUSPENDED
        return status is IN_FORCE or status is SUSPENDED

    def step(self, ev: Event, plans: tuple[ConditionPlan, ...], changed: Change) -> None:
        """Let ``ev`` advance the current step of each condition that counts now.

        An event counts for at most one pattern of a step, and only for the current step.
        Each change of status is reported to ``changed`` at once, so the event already
        sees the new status.
        """
        for plan in plans:
            progress = self.progress[plan.id]
            if progress.step >= len(plan.steps) or not self._counts(plan.effect):
                continue
            step = progress.step
            patterns = plan.steps[step]
            for j, pattern in enumerate(patterns):
                if (j not in progress.matched and ev.type in pattern.events
                        and plan.tests[step][j](ev.fields)):
                    progress.matched.add(j)
                    break
            if len(progress.matched) == len(patterns):
                progress.step += 1
                progress.matched = set()
                if progress.step == len(plan.steps):
                    progress.met_at, progress.met_by = ev.at, ev.id
                    self._met(plan, ev, changed)

    def _met(self, plan: ConditionPlan, ev: Event, changed: Change) -> None:
        effect = plan.effect
        if effect is ConditionEffect.ENTRY_INTO_FORCE:
            entries = [p for p in self.conditions if p.effect is effect]
            if all(self.progress[p.id].step >= len(p.steps) for p in entries):
                self.entered_at, self.entry_event = ev.at, ev.id
                self._set(IN_FORCE, effect, ev, changed)
            return
        if effect is ConditionEffect.TERMINATION:
            self._set(TERMINATED, effect, ev, changed)
            return
        # suspension and resumption may alternate: both start over for the next round
        for other in self.conditions:
            if other.effect in (ConditionEffect.SUSPENSION, ConditionEffect.RESUMPTION):
                progress = self.progress[other.id]
                progress.step, progress.matched = 0, set()
        status = SUSPENDED if effect is ConditionEffect.SUSPENSION else IN_FORCE
        self._set(status, effect, ev, changed)

    def _set(self, status: TreatyStatus, effect: ConditionEffect, ev: Event,
             changed: Change) -> None:
        self.status, self.since_at, self.since_event = status, ev.at, ev.id
        changed(effect, ev)
