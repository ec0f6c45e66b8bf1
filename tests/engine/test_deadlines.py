"""Deadline arithmetic: a pinned table of month-end and DST cases, and round-trip properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foedus.engine.deadlines import (
    add_business_days,
    add_months,
    due_at,
    elapsed_due,
    localize,
    zone,
)
from foedus.language.model import (
    LAST_INSTANT,
    LONGEST_DEADLINE,
    Calendar,
    Deadline,
    DeadlineKind,
    Duration,
    Unit,
)

BERLIN = zone("Europe/Berlin")
KYIV = zone("Europe/Kyiv")


def within(n: int, unit: str, tz: str = "UTC", calendar: str | None = None) -> Deadline:
    return Deadline(DeadlineKind.WITHIN, Duration(n, Unit(unit)), zone=tz, calendar=calendar)


def eod(n: int, tz: str) -> Deadline:
    return Deadline(DeadlineKind.END_OF_DAY, Duration(n, Unit.DAYS), zone=tz)


def iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


OFFICE = Calendar("office", "Europe/Kyiv", (0, 1, 2, 3, 4), (date(2022, 4, 4),))

TABLE = [
    # (anchor, deadline, expected due) -- each row is a rule of docs/semantics.md §4
    ("2022-01-31T09:00+00:00", within(1, "months"), "2022-02-28T09:00+00:00"),
    ("2024-01-31T09:00+00:00", within(1, "months"), "2024-02-29T09:00+00:00"),
    ("2022-03-31T09:00+00:00", within(1, "months"), "2022-04-30T09:00+00:00"),
    ("2022-08-31T09:00+00:00", within(6, "months"), "2023-02-28T09:00+00:00"),
    ("2024-02-29T09:00+00:00", within(1, "years"), "2025-02-28T09:00+00:00"),
    ("2022-12-15T09:00+00:00", within(1, "months"), "2023-01-15T09:00+00:00"),
    # spring forward in Berlin: one day keeps 10:00 local, only 23 hours elapse
    ("2022-03-26T10:00+01:00", within(1, "days", "Europe/Berlin"), "2022-03-27T10:00+02:00"),
    ("2022-03-26T10:00+01:00", within(24, "hours", "Europe/Berlin"), "2022-03-27T11:00+02:00"),
    # a wall time inside the DST gap moves forward by the gap
    ("2022-03-26T02:30+01:00", within(1, "days", "Europe/Berlin"), "2022-03-27T03:30+02:00"),
    # fall back in Kyiv: 25 hours elapse
    ("2022-10-29T12:00+03:00", within(1, "days", "Europe/Kyiv"), "2022-10-30T12:00+02:00"),
    ("2022-03-29T10:00+03:00", within(3, "days"), "2022-04-01T10:00+03:00"),
    ("2022-03-29T10:00+03:00", within(2, "weeks", "Europe/Kyiv"), "2022-04-12T10:00+03:00"),
    # end of day: the last instant of the n-th local day after the anchor's local day
    ("2022-03-29T10:00+03:00", eod(0, "Europe/Kyiv"), "2022-03-29T23:59:59.999999+03:00"),
    ("2022-03-29T10:00+03:00", eod(1, "Europe/Kyiv"), "2022-03-30T23:59:59.999999+03:00"),
    ("2022-03-29T01:00+03:00", eod(0, "UTC"), "2022-03-28T23:59:59.999999+00:00"),
    # business days: Friday + 1 = Monday; Monday 4 April 2022 is a holiday of OFFICE
    ("2022-04-01T10:00+03:00", within(1, "business_days"), "2022-04-04T10:00+03:00"),
    ("2022-04-01T10:00+03:00", within(1, "business_days", calendar="office"),
     "2022-04-05T10:00+03:00"),
    ("2022-04-01T10:00+03:00", within(5, "business_days", calendar="office"),
     "2022-04-11T10:00+03:00"),
]


@pytest.mark.parametrize(("anchor", "deadline", "expected"), TABLE)
def test_pinned_table(anchor: str, deadline: Deadline, expected: str) -> None:
    """Each pinned month-end, DST, end-of-day and business-day case gives its due instant."""
    due = due_at(deadline, iso(anchor), {"office": OFFICE})
    assert due == iso(expected)
    assert due is not None and due.utcoffset() == iso(expected).utcoffset()


def test_fixed_date_and_missing_anchor() -> None:
    """A fixed deadline ignores the anchor; a relative one without an anchor has no due time."""
    fixed = iso("2022-04-12T23:59:59+03:00")
    assert due_at(Deadline(DeadlineKind.AT, at=fixed), None) == fixed
    assert due_at(within(3, "days"), None) is None


instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(0, 10_000))
def test_hours_are_exact_elapsed_time(anchor: datetime, n: int) -> None:
    """`within n hours` is exactly n hours later."""
    due = due_at(within(n, "hours", "Europe/Berlin"), anchor)
    assert due is not None and due - anchor == timedelta(hours=n)


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(0, 3_000), st.sampled_from(["UTC", "Europe/Berlin", "Europe/Kyiv"]))
def test_days_keep_the_local_wall_time(anchor: datetime, n: int, tz_name: str) -> None:
    """`within n days` lands n local days later, at the same wall time unless it falls in a gap."""
    tz = zone(tz_name)
    due = due_at(within(n, "days", tz_name), anchor)
    assert due is not None
    start, end = anchor.astimezone(tz), due.astimezone(tz)
    wall = start.replace(tzinfo=None) + timedelta(days=n)
    if localize(wall, tz).replace(tzinfo=None) == wall:  # the wall time exists that day
        assert end.replace(tzinfo=None) == wall
    else:
        assert end.date() == wall.date() and end.replace(tzinfo=None) > wall
    # round trip: n days back from the due wall time is the anchor's wall time
    if tz_name == "UTC":
        assert due - timedelta(days=n) == anchor


@settings(max_examples=300, deadline=None)
@given(st.dates(date(1900, 1, 1), date(2100, 12, 31)), st.integers(-1200, 1200))
def test_months_clamp_to_the_month_end(day: date, n: int) -> None:
    """Adding months moves exactly n months and keeps the day, clamped to the month's length."""
    got = add_months(day, n)
    assert (got.year * 12 + got.month) - (day.year * 12 + day.month) == n
    assert got.day == day.day or (got.day < day.day and (got + timedelta(days=1)).day == 1)
    if day.day <= 28:
        assert add_months(got, -n) == day


