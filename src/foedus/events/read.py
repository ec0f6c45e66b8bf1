"""Reading a log: any format in, accepted events out in batches, every problem named.

Stage: the front door of this package. :class:`LogReader` streams a file (JSON Lines,
CSV, Parquet or Arrow, by suffix) through its format's reader and the acceptance rule,
and yields the accepted events batch by batch in file order; the problems of the
records it could not accept are collected in ``problems``. Callers decide what a problem
means: :func:`load_events` is all or nothing unless ``skip_invalid`` is set.

>>> from foedus.language import model as m
>>> attack = m.EventType("attack", (m.FieldDecl("victim", m.FieldType(m.FieldKind.PARTY)),), None)
>>> treaty = m.Treaty("t", "", (m.Party("UA", "Ukraine", ()),), (), (), (), (attack,), (), ())
>>> events, _ = read_events_text(
...     '{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "attack", "victim": "UA"}', treaty)
>>> events[0].fields
{'victim': 'UA'}
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc

from foedus.diagnostics import Diagnostic, EventError, Span, error
from foedus.events.accept import RECORD_LIMIT, Acceptor
from foedus.events.model import Event
from foedus.events.tables import CheckedBatch, check_batch, table_batches
from foedus.events.text import RawRecord, bounded_lines, csv_records, jsonl_records
from foedus.language.model import Treaty

__all__ = [
    "ARROW_SUFFIXES",
    "CSV_SUFFIXES",
    "PARQUET_SUFFIXES",
    "STOP_AFTER",
    "LogReader",
    "Problems",
    "ReadProgress",
    "RepeatedIds",
    "event_format",
    "load_events",
    "read_events_text",
]

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")
ARROW_SUFFIXES = (".arrow", ".feather", ".ipc")
TEXT_BATCH = 4096  # records per batch of a text log
STOP_AFTER = 1000  # refused records after which a reading that must be clean stops


def event_format(path: str | Path) -> str:
    """The format of an events file, from its suffix: jsonl, csv, parquet or arrow.

    >>> event_format("log.ndjson"), event_format("x.CSV"), event_format("a.pq")
    ('jsonl', 'csv', 'parquet')
    """
    suffix = Path(path).suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in ARROW_SUFFIXES:
        return "arrow"
    return "jsonl"


class RepeatedIds(Exception):
    """A log read without exact ids holds an id twice, or a problem: read it again with
    exact ids for the exact messages."""


@dataclass(frozen=True, slots=True)
class ReadProgress:
    """How far a reader is: records read, and ``done`` of ``total`` ``unit`` (bytes, rows)."""

    records: int
    done: int
    total: int | None
    unit: str


Progress = Callable[[ReadProgress], None]


KEPT_PROBLEMS = 1000
"""The problems a reading keeps in full; the records refused after them are counted."""


class Problems:
    """The problems of one reading, in file order: the first ``KEPT_PROBLEMS`` in full,
    every refused record counted, so that memory does not grow with a bad log. With
    ``stop_after``, reading stops (``EventError``) once that many records are refused:
    the log is refused already, and an endless one would never end."""

    def __init__(self, stop_after: int | None) -> None:
        self.kept: list[Diagnostic] = []
        self.records = 0  # refused records
        self.stop_after = stop_after
        self._last: tuple[str, int] | None = None

    def add(self, found: Iterable[Diagnostic]) -> None:
        for d in found:
            where = (d.span.file, d.span.line) if d.span is not None else None
            if where is None or where != self._last:
                self.records += 1
                self._last = where
            if len(self.kept) < KEPT_PROBLEMS:
                self.kept.append(d)
        if self.stop_after is not None and self.records >= self.stop_after:
            file, line = self._last or ("", 0)
            stopped = error(
                "events-stopped",
                f"reading stopped at line {line:,}: {self.records:,} records are invalid",
                Span.point(file, line, 1) if file else None,
                suggestion="fix these first, or skip invalid records with --skip-invalid",
            )
            raise EventError([stopped, *self.kept])  # first: it says why the rest is not read


class LogReader:
    """Reads one log once: accepted events in batches, problems collected on the way.

    Args:
        path: the events file; its suffix gives the format unless ``fmt`` does.
        treaty: the checked treaty whose event declarations the records must follow.
        fmt: jsonl, csv, parquet or arrow.
        text: the log's text, for a log that is not a file (JSON Lines or CSV only).
        progress: called after every batch.
        exact_ids: look for repeated ids record by record (else all at once at the end).
        name: what messages call the log, when not its path.
        limit: the most characters of a record (``accept.RECORD_LIMIT``).
        stop_after: stop reading (``EventError``) once this many records are refused;
            None reads on (keeping the first problems, counting the rest).

    Raises (when iterated):
        EventError: the file is missing or unreadable as its format.
    """

    def __init__(
        self,
        path: str | Path,
        treaty: Treaty,
        *,
        fmt: str | None = None,
        text: str | None = None,
        progress: Progress | None = None,
        exact_ids: bool = True,
        name: str | None = None,
        limit: int = RECORD_LIMIT,
        stop_after: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.limit = limit
        self.file = name or str(path)  # what messages call the log ("<stdin>", say)
        self.fmt = fmt or event_format(path)
        self.text = text
        self.treaty = treaty
        self.acceptor = Acceptor(treaty, exact_ids=exact_ids, limit=limit)
        self.ids: list[pa.Array] = []  # accepted ids, when they are checked at the end
        self.progress = progress
        self.found = Problems(stop_after)
        self.count = 0  # records read, valid or not

    @property
    def problems(self) -> list[Diagnostic]:
        """The problems found so far (the first ``KEPT_PROBLEMS`` of them)."""
        return self.found.kept

    @property
    def refused(self) -> int:
        """How many records were refused."""
        return self.found.records

    @property
    def tabular(self) -> bool:
        return self.fmt in ("parquet", "arrow") and self.text is None

    def batches(self) -> Iterator[list[Event]]:
        """The accepted events, batch by batch, in file order.

        Raises (at the end, without ``exact_ids``):
            RepeatedIds: some id was accepted twice; read the log again with exact ids.
        """
        if self.tabular:
            for checked in self.checked_batches():
                yield checked.events(self.file)
            return
        for chunk in self._text_chunks():
            events = self._accept(chunk)
            if not self.acceptor.exact_ids:
                self.ids.append(pa.array([e.id for e in events], pa.string()))
            yield events
        self._check_ids()

    def _check_ids(self) -> None:
        """Without exact ids: any repeated id, or any problem at all (a refused record's id
        may repeat an accepted one, which exact ids would name too), means reading again."""
        if self.acceptor.exact_ids:
            return
        if self.found.records:
            raise RepeatedIds(self.file)
        every = pa.chunked_array(self.ids, pa.string())
        self.ids = []
        if not _rising(every) and pc.count_distinct(every).as_py() != len(every):
            raise RepeatedIds(self.file)

    def checked_batches(self) -> Iterator[CheckedBatch]:
        """A table log's batches after acceptance, as columns (Parquet and Arrow only)."""
        assert self.tabular
        path = self._existing()
        total = _table_rows(path, self.fmt)
        first = 1
        for table in table_batches(path, self.fmt, self.file):
            checked = check_batch(table, self.acceptor, self.file, first)
            first += table.num_rows
            self.count += table.num_rows
            self.found.add(checked.problems)
            if not self.acceptor.exact_ids:
                self.ids.append(checked.rows.column("id").combine_chunks())
                self.ids.append(pa.array([e.id for e in checked.extra], pa.string()))
            self._report(self.count, total, "rows")
            yield checked
        self._check_ids()

    def _existing(self) -> Path:
        try:
            exists, folder, file = self.path.exists(), self.path.is_dir(), self.path.is_file()
        except OSError as exc:  # a name too long to look up
            raise EventError([file_unreadable(self.file, exc)]) from None
        if not exists:
            raise EventError([file_missing(self.file)])
        if folder:
            raise EventError([file_unreadable(self.file, IsADirectoryError("it is a folder"))])
        if self.tabular and not file:
            raise EventError([file_unreadable(self.file, OSError(
                f"a {self.fmt.capitalize()} log must be a file, not a pipe or a device (it "
                "is read by seeking); pipe it to standard input, which is copied first"))])
        return self.path

    def _text_chunks(self) -> Iterator[list[RawRecord]]:
        if self.text is not None:
            yield from _chunks(self._records(io.StringIO(self.text)))
            return
        path = self._existing()
        total = _size(path)
        try:
            # invalid UTF-8 reads as lone surrogates: the rule then names the record and the
            # field that hold it, instead of refusing the whole file
            with path.open(encoding="utf-8-sig", errors="surrogateescape",
                           newline="" if self.fmt == "csv" else None) as f:
                for chunk in _chunks(self._records(f)):
                    yield chunk
                    self._report(self.count, total, "bytes", f)
        except UnicodeDecodeError as exc:
            raise EventError([file_unreadable(self.file, exc)]) from None
        except OSError as exc:
            raise EventError([file_unreadable(self.file, exc)]) from None

    def _records(self, f: IO[str]) -> Iterator[RawRecord]:
        lines = bounded_lines(f, self.limit)
        if self.fmt == "csv":
            return csv_records(lines, self.file, self.limit)
        return jsonl_records(lines, self.file)

    def _accept(self, chunk: list[RawRecord]) -> list[Event]:
        accept = self.acceptor.accept
        add = self.found.add
        out = []
        for record, where, cells, problem in chunk:
            if problem is not None:
                add((problem,))
                continue
            event, found = accept(record, where, cells=cells)
            if found:
                add(found)
            if event is not None:
                out.append(event)
        self.count += len(chunk)
        return out

    def _report(self, records: int, total: int | None, unit: str, f: object = None) -> None:
        if self.progress is None:
            return
        if unit == "bytes":
            done = _position(f)
            self.progress(ReadProgress(records, done, total, unit))
        else:
            self.progress(ReadProgress(records, records, total, unit))


