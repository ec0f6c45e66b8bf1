"""One event of a log explained: what it did under the treaty, and why it did nothing more.

Stage: read by ``engine.results`` (``RunResult.event_explainer``) over a finished run;
``foedus explain TREATY EVENTS EVENT-ID`` renders it. Nothing here decides anew what an
event does: the effects are read from the run's records (an instance keeps the event that
triggered it and the one that settled it, a permission the events that used it, the
status its recorded changes and condition steps), every non-arising recorded for the
event is given with its reason, and for a clause whose patterns name the event's type but
that the event left alone, the reason is found the way the run decided it: the matcher
(:meth:`~foedus.engine.matching.Matcher.unmet`) for fields, the instance's own record for
obligors, deadlines and earlier acts, the period for a prohibition's window and parties,
and the recorded status changes for whether the treaty or the clause applied at that
moment (:meth:`~foedus.engine.status.TreatyState.why_off_at`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from foedus.engine.matching import MISSING, Bindings, Matcher, fmt_time
from foedus.engine.model import EventEffect, EventExplanation, RunResult
from foedus.engine.plan import (
    ClausePlan,
    ConditionPlan,
    DecisionPlan,
    ObligationPlan,
    PermissionPlan,
    Plan,
    ProhibitionPlan,
)
from foedus.engine.records import CollectiveRecord, EachRecord, Period, RecordStore
from foedus.engine.status import TreatyState
from foedus.events.model import Event
from foedus.language.model import ClauseKind, Pattern

__all__ = ["explain_event"]


class _Context:
    """What every question about one event reads: the plan, the records, the status."""

    def __init__(self, plan: Plan, store: RecordStore, status: TreatyState,
                 result: RunResult, ev: Event) -> None:
        self.plan = plan
        self.store = store
        self.status = status
        self.result = result
        self.ev = ev
        self.matcher: Matcher = plan.matcher

    def time(self, at: datetime | None) -> str:
        return fmt_time(at, self.plan.tz)

    def before(self, at: datetime | None, event: str | None) -> bool:
        """Whether something at ``at`` by ``event`` came before the event, in run order."""
        if at is None:
            return True
        ev = self.ev
        return at < ev.at or (at == ev.at and (event or "") < ev.id)

    def unmet(self, plan: ClausePlan, pattern: Pattern, bindings: Bindings) -> str | None:
        return self.matcher.unmet(pattern, self.ev.fields, bindings, plan.id)

    def actor(self, pattern_types: dict[str, str | None]) -> Any:
        field = pattern_types.get(self.ev.type) or ""
        return self.ev.fields.get(field, MISSING)

    def why_off(self, plan: ClausePlan) -> str | None:
        """Why ``plan`` did not apply at the event's moment (treaty or clause status)."""
        ev, status = self.ev, self.status
        if not plan.standalone:
            why = status.why_off_at(None, ev.at, ev.id)
            if why is not None:
                return why
        if plan.id in status.clauses:
            return status.why_off_at(plan.id, ev.at, ev.id)
        return None


def explain_event(plan: Plan, store: RecordStore, status: TreatyState, result: RunResult,
                  ev: Event) -> EventExplanation:
    """What ``ev`` did in the run whose records are ``store`` and status ``status``."""
    at = ev.at.astimezone(plan.tz)
    concerned = [p for p in plan.clauses if _names(p, ev.type)]
    unconcerned = tuple(p.id for p in plan.clauses if not _names(p, ev.type))
    if ev.at > result.as_of:
        note = f"the event is after the time of the run ({fmt_time(result.as_of, plan.tz)})"
        return EventExplanation(ev.id, ev.type, at, ev.fields, (), (), unconcerned, note)
    c = _Context(plan, store, status, result, ev)
    effects = [*_instances(c), *_counted(c), *_permissions(c), *_advances(c), *_votes(c)]
    done = {(e.clause, e.kind) for e in effects}
    misses = list(_not_arisen(c))
    missed = {e.clause for e in misses}
    for p in concerned:
        misses.extend(_misses(c, p, done, missed))
    order = {p.id: p.index for p in plan.clauses}
    misses.sort(key=lambda e: order.get(e.clause, -1))
    return EventExplanation(ev.id, ev.type, at, ev.fields, tuple(effects), tuple(misses),
                            unconcerned)


