"""A run result as plain data: JSON-ready dicts in a stable order, and human time spans.

Stage: after ``engine``; used by the CLI (``foedus run --format json``), the HTML report
and the API. Same result in, same bytes out: keys are sorted by ``json.dumps``, times are in UTC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from foedus.engine.model import (
    DecisionInstance,
    EventEffect,
    EventExplanation,
    Explanation,
    NonArising,
    ObligationInstance,
    RunResult,
)


def iso(at: datetime | None) -> str | None:
    """An instant in machine output: UTC, seconds (microseconds when it has them), ``Z``.

    Every format and every zone of the input gives the same text for the same instant.

    >>> from datetime import timezone
    >>> iso(datetime(2022, 3, 29, 10, tzinfo=timezone(timedelta(hours=3))))
    '2022-03-29T07:00:00Z'
    """
    if at is None:
        return None
    text = at.astimezone(UTC).isoformat(timespec="microseconds" if at.microsecond else "seconds")
    return text[:-6] + "Z"


def duration(delta: timedelta | None) -> str | None:
    """A span in machine output: ISO 8601, hours at most (a day is not always 24 hours),
    seconds with microseconds only when it has them.

    >>> duration(timedelta(minutes=31))
    'PT31M'
    >>> duration(timedelta(days=1, seconds=90, microseconds=500000))
    'PT24H1M30.5S'
    """
    if delta is None:
        return None
    total = delta // timedelta(microseconds=1)
    seconds, micro = divmod(total, 1_000_000)
    hours, rest = divmod(seconds, 3600)
    mins, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{mins}M" if mins else "")
    if secs or micro or text == "PT":
        fraction = f".{micro:06d}".rstrip("0") if micro else ""
        text += f"{secs}{fraction}S"
    return text


def sorted_obligations(result: RunResult) -> list[ObligationInstance]:
    """Obligations in display order: by due time (open-ended last), then trigger time, then id."""

    def key(o: ObligationInstance) -> tuple[float, float, str]:
        due = o.due_at.timestamp() if o.due_at else float("inf")
        trig = o.triggered_at.timestamp() if o.triggered_at else float("-inf")
        return (due, trig, o.id)

    return sorted(result.obligations, key=key)


def sorted_decisions(result: RunResult) -> list[DecisionInstance]:
    return sorted(result.decisions, key=lambda d: (d.opened_at.timestamp(), d.id))


def time_left(due_at: datetime | None, as_of: datetime) -> str:
    """How long until a deadline, or how long ago it passed, relative to ``as_of``.

    >>> from datetime import UTC
    >>> t = datetime(2022, 3, 29, tzinfo=UTC)
    >>> time_left(t + timedelta(days=2, hours=3), t)
    '2d 3h left'
    >>> time_left(t - timedelta(minutes=90), t)
    'overdue by 1h 30m'
    >>> time_left(None, t)
    ''
    """
    if due_at is None:
        return ""
    delta = due_at - as_of
    if delta >= timedelta(0):
        return f"{_span(delta)} left"
    return f"overdue by {_span(-delta)}"


def done_late(o: ObligationInstance) -> str:
    """How late a violated obligation was performed, for tables; empty if it was not.

    The verdict stays violated (``docs/semantics.md`` §3): this only says the act came.
    """
    late = o.late_by
    return f"done {_span(late)} late" if late is not None else ""


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    if days:
        parts[2] = ""  # minutes are noise beside days
    text = " ".join(p for p in parts if p)
    return text or "0m"


def minutes(at: datetime) -> str:
    """A time to the minute as its wall clock reads, the year in four digits.

    >>> minutes(datetime(1, 1, 2, 7, 5))
    '0001-01-02 07:05'
    """
    return at.isoformat(sep=" ", timespec="minutes")[:16]


def short_time(at: datetime) -> str:
    """A compact time for tables, keeping the offset it was given in.

    >>> from datetime import UTC
    >>> short_time(datetime(2022, 4, 4, 7, 0, 30, tzinfo=UTC))
    '2022-04-04 07:00 +00:00'
    """
    offset = at.isoformat()[-6:] if at.utcoffset() is not None else ""
    return f"{minutes(at)} {offset}".rstrip()


def explanation_to_json(e: Explanation) -> dict[str, Any]:
    return {
        "clause": e.clause,
        "title": e.title,
        "quotes": list(e.quotes),
        "reason": e.reason,
        "events": list(e.events),
    }


# The fields of a verdict in machine output: JSON key, and whether it is a time. The
# order is ``ObligationInstance.row()``'s; JSON Lines writers derive their lines from it.
VERDICT_FIELDS: tuple[tuple[str, bool], ...] = (
    ("id", False),
    ("clause", False),
    ("kind", False),
    ("obligor", False),
    ("action", False),
    ("action_fields", False),  # JSON text of the action as data
    ("beneficiary", False),
    ("trigger_event", False),
    ("triggered_at", True),
    ("due_at", True),
    ("state", False),
    ("settled_at", True),
    ("settled_by", False),
    ("performed_at", True),  # a violated obligation performed late: when, and by which event
    ("performed_by", False),
)
# Derived in machine output: how late the act was, ``performed_at - due_at`` (``duration``).
LATE_KEY = "late_by"


def obligation_to_json(o: ObligationInstance, explanation: bool = True) -> dict[str, Any]:
    """A verdict as JSON-ready data (``explanation=False``: without its text)."""
    out: dict[str, Any] = {
        key: iso(value) if is_time else (str(value) if key == "state" else value)
        for (key, is_time), value in zip(VERDICT_FIELDS, o.row(), strict=True)
    }
    out["action_fields"] = json.loads(out["action_fields"])
    out[LATE_KEY] = duration(o.late_by)
    if explanation:
        out["explanation"] = explanation_to_json(o.explanation)
    return out


def decision_to_json(d: DecisionInstance) -> dict[str, Any]:
    return {
        "id": d.id,
        "clause": d.clause,
        "trigger_event": d.trigger_event,
        "opened_at": iso(d.opened_at),
        "closes_at": iso(d.closes_at),
        "voters": list(d.voters),
        "state": str(d.state),
        "tally": dict(sorted(d.tally.items())),
        "counts": tally_counts(d),
        "resolved_at": iso(d.resolved_at),
        "explanation": explanation_to_json(d.explanation),
    }


def tally_counts(d: DecisionInstance) -> dict[str, int]:
    """Votes by choice, with silent voters counted as ``silent``."""
    counts = {"yes": 0, "no": 0, "abstain": 0, "silent": 0}
    for voter in d.voters:
        choice = d.tally.get(voter)
        key = choice if choice in counts else "silent"
        counts[key] += 1
    return counts


def not_arisen_to_json(n: NonArising) -> dict[str, Any]:
    return {"clause": n.clause, "event": n.event, "reason": n.reason}


def result_to_json(result: RunResult) -> dict[str, Any]:
    """The whole result as JSON-ready data; dump it with ``sort_keys=True`` for stable bytes.

    Verdicts come in the order they arose, decisions in the order they opened.
    """
    return {
        **head_to_json(result),
        "obligations": [obligation_to_json(o) for o in result.obligations],
        "decisions": [decision_to_json(d) for d in result.decisions],
        "not_arisen": [not_arisen_to_json(n) for n in result.not_arisen],
    }


def head_to_json(result: RunResult) -> dict[str, Any]:
    """What a result says besides its verdicts: status, conditions, permissions, counts."""
    return {
        "treaty": result.treaty,
        "as_of": iso(result.as_of),
        "zone": result.zone,
        "treaty_status": str(result.treaty_status),
        "conditions": dict(sorted(result.conditions.items())),
        "permissions": {k: list(v) for k, v in sorted(_items(result.permissions))},
        "counts": clause_counts(result),
    }


def clause_counts(result: RunResult) -> dict[str, dict[str, int]]:
    """How many verdicts and decisions of each clause are in each state."""
    out = {k: dict(v) for k, v in result.counts().items()}
    for d in result.decisions:
        per = out.setdefault(d.clause, {})
        per[str(d.state)] = per.get(str(d.state), 0) + 1
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def _items(mapping: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return list(mapping.items())


def status_counts(result: RunResult) -> dict[str, int]:
    """How many obligations are in each state, in a fixed order of states."""
    order = ("pending", "fulfilled", "violated", "discharged", "void", "respected")
    counts = dict.fromkeys(order, 0)
    for o in result.obligations:
        counts[str(o.state)] = counts.get(str(o.state), 0) + 1
    return {k: v for k, v in counts.items() if v}


def event_explanation_to_json(x: EventExplanation, as_of: datetime) -> dict[str, Any]:
    """What one event did, as JSON-ready data (times in UTC, keys as in a run's JSON)."""
    return {
        "record": "event",
        "event": {"id": x.event, "type": x.type, "at": iso(x.at), "fields": dict(x.fields)},
        "as_of": iso(as_of),
        "note": x.note,
        "effects": [_effect(e) for e in x.effects],
        "misses": [_effect(e) for e in x.misses],
        "unconcerned": list(x.unconcerned),
    }


def _effect(e: EventEffect) -> dict[str, Any]:
    return {"clause": e.clause, "kind": e.kind, "item": e.item, "state": e.state,
            "reason": e.reason}
