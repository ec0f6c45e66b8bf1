"""A run as one self-contained HTML page: a timeline picture, the decisions, every explanation.

Stage: after ``engine``; ``foedus report`` writes what :func:`render_html` returns. The page
loads nothing from anywhere: CSS and the SVG timeline are inline, and every piece of text
from the treaty or the events goes through :func:`html.escape`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from html import escape as _html_escape

from foedus.diagnostics import printable
from foedus.engine.model import DecisionInstance, Explanation, ObligationInstance, RunResult
from foedus.engine.results import late_text
from foedus.events.model import FIRST_INSTANT, LAST_INSTANT, Event
from foedus.report.data import (
    minutes,
    sorted_decisions,
    sorted_obligations,
    status_counts,
    tally_counts,
    time_left,
)

COLOURS = {
    "fulfilled": "#2e7d32",
    "respected": "#2e7d32",
    "violated": "#c62828",
    "pending": "#f9a825",
    "discharged": "#9e9e9e",
    "void": "#9e9e9e",
}
MAX_ROWS = 400  # rows drawn in the picture; the tables below list every obligation
ROW = 22
LABEL_W = 300
CHART_W = 660
LEFT = LABEL_W + 10
TOP = 34

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1040px;
color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f6f6}.state{font-weight:600}
.s-fulfilled,.s-respected,.s-adopted{color:#2e7d32}.s-violated,.s-rejected{color:#c62828}
.s-pending,.s-open{color:#b07d00}.s-discharged,.s-void,.s-lapsed{color:#777}
blockquote{margin:.3em 0 .3em 1em;padding-left:.8em;border-left:3px solid #ccc;color:#444}
.expl{margin:.8em 0;padding:.5em .8em;background:#fafafa;border:1px solid #eee}
.muted{color:#777}.legend span{display:inline-block;margin-right:1em}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
svg text{font:11px system-ui,sans-serif}
"""


def escape(text: str) -> str:
    """``html.escape``, and control characters (C0, C1, bidirectional marks) written as
    escapes: a page opened in a browser, or shown with ``cat``, shows them, never obeys."""
    return _html_escape(printable(text, keep="\n\t"))