def _names(plan: ClausePlan, event_type: str) -> bool:
    """Whether a pattern of ``plan`` (trigger, action, condition step, vote) names the type."""
    trigger = plan.trigger
    if trigger is not None and event_type in trigger.events:
        return True
    if isinstance(plan, ObligationPlan | ProhibitionPlan | PermissionPlan):
        return event_type in plan.action.events
    if isinstance(plan, DecisionPlan):
        return plan.vote_event == event_type
    if isinstance(plan, ConditionPlan):
        return any(isinstance(item, Pattern) and event_type in item.events
                   for step in plan.steps for item in step)
    return False


# ---------------------------------------------------------------- what it did


def _instances(c: _Context) -> Iterator[EventEffect]:
    """Instances it triggered or settled, decisions it opened."""
    ev = c.ev
    for o in c.result.obligations:
        state = str(o.state)
        if o.trigger_event == ev.id:
            plan = c.plan.by_id[o.clause]
            triggered = plan.trigger is not None and ev.type in plan.trigger.events
            origin = o.explanation.reason.split(";")[0].removeprefix("It ")
            if o.kind == "prohibition" and o.settled_by != ev.id:
                origin = f"began a period of the prohibition; {o.explanation.reason}"
            yield EventEffect(o.clause, "triggered" if triggered else "arose", origin, o.id,
                              state)
        if o.settled_by == ev.id:
            kind = "violated" if o.kind == "prohibition" else state
            yield EventEffect(o.clause, kind, o.explanation.reason, o.id, state)
    for d in c.result.decisions:
        if d.trigger_event == ev.id:
            yield EventEffect(d.clause, "triggered", "opened the decision", d.id, str(d.state))


def _counted(c: _Context) -> Iterator[EventEffect]:
    """Acts that counted towards a collective duty that they did not settle."""
    ev = c.ev
    for x in c.store.arisen:
        if type(x) is CollectiveRecord and ev.id in x.acted.values() and (
                x.verdict is None or x.verdict[2] != ev.id):
            state = "pending" if x.verdict is None else x.verdict[0].value
            yield EventEffect(x.plan.id, "counted",
                              f"{len(x.acted)} of {x.k} of {x.label} have acted", x.id, state)


def _permissions(c: _Context) -> Iterator[EventEffect]:
    for clause, used in c.result.permissions.items():
        if c.ev.id in used:
            yield EventEffect(clause, "used", "it is an act the permission allows")


def _advances(c: _Context) -> Iterator[EventEffect]:
    """Condition steps it met, and the changes of status they made."""
    ev, plan = c.ev, c.plan
    changes = {(ch.target, ch.status.value) for ch in c.status.changes
               if ch.by == ev.id and ch.how == "event"}
    for a in c.status.advances:
        if a.by != ev.id or a.how != "event":
            continue
        cond = plan.by_id[a.clause]
        assert isinstance(cond, ConditionPlan)
        total = len(cond.steps)
        reason = (f"step {a.step + 1} of {total} met" if a.done
                  else f"an item of step {a.step + 1} of {total} met")
        if a.done and a.step + 1 == total:
            what = "treaty" if cond.target is None else f"clause {cond.target}"
            now = [s for t, s in changes if t == cond.target]
            reason += f": the condition is met; the {what} is now {_words(now[-1])}" if now \
                else ": the condition is met"
        yield EventEffect(a.clause, "advanced", reason)


def _words(status: str) -> str:
    return status.replace("_", " ")


def _votes(c: _Context) -> Iterator[EventEffect]:
    ev = c.ev
    for d in c.result.decisions:
        if d.trigger_event != ev.id and ev.id in d.explanation.events:
            plan = c.plan.by_id[d.clause]
            assert isinstance(plan, DecisionPlan)
            voter = ev.fields.get(plan.voter_field, MISSING)
            choice = d.tally.get(str(voter), "?")
            yield EventEffect(d.clause, "voted", f"{voter} voted {choice}", d.id, str(d.state))


