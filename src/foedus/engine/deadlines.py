"""Deadline arithmetic: from an anchor instant and a :class:`Deadline` to a due instant.

Stage: a rule of ``engine.plan`` (``DeadlinePlan.due``), used whenever an obligation or a decision
arises. Pure functions, no clock.

Rules (``docs/semantics.md`` has the table):

* ``within N hours`` is exact elapsed time.
* ``within N days | weeks | months | years`` is calendar arithmetic in the deadline's
  zone: the same local wall time N days later, across DST changes; months clamp to the
  month's end (Jan 31 + 1 month = Feb 28 or 29). A wall time that falls in a DST gap is
  moved forward by the gap; an ambiguous one takes its first occurrence.
* ``within N business days`` counts the calendar's workdays that are not holidays, in the
  calendar's zone, and keeps the anchor's local wall time.
* ``by end of day N after X`` is the last instant (23:59:59.999999 local) of the N-th
  local calendar day after the anchor's day.
* ``by DATE`` is that fixed instant.
* A due time past the range of times (``language.model.LAST_INSTANT``, the end of
  9999-12-30 UTC) is that last instant: such a deadline is never missed.

Results are expressed in the deadline's zone, so a message reads in local time there;
with the default zone ``UTC`` they keep the anchor's UTC offset instead, so they read in
the time zone of the event that started the clock.

>>> from foedus.language.model import Deadline, DeadlineKind, Duration, Unit
>>> start = datetime(2022, 1, 31, 9, 0, tzinfo=ZoneInfo("Europe/Kyiv"))
>>> due_at(Deadline(DeadlineKind.WITHIN, Duration(1, Unit.MONTHS), zone="Europe/Kyiv"), start)
datetime.datetime(2022, 2, 28, 9, 0, tzinfo=zoneinfo.ZoneInfo(key='Europe/Kyiv'))
"""

from __future__ import annotations

import bisect
import calendar as _calendar
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from foedus.language.model import LAST_INSTANT, Calendar, Deadline, DeadlineKind, Unit

__all__ = [
    "add_business_days",
    "add_elapsed",
    "add_months",
    "due_at",
    "elapsed_due",
    "end_of_day",
    "localize",
    "zone",
]

DAY_END = time(23, 59, 59, 999999)
DEFAULT_WORKDAYS = (0, 1, 2, 3, 4)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name`` (cached)."""
    return ZoneInfo(name)


def localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a naive wall time: gaps move forward, ambiguous times take fold 0.

    >>> berlin = zone("Europe/Berlin")
    >>> localize(datetime(2022, 3, 27, 2, 30), berlin).isoformat()
    '2022-03-27T03:30:00+02:00'
    """
    aware = wall.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz)


def add_elapsed(at: datetime, delta: timedelta) -> datetime:
    """``at`` plus ``delta`` of elapsed time, shown in the zone of ``at``.

    Python adds a timedelta to the *wall time* of an aware datetime, which is elapsed time
    only for a fixed UTC offset: with a named zone, 24 hours across spring forward would
    be 23. So the sum is taken in UTC unless the offset is fixed.

    >>> berlin = zone("Europe/Berlin")
    >>> add_elapsed(datetime(2022, 3, 26, 12, tzinfo=berlin), timedelta(hours=24)).isoformat()
    '2022-03-27T13:00:00+02:00'
    """
    if type(at.tzinfo) is timezone:
        return at + delta
    return (at.astimezone(UTC) + delta).astimezone(at.tzinfo)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the end of the target month.

    >>> add_months(date(2024, 1, 31), 1)
    datetime.date(2024, 2, 29)
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_business_days(
    day: date, n: int, workdays: tuple[int, ...], holidays: frozenset[date]
) -> date:
    """The ``n``-th working day after ``day`` (``n`` = 0 gives ``day`` itself).

    Whole weeks are skipped at once (each holds the same workdays), then the holidays
    that fell on workdays inside them are made up, so a count of years costs no more
    than a count of days.

    >>> add_business_days(date(2022, 4, 1), 1, DEFAULT_WORKDAYS, frozenset())  # Friday
    datetime.date(2022, 4, 4)
    >>> add_business_days(date(2022, 4, 1), 260, DEFAULT_WORKDAYS, frozenset())  # 52 weeks
    datetime.date(2023, 3, 31)
    """
    days = set(workdays) or set(DEFAULT_WORKDAYS)
    off = sorted(h for h in holidays if h.weekday() in days)
    left = n
    while left > len(days):
        weeks = (left - 1) // len(days)
        end = day + timedelta(weeks=weeks)
        # workdays in (day, end] that are holidays do not count
        missed = bisect.bisect_right(off, end) - bisect.bisect_right(off, day)
        left -= weeks * len(days) - missed
        day = end
    one = timedelta(days=1)
    while left > 0:
        day += one
        if day.weekday() in days and day not in holidays:
            left -= 1
    return day