def render_html(
    result: RunResult,
    *,
    title: str = "",
    events: Mapping[str, Event] | None = None,
) -> str:
    """Render a run result as a complete HTML document (a string).

    Args:
        result: the state of the treaty as of one instant.
        title: the treaty's title, shown under its name.
        events: events by id, to describe triggers and settling events in the explanations.

    >>> from datetime import UTC
    >>> from foedus.engine.model import TreatyStatus
    >>> at = datetime(2022, 3, 29, tzinfo=UTC)
    >>> r = RunResult("t<1>", at, TreatyStatus.IN_FORCE, (), (), (), {})
    >>> page = render_html(r)
    >>> "t&lt;1&gt;" in page and "<script" not in page
    True
    """
    events = events or {}
    obligations = sorted_obligations(result)
    decisions = sorted_decisions(result)
    counts = status_counts(result)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(result.treaty)} as of {escape(result.as_of.isoformat())}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(result.treaty)}</h1>",
    ]
    if title:
        parts.append(f'<p class="muted">{escape(title)}</p>')
    summary = ", ".join(f"{n} {escape(k)}" for k, n in counts.items()) or "no obligations"
    parts.append(
        f"<p>As of <b>{escape(result.as_of.isoformat())}</b> the treaty is "
        f'<b class="state">{escape(str(result.treaty_status).replace("_", " "))}</b>. '
        f"Obligations: {summary}. Decisions: {len(decisions)}.</p>"
    )
    parts.append("<h2>Timeline</h2>")
    parts.append(_legend())
    parts.append(timeline_svg(obligations, result.as_of))
    parts.append("<h2>Obligations</h2>")
    parts.append(_obligation_table(obligations, result.as_of))
    parts.append("<h2>Decisions</h2>")
    parts.append(_decision_table(decisions))
    if result.conditions:
        parts.append("<h2>Conditions</h2><table><tr><th>clause</th><th>state</th></tr>")
        for clause, state in sorted(result.conditions.items()):
            parts.append(f"<tr><td>{escape(clause)}</td><td>{escape(state)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Explanations</h2>")
    for o in obligations:
        parts.append(_explanation_block(o.id, str(o.state), o.explanation, events,
                                        result.as_of.tzinfo))
    for d in decisions:
        parts.append(_explanation_block(d.id, str(d.state), d.explanation, events,
                                        result.as_of.tzinfo))
    if result.not_arisen:
        parts.append("<h2>Events that created no obligation</h2><ul>")
        for n in sorted(result.not_arisen, key=lambda n: (n.clause, n.event)):
            parts.append(
                f"<li>clause <b>{escape(n.clause)}</b>, event <code>{escape(n.event)}</code>: "
                f"{escape(n.reason)}</li>"
            )
        parts.append("</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _legend() -> str:
    items = [
        ("fulfilled", "fulfilled"),
        ("violated", "violated"),
        ("pending", "pending"),
        ("discharged", "discharged / void"),
    ]
    spans = "".join(
        f'<span><i style="background:{COLOURS[k]}"></i>{escape(label)}</span>' for k, label in items
    )
    return (
        f'<p class="legend">{spans}<span>● fulfilling event</span>'
        "<span>✕ violating event or passed deadline</span>"
        "<span>○ performed late</span><span>times in UTC</span>"
        '<span style="color:#1565c0">┆ as of</span></p>'
    )


def _bounds(obligations: list[ObligationInstance], as_of: datetime) -> tuple[datetime, datetime]:
    """The span of the timeline: every time shown, an hour at least, a margin each side;
    never past the range of times (a deadline may be due at its very end)."""
    times = [as_of]
    for o in obligations:
        times.extend(t for t in (o.triggered_at, o.due_at, o.settled_at, o.performed_at)
                     if t is not None)
    start, end = min(times), max(times)
    hour = timedelta(hours=1)
    if end - start < hour:
        if LAST_INSTANT - start >= hour:
            end = start + hour
        else:
            start = end - hour
    pad = (end - start) * 0.03
    return start - min(pad, start - FIRST_INSTANT), end + min(pad, LAST_INSTANT - end)


def timeline_svg(obligations: list[ObligationInstance], as_of: datetime) -> str:
    """One row per obligation from trigger to due time, coloured by state, with markers."""
    shown = obligations[:MAX_ROWS]
    start, end = _bounds(shown, as_of)
    span = (end - start).total_seconds()

    def x(at: datetime) -> float:
        return LEFT + CHART_W * (at - start).total_seconds() / span

    height = TOP + ROW * max(len(shown), 1) + 12
    width = LEFT + CHART_W + 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="timeline of obligations">'
    ]
    for i in range(6):
        at = start + (end - start) * (i / 5)
        px = x(at)
        out.append(
            f'<line x1="{px:.1f}" y1="{TOP - 6}" x2="{px:.1f}" y2="{height - 8}" stroke="#eee"/>'
        )
        out.append(
            f'<text x="{px:.1f}" y="{TOP - 10}" text-anchor="middle" fill="#666">'
            f"{escape(minutes(at.astimezone(UTC)))}</text>"
        )
    if not shown:
        out.append(f'<text x="{LEFT}" y="{TOP + 14}" fill="#777">no obligations arose</text>')
    for row, o in enumerate(shown):
        y = TOP + row * ROW
        state = str(o.state)
        colour = COLOURS.get(state, "#9e9e9e")
        label = f"{o.obligor}: {o.action}"
        if len(label) > 46:
            label = label[:45] + "…"
        out.append(
            f'<text x="{LABEL_W}" y="{y + 15}" text-anchor="end">{escape(label)}'
            f"<title>{escape(o.id)}</title></text>"
        )
        begin = o.triggered_at or start
        finish = o.due_at or as_of
        x0, x1 = x(begin), x(max(finish, begin))
        tip = f"{o.id}: {state}" + (f", due {o.due_at.isoformat()}" if o.due_at else "")
        out.append(
            f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 2):.1f}" height="{ROW - 10}" '
            f'rx="3" fill="{colour}" fill-opacity="0.75"><title>{escape(tip)}</title></rect>'
        )
        marker_at = o.settled_at or (o.due_at if state == "violated" else None)
        if marker_at is not None and state in ("violated", "fulfilled"):
            mx, my = x(marker_at), y + ROW / 2
            cause = o.settled_by or "deadline passed"
            what = f"{cause} ({state}) at {marker_at.isoformat()}"
            if state == "violated":
                out.append(
                    f'<path d="M{mx - 5:.1f},{my - 5:.1f}l10,10m0,-10l-10,10" stroke="#7f0000" '
                    f'stroke-width="2.5"><title>{escape(what)}</title></path>'
                )
            else:
                out.append(
                    f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="5" fill="#1b5e20" stroke="#fff">'
                    f"<title>{escape(what)}</title></circle>"
                )
        if o.performed_at is not None:  # the late act: a hollow circle past the due time
            px, py = x(o.performed_at), y + ROW / 2
            what = f"{o.performed_by} (performed {_late(o)}) at {o.performed_at.isoformat()}"
            out.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5" fill="#fff" stroke="#7f0000" '
                f'stroke-width="2"><title>{escape(what)}</title></circle>'
            )
    ax = x(as_of)
    out.append(
        f'<line x1="{ax:.1f}" y1="{TOP - 4}" x2="{ax:.1f}" y2="{height - 6}" stroke="#1565c0" '
        'stroke-width="1.5" stroke-dasharray="4 3"/>'
    )
    out.append(f'<text x="{ax + 3:.1f}" y="{height - 2}" fill="#1565c0">as of</text>')
    out.append("</svg>")
    if len(obligations) > len(shown):
        out.append(
            f'<p class="muted">The picture shows the first {len(shown)} of '
            f"{len(obligations)} obligations; the table lists them all.</p>"
        )
    return "\n".join(out)


