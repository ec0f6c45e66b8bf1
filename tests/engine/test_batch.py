"""Batch runs over files in every format equal the Monitor fed with the same events."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from engine_builders import (
    GUARANTOR,
    ROLE_UA,
    T0,
    attack,
    c,
    consult,
    each,
    ev,
    obligation,
    party,
    pat,
    prohibition,
    ref,
    single,
    three_days,
    treaty,
    when,
    within,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foedus.diagnostics import EventError, render_text
from foedus.engine.batch import EmptyLogError, run_file_full
from foedus.engine.monitor import Monitor
from foedus.events import Event, load_events, write_events
from foedus.language import model as m
from foedus.report import result_to_json

# Three clauses the columnar path handles: S4 (exceptions and an action bound to the
# trigger, a carve-out), a fixed report within hours, and an obligation whose action has
# the trigger's own type (an event never fulfils what it triggers).
COLUMNAR = treaty(
    three_days(),
    obligation("report", when(pat("armed_attack"), "a"), each(GUARANTOR, ref("a", "aggressor")),
               pat("report"), within(30, "hours")),
    obligation("answer", when(pat("consultations", c("with", party("UA"))), "talk"),
               each(ROLE_UA), pat("consultations", c("by", party("UA"))), within(2, "days"),
               beneficiary=ref("talk", "by")),
)
# The same with a prohibition: the batch run feeds the kept rows to the monitor.
GENERAL = treaty(
    three_days(),
    prohibition("neutrality", single("UA"), pat("join_alliance")),
)
ZONES = (UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5)))
PLACES = ("Kyiv", "Sevastopol", "Poland", "Crimea")
WHO = ("UA", "US", "GB", "FR", "RU", "TR")


@st.composite
def logs(draw: Any) -> list[Event]:
    """Random logs: ties in time, several offsets, relevant and irrelevant event types."""
    n = draw(st.integers(0, 40))
    out = []
    for i in range(n):
        hours = draw(st.integers(0, 200))
        at = (T0 + timedelta(hours=hours)).astimezone(draw(st.sampled_from(ZONES)))
        kind = draw(st.sampled_from(("attack", "consult", "report", "join", "signature")))
        who = draw(st.sampled_from(WHO))
        eid = f"e{draw(st.integers(0, 9))}{i}"
        if kind == "attack":
            out.append(attack(eid, at, aggressor=who, victim=draw(st.sampled_from(("UA", "GB"))),
                              place=draw(st.sampled_from(PLACES))))
        elif kind == "consult":
            out.append(consult(eid, at, by=who, with_=draw(st.sampled_from(("UA", "RU")))))
        elif kind == "report":
            out.append(ev(eid, at, "report", by=who, size=float(draw(st.integers(0, 5)))))
        elif kind == "join":
            out.append(ev(eid, at, "join_alliance", member=who, alliance="NATO", kind="military"))
        else:
            out.append(ev(eid, at, "signature", by=who))
    return out


def _json(result: Any) -> str:
    return json.dumps(result_to_json(result), sort_keys=True)


def _monitor(t: m.Treaty, events: list[Event], as_of: datetime | None) -> str:
    monitor = Monitor(t)
    monitor.feed_many(events)
    return _json(monitor.status(as_of if as_of is not None else max(e.at for e in events)))


def _as_of(events: list[Event], shift: int | None) -> datetime | None:
    return None if shift is None else T0 + timedelta(hours=shift)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet", ".arrow"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=logs(), shift=st.one_of(st.none(), st.integers(-10, 260)))
def test_batch_equals_monitor(suffix: str, events: list[Event], shift: int | None) -> None:
    """On random logs a batch run gives the Monitor's result, byte for byte in JSON."""
    as_of = _as_of(events, shift)
    if not events and as_of is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"log{suffix}"
        write_events(path, events)
        run = run_file_full(COLUMNAR, path, as_of)
        loaded, _ = load_events(path, COLUMNAR)  # Parquet and Arrow hold UTC times
    assert run.count == len(events)
    assert _json(run.result) == _monitor(COLUMNAR, loaded, as_of)


@settings(max_examples=25, deadline=None)
@given(events=logs(), shift=st.one_of(st.none(), st.integers(-10, 260)))
def test_batch_with_a_prohibition_equals_monitor(events: list[Event], shift: int | None) -> None:
    """A treaty the columns cannot evaluate gets the Monitor's result from the kept rows."""
    as_of = _as_of(events, shift)
    if not events and as_of is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.jsonl"
        write_events(path, events)
        run = run_file_full(GENERAL, path, as_of)
    assert _json(run.result) == _monitor(GENERAL, events, as_of)


