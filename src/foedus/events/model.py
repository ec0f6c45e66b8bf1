"""An event: one timestamped fact, the unit of every log.

Stage: produced by the readers of this package from a log's records, after they pass the
acceptance rule (``events.accept``); consumed by the engine, which applies events in
``(at, id)`` order whatever order they come in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import NamedTuple

from foedus.language import model as m

__all__ = [
    "EPOCH",
    "FIRST_INSTANT",
    "LAST_INSTANT",
    "ONE_MICROSECOND",
    "Event",
    "FieldValue",
    "from_micros",
    "instant",
    "micros",
]

FieldValue = str | float
NO_FIELDS: Mapping[str, FieldValue] = MappingProxyType({})
# Columns hold instants as microseconds since the epoch, in UTC.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


# The instants an event may have (the language's range of times, ``language.model``).
FIRST_INSTANT = m.FIRST_INSTANT
LAST_INSTANT = m.LAST_INSTANT


def instant(at: datetime) -> datetime:
    """``at`` as an instant that compares as one: in UTC unless its offset is fixed.

    Python compares two times of one named zone by their wall clocks, so in an hour lived
    twice (when clocks go back) a later instant can compare as earlier. Times with fixed
    offsets, as read from a log, compare as instants already.

    >>> from zoneinfo import ZoneInfo
    >>> ny = ZoneInfo("America/New_York")
    >>> first, second = datetime(2022, 11, 6, 1, 30, tzinfo=ny), datetime(2022, 11, 6, 1, 15,
    ...                                                                  fold=1, tzinfo=ny)
    >>> second > first, instant(second) > instant(first)
    (False, True)
    """
    tz = at.tzinfo
    if tz is None or type(tz) is timezone:
        return at
    return at.astimezone(UTC)


def micros(at: datetime) -> int:
    """An aware instant as microseconds since the epoch, exactly.

    >>> micros(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC))
    1000000
    """
    return (at - EPOCH) // ONE_MICROSECOND


def from_micros(us: int) -> datetime:
    """The instant ``us`` microseconds after the epoch, in UTC."""
    return EPOCH + us * ONE_MICROSECOND


class Event(NamedTuple):
    """One timestamped fact. Immutable; ``at`` is always timezone-aware.

    A named tuple rather than a dataclass: logs hold millions of them, and building one
    costs a fifth of a frozen dataclass.

    >>> from datetime import UTC
    >>> e = Event("e1", datetime(2022, 3, 29, tzinfo=UTC), "armed_attack", {"victim": "UA"})
    >>> e.order_key[1], e.fields["victim"]
    ('e1', 'UA')
    """

    id: str
    at: datetime
    type: str
    fields: Mapping[str, FieldValue] = NO_FIELDS
    source: str | None = None  # e.g. "events.jsonl:12", for messages

    @property
    def order_key(self) -> tuple[datetime, str]:
        """The order in which the engine applies events: time, then id."""
        return (self.at, self.id)
