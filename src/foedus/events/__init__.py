"""Events: reading logs in any format and accepting their records against a treaty.

Stage: after ``language`` (the treaty declares the event types); before ``engine``,
which applies the accepted :class:`Event` values. One acceptance rule
(:mod:`foedus.events.accept`) judges every record of every format; the table formats are
first checked by columns (:mod:`foedus.events.tables`), which only speeds up reading.
"""

from foedus.events.accept import RECORD_LIMIT, Acceptor
from foedus.events.model import Event, FieldValue
from foedus.events.read import (
    LogReader,
    ReadProgress,
    event_format,
    load_events,
    read_events_text,
)
from foedus.events.write import event_to_record, write_events

__all__ = [
    "RECORD_LIMIT",
    "Acceptor",
    "Event",
    "FieldValue",
    "LogReader",
    "ReadProgress",
    "event_format",
    "event_to_record",
    "load_events",
    "read_events_text",
    "write_events",
]
