"""Every format reads the same events the same way, and odd input is named, not crashed on.

Regression tests for hostile input found in review: field names of two kinds, lone
surrogates and invalid UTF-8, times at the edges of the calendar, repeated CSV columns,
zone-less timestamp columns, empty text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from foedus import check_source, load_events, run_file, run_file_full, write_events
from foedus.diagnostics import EventError
from foedus.events import Event
from foedus.report import result_to_json

MIXED = """
treaty mixed "A field name that is a number in one event type and text in another"
party US, UA
event a(by: party actor, x: number)
event b(by: party actor, x: text)
clause c quote "each b obliges an a within 2 days"
  when b(x: "3") as t US must a() within 2 days of t
"""
NOTE = """
treaty note "A text field"
party US
event said(by: party actor, note: text)
clause c quote "US says something" when said() as s US must said() within 1 days of s
"""


def _treaty(text: str) -> object:
    checked = check_source(text, "t.foedus")
    assert checked.treaty is not None, checked.diagnostics
    return checked.treaty


def _json(result: object) -> str:
    return json.dumps(result_to_json(result), sort_keys=True)  # type: ignore[arg-type]


T0 = datetime(2022, 3, 29, tzinfo=UTC)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".arrow"])
def test_a_field_name_of_two_kinds_reads_alike_in_every_format(tmp_path: Path,
                                                                suffix: str) -> None:
    """`x` is text in `b` and a number in `a`: every format gives JSON Lines' verdicts."""
    treaty = _treaty(MIXED)
    events = [Event("e1", T0, "b", {"by": "US", "x": "3"}),
              Event("e2", T0.replace(hour=5), "a", {"by": "US", "x": 4.0})]
    write_events(tmp_path / "log.jsonl", events)
    write_events(tmp_path / f"log{suffix}", events)
    expected = run_file(treaty, tmp_path / "log.jsonl")  # type: ignore[arg-type]
    got = run_file(treaty, tmp_path / f"log{suffix}")  # type: ignore[arg-type]
    assert _json(got) == _json(expected)
    assert [o.state.value for o in got.obligations] == ["fulfilled"]


def test_a_lone_surrogate_is_refused_with_its_place(tmp_path: Path) -> None:
    """An id or a text holding a lone surrogate is an `event-bad-text`, not a crash."""
    path = tmp_path / "log.jsonl"
    path.write_text('{"id": "e\\ud800", "at": "2022-03-29T00:00:00Z", "type": "said", '
                    '"by": "US", "note": "hi"}\n'
                    '{"id": "e2", "at": "2022-03-29T00:00:00Z", "type": "said", '
                    '"by": "US", "note": "x\\udfff"}\n', encoding="utf-8")
    with pytest.raises(EventError) as caught:
        load_events(path, _treaty(NOTE))  # type: ignore[arg-type]
    assert [(d.code, d.span.line if d.span else 0) for d in caught.value.diagnostics] == [
        ("event-bad-text", 1), ("event-bad-text", 2)]


def test_invalid_utf8_refuses_the_record_not_the_file(tmp_path: Path) -> None:
    """A byte that is not UTF-8 is named on its line; --skip-invalid keeps the others."""
    path = tmp_path / "log.jsonl"
    good = b'{"id": "e2", "at": "2022-03-29T00:00:00Z", "type": "said", "by": "US", ' \
           b'"note": "fine"}\n'
    path.write_bytes(b'{"id": "e1", "at": "2022-03-29T00:00:00Z", "type": "said", '
                     b'"by": "US", "note": "caf\xe9"}\n' + good)
    events, problems = load_events(path, _treaty(NOTE), skip_invalid=True)  # type: ignore[arg-type]
    assert [e.id for e in events] == ["e2"]
    assert [(d.code, d.span.line if d.span else 0) for d in problems] == [("event-bad-text", 1)]