# ---------------------------------------------------------------- what it did not do


def _not_arisen(c: _Context) -> Iterator[EventEffect]:
    """Every non-arising the run recorded for the event, with its reason."""
    for n in c.store.not_arisen:
        if n.event == c.ev.id:
            plan = c.plan.by_id[n.clause]
            kind = "not_violated" if plan.kind is ClauseKind.PROHIBITION and (
                plan.trigger is None or c.ev.type not in plan.trigger.events) \
                else "not_triggered"
            yield EventEffect(n.clause, kind, n.reason)


def _misses(c: _Context, plan: ClausePlan, done: set[tuple[str, str]],
            missed: set[str]) -> Iterator[EventEffect]:
    """Why ``plan``, whose patterns name the event's type, did not take it, role by role."""
    ev, pid = c.ev, plan.id
    trigger = plan.trigger
    if trigger is not None and ev.type in trigger.events and trigger.pattern is not None \
            and (pid, "triggered") not in done and pid not in missed:
        why = c.unmet(plan, trigger.pattern, {})
        yield EventEffect(pid, "not_triggered", why or "it matched, yet nothing arose")
    if isinstance(plan, ObligationPlan) and ev.type in plan.action.events:
        yield from _not_fulfilled(c, plan)
    elif isinstance(plan, ProhibitionPlan) and ev.type in plan.action.events \
            and (pid, "violated") not in done and pid not in missed:
        yield from _not_violated(c, plan)
    elif isinstance(plan, PermissionPlan) and (pid, "used") not in done:
        yield EventEffect(pid, "not_used", _not_used(c, plan))
    elif isinstance(plan, DecisionPlan) and ev.type == plan.vote_event \
            and (pid, "voted") not in done:
        yield EventEffect(pid, "not_counted", _not_counted(c, plan))
    elif isinstance(plan, ConditionPlan) and (pid, "advanced") not in done:
        yield EventEffect(pid, "not_advanced", _not_advanced(c, plan))


def _not_fulfilled(c: _Context, plan: ObligationPlan) -> Iterator[EventEffect]:
    """For each instance of ``plan`` open before the event, why the event did not meet it."""
    ev = c.ev
    actor = c.actor(dict(plan.action.actors))
    owed = False
    excepted: list[str] = []
    for x in c.store.arisen:
        if not isinstance(x, EachRecord | CollectiveRecord) or x.plan is not plan \
                or x.trigger_id == ev.id or not c.before(x.trigger_at, x.trigger_id):
            continue
        members = x.obligors if type(x) is EachRecord else x.members
        if actor not in members:
            if actor in plan.obligors.spec.among.members:
                excepted.append(x.key if type(x) is EachRecord else x.id)
            continue
        owed = True
        item, why, state = _instance_miss(c, x, actor)
        if why is not None:
            yield EventEffect(plan.id, "not_fulfilled", why, item, state)
    if owed:
        return
    who = plan.action.actors.get(ev.type) or "actor"
    if excepted:
        spec = plan.obligors.spec
        what = ", ".join(excepted)
        yield EventEffect(plan.id, "not_fulfilled",
                          f"the obligor was excepted: {who} {actor} is a {spec.among.name} "
                          f"but owes nothing under {what}")
    elif any(x.plan is plan for x in c.store.arisen):
        yield EventEffect(plan.id, "not_fulfilled",
                          f"{who} {actor} is not an obligor ({plan.obligors.label})")
    else:
        yield EventEffect(plan.id, "not_fulfilled", "no instance had arisen by then")


def _instance_miss(c: _Context, x: EachRecord | CollectiveRecord, actor: str
                   ) -> tuple[str, str | None, str]:
    """Why the event did not fulfil ``actor``'s part of ``x`` (None: it did)."""
    ev = c.ev
    if type(x) is EachRecord:
        item = x.key + actor
        verdict = x.outcome.get(actor)
        earlier_act = None
    else:
        item = x.id
        verdict = x.verdict
        earlier_act = x.acted.get(actor)
    state = "pending" if verdict is None else verdict[0].value
    if earlier_act == ev.id or (verdict is not None and verdict[2] == ev.id):
        return item, None, state
    if verdict is not None and c.before(verdict[1], verdict[2]):
        kind, at, by = verdict
        if kind.value == "violated":
            return item, f"it came after the deadline {c.time(x.due_at)}", state
        source = f" by {by}" if by else ""
        return item, f"already {kind.value}{source} at {c.time(at)}", state
    if earlier_act is not None:
        return item, f"{actor}'s act already counted (event {earlier_act})", state
    why = c.matcher.unmet(x.plan.action.pattern, ev.fields, x.bindings, x.plan.id)
    return item, why or "it did not count for this instance", state


