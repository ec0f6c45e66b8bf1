"""Writing logs: events out as JSON Lines, CSV, Parquet or Arrow, readable back as they were.

Stage: beside the readers of this package; used to export logs, by the tests that read a
log back in every format, and by the benchmarks.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from foedus.events.accept import RESERVED
from foedus.events.model import Event, FieldValue
from foedus.events.read import event_format

__all__ = ["event_to_record", "write_events"]


def event_to_record(event: Event) -> dict[str, Any]:
    """The JSON Lines record of an event, with its fields nested under ``fields``."""
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "type": event.type,
        "fields": dict(event.fields),
    }


def write_events(path: str | Path, events: Iterable[Event], fmt: str | None = None) -> None:
    """Write events as JSON Lines, CSV, Parquet or Arrow (by suffix unless ``fmt`` is given).

    Numbers are written as numbers, everything else as text; for tables, ``at`` becomes
    a UTC timestamp column and a field absent from an event is null.
    """
    fmt = fmt or event_format(path)
    items = list(events)
    if fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as f:
            for e in items:
                f.write(json.dumps(event_to_record(e), ensure_ascii=False, sort_keys=True))
                f.write("\n")
        return
    names = sorted({k for e in items for k in e.fields})
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as f:
            # \r\n ends a row (RFC 4180), so a cell holding a lone \r is quoted
            writer = csv.writer(f, lineterminator="\r\n")
            writer.writerow([*RESERVED, *names])
            for e in items:
                writer.writerow(
                    [e.id, e.at.isoformat(), e.type, *(_cell(e.fields.get(n)) for n in names)]
                )
        return
    import pyarrow as pa

    columns: dict[str, Any] = {
        "id": pa.array([e.id for e in items], pa.string()),
        "at": pa.array([e.at for e in items], pa.timestamp("us", tz="UTC")),
        "type": pa.array([e.type for e in items], pa.string()),
    }
    for n in names:
        values = [e.fields.get(n) for e in items]
        numeric = all(isinstance(v, int | float) for v in values if v is not None)
        if numeric:
            columns[n] = pa.array(values, pa.float64())
        else:  # text, or numbers and text under one name: cells, as CSV holds them
            columns[n] = pa.array([None if v is None else _cell(v) for v in values],
                                  pa.string())
    table = pa.table(columns)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as ipc:
            ipc.write_table(table)


def _cell(value: FieldValue | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)