def test_invalid_utf8_in_a_table_is_a_diagnostic(tmp_path: Path) -> None:
    """A Parquet text column that is not UTF-8 makes the file unreadable, with a message."""
    path = tmp_path / "log.parquet"
    table = pa.table({"id": pa.array([b"e\xff"], pa.binary()).view(pa.string()),
                      "at": pa.array([T0], pa.timestamp("us", tz="UTC")),
                      "type": ["said"], "by": ["US"], "note": ["x"]})
    pq.write_table(table, path)
    with pytest.raises(EventError) as caught:
        load_events(path, _treaty(NOTE))  # type: ignore[arg-type]
    assert [d.code for d in caught.value.diagnostics] == ["events-file-unreadable"]


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+03:00", "9999-12-31T23:00:00-05:00",
                                "0001-01-01T05:00:00Z"])
def test_times_at_the_edges_of_the_calendar_are_refused(tmp_path: Path, at: str) -> None:
    """A time no zone can show is `event-bad-time` (out of range), not an overflow."""
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps({"id": "e1", "at": at, "type": "said", "by": "US",
                                "note": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(EventError) as caught:
        run_file(_treaty(NOTE), path)  # type: ignore[arg-type]
    (d,) = caught.value.diagnostics
    assert (d.code, d.message) == ("event-bad-time", f"time `{at}` is out of range")


def test_a_repeated_csv_column_is_refused(tmp_path: Path) -> None:
    """A CSV header naming a column twice is an error, as for tables (not last one wins)."""
    path = tmp_path / "log.csv"
    path.write_text("id,id,at,type,by,note\ne1,e2,2022-03-29T00:00:00Z,said,US,x\n",
                    encoding="utf-8")
    with pytest.raises(EventError) as caught:
        load_events(path, _treaty(NOTE))  # type: ignore[arg-type]
    assert [d.code for d in caught.value.diagnostics] == ["events-duplicate-column"]


def test_a_zoneless_timestamp_column_is_one_problem(tmp_path: Path) -> None:
    """One diagnostic for the column, however many rows it has."""
    path = tmp_path / "log.parquet"
    n = 5000
    pq.write_table(pa.table({"id": [f"e{i}" for i in range(n)],
                             "at": pa.array([T0.replace(tzinfo=None)] * n, pa.timestamp("us")),
                             "type": ["said"] * n, "by": ["US"] * n, "note": ["x"] * n}), path)
    with pytest.raises(EventError) as caught:
        load_events(path, _treaty(NOTE))  # type: ignore[arg-type]
    assert [d.code for d in caught.value.diagnostics] == ["event-naive-time"]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_empty_text_is_absent_in_every_format(tmp_path: Path, suffix: str) -> None:
    """An empty note is a missing field whatever the format (a cell cannot say otherwise)."""
    path = tmp_path / f"log{suffix}"
    write_events(path, [Event("e1", T0, "said", {"by": "US", "note": ""})])
    with pytest.raises(EventError) as caught:
        load_events(path, _treaty(NOTE))  # type: ignore[arg-type]
    assert [d.code for d in caught.value.diagnostics] == ["event-missing-field"]


def test_run_file_refuses_an_as_of_without_a_zone(tmp_path: Path) -> None:
    """As the Monitor does: a naive as-of is a ValueError that names it."""
    path = tmp_path / "log.jsonl"
    write_events(path, [Event("e1", T0, "said", {"by": "US", "note": "x"})])
    with pytest.raises(ValueError, match="has no time zone"):
        run_file_full(_treaty(NOTE), path, datetime(2022, 4, 1))  # type: ignore[arg-type]


def test_every_record_skipped_says_so(tmp_path: Path) -> None:
    """With --skip-invalid and nothing valid, the message says the records were skipped."""
    path = tmp_path / "log.jsonl"
    path.write_text('{"id": "e1"}\n', encoding="utf-8")
    with pytest.raises(EventError) as caught:
        run_file_full(_treaty(NOTE), path, skip_invalid=True)  # type: ignore[arg-type]
    assert caught.value.diagnostics[0].message.startswith(
        "every record of the event log was skipped")
