"""Events in ``(at, id)`` order from a log that is not, in bounded memory.

Stage: used by the batch runner (``engine.batch``) when a log turns out not to be in time
order. Events are gathered in runs of at most ``RUN`` events; each run is sorted and,
unless it is the only one, written to a temporary file in blocks; the runs are then
merged, reading each a block at a time. Memory is bounded by one run plus a block per
run, whatever the size of the log.
"""

from __future__ import annotations

import heapq
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from typing import IO

from foedus.events.model import Event

__all__ = ["BLOCK", "RUN", "in_order"]

RUN = 500_000  # events sorted in memory at once
BLOCK = 8_192  # events written or read at once


def _key(event: Event) -> tuple[object, str]:
    return (event.at, event.id)


def _write(run: list[Event], file: IO[bytes]) -> None:
    for start in range(0, len(run), BLOCK):
        block = [(e.id, e.at, e.type, dict(e.fields), e.source)
                 for e in run[start:start + BLOCK]]
        pickle.dump(block, file, protocol=pickle.HIGHEST_PROTOCOL)
    file.flush()
    file.seek(0)


def _read(file: IO[bytes]) -> Iterator[Event]:
    while True:
        try:
            block = pickle.load(file)  # (a file this process wrote, never another's)
        except EOFError:
            return
        for values in block:
            yield Event(*values)


def in_order(events: Iterable[Event], run: int | None = None) -> Iterator[Event]:
    """``events`` sorted by ``(at, id)``, holding at most ``run`` (default ``RUN``) of them
    in memory.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2022, 1, 1, tzinfo=UTC)
    >>> log = [Event(f"e{i}", t - timedelta(hours=i), "x") for i in range(5)]
    >>> [e.id for e in in_order(log, run=2)]
    ['e4', 'e3', 'e2', 'e1', 'e0']
    """
    size = run if run is not None else RUN
    with ExitStack() as stack:
        files: list[IO[bytes]] = []
        current: list[Event] = []
        for event in events:
            current.append(event)
            if len(current) >= size:
                current.sort(key=_key)
                file = stack.enter_context(tempfile.TemporaryFile(prefix="foedus-run-"))
                _write(current, file)
                files.append(file)
                current = []
        current.sort(key=_key)
        if not files:
            yield from current
            return
        yield from heapq.merge(*(_read(f) for f in files), current, key=_key)
