"""The treaty's status: entry into force, suspension, resumption and termination.

Stage: part of the run state (``engine.state``); the rules are in ``docs/semantics.md`` §2.
Condition clauses move the status; the state acts on each change (clauses arise on
entry into force, pending duties are discharged on termination).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import NamedTuple

from foedus.engine.matching import fmt_time
from foedus.engine.model import TreatyStatus
from foedus.engine.plan import ConditionPlan, Plan
from foedus.events.model import Event
from foedus.language.model import ConditionEffect, TriggerKind, Verdict

__all__ = ["Advance", "ConditionProgress", "StatusChange", "TreatyState"]

IN_FORCE = TreatyStatus.IN_FORCE
NOT_IN_FORCE = TreatyStatus.NOT_IN_FORCE
SUSPENDED = TreatyStatus.SUSPENDED
TERMINATED = TreatyStatus.TERMINATED
# a condition changed the status of the treaty (target None) or of one clause, at an
# instant, by an event or a verdict (its id)
Change = Callable[[ConditionEffect, datetime, str, str | None], None]


class StatusChange(NamedTuple):
    """The treaty (``target`` None) or a clause took ``status`` at ``at``, by an event or a
    verdict (``how`` as in :func:`cause_text`)."""

    at: datetime
    by: str
    how: str
    target: str | None
    status: TreatyStatus


class Advance(NamedTuple):
    """Condition ``clause`` met an item of its step ``step`` (from 0) at ``at``, by ``by``;
    ``done`` when that completed the step."""

    at: datetime
    by: str
    how: str
    clause: str
    step: int
    done: bool


class ConditionProgress:
    """How far one condition clause has got: its current step, the items met in it."""

    __slots__ = ("matched", "met_at", "met_by", "met_how", "step")

    def __init__(self) -> None:
        self.step = 0
        self.matched: set[int] = set()
        self.met_at: datetime | None = None  # when the last step was last completed
        self.met_by: str | None = None  # by which event or instance
        self.met_how = "event"  # or the verdict: "violated(support)"

    def copy(self) -> ConditionProgress:
        new = ConditionProgress()
        new.step, new.matched = self.step, set(self.matched)
        new.met_at, new.met_by, new.met_how = self.met_at, self.met_by, self.met_how
        return new


class Standing:
    """The status of the treaty, or of one clause a condition governs, since when and why."""

    __slots__ = ("since_at", "since_by", "since_how", "status")

    def __init__(self, status: TreatyStatus) -> None:
        self.status = status
        self.since_at: datetime | None = None
        self.since_by: str | None = None
        self.since_how = "event"

    def copy(self) -> Standing:
        new = Standing(self.status)
        new.since_at, new.since_by, new.since_how = self.since_at, self.since_by, self.since_how
        return new


class TreatyState:
    """The treaty's status, the status of each clause a condition governs, and the
    progress of the condition clauses."""

    __slots__ = ("advances", "changes", "clauses", "conditions", "entered_at", "entry_event",
                 "off", "plan", "progress", "since_at", "since_event", "since_how", "status")

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.conditions = plan.conditions
        self.status = NOT_IN_FORCE if plan.has_entry else IN_FORCE
        self.since_at: datetime | None = None
        self.since_event: str | None = None
        self.since_how = "event"
        self.entered_at: datetime | None = None
        self.entry_event: str | None = None
        self.progress = {p.id: ConditionProgress() for p in plan.conditions}
        entries = {p.target for p in plan.conditions
                   if p.effect is ConditionEffect.ENTRY_INTO_FORCE}
        self.clauses = {p.target: Standing(NOT_IN_FORCE if p.target in entries else IN_FORCE)
                        for p in plan.conditions if p.target is not None}
        # the clauses not in force now: what prohibitions, permissions and triggers ask
        self.off = {c for c, standing in self.clauses.items() if standing.status is not IN_FORCE}
        # the history, kept so that an event can be explained afterwards (`foedus explain`
        # EVENT): condition steps are met and statuses change rarely, so it costs little
        self.changes: list[StatusChange] = []
        self.advances: list[Advance] = []

    def clone(self) -> TreatyState:
        new = TreatyState.__new__(TreatyState)
        new.plan, new.conditions, new.status = self.plan, self.conditions, self.status
        new.since_at, new.since_event, new.since_how = (self.since_at, self.since_event,
                                                        self.since_how)
        new.entered_at, new.entry_event = self.entered_at, self.entry_event
        new.progress = {k: v.copy() for k, v in self.progress.items()}
        new.clauses = {k: v.copy() for k, v in self.clauses.items()}
        new.off = set(self.off)
        new.changes, new.advances = list(self.changes), list(self.advances)
        return new

    def why_not_in_force(self) -> str:
        """Why a clause that needs the treaty in force did not arise now."""
        return _why("treaty", self.status, self.since_at, self.since_event, self.since_how,
                    self.plan.tz)

    def why_clause_off(self, clause: str) -> str:
        """Why a clause that a condition governs did not arise now."""
        standing = self.clauses[clause]
        return _why(f"clause {clause}", standing.status, standing.since_at, standing.since_by,
                    standing.since_how, self.plan.tz)

    def why_off_at(self, target: str | None, at: datetime, event: str) -> str | None:
        """Why the treaty (``target`` None) or clause ``target`` did not apply to the event
        ``event`` at ``at``, or None if it did: read from the recorded changes, which an
        event sees from those made by an earlier event or at an earlier instant, and its
        own (a verdict at the event's instant comes after it, §1)."""
        if target is None:
            status = NOT_IN_FORCE if self.plan.has_entry else IN_FORCE
        else:
            status = NOT_IN_FORCE if any(
                p.target == target and p.effect is ConditionEffect.ENTRY_INTO_FORCE
                for p in self.conditions) else IN_FORCE
        last: StatusChange | None = None
        for change in self.changes:
            if change.target == target and (change.at < at or (
                    change.at == at and change.how == "event" and change.by <= event)):
                status, last = change.status, change
        if status is IN_FORCE:
            return None
        what = "treaty" if target is None else f"clause {target}"
        if last is None:
            return _why(what, status, None, None, "event", self.plan.tz)
        return _why(what, status, last.at, last.by, last.how, self.plan.tz)

    def _status_of(self, target: str | None) -> TreatyStatus:
        return self.status if target is None else self.clauses[target].status

    def _counts(self, effect: ConditionEffect, target: str | None) -> bool:
        """Whether a condition with ``effect`` counts now, by the status of its target."""
        status = self._status_of(target)
        if effect is ConditionEffect.ENTRY_INTO_FORCE:
            return status is NOT_IN_FORCE
        if effect is ConditionEffect.SUSPENSION:
            return status is IN_FORCE
        if effect is ConditionEffect.RESUMPTION:
            return status is SUSPENDED
        return status is IN_FORCE or status is SUSPENDED

    def step(self, ev: Event, plans: tuple[ConditionPlan, ...], changed: Change) -> None:
        """Let ``ev`` advance the current step of each condition that counts now.

        An event counts for at most one item of a step, and only for the current step.
        Each change of status is reported to ``changed`` at once, so the event already
        sees the new status.
        """
        for plan in plans:
            progress = self.progress[plan.id]
            if progress.step >= len(plan.steps) or not self._counts(plan.effect, plan.target):
                continue
            step = progress.step
            tests = plan.tests[step]
            for j, item in enumerate(plan.steps[step]):
                test = tests[j]
                if (j not in progress.matched and test is not None
                        and ev.type in item.events and test(ev.fields)):  # type: ignore[union-attr]
                    self._matched(plan, progress, j, ev.at, ev.id, "event", changed)
                    break

    def verdict(self, kind: TriggerKind, clause: str, at: datetime, by: str,
                changed: Change) -> None:
        """A verdict ``kind`` of ``clause`` was reached at ``at`` (instance ``by``): let it
        advance the conditions waiting for it, as an event would."""
        for plan in self.plan.conditions_on_verdict.get((kind, clause), ()):
            progress = self.progress[plan.id]
            if progress.step >= len(plan.steps) or not self._counts(plan.effect, plan.target):
                continue
            for j, item in enumerate(plan.steps[progress.step]):
                if (j not in progress.matched and isinstance(item, Verdict)
                        and item.kind is kind and item.clause == clause):
                    self._matched(plan, progress, j, at, by, f"{kind.value}({clause})",
                                  changed)
                    break

    def _matched(self, plan: ConditionPlan, progress: ConditionProgress, j: int,
                 at: datetime, by: str, how: str, changed: Change) -> None:
        progress.matched.add(j)
        done = len(progress.matched) == len(plan.steps[progress.step])
        self.advances.append(Advance(at, by, how, plan.id, progress.step, done))
        if done:
            progress.step += 1
            progress.matched = set()
            if progress.step == len(plan.steps):
                progress.met_at, progress.met_by, progress.met_how = at, by, how
                self._met(plan, at, by, how, changed)

    def _met(self, plan: ConditionPlan, at: datetime, by: str, how: str,
             changed: Change) -> None:
        effect, target = plan.effect, plan.target
        if effect is ConditionEffect.ENTRY_INTO_FORCE:
            entries = [p for p in self.conditions if p.effect is effect and p.target == target]
            if all(self.progress[p.id].step >= len(p.steps) for p in entries):
                if target is None:
                    self.entered_at, self.entry_event = at, by
                self._set(target, IN_FORCE, effect, at, by, how, changed)
            return
        if effect is ConditionEffect.TERMINATION:
            self._set(target, TERMINATED, effect, at, by, how, changed)
            return
        # suspension and resumption may alternate: both start over for the next round
        for other in self.conditions:
            if other.target == target and other.effect in (ConditionEffect.SUSPENSION,
                                                           ConditionEffect.RESUMPTION):
                progress = self.progress[other.id]
                progress.step, progress.matched = 0, set()
        status = SUSPENDED if effect is ConditionEffect.SUSPENSION else IN_FORCE
        self._set(target, status, effect, at, by, how, changed)

    def _set(self, target: str | None, status: TreatyStatus, effect: ConditionEffect,
             at: datetime, by: str, how: str, changed: Change) -> None:
        self.changes.append(StatusChange(at, by, how, target, status))
        if target is None:
            self.status, self.since_at, self.since_event, self.since_how = status, at, by, how
        else:
            standing = self.clauses[target]
            standing.status, standing.since_at = status, at
            standing.since_by, standing.since_how = by, how
            if status is IN_FORCE:
                self.off.discard(target)
            else:
                self.off.add(target)
        changed(effect, at, by, target)


def _why(what: str, status: TreatyStatus, since_at: datetime | None, by: str | None,
         how: str, tz: tzinfo) -> str:
    if status is NOT_IN_FORCE:
        return f"{what} not in force yet"
    since = f" since {fmt_time(since_at, tz)}" if since_at else ""
    cause = f" ({cause_text(by, how)})" if by else ""
    word = "suspended" if status is SUSPENDED else "terminated"
    return f"{what} {word}{since}{cause}"


def cause_text(by: str, how: str) -> str:
    """``event e12``, or ``violated(support): support/e3/US`` for a verdict."""
    return f"event {by}" if how == "event" else f"{how}: {by}"
