"""Verdicts explained in plain text: the clause, its quoted words, the events, the deadline.

Stage: after ``engine``; ``foedus explain`` prints what :func:`explain_item` returns, and
the API can serve the same text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo

from foedus.engine.model import (
    DecisionInstance,
    EventEffect,
    EventExplanation,
    Explanation,
    ObligationInstance,
    RunResult,
)
from foedus.engine.results import late_text
from foedus.events.model import Event
from foedus.language.model import Treaty
from foedus.report.data import sorted_decisions, sorted_obligations, tally_counts, time_left
from foedus.report.html import describe_event

ExplainFn = Callable[[str], Explanation | None]


def explain_item(
    item: str,
    result: RunResult,
    treaty: Treaty,
    events: Mapping[str, Event],
    explain: ExplainFn | None = None,
) -> str | None:
    """Explain an obligation or decision id, or a clause id; None when the item is unknown.

    Args:
        item: ``consult/e17/CN`` (an obligation), ``support_decision/e17`` (a decision) or
            ``consult`` (a clause: what arose from it, or why nothing did).
        result: the run as of some instant.
        treaty: the treaty the run is of.
        events: the run's events by id, to describe triggers and settling events.
        explain: the monitor's ``explain`` at the same instant, for other items.
    """
    for o in result.obligations:
        if o.id == item:
            return explain_obligation(o, result.as_of, events)
    for d in result.decisions:
        if d.id == item:
            return explain_decision(d)
    if treaty.clause(item) is not None:
        return explain_clause(item, result, treaty, explain)
    found = explain(item) if explain is not None else None
    if found is not None:
        return "\n".join([f"{item}:", *explanation_lines(found)]) + "\n"
    return None


def explain_obligation(o: ObligationInstance, as_of: datetime, events: Mapping[str, Event]) -> str:
    lines = [f"{o.kind} {o.id}: {o.state}", *explanation_lines(o.explanation)]
    must = "must not" if str(o.kind) == "prohibition" else "must"
    who = f"{o.obligor} {must} {o.action}" + (f" for {o.beneficiary}" if o.beneficiary else "")
    lines.append(f"duty: {who}")
    if o.trigger_event is not None:
        lines.append(f"trigger: {event_line(o.trigger_event, events, as_of.tzinfo)}")
    status = str(o.state)
    if o.due_at is not None:
        due = f"due: {o.due_at.isoformat()}"
        if status in ("pending", "violated"):
            due += f" ({time_left(o.due_at, as_of)} as of {as_of.isoformat()})"
        lines.append(due)
    if o.settled_by is not None:
        verb = "fulfilled by" if status == "fulfilled" else f"{status} by"
        lines.append(f"{verb}: {event_line(o.settled_by, events, as_of.tzinfo)}")
    elif status == "violated" and o.due_at is not None:
        lines.append(f"violated: the deadline {o.due_at.isoformat()} passed with no matching event")
    if o.performed_by is not None and o.late_by is not None:
        lines.append(f"performed {late_text(o.late_by)} late by "
                     f"{event_line(o.performed_by, events, as_of.tzinfo)}")
    return "\n".join(lines) + "\n"


def explain_decision(d: DecisionInstance) -> str:
    c = tally_counts(d)
    lines = [
        f"decision {d.id}: {d.state}",
        *explanation_lines(d.explanation),
        f"opened: {d.opened_at.isoformat()} by event {d.trigger_event}",
        f"closes: {d.closes_at.isoformat()}",
        f"votes: {c['yes']} yes, {c['no']} no, {c['abstain']} abstain, {c['silent']} silent",
    ]
    lines += [f"  {voter}: {choice}" for voter, choice in sorted(d.tally.items())]
    return "\n".join(lines) + "\n"


def explain_clause(
    clause_id: str, result: RunResult, treaty: Treaty, explain: ExplainFn | None = None
) -> str:
    """What arose from a clause as of the result's time, or why nothing did."""
    clause = treaty.clause(clause_id)
    assert clause is not None
    arisen = [o for o in sorted_obligations(result) if o.clause == clause_id]
    decided = [d for d in sorted_decisions(result) if d.clause == clause_id]
    title = f' "{clause.title}"' if clause.title else ""
    lines = [f"clause {clause.id}{title} ({clause.kind})"]
    lines += [f'  quote: "{q}"' for q in clause.quotes]
    as_of = result.as_of.isoformat()
    reasons = sorted((n for n in result.not_arisen if n.clause == clause_id), key=lambda n: n.event)
    if arisen or decided:
        lines.append(f"as of {as_of}:")
        lines += [f"  {o.id}: {o.state} - {o.explanation.reason}" for o in arisen]
        lines += [f"  {d.id}: {d.state} - {d.explanation.reason}" for d in decided]
        if reasons:
            lines.append("did not arise:")
            lines += [f"  event {n.event}: {n.reason}" for n in reasons]
        return "\n".join(lines) + "\n"
    lines.append(f"nothing arose from this clause as of {as_of}:")
    if reasons:
        lines += [f"  event {n.event}: {n.reason}" for n in reasons]
    else:
        found = explain(clause_id) if explain is not None else None
        lines.append(f"  {found.reason}" if found is not None else "  no event matched its trigger")
    return "\n".join(lines) + "\n"