@settings(max_examples=200, deadline=None)
@given(st.dates(date(2000, 1, 1), date(2040, 1, 1)), st.integers(0, 60),
       st.frozensets(st.dates(date(2000, 1, 1), date(2041, 1, 1)), max_size=20))
def test_business_days_count_workdays_only(day: date, n: int, holidays: frozenset[date]) -> None:
    """The n-th business day is a workday, not a holiday, with exactly n of them in between."""
    got = add_business_days(day, n, (0, 1, 2, 3, 4), holidays)
    counted = [
        day + timedelta(days=i)
        for i in range(1, (got - day).days + 1)
        if (day + timedelta(days=i)).weekday() < 5 and day + timedelta(days=i) not in holidays
    ]
    assert len(counted) == n
    if n:
        assert got.weekday() < 5 and got not in holidays


def _stepping(day: date, n: int, workdays: tuple[int, ...], holidays: frozenset[date]) -> date:
    """The definition, one day at a time."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() in workdays and day not in holidays:
            n -= 1
    return day


@settings(max_examples=300, deadline=None)
@given(st.dates(date(2000, 1, 1), date(2030, 1, 1)), st.integers(0, 2000),
       st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True).map(
           lambda w: tuple(sorted(w))),
       st.frozensets(st.dates(date(2000, 1, 1), date(2040, 1, 1)), max_size=80))
def test_business_days_skip_weeks_as_stepping_would(
        day: date, n: int, workdays: tuple[int, ...], holidays: frozenset[date]) -> None:
    """Skipping whole weeks (and making up their holidays) lands where stepping a day at a
    time does, for any week of workdays."""
    assert add_business_days(day, n, workdays, holidays) == _stepping(day, n, workdays, holidays)


@pytest.mark.parametrize("deadline", [
    within(LONGEST_DEADLINE[Unit.HOURS], "hours"),
    within(LONGEST_DEADLINE[Unit.DAYS], "days", "Europe/Kyiv"),
    within(LONGEST_DEADLINE[Unit.WEEKS], "weeks"),
    within(LONGEST_DEADLINE[Unit.MONTHS], "months"),
    within(LONGEST_DEADLINE[Unit.YEARS], "years", "America/New_York"),
    within(LONGEST_DEADLINE[Unit.BUSINESS_DAYS], "business_days", "Europe/Kyiv"),
    eod(LONGEST_DEADLINE[Unit.DAYS], "Pacific/Kiritimati"),
])
def test_a_due_time_past_the_range_of_times_is_its_last_instant(deadline: Deadline) -> None:
    """The longest deadline the checker allows, from any time, is due at the latest at the
    last instant: never an overflow."""
    for anchor in (iso("0001-01-02T00:00+00:00"), iso("2022-04-01T10:00+03:00"),
                   iso("9999-12-30T23:59:59+00:00")):
        due = due_at(deadline, anchor, {})
        assert due is not None and anchor <= due <= LAST_INSTANT
    assert due == LAST_INSTANT


def test_fixed_length_due_stops_at_the_last_instant() -> None:
    assert elapsed_due(iso("9999-12-30T00:00+00:00"), timedelta(hours=25)) == LAST_INSTANT
    assert elapsed_due(iso("2022-04-01T00:00+00:00"), timedelta(hours=25)) == iso(
        "2022-04-02T01:00+00:00")


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(0, 400), st.sampled_from(["UTC", "Europe/Kyiv", "America/New_York"]))
def test_end_of_day_is_the_last_local_instant(anchor: datetime, n: int, tz_name: str) -> None:
    """`by end of day n after X` is 23:59:59.999999 local, n local days after X's day."""
    tz = zone(tz_name)
    due = due_at(eod(n, tz_name), anchor)
    assert due is not None
    local = due.astimezone(tz)
    assert local.date() == anchor.astimezone(tz).date() + timedelta(days=n)
    assert (local + timedelta(microseconds=1)).astimezone(tz).date() > local.date()


def test_localize_ambiguous_time_takes_the_first_occurrence() -> None:
    """An ambiguous wall time (clocks go back) is read as its first occurrence."""
    got = localize(datetime(2022, 10, 30, 3, 30), KYIV)
    assert got.utcoffset() == timedelta(hours=3)
    assert localize(datetime(2022, 10, 30, 2, 30), BERLIN).utcoffset() == timedelta(hours=2)


def test_hours_are_elapsed_time_from_an_anchor_with_a_named_zone() -> None:
    """Within 24 hours of noon in Berlin on the eve of spring forward is 13:00 the next day."""
    anchor = datetime(2022, 3, 26, 12, 0, tzinfo=BERLIN)
    due = due_at(within(24, "hours"), anchor)
    assert due is not None
    assert due.astimezone(UTC) - anchor.astimezone(UTC) == timedelta(hours=24)
    assert due.isoformat() == "2022-03-27T13:00:00+02:00"
