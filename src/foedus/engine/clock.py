"""The run's clock: how far the state has got, and the deadlines still ahead of it.

Stage: part of the run state (``engine.state``). Deadlines are a heap of
``(due, sequence, record)``: a record settled early stays in the heap until its time and
is then skipped, which is cheaper than removing it.
"""

from __future__ import annotations

from datetime import datetime
from heapq import heappush
from itertools import count
from typing import Any

from foedus.engine.records import CollectiveRecord, DecisionRecord, EachRecord

__all__ = ["Clock", "Scheduled"]

# What a deadline is set for: an obligation record, or a decision's time to decide.
Scheduled = EachRecord | CollectiveRecord | DecisionRecord


class Clock:
    """Events applied so far, the latest of them, and the deadlines to come."""

    __slots__ = ("heap", "last_at", "last_id", "now", "pos", "seq")

    def __init__(self) -> None:
        self.heap: list[tuple[datetime, int, Scheduled]] = []
        self.seq = count()  # orders deadlines due at the same instant by when they were set
        self.now: datetime | None = None  # deadlines strictly before it are settled
        self.last_at: datetime | None = None  # the latest event applied
        self.last_id: str | None = None
        self.pos = 0  # events of the sorted log applied

    def schedule(self, due: datetime, record: Scheduled) -> None:
        """Remember to look at ``record`` once ``due`` has passed."""
        heappush(self.heap, (due, next(self.seq), record))

    def reached(self, at: datetime) -> None:
        """The state has seen everything up to ``at``."""
        if self.now is None or at > self.now:
            self.now = at

    def before(self, key: tuple[datetime, str]) -> bool:
        """Whether nothing at or after ``key`` (in ``(at, id)`` order) was applied or settled."""
        last = self.last_at
        return (last is None or (last, self.last_id or "") < key) and (
            self.now is None or self.now <= key[0])

    def not_after(self, at: datetime) -> bool:
        """Whether the state has seen nothing later than ``at``."""
        return (self.last_at is None or self.last_at <= at) and (
            self.now is None or self.now <= at)

    def clone(self, memo: dict[int, Any]) -> Clock:
        """A copy whose heap points at the copies of open records (``memo``)."""
        new = Clock.__new__(Clock)
        new.heap = [(d, s, memo.get(id(x), x)) for d, s, x in self.heap]
        new.seq = count(next(self.seq))
        new.now, new.pos = self.now, self.pos
        new.last_at, new.last_id = self.last_at, self.last_id
        return new