def explanation_lines(e: Explanation) -> list[str]:
    title = f' "{e.title}"' if e.title else ""
    lines = [f"clause: {e.clause}{title}"]
    lines += [f'  quote: "{q}"' for q in e.quotes]
    lines.append(f"why: {e.reason}")
    if e.events:
        lines.append(f"events: {', '.join(e.events)}")
    return lines


def event_line(event_id: str, events: Mapping[str, Event], tz: tzinfo | None = None) -> str:
    """``e17 armed_attack(aggressor: RU, ...) at 2022-... [events.jsonl:17]``."""
    ev = events.get(event_id)
    if ev is None:
        return event_id
    where = f" [{ev.source}]" if ev.source else ""
    return f"{event_id} {describe_event(ev, tz)}{where}"


EFFECT_WORDS = {"not_triggered": "not triggered", "not_fulfilled": "not fulfilled",
                "not_violated": "not violated", "not_used": "not used",
                "not_advanced": "not advanced", "not_counted": "not counted"}


def explain_event(x: EventExplanation, as_of: datetime, events: Mapping[str, Event]) -> str:
    """What one event did (instances it triggered or settled, steps, votes, permissions),
    and, clause by clause, why it did not do more."""
    lines = [f"event {event_line(x.event, events, as_of.tzinfo)}", f"as of {as_of.isoformat()}"]
    if x.note is not None:
        lines.append(f"nothing to say: {x.note}")
    if x.effects:
        lines.append("did:")
        lines += _effect_lines(x.effects)
    elif x.note is None:
        lines.append("did: nothing")
    if x.misses:
        lines.append("did not:")
        lines += _effect_lines(x.misses)
    if x.unconcerned:
        lines.append(f"not concerned (no pattern names {x.type}): {', '.join(x.unconcerned)}")
    return "\n".join(lines) + "\n"


def _effect_lines(effects: tuple[EventEffect, ...]) -> list[str]:
    """One line per effect; the instances one clause gained from the event, on one line."""
    entries: list[EventEffect | list[EventEffect]] = []
    groups: dict[tuple[str, str], list[EventEffect]] = {}
    for e in effects:
        if e.kind in ("triggered", "arose") and e.item is not None:
            group = groups.get((e.clause, e.kind))
            if group is None:
                group = groups[(e.clause, e.kind)] = []
                entries.append(group)
            group.append(e)
        else:
            entries.append(e)
    return [_group_line(x) if isinstance(x, list) else _effect_line(x) for x in entries]


def _effect_line(e: EventEffect) -> str:
    item = f" {e.item}" if e.item else ""
    state = f" ({e.state})" if e.state and e.kind not in (e.state, "violated") else ""
    return f"  {e.clause}: {EFFECT_WORDS.get(e.kind, e.kind)}{item}{state} - {e.reason}"


def _group_line(group: list[EventEffect]) -> str:
    first = group[0]
    items = ", ".join(f"{e.item} ({e.state})" for e in group)
    reasons = {e.reason for e in group}
    why = first.reason if len(reasons) == 1 else "each for its own reason (explain its id)"
    return f"  {first.clause}: {first.kind} {len(group)} instance(s): {items} - {why}"