def _rising(ids: pa.ChunkedArray) -> bool:
    """Whether ``ids`` rise strictly in (length, text) order, as ids numbered in the order
    they are written do ("e9" before "e10"): then they are distinct, proven without hashing.
    Checked chunk by chunk, and across the chunks' ends."""
    last: str | None = None
    for chunk in ids.chunks:
        n = len(chunk)
        if n == 0:
            continue
        first = chunk[0].as_py()
        if last is not None and (len(first.encode()), first.encode()) <= (
                len(last.encode()), last.encode()):
            return False
        if n > 1:
            size = pc.binary_length(chunk)
            a, b = chunk.slice(0, n - 1), chunk.slice(1)
            la, lb = size.slice(0, n - 1), size.slice(1)
            rising = pc.or_(pc.less(la, lb), pc.and_(pc.equal(la, lb), pc.less(a, b)))
            if not pc.all(pc.fill_null(rising, False)).as_py():
                return False
        last = chunk[n - 1].as_py()
    return True


def _chunks(records: Iterator[RawRecord]) -> Iterator[list[RawRecord]]:
    chunk: list[RawRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= TEXT_BATCH:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _size(path: Path) -> int | None:
    try:
        size = path.stat().st_size
    except OSError:
        return None
    return size or None


def _position(f: object) -> int:
    buffer = getattr(f, "buffer", None)
    try:
        return int(buffer.tell()) if buffer is not None else 0
    except (OSError, ValueError):
        return 0


def _table_rows(path: Path, fmt: str) -> int | None:
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception:  # the reader names the problem when it reads the file
        return None
    return None


def file_missing(file: str) -> Diagnostic:
    return error(
        "events-file-missing",
        f"events file `{file}` does not exist",
        context=file,
        suggestion="check the path; events are read from .jsonl, .csv, .parquet or .arrow files",
    )


def file_unreadable(file: str, exc: BaseException) -> Diagnostic:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    return error("events-file-unreadable", f"cannot read events file `{file}`: {reason}",
                 context=file)


def load_events(
    path: str | Path,
    treaty: Treaty,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> tuple[list[Event], list[Diagnostic]]:
    """Read and check a whole event log: JSON Lines, CSV, Parquet or Arrow (by suffix).

    Returns:
        The events in file order and, with ``skip_invalid``, the problems of the others.

    Raises:
        EventError: any record is invalid and ``skip_invalid`` is false (nothing is
            returned), or the file is missing or unreadable.
    """
    return _collect(LogReader(path, treaty, progress=progress,
                              stop_after=None if skip_invalid else STOP_AFTER), skip_invalid)


def read_events_text(
    text: str,
    treaty: Treaty,
    file: str = "<events>",
    *,
    fmt: str = "jsonl",
    skip_invalid: bool = False,
) -> tuple[list[Event], list[Diagnostic]]:
    """Read events from JSON Lines or CSV text; see :func:`load_events`."""
    return _collect(LogReader(file, treaty, fmt=fmt, text=text,
                              stop_after=None if skip_invalid else STOP_AFTER), skip_invalid)


def _collect(reader: LogReader, skip_invalid: bool) -> tuple[list[Event], list[Diagnostic]]:
    events: list[Event] = []
    for batch in reader.batches():
        events.extend(batch)
    if reader.problems and not skip_invalid:
        raise EventError(reader.problems)
    return events, reader.problems