def _not_violated(c: _Context, plan: ProhibitionPlan) -> Iterator[EventEffect]:
    """For each period of ``plan`` begun before the event, why the event did not break it."""
    off = c.why_off(plan)
    if off is not None:
        yield EventEffect(plan.id, "not_violated", off)
        return
    ev = c.ev
    actor = c.actor(dict(plan.action.actors))
    periods = [x for x in c.store.arisen if type(x) is Period and x.plan is plan
               and c.before(x.trigger_at, x.trigger_id)]
    if not periods:
        yield EventEffect(plan.id, "not_violated", "no period of the prohibition had begun")
    for p in periods:
        item = p.key if len(periods) > 1 or plan.trigger is not None else None
        if not p.covers(ev.at):
            yield EventEffect(plan.id, "not_violated",
                              f"outside the prohibition's window ({_window(c, p)})", item)
            continue
        if actor not in p.members:
            who = plan.action.actors.get(ev.type) or "actor"
            yield EventEffect(plan.id, "not_violated",
                              f"{who} {actor} is not bound ({plan.obligors.label})", item)
            continue
        why = c.matcher.unmet(plan.action.pattern, ev.fields, p.bindings, plan.id)
        yield EventEffect(plan.id, "not_violated", why or "it did not count", item)


def _window(c: _Context, p: Period) -> str:
    parts = []
    if p.start_at is not None:
        parts.append(f"from {c.time(p.start_at)}")
    if p.end_at is not None:
        parts.append(f"until {c.time(p.end_at)}")
    return " ".join(parts)


def _not_used(c: _Context, plan: PermissionPlan) -> str:
    """Why the event did not use the permission: the checks of ``Prohibitions.exercise``."""
    off = c.why_off(plan)
    if off is not None:
        return off
    ev, window = c.ev, plan.window
    if (window.start_at is not None and ev.at < window.start_at) or (
            window.end_at is not None and ev.at > window.end_at):
        bounds = [f"from {c.time(window.start_at)}" if window.start_at else "",
                  f"until {c.time(window.end_at)}" if window.end_at else ""]
        return f"outside the permission's window ({' '.join(b for b in bounds if b)})"
    actor = c.actor(dict(plan.action.actors))
    members = plan.obligors.static
    if members is not None and actor not in members:
        who = plan.action.actors.get(ev.type) or "actor"
        return f"{who} {actor} is not a permitted party ({plan.obligors.label})"
    return c.unmet(plan, plan.action.pattern, {}) or "it did not count"


def _not_counted(c: _Context, plan: DecisionPlan) -> str:
    """Why a vote did not count for ``plan``."""
    decision = c.ev.fields.get("decision", MISSING)
    if decision != plan.id:
        return f"it is a vote on {decision}, not on {plan.id}"
    return ("no open instance of the decision took it: the voter was not a voter, had "
            "voted already, or the time to decide was over")


def _not_advanced(c: _Context, plan: ConditionPlan) -> str:
    """Why the event met no item of the condition's steps."""
    ev = c.ev
    reasons = [c.unmet(plan, item, {}) for step in plan.steps for item in step
               if isinstance(item, Pattern) and ev.type in item.events]
    if reasons and all(r is not None for r in reasons):
        return str(reasons[0])
    met = [a for a in c.status.advances if a.clause == plan.id and c.before(a.at, a.by)
           and a.done and a.step + 1 == len(plan.steps)]
    if met:
        return f"the condition was met already at {c.time(met[-1].at)} (event {met[-1].by})"
    return "it matches a step that was not the current one, or the condition did not count then"