def test_offsets_kept_from_the_text(tmp_path: Path) -> None:
    """Times keep the offset written in the file, as the record reader keeps them."""
    kyiv = T0.astimezone(timezone(timedelta(hours=3)))
    path = tmp_path / "log.jsonl"
    write_events(path, [attack("a1", kyiv)])
    result = run_file_full(COLUMNAR, path).result
    assert result.as_of.isoformat() == "2022-03-29T10:00:00+03:00"
    assert result.obligations[0].due_at.isoformat() == "2022-04-01T10:00:00+03:00"


def test_spaces_around_a_time(tmp_path: Path) -> None:
    """A time with spaces around it is read as the record reader reads it (stripped)."""
    path = tmp_path / "log.jsonl"
    line = {"id": "a1", "at": " 2022-03-29T10:00:00+03:00 ", "type": "armed_attack",
            "aggressor": "RU", "victim": "UA", "place": "Kyiv"}
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    run = run_file_full(COLUMNAR, path)
    events, _ = load_events(path, COLUMNAR)
    assert _json(run.result) == _monitor(COLUMNAR, events, None)


def test_bad_log_gives_the_record_readers_messages(tmp_path: Path) -> None:
    """One bad record anywhere: nothing is evaluated and the diagnostics are load_events'."""
    path = tmp_path / "log.jsonl"
    good = json.dumps({"id": "a1", "at": "2022-03-29T10:00:00Z", "type": "armed_attack",
                       "aggressor": "RU", "victim": "UA", "place": "Kyiv"})
    bad = json.dumps({"id": "a1", "at": "2022-03-29T11:00:00Z", "type": "consultations",
                      "by": "UK", "with": "UA"})
    path.write_text(f"{good}\n{bad}\n", encoding="utf-8")
    with pytest.raises(EventError) as batch:
        run_file_full(COLUMNAR, path)
    with pytest.raises(EventError) as records:
        load_events(path, COLUMNAR)
    assert render_text(batch.value.diagnostics, {}) == render_text(records.value.diagnostics, {})
    assert {d.code for d in batch.value.diagnostics} == {"event-unknown-party",
                                                         "event-duplicate-id"}


@pytest.mark.parametrize("ids", [("b", "a", "b"), ("e1", "e2", "e2"), ("e9", "e10", "e9")])
def test_repeated_id_found_in_any_order(tmp_path: Path, ids: tuple[str, str, str]) -> None:
    """A repeated id is refused whether or not the ids rise, as load_events refuses it."""
    path = tmp_path / "log.parquet"
    write_events(path, [consult(i, T0 + timedelta(hours=k), by="US") for k, i in enumerate(ids)])
    with pytest.raises(EventError) as refused:
        run_file_full(COLUMNAR, path)
    assert [d.code for d in refused.value.diagnostics] == ["event-duplicate-id"]


