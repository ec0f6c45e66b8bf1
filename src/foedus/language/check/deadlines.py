"""Resolve deadlines and time windows: positive durations, known zones and calendars.

Stage: used by ``clauses`` (after ``symbols``). A relative deadline needs a trigger to
count from; a date-time needs a time zone. The treaty's zone (``Scope.zone``, UTC unless
the header names one) is the zone of deadlines that name none and of dates without a time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from foedus.diagnostics import Diagnostic, did_you_mean
from foedus.language import ast
from foedus.language import model as m
from foedus.language.check.symbols import Symbols, parse_zone
from foedus.language.check.values import Scope
from foedus.language.parser import keywords


def parse_instant(d: ast.DateLit, scope: Scope, end_of_day: bool) -> datetime | None:
    """A date means the start of that day in the treaty's zone (or its last instant); a
    date-time needs a zone of its own."""
    raw = d.raw
    try:
        if "T" not in raw:
            value = _day_bound(date.fromisoformat(raw), scope.zone, end_of_day)
        else:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if value.tzinfo is not None and not m.FIRST_INSTANT <= value <= m.LAST_INSTANT:
            scope.err(
                "time-out-of-range",
                f"`{raw}` is outside the range of times",
                d.span,
                suggestion=f"a time must lie between {m.FIRST_INSTANT.date()} and "
                f"{m.LAST_INSTANT.date()}",
            )
            return None
    except (ValueError, OverflowError):
        # OverflowError: a day at the end of the calendar, shifted by its zone's offset
        scope.err("invalid-date", f"`{raw}` is not a valid date or time", d.span)
        return None
    if value.tzinfo is None:
        scope.err(
            "naive-time",
            f"`{raw}` has no time zone",
            d.span,
            suggestion=f"add a UTC offset, e.g. `{raw}+00:00` or `{raw}Z`",
        )
        return None
    return value


def _day_bound(day: date, zone: str, end_of_day: bool) -> datetime:
    """The first (or last) instant of ``day`` in ``zone``.

    >>> _day_bound(date(2022, 4, 12), "Europe/Kyiv", end_of_day=True).isoformat()
    '2022-04-12T23:59:59.999999+03:00'
    """
    if zone == "UTC":
        moment = datetime.combine(day, time(0), UTC)
        return moment + timedelta(days=1, microseconds=-1) if end_of_day else moment
    tz = ZoneInfo(zone)
    if not end_of_day:
        # A midnight skipped by clocks turning forward is read with the offset before the
        # change: the instant the day begins.
        return datetime.combine(day, time(0), tz)
    last = datetime.combine(day, time.max, tz)
    # Where clocks turn back at midnight, the day's last wall time occurs twice: the later
    # one ends the day.
    later = last.replace(fold=1)
    return later if later.utcoffset() != last.utcoffset() else last


def resolve_deadline(
    d: ast.DeadlineAst, trigger: m.Trigger | None, scope: Scope
) -> m.Deadline | None:
    if d.kind == "at":
        assert d.at is not None
        at = parse_instant(d.at, scope, end_of_day=True)
        return m.Deadline(m.DeadlineKind.AT, at=at, zone=scope.zone) if at else None
    convention = None
    if d.kind == "convention":
        assert d.convention is not None
        convention = d.convention.text
        decl = _convention(d.convention, scope)
        if decl is None:
            return None
        # the declaration's length was checked where it is written
        ok = convention in scope.symbols.conventions
        d = ast.DeadlineAst("within", decl.amount, decl.unit, d.anchor, d.zone, decl.calendar,
                            None, d.span, d.convention)
    else:
        ok = _length(d, scope)
    assert d.amount is not None and d.unit is not None
    if trigger is None:
        said = f"`{convention}` is counted from an event, so it" if convention else \
            "a deadline counted from an event"
        scope.err(
            "deadline-without-trigger",
            f"{said} needs a trigger",
            d.span,
            suggestion="add `when event(...) as NAME`, or give a date with `by 2022-04-12`",
        )
        return None
    if d.anchor is not None and d.anchor.text != trigger.binding:
        hint = trigger.binding
        scope.err(
            "unknown-binding",
            f"the deadline counts from `{d.anchor.text}`, which is not bound in this clause",
            d.anchor.span,
            suggestion=f"did you mean `{hint}`?" if hint else "name the trigger with `as NAME`",
        )
        ok = False
    zone = parse_zone(d.zone, scope.diags) if d.zone else scope.zone
    if d.zone is not None and d.calendar is not None:
        calendar = scope.symbols.calendars.get(d.calendar.text)
        scope.err(
            "calendar-has-zone",
            f"business days count in the zone of calendar `{d.calendar.text}`"
            + (f" ({calendar.zone})" if calendar is not None else "")
            + f", not in `{d.zone.value}`",
            d.zone.span,
            suggestion="drop `in \"...\"`, or give the calendar that zone",
        )
        ok = False
    if not ok:
        return None
    kind = m.DeadlineKind.END_OF_DAY if d.kind == "end_of_day" else m.DeadlineKind.WITHIN
    return m.Deadline(
        kind,
        m.Duration(int(d.amount.raw), m.Unit(d.unit)),
        trigger.binding,
        None,
        zone,
        d.calendar.text if d.calendar is not None else None,
        convention,
    )


def _convention(name: ast.Name, scope: Scope) -> ast.ConventionDecl | None:
    """The declaration a ``promptly`` deadline names, or an error."""
    decl = scope.symbols.convention_decls.get(name.text)
    if decl is None:
        hint = did_you_mean(name.text, list(scope.symbols.convention_decls))
        scope.err(
            "unknown-convention",
            f"`{name.text}` is not a deadline: no convention of that name is declared",
            name.span,
            suggestion=f"did you mean `{hint}`?" if hint else
            f"declare it once: `convention {name.text} means 3 days`, or write "
            "`within 3 days of NAME`",
        )
    return decl


def _length(d: ast.DeadlineAst, scope: Scope) -> bool:
    """Whether the amount, unit and calendar of a counted deadline make sense."""
    assert d.amount is not None and d.unit is not None
    ok = True
    if not d.amount.raw.lstrip("-").isdigit() or int(d.amount.raw) <= 0:
        scope.err(
            "deadline-not-positive",
            f"a deadline must be a positive whole number of {d.unit.replace('_', ' ')}, "
            f"not `{d.amount.raw}`",
            d.amount.span,
        )
        ok = False
    elif int(d.amount.raw) > m.LONGEST_DEADLINE[m.Unit(d.unit)]:
        longest = m.LONGEST_DEADLINE[m.Unit(d.unit)]
        scope.err(
            "deadline-too-long",
            f"a deadline may be at most {longest:,} {d.unit.replace('_', ' ')} (10,000 "
            f"years), not `{d.amount.raw}`",
            d.amount.span,
            suggestion="no event can come that late: times run from year 1 to 9999",
        )
        ok = False
    if d.calendar is not None:
        if d.calendar.text not in scope.symbols.calendars:
            hint = did_you_mean(d.calendar.text, list(scope.symbols.calendars))
            scope.err(
                "unknown-calendar",
                f"unknown calendar `{d.calendar.text}`",
                d.calendar.span,
                suggestion=f"did you mean `{hint}`?" if hint else "declare it with `calendar NAME`",
            )
            ok = False
        elif d.unit != "business_days":
            scope.err(
                "calendar-needs-business-days",
                "a calendar only counts business days",
                d.calendar.span,
                suggestion=f"write `within {d.amount.raw} business days ... "
                f"calendar {d.calendar.text}`",
            )
            ok = False
    return ok


def resolve_conventions(symbols: Symbols, zone: str) -> list[Diagnostic]:
    """Check each convention's name and length once, where it is written; the valid ones
    go into ``symbols.conventions`` for deadlines to use."""
    diags: list[Diagnostic] = []
    for name, decl in symbols.convention_decls.items():
        scope = Scope(symbols, context=f"convention {name}", zone=zone)
        if name in keywords():
            scope.err(
                "reserved-word",
                f"`{name}` is a word of the language: a deadline named so could not be told "
                "apart from it",
                decl.name.span,
                suggestion="name the convention after what it means, e.g. `promptly`",
            )
            diags.extend(scope.diags)
            continue
        d = ast.DeadlineAst("within", decl.amount, decl.unit, None, None, decl.calendar, None,
                            decl.span)
        if _length(d, scope):
            title = decl.title.value if decl.title else name
            symbols.conventions[name] = m.Convention(
                name, title, m.Duration(int(decl.amount.raw), m.Unit(decl.unit)),
                decl.calendar.text if decl.calendar is not None else None)
        diags.extend(scope.diags)
    return diags


def resolve_window(w: ast.WindowAst | None, scope: Scope) -> m.Window:
    if w is None:
        return m.Window()
    start = parse_instant(w.start, scope, end_of_day=False) if w.start else None
    end = parse_instant(w.end, scope, end_of_day=True) if w.end else None
    if start and end and end < start:
        scope.err("empty-window", "the window ends before it starts", w.span)
    return m.Window(start, end)