def end_of_day(anchor_at: datetime, n: int, tz: ZoneInfo) -> datetime:
    """The last instant of the ``n``-th local day after the local day of ``anchor_at``."""
    day = anchor_at.astimezone(tz).date() + timedelta(days=n)
    return localize(datetime.combine(day, DAY_END), tz)


def due_at(
    deadline: Deadline,
    anchor_at: datetime | None,
    calendars: Mapping[str, Calendar] | None = None,
) -> datetime | None:
    """The due instant of ``deadline`` started at ``anchor_at`` (None if it has no anchor).

    Args:
        deadline: the checked deadline.
        anchor_at: when the clock starts (the trigger or the named binding's event).
        calendars: the treaty's business calendars by name.

    Returns:
        A timezone-aware instant, or None when a relative deadline has no anchor.
    """
    try:
        due = _due_at(deadline, anchor_at, calendars)
    except (OverflowError, ValueError):  # past year 9999 on the way
        return LAST_INSTANT
    return LAST_INSTANT if due is not None and due > LAST_INSTANT else due


def elapsed_due(anchor_at: datetime, elapsed: timedelta) -> datetime:
    """The due instant of a deadline of fixed length: ``anchor_at`` plus ``elapsed``, or
    the last instant when that is past the range of times.

    >>> elapsed_due(datetime(9999, 12, 1, tzinfo=UTC), timedelta(days=60)) == LAST_INSTANT
    True
    """
    if elapsed > LAST_INSTANT - anchor_at:
        return LAST_INSTANT
    return add_elapsed(anchor_at, elapsed)


def _due_at(
    deadline: Deadline,
    anchor_at: datetime | None,
    calendars: Mapping[str, Calendar] | None,
) -> datetime | None:
    kind = deadline.kind
    if kind is DeadlineKind.AT:
        return deadline.at
    duration = deadline.duration
    if anchor_at is None or duration is None:
        return None
    n = duration.amount
    if kind is DeadlineKind.END_OF_DAY:
        return end_of_day(anchor_at, n, zone(deadline.zone))
    unit = duration.unit
    if unit is Unit.HOURS:
        return _express(elapsed_due(anchor_at, timedelta(hours=n)), deadline.zone, anchor_at)
    if unit is Unit.BUSINESS_DAYS:
        cal = (calendars or {}).get(deadline.calendar or "")
        tz = zone(cal.zone if cal is not None else deadline.zone)
        local = anchor_at.astimezone(tz)
        workdays = cal.workdays if cal is not None else DEFAULT_WORKDAYS
        holidays = frozenset(cal.holidays) if cal is not None else frozenset()
        day = add_business_days(local.date(), n, workdays, holidays)
        wall = datetime.combine(day, local.time().replace(tzinfo=None))
        return _express(localize(wall, tz), cal.zone if cal else deadline.zone, anchor_at)
    tz = zone(deadline.zone)
    wall = anchor_at.astimezone(tz).replace(tzinfo=None)
    if unit is Unit.DAYS:
        wall += timedelta(days=n)
    elif unit is Unit.WEEKS:
        wall += timedelta(weeks=n)
    else:
        months = n if unit is Unit.MONTHS else 12 * n
        wall = datetime.combine(add_months(wall.date(), months), wall.time())
    return _express(localize(wall, tz), deadline.zone, anchor_at)


def _express(due: datetime, zone_name: str, anchor_at: datetime) -> datetime:
    if zone_name == "UTC":
        return due.astimezone(anchor_at.tzinfo)
    return due.astimezone(zone(zone_name))
