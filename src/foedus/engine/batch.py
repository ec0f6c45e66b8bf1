"""Batch runs: a whole event file in, one :class:`~foedus.engine.model.RunResult` out.

Stage: after ``events`` (the log is read and accepted by :class:`~foedus.events.LogReader`);
gives the result a :class:`~foedus.engine.monitor.Monitor` fed with every event gives.
This is what ``foedus run``, ``explain`` and ``report`` use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from foedus.diagnostics import Diagnostic, EventError, error
from foedus.engine.model import RunResult
from foedus.engine.monitor import Monitor
from foedus.events.model import Event
from foedus.events.read import LogReader, Progress
from foedus.language.model import Treaty

__all__ = ["BatchRun", "EmptyLogError", "run_file", "run_file_full"]


class EmptyLogError(EventError):
    """The log has no valid event and no "as of" was given; ``skipped`` are the diagnostics
    of the records skipped with ``skip_invalid``."""

    def __init__(self, skipped: list[Diagnostic]) -> None:
        super().__init__([no_as_of()])
        self.skipped = skipped


@dataclass
class BatchRun:
    """A batch run: its result, the diagnostics of skipped records, the events applied."""

    result: RunResult
    diagnostics: list[Diagnostic]
    count: int
    events: list[Event]
    monitor: Monitor


def run_file(
    treaty: Treaty, path: str | Path, as_of: datetime | None = None, skip_invalid: bool = False
) -> RunResult:
    """Apply ``treaty`` to the events in ``path`` and return the state as of ``as_of``.

    ``as_of`` defaults to the time of the latest event.

    Raises:
        EventError: the file is missing, unreadable or (without ``skip_invalid``) holds an
            invalid record, or it is empty and no ``as_of`` is given (``no-as-of``);
            nothing is evaluated then.
    """
    return run_file_full(treaty, path, as_of, skip_invalid).result


def run_file_full(
    treaty: Treaty,
    path: str | Path,
    as_of: datetime | None = None,
    skip_invalid: bool = False,
    *,
    progress: Progress | None = None,
) -> BatchRun:
    """:func:`run_file` with the diagnostics of skipped records and the event count."""
    reader = LogReader(path, treaty, progress=progress)
    events: list[Event] = []
    for batch in reader.batches():
        events.extend(batch)
    if reader.problems and not skip_invalid:
        raise EventError(reader.problems)
    if as_of is None and not events:
        raise EmptyLogError(reader.problems)
    when = as_of if as_of is not None else max(e.at for e in events)
    monitor = Monitor(treaty)
    monitor.feed_many(events)
    return BatchRun(monitor.status(when), reader.problems, len(events), events, monitor)


def no_as_of() -> Diagnostic:
    """The diagnostic for an empty log without an as-of time."""
    return error(
        "no-as-of",
        "the event log is empty, so there is no latest event to evaluate at",
        suggestion="give a time with --as-of, such as 2022-04-01T00:00:00Z",
    )
