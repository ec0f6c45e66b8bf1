"""A run result as plain data: JSON-ready dicts in a stable order, and human time spans.

Stage: after ``engine``; used by the CLI (``foedus run --format json``), the HTML report
and the API. Same result in, same bytes out: keys are sorted by ``json.dumps``, lists
are ordered by due time then id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from foedus.engine.model import (
    DecisionInstance,
    Explanation,
    NonArising,
    ObligationInstance,
    RunResult,
)


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


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


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{mins}m" if mins else ""]
    if days:
        parts[2] = ""  # minutes are noise beside days
    text = " ".join(p for p in parts if p)
    return text or "0m"


def short_time(at: datetime) -> str:
    """A compact time for tables, keeping the offset it was given in.

    >>> from datetime import UTC
    >>> short_time(datetime(2022, 4, 4, 7, 0, 30, tzinfo=UTC))
    '2022-04-04 07:00 +00:00'
    """
    offset = at.isoformat()[-6:] if at.utcoffset() is not None else ""
    return f"{at.strftime('%Y-%m-%d %H:%M')} {offset}".rstrip()


def explanation_to_json(e: Explanation) -> dict[str, Any]:
    return {
        "clause": e.clause,
        "title": e.title,
        "quotes": list(e.quotes),
        "reason": e.reason,
        "events": list(e.events),
    }


def obligation_to_json(o: ObligationInstance, as_of: datetime | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": o.id,
        "clause": o.clause,
        "kind": o.kind,
        "obligor": o.obligor,
        "action": o.action,
        "beneficiary": o.beneficiary,
        "trigger_event": o.trigger_event,
        "triggered_at": _iso(o.triggered_at),
        "due_at": _iso(o.due_at),
        "state": str(o.status),
        "settled_at": _iso(o.settled_at),
        "settled_by": o.settled_by,
        "explanation": explanation_to_json(o.explanation),
    }
    if as_of is not None:
        out["time_left"] = time_left(o.due_at, as_of) if str(o.status) == "pending" else ""
    return out


def decision_to_json(d: DecisionInstance) -> dict[str, Any]:
    return {
        "id": d.id,
        "clause": d.clause,
        "trigger_event": d.trigger_event,
        "opened_at": _iso(d.opened_at),
        "closes_at": _iso(d.closes_at),
        "voters": list(d.voters),
        "state": str(d.status),
        "tally": dict(sorted(d.tally.items())),
        "counts": tally_counts(d),
        "resolved_at": _iso(d.resolved_at),
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
    """The whole result as JSON-ready data; dump it with ``sort_keys=True`` for stable bytes."""
    return {
        "treaty": result.treaty,
        "as_of": result.as_of.isoformat(),
        "treaty_status": str(result.treaty_status),
        "obligations": [obligation_to_json(o, result.as_of) for o in sorted_obligations(result)],
        "decisions": [decision_to_json(d) for d in sorted_decisions(result)],
        "not_arisen": [
            not_arisen_to_json(n)
            for n in sorted(result.not_arisen, key=lambda n: (n.clause, n.event, n.reason))
        ],
        "conditions": dict(sorted(result.conditions.items())),
        "permissions": {k: list(v) for k, v in sorted(_items(result.permissions))},
    }


def _items(mapping: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return list(mapping.items())


def status_counts(result: RunResult) -> dict[str, int]:
    """How many obligations are in each state, in a fixed order of states."""
    order = ("pending", "fulfilled", "violated", "discharged", "void", "respected")
    counts = dict.fromkeys(order, 0)
    for o in result.obligations:
        counts[str(o.status)] = counts.get(str(o.status), 0) + 1
    return {k: v for k, v in counts.items() if v}