def test_skip_invalid_applies_the_valid_events(tmp_path: Path) -> None:
    """With skip_invalid the result is the Monitor's on the valid events, with diagnostics."""
    path = tmp_path / "log.jsonl"
    lines = [
        {"id": "a1", "at": "2022-03-29T10:00:00Z", "type": "armed_attack", "aggressor": "RU",
         "victim": "UA", "place": "Kyiv"},
        {"id": "c1", "at": "2022-03-29T12:00:00Z", "type": "consultations", "by": "US",
         "with": 3},
        {"id": "c2", "at": "2022-03-29T13:00:00Z", "type": "consultations", "by": "GB",
         "with": "UA"},
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    run = run_file_full(COLUMNAR, path, skip_invalid=True)
    events, diags = load_events(path, COLUMNAR, skip_invalid=True)
    assert [d.code for d in run.diagnostics] == [d.code for d in diags] == ["event-wrong-type"]
    assert run.count == 2
    assert _json(run.result) == _monitor(COLUMNAR, events, None)


def test_empty_log_needs_an_as_of(tmp_path: Path) -> None:
    """An empty log without an as-of time is refused with `no-as-of`; with one it runs."""
    path = tmp_path / "log.jsonl"
    path.write_text("", encoding="utf-8")
    with pytest.raises(EmptyLogError) as refused:
        run_file_full(COLUMNAR, path)
    assert [d.code for d in refused.value.diagnostics] == ["no-as-of"]
    result = run_file_full(COLUMNAR, path, T0).result
    assert len(result.obligations) == 0


def test_nested_fields_and_blank_lines_read_like_records(tmp_path: Path) -> None:
    """A log the block reader leaves to the record reader still gives the Monitor's result."""
    path = tmp_path / "log.jsonl"
    first = {"id": "a1", "at": "2022-03-29T10:00:00+03:00", "type": "armed_attack",
             "fields": {"aggressor": "RU", "victim": "UA", "place": "Kyiv"}}
    second = {"id": "c1", "at": "2022-03-30T10:00:00+03:00", "type": "consultations",
              "fields": {"by": "US", "with": "UA"}}
    path.write_text(json.dumps(first) + "\n\n" + json.dumps(second) + "\n", encoding="utf-8")
    run = run_file_full(COLUMNAR, path)
    events, _ = load_events(path, COLUMNAR)
    assert _json(run.result) == _monitor(COLUMNAR, events, None)
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n", encoding="utf-8")
    nested = run_file_full(COLUMNAR, path)
    assert _json(nested.result) == _json(run.result)


def test_bad_times_in_a_table_named_per_row(tmp_path: Path) -> None:
    """A text `at` column with a bad time gives load_events' per-row message, not a read error."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "log.parquet"
    pq.write_table(pa.table({"id": ["c1", "c2"], "at": ["2022-03-29T10:00:00Z", "yesterday"],
                             "type": ["consultations"] * 2, "by": ["US", "GB"],
                             "with": ["UA", "UA"]}), path)
    with pytest.raises(EventError) as batch:
        run_file_full(COLUMNAR, path)
    with pytest.raises(EventError) as records:
        load_events(path, COLUMNAR)
    assert [d.code for d in batch.value.diagnostics] == ["event-bad-time"]
    assert render_text(batch.value.diagnostics, {}) == render_text(records.value.diagnostics, {})


def test_not_parquet_is_unreadable(tmp_path: Path) -> None:
    """A file that is not Parquet gets `events-file-unreadable`, as from load_events."""
    path = tmp_path / "log.parquet"
    path.write_text("not parquet", encoding="utf-8")
    with pytest.raises(EventError) as refused:
        run_file_full(COLUMNAR, path)
    assert [d.code for d in refused.value.diagnostics] == ["events-file-unreadable"]


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is an `events-file-missing` error, as for load_events."""
    with pytest.raises(EventError) as missing:
        run_file_full(COLUMNAR, tmp_path / "nope.parquet")
    assert [d.code for d in missing.value.diagnostics] == ["events-file-missing"]


@settings(max_examples=20, deadline=None)
@given(events=logs(), seed=st.randoms(use_true_random=False))
def test_a_log_out_of_order_is_sorted_in_runs_on_disk(events: list[Event], seed: Any) -> None:
    """A log not in time order is applied sorted, through runs of 3 events spilled to disk."""
    from foedus.engine import spill

    if not events:
        return
    shuffled = list(events)
    seed.shuffle(shuffled)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.jsonl"
        write_events(path, shuffled)
        original = spill.RUN
        spill.RUN = 3
        try:
            run = run_file_full(GENERAL, path)
        finally:
            spill.RUN = original
    assert _json(run.result) == _monitor(GENERAL, events, None)
    assert run.count == len(events)
    assert run.path == ("sorted" if shuffled != sorted(shuffled, key=lambda e: (e.at, e.id))
                        else "in order")


@settings(max_examples=25, deadline=None)
@given(events=logs(), shift=st.one_of(st.none(), st.integers(-10, 260)))
def test_counts_only_runs_count_what_full_runs_list(events: list[Event],
                                                     shift: int | None) -> None:
    """A run that keeps counts only (dropping what is settled) counts every verdict."""
    as_of = _as_of(events, shift)
    if not events and as_of is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.jsonl"
        write_events(path, events)
        for t in (GENERAL, COLUMNAR):
            full = run_file_full(t, path, as_of).result
            lean = run_file_full(t, path, as_of, verdicts=False).result
            assert lean.counts() == full.counts()
            assert sum(sum(v.values()) for v in full.counts().values()) == len(full.obligations)
