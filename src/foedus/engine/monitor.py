"""The monitor: feed events in any order, ask for the state as of any instant.

Stage: after ``language.check`` (a checked :class:`~foedus.language.model.Treaty`) and
the events stage (accepted :class:`~foedus.events.model.Event` values); the streaming
executor, over :class:`~foedus.engine.state.RunState`. The report and the interfaces
render the :class:`~foedus.engine.model.RunResult` it gives.

How it stays cheap and exact:

* :meth:`Monitor.feed` only appends to a buffer. Work happens at :meth:`Monitor.status`,
  in one pass over the newly fed events sorted by ``(at, id)``.
* The live state (``engine.state``) applies the sorted log only up to the latest event
  at or before ``as_of``. Deadlines between that event and ``as_of`` are settled on a
  copy, so a later event that arrives before ``as_of`` needs no rollback.
* An event older than what the live state has applied rolls the state back to the last
  checkpoint before it and replays from there, so every arrival order gives the result
  of sorted arrival. Checkpoints are taken geometrically (after the number of events
  applied since the previous one reaches the size of the log then), so their cost is
  amortised O(1) per event.

>>> from datetime import datetime, UTC
>>> from foedus.language import model as m
>>> t = m.Treaty("t", "", (), (), (), (), (), (), ())
>>> Monitor(t).status(datetime(2022, 1, 1, tzinfo=UTC)).treaty_status.value
'in_force'
"""

from __future__ import annotations

import gc
from bisect import bisect_right
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from itertools import compress, islice
from operator import attrgetter, eq, le, lt

from foedus.engine.caches import Caches
from foedus.engine.model import EventExplanation, Explanation, RunResult
from foedus.engine.plan import Plan, compile_treaty
from foedus.engine.results import build_result, explain, explain_event_id
from foedus.engine.state import RunState
from foedus.events.model import Event, instant
from foedus.language.model import Treaty

__all__ = ["Monitor", "sort_events"]

MIN_CHECKPOINT_GAP = 4096
MAX_CHECKPOINTS = 12


_AT = attrgetter("at")
_ID = attrgetter("id")


def _key(event: Event) -> tuple[datetime, str]:
    return (event.at, event.id)


def sort_events(events: list[Event]) -> None:
    """Sort ``events`` in place by ``(at, id)``.

    Sorting by time alone, then by id within each run of equal times, needs no key tuple
    per event: a quarter of the memory of ``sort(key=lambda e: (e.at, e.id))``, and faster
    on logs that are already (nearly) in order.

    >>> from datetime import UTC
    >>> t = datetime(2022, 1, 1, tzinfo=UTC)
    >>> log = [Event("b", t, "x"), Event("c", t - timedelta(1), "x"), Event("a", t, "x")]
    >>> sort_events(log); [e.id for e in log]
    ['c', 'a', 'b']
    """
    events.sort(key=_AT)
    n = len(events)
    start = 0
    prev = events[0].at if n else None
    for i in range(1, n):
        at = events[i].at
        if at != prev:
            if i - start > 1:
                events[start:i] = sorted(events[start:i], key=_ID)
            start, prev = i, at
    if n - start > 1:
        events[start:n] = sorted(events[start:n], key=_ID)


def _out_of_order(events: list[Event]) -> int | None:
    """The first index whose event sorts before the previous one by ``(at, id)``, or None.

    One pass at C speed over the times when they strictly rise; otherwise a second one,
    and ids are compared only where times are equal.

    >>> from datetime import UTC
    >>> t = datetime(2022, 1, 1, tzinfo=UTC)
    >>> _out_of_order([Event("a", t, "x"), Event("b", t, "x")]) is None
    True
    >>> _out_of_order([Event("b", t, "x"), Event("a", t, "x")])
    1
    """
    ats = list(map(_AT, events))
    if all(map(lt, ats, islice(ats, 1, None))):
        return None
    if all(map(le, ats, islice(ats, 1, None))):
        for i in compress(range(1, len(ats)), map(eq, ats, islice(ats, 1, None))):
            if events[i].id < events[i - 1].id:
                return i
        return None
    return next(i for i in range(1, len(ats)) if ats[i] < ats[i - 1])