def _obligation_table(obligations: list[ObligationInstance], as_of: datetime) -> str:
    if not obligations:
        return '<p class="muted">No obligation has arisen.</p>'
    rows = [
        "<table><tr><th>obligor</th><th>action</th><th>beneficiary</th><th>due</th>"
        "<th>state</th><th>time</th><th>id</th></tr>"
    ]
    for o in obligations:
        state = str(o.state)
        when = time_left(o.due_at, as_of) if state == "pending" else _settled(o)
        rows.append(
            "<tr>"
            f"<td>{escape(o.obligor)}</td><td>{escape(o.action)}</td>"
            f"<td>{escape(o.beneficiary or '')}</td>"
            f"<td>{escape(o.due_at.isoformat() if o.due_at else '')}</td>"
            f'<td class="state s-{escape(state)}">{escape(state)}</td>'
            f"<td>{escape(when)}</td><td><code>{escape(o.id)}</code></td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def _settled(o: ObligationInstance) -> str:
    if o.settled_at is None:
        return ""
    by = f" by {o.settled_by}" if o.settled_by else ""
    late = (f"; performed {_late(o)} by {o.performed_by} at {o.performed_at.isoformat()}"
            if o.performed_at is not None else "")
    return f"settled {o.settled_at.isoformat()}{by}{late}"


def _late(o: ObligationInstance) -> str:
    return f"{late_text(o.late_by)} late" if o.late_by is not None else ""


def _decision_table(decisions: list[DecisionInstance]) -> str:
    if not decisions:
        return '<p class="muted">No collective decision was opened.</p>'
    rows = [
        "<table><tr><th>decision</th><th>opened</th><th>closes</th><th>state</th>"
        "<th>yes</th><th>no</th><th>abstain</th><th>silent</th><th>votes</th></tr>"
    ]
    for d in decisions:
        c = tally_counts(d)
        votes = ", ".join(f"{voter}: {choice}" for voter, choice in sorted(d.tally.items()))
        state = str(d.state)
        rows.append(
            f"<tr><td><code>{escape(d.id)}</code></td>"
            f"<td>{escape(d.opened_at.isoformat())}</td><td>{escape(d.closes_at.isoformat())}</td>"
            f'<td class="state s-{escape(state)}">{escape(state)}</td>'
            f"<td>{c['yes']}</td><td>{c['no']}</td><td>{c['abstain']}</td><td>{c['silent']}</td>"
            f"<td>{escape(votes)}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def _explanation_block(
    item: str,
    state: str,
    e: Explanation,
    events: Mapping[str, Event],
    tz: tzinfo | None,
) -> str:
    out = [
        f'<div class="expl" id="{escape(item)}"><b><code>{escape(item)}</code></b> — '
        f'<span class="state s-{escape(state)}">{escape(state)}</span><br>',
        f"clause <b>{escape(e.clause)}</b>" + (f" “{escape(e.title)}”" if e.title else ""),
    ]
    out.extend(f"<blockquote>{escape(q)}</blockquote>" for q in e.quotes)
    out.append(f"<p>{escape(e.reason)}</p>")
    if e.events:
        out.append("<ul>" + "".join(_event_item(i, events, tz) for i in e.events) + "</ul>")
    out.append("</div>")
    return "\n".join(out)


def _event_item(event_id: str, events: Mapping[str, Event], tz: tzinfo | None) -> str:
    ev = events.get(event_id)
    if ev is None:
        return f"<li><code>{escape(event_id)}</code></li>"
    return f"<li><code>{escape(event_id)}</code> {escape(describe_event(ev, tz))}</li>"


def describe_event(ev: Event, tz: tzinfo | None = None) -> str:
    """One line for an event: ``armed_attack(aggressor: RU, victim: UA) at 2022-…``.

    Fields by name and the time in ``tz`` (the result's zone), so the line does not
    depend on the format or the offset the event was written in.
    """
    fields = ", ".join(f"{k}: {_value(v)}" for k, v in sorted(ev.fields.items()))
    at = ev.at.astimezone(tz) if tz is not None else ev.at
    return f"{ev.type}({fields}) at {at.isoformat()}"


def _value(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