class Monitor:
    """Runs one treaty over a stream of events.

    Args:
        treaty: the checked treaty.
        horizon: how late an event may arrive, relative to the newest event applied. None
            (the default) keeps the whole log, so any late event is exact. With a horizon,
            the log and checkpoints older than it are dropped, so memory stays bounded by
            what is open plus the results; :meth:`status` then refuses an older event with
            ``ValueError`` (dropping it, keeping the others) and an older ``as_of`` too.

    >>> from datetime import datetime, UTC
    >>> from foedus.language import model as m
    >>> m_ = Monitor(m.Treaty("t", "", (), (), (), (), (), (), ()))
    >>> m_.feed(Event("e1", datetime(2022, 3, 29, tzinfo=UTC), "attack", {}))
    >>> len(m_.status(datetime(2022, 3, 30, tzinfo=UTC)).obligations)
    0
    """

    def __init__(self, treaty: Treaty, horizon: timedelta | None = None) -> None:
        self.treaty = treaty
        self.horizon = horizon
        self._plan: Plan = compile_treaty(treaty)
        self._log: list[Event] = []
        self._offset = 0  # events dropped from the front of the log (see ``horizon``)
        self._buffer: list[Event] = []
        self._presorted = False  # the buffer is known to be in (at, id) order
        self._caches = Caches()  # the plan's rules remembered, shared by every copy
        self._live = RunState(self._plan, self._caches)
        self._checkpoints: list[RunState] = [self._live.clone()]
        self._cache: tuple[datetime, RunResult] | None = None

    # ------------------------------------------------------------ input

    def feed(self, event: Event) -> None:
        """Add one event; it may be older than events already fed."""
        at = event.at
        if at.tzinfo is not None and type(at.tzinfo) is not timezone:
            event = event._replace(at=instant(at))  # compare times of named zones as instants
        self._buffer.append(event)
        self._presorted = False
        self._cache = None

    def feed_many(self, events: Iterable[Event], presorted: bool = False) -> None:
        """Add many events, in any order.

        With ``presorted``, the caller guarantees that ``events`` come in ``(at, id)`` order
        (as the rows of a batch run do), and :meth:`status` does not sort them again. The
        guarantee is checked in one pass.

        Raises:
            ValueError: ``presorted`` is given but the events are not in ``(at, id)`` order;
                none of them is added.
        """
        events = [e if e.at.tzinfo is None or type(e.at.tzinfo) is timezone
                  else e._replace(at=instant(e.at)) for e in events]
        if not presorted:
            self._buffer.extend(events)
            self._presorted = False
            self._cache = None
            return
        batch = list(events)
        if not batch:
            return
        try:
            bad = _out_of_order(batch)
            ordered = bad is None
        except TypeError:  # naive times among aware ones: status refuses them as usual
            bad, ordered = None, False
        if bad is not None:
            raise ValueError(
                f"events fed as presorted are not in (at, id) order: event {batch[bad].id} "
                f"comes after event {batch[bad - 1].id}; none was added"
            )
        if self._buffer:
            self._buffer.extend(batch)
            self._presorted = False
        else:
            self._buffer = batch
            self._presorted = ordered
        self._cache = None

    # ------------------------------------------------------------ output

    def status(self, as_of: datetime) -> RunResult:
        """The state of the treaty as of ``as_of``: events at or before it, deadlines before it.

        Pure from the caller's point of view: the same events and ``as_of`` give the same
        result whatever the order of calls.

        Raises:
            ValueError: ``as_of`` or a fed event has no time zone, or (with a horizon) is
                older than the horizon. Refused events are dropped; the others are kept.
        """
        shown, as_of = as_of, instant(as_of)  # compared as an instant, shown as given
        cached = self._cache
        # (results show times in the treaty's zone: the same instant is the same result)
        if cached is not None and cached[0] == as_of:
            return cached[1]
        if as_of.utcoffset() is None:
            raise ValueError(f"as of {as_of.isoformat()} has no time zone")
        # The state only grows here and makes no reference cycles: pausing the cyclic
        # collector saves rescanning every record each time a few thousand are allocated.
        enabled = gc.isenabled()
        gc.disable()
        try:
            # the result must not see later changes of the live state: read it from a copy
            fork = self._sync(as_of).clone()
            fork.advance(as_of)
            result = build_result(fork, shown)
        finally:
            if enabled:
                gc.enable()
        self._cache = (as_of, result)
        return result

    def explain(self, item_id: str, as_of: datetime) -> Explanation | None:
        """The explanation of an obligation, prohibition or decision instance, or of a clause."""
        return explain(self._plan, self.status(as_of), item_id)

    def explain_event(self, event_id: str, as_of: datetime) -> EventExplanation | None:
        """What the fed event ``event_id`` did as of ``as_of``, and why not more; None when
        no event kept in the log has that id."""
        result = self.status(as_of)
        return explain_event_id(result, self._log, event_id)

    # ------------------------------------------------------------ internals

    def _merge_buffer(self) -> None:
        """Move the buffer into the sorted log; roll back if it reaches into the applied past."""
        if not self._buffer:
            return
        batch = self._buffer
        try:
            # a naive time among aware ones fails to compare; all naive sorts, so look at one
            # (presorted, they were compared in order already; a log fed in order, as most
            # are, is only checked, which costs a third of sorting it)
            if not self._presorted and _out_of_order(batch) is not None:
                sort_events(batch)
            naive = batch[0].at.utcoffset() is None
        except TypeError:
            naive = True
        if naive:
            self._refuse([e for e in batch if e.at.utcoffset() is None], "without a time zone")
        floor = self._checkpoints[0]
        if floor.clock.last_at is not None:  # the horizon dropped the start of the log
            self._refuse([e for e in batch if not floor.clock.before(_key(e))],
                         f"older than the horizon of {self.horizon}")
        first = _key(batch[0])
        live = self._live
        if not live.clock.before(first):
            self._rollback(
                lambda r: r.clock.before(first),
                f"event {batch[0].id} is older than the horizon",
            )
        self._buffer = []
        self._presorted = False
        log = self._log
        if log and _key(log[-1]) > first:
            log.extend(batch)
            sort_events(log)  # two sorted runs: timsort merges them in linear time
        else:
            log.extend(batch)

    def _refuse(self, events: list[Event], why: str) -> None:
        """Drop ``events`` from the buffer, keeping the others, and say so (if any)."""
        if not events:
            return
        refused = {id(e) for e in events}
        self._buffer = [e for e in self._buffer if id(e) not in refused]
        raise ValueError(
            f"{len(events)} event(s) {why} were refused: "
            f"{', '.join(e.id for e in events[:5])}; the others are kept"
        )

    def _rollback(self, fits: Callable[[RunState], bool], why: str) -> None:
        """Go back to the newest checkpoint that ``fits`` (all those after it are dropped)."""
        keep = [c for c in self._checkpoints if fits(c)]
        if not keep:
            raise ValueError(f"{why} of {self.horizon}")
        self._checkpoints = keep
        self._live = keep[-1].clone()

    def _sync(self, as_of: datetime) -> RunState:
        """Apply the log up to ``as_of`` to the live state, rolling it back first if needed."""
        self._merge_buffer()
        live = self._live
        if not live.clock.not_after(as_of):
            self._rollback(
                lambda r: r.clock.not_after(as_of),
                f"as of {as_of.isoformat()} is older than the horizon",
            )
            live = self._live
        log = self._log
        offset = self._offset
        stop = bisect_right(log, as_of, key=lambda e: e.at)
        if stop > live.clock.pos - offset:
            live.apply(log, live.clock.pos - offset, stop)
            checkpoints = self._checkpoints
            since = live.clock.pos - checkpoints[-1].clock.pos
            span = checkpoints[-1].clock.pos - checkpoints[0].clock.pos
            if since >= max(MIN_CHECKPOINT_GAP, span):
                checkpoints.append(live.clone())
                if len(checkpoints) > MAX_CHECKPOINTS:
                    # thin out the middle, keeping the oldest and the newest ones
                    del checkpoints[1:-1:2]
            if self.horizon is not None:
                self._forget(live)
        return live

    def _forget(self, live: RunState) -> None:
        """Drop the log and checkpoints that no event within the horizon can need."""
        assert self.horizon is not None and live.clock.last_at is not None
        cutoff = live.clock.last_at - self.horizon
        checkpoints = self._checkpoints
        usable = [i for i, c in enumerate(checkpoints)
                  if c.clock.last_at is not None and c.clock.not_after(cutoff)]
        if not usable or usable[-1] == 0:
            return
        keep = usable[-1]
        del checkpoints[:keep]
        drop = checkpoints[0].clock.pos - self._offset
        del self._log[:drop]
        self._offset += drop
