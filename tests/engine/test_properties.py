"""Monitor properties over random logs: order, batching, finality, monotonicity, determinism."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from engine_builders import (
    GUARANTOR,
    GUARANTORS,
    at,
    c,
    condition,
    decision,
    each,
    ev,
    obligation,
    on,
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

from foedus.engine import monitor as monitor_module
from foedus.engine.model import RunResult
from foedus.engine.monitor import Monitor
from foedus.events import Event
from foedus.language import model as m

TREATY = treaty(
    condition("entry", "entry_into_force", (pat("ceasefire"),)),
    condition("pause", "suspension", (pat("suspend"),)),
    condition("again", "resumption", (pat("resume"),)),
    condition("end", "termination", (pat("denounce"),)),
    three_days(),
    obligation("repair", on("violated", "three_days", "b"), each(GUARANTOR, ref("b", "obligor")),
               pat("assistance", c("to", ref("b", "victim"))), within(30, "hours")),
    decision("decide", when(pat("armed_attack"), "attack"),
             each(GUARANTOR, ref("attack", "aggressor")), m.Rule(m.RuleKind.MAJORITY),
             within(2, "days")),
    obligation("support", on("adopted", "decide", "d"), each(GUARANTOR, ref("d", "aggressor")),
               pat("assistance", c("to", ref("d", "victim"))), within(1, "days")),
    prohibition("neutrality", single("UA"), pat("join_alliance")),
)
PLACES = ("Kyiv", "Crimea", "Sevastopol", "Poland")
PARTIES = ("UA", *GUARANTORS[:4])


@st.composite
def logs(draw: Any, max_size: int = 30) -> list[Event]:
    """Random event logs over ten days, with unique ids and some equal timestamps."""
    n = draw(st.integers(0, max_size))
    events = []
    for i in range(n):
        when_at = at(hours=draw(st.integers(0, 240)) / 2)
        kind = draw(st.sampled_from(["attack", "consult", "assist", "vote", "join", "ceasefire",
                                     "suspend", "resume", "denounce"]))
        eid = f"e{i:03d}"
        who = draw(st.sampled_from(PARTIES))
        if kind == "attack":
            events.append(ev(eid, when_at, "armed_attack", aggressor=who, victim="UA",
                             place=draw(st.sampled_from(PLACES))))
        elif kind == "consult":
            events.append(ev(eid, when_at, "consultations", by=who, with_="UA"))
        elif kind == "assist":
            events.append(ev(eid, when_at, "assistance", by=who, to="UA"))
        elif kind == "vote":
            events.append(ev(eid, when_at, "vote", by=who, decision="decide",
                             choice=draw(st.sampled_from(["yes", "no", "abstain"]))))
        elif kind == "join":
            events.append(ev(eid, when_at, "join_alliance", member="UA", alliance="X",
                             kind="military"))
        elif kind == "denounce":
            if draw(st.integers(0, 3)) == 0:  # keep terminations rare
                events.append(ev(eid, when_at, "denounce", by=who))
        else:
            events.append(ev(eid, when_at, kind))
    return events


as_of_hours = st.integers(0, 300)
PROPS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def status(events: list[Event], as_of: datetime) -> RunResult:
    mon = Monitor(TREATY)
    mon.feed_many(sorted(events, key=lambda e: (e.at, e.id)))
    return mon.status(as_of)


def final(result: RunResult) -> dict[str, Any]:
    """Every settled verdict of a result: id -> (status, settled time, settled by)."""
    out: dict[str, Any] = {
        o.id: (o.state, o.settled_at, o.settled_by)
        for o in result.obligations
        if o.state.value in ("fulfilled", "violated", "discharged")
    }
    out.update({d.id: (d.state, d.resolved_at) for d in result.decisions
                if d.state.value != "open"})
    return out


@PROPS
@given(logs(), st.randoms(use_true_random=False), as_of_hours)
def test_any_arrival_order_equals_sorted_arrival(events: list[Event], rnd: Any, h: int) -> None:
    """Feeding a shuffled log gives the same result as feeding it sorted."""
    shuffled = list(events)
    rnd.shuffle(shuffled)
    mon = Monitor(TREATY)
    for e in shuffled:
        mon.feed(e)
    assert mon.status(at(h)) == status(events, at(h))


@PROPS
@given(logs(), st.randoms(use_true_random=False), st.lists(as_of_hours, max_size=6), as_of_hours)
def test_incremental_feed_with_queries_equals_batch(
    events: list[Event], rnd: Any, probes: list[int], h: int
) -> None:
    """Feeding one event at a time, asking for states in between, equals one batch feed."""
    shuffled = list(events)
    rnd.shuffle(shuffled)
    mon = Monitor(TREATY)
    for i, e in enumerate(shuffled):
        mon.feed(e)
        if probes and i % 4 == 0:
            mon.status(at(probes[i % len(probes)]))
    assert mon.status(at(h)) == status(events, at(h))


@PROPS
@given(logs(), as_of_hours, st.integers(0, 200))
def test_a_final_verdict_never_changes_when_later_events_arrive(
    events: list[Event], h: int, extra: int
) -> None:
    """Verdicts settled as of T stay as they are once events after T are fed."""
    cut = at(h)
    mon = Monitor(TREATY)
    mon.feed_many([e for e in events if e.at <= cut])
    before = mon.status(cut)
    mon.feed_many([e for e in events if e.at > cut])
    after = mon.status(cut + timedelta(hours=extra))
    settled_after = final(after)
    for key, verdict in final(before).items():
        assert settled_after[key] == verdict
    assert after.not_arisen[: len(before.not_arisen)] == before.not_arisen


@PROPS
@given(logs(), as_of_hours, st.integers(0, 200))
def test_status_only_moves_forward(events: list[Event], h: int, extra: int) -> None:
    """Over increasing as-of times, instances never disappear and settled ones never change."""
    mon = Monitor(TREATY)
    mon.feed_many(events)
    early, late = mon.status(at(h)), mon.status(at(h + extra))
    late_by_id = {o.id: o for o in late.obligations}
    for o in early.obligations:
        if o.state.value == "respected":
            continue
        assert o.id in late_by_id
        if o.state.value != "pending":
            assert late_by_id[o.id].state == o.state
    assert final(early).items() <= final(late).items()


@PROPS
@given(logs(), as_of_hours)
def test_same_inputs_give_identical_results(events: list[Event], h: int) -> None:
    """Two monitors on the same log, one fed it sorted and one fed it in reverse (`at`, `id`)
    order, unsorted, give equal results, with identical text."""
    backwards = sorted(events, key=lambda e: (e.at, e.id), reverse=True)
    mon = Monitor(TREATY)
    mon.feed_many(backwards)
    a, b = status(events, at(h)), mon.status(at(h))
    assert a == b
    assert repr(a) == repr(b)


@PROPS
@given(logs(), st.randoms(use_true_random=False), as_of_hours)
def test_rollback_to_checkpoints_equals_batch(events: list[Event], rnd: Any, h: int) -> None:
    """With a checkpoint every few events, late events roll back and replay to the same result."""
    saved = monitor_module.MIN_CHECKPOINT_GAP
    monitor_module.MIN_CHECKPOINT_GAP = 2
    try:
        shuffled = list(events)
        rnd.shuffle(shuffled)
        mon = Monitor(TREATY)
        for i, e in enumerate(shuffled):
            mon.feed(e)
            if i % 3 == 0:
                mon.status(at(240))
        assert mon.status(at(h)) == status(events, at(h))
    finally:
        monitor_module.MIN_CHECKPOINT_GAP = saved


@PROPS
@given(logs(), st.randoms(use_true_random=False), as_of_hours)
def test_horizon_keeps_results_exact_for_events_within_it(
    events: list[Event], rnd: Any, h: int
) -> None:
    """With a horizon, events at most that late give the exact result; older ones are refused."""
    saved = monitor_module.MIN_CHECKPOINT_GAP
    monitor_module.MIN_CHECKPOINT_GAP = 1
    try:
        horizon = timedelta(hours=24)
        ordered = sorted(events, key=lambda e: (e.at, e.id))
        # deliver each event late by up to 12 hours: a slightly shuffled stream
        stream = sorted(ordered, key=lambda e: (e.at + timedelta(hours=rnd.randint(0, 12)), e.id))
        mon = Monitor(TREATY, horizon=horizon)
        for e in stream:
            mon.feed(e)
            mon.status(e.at)
        assert mon.status(at(300)) == status(events, at(300))
        assert mon._offset + len(mon._log) == len(events)  # dropped from the front, none lost
    finally:
        monitor_module.MIN_CHECKPOINT_GAP = saved


def test_horizon_refuses_an_event_older_than_it() -> None:
    """An event older than the horizon is refused with ValueError; the state is unchanged."""
    saved = monitor_module.MIN_CHECKPOINT_GAP
    monitor_module.MIN_CHECKPOINT_GAP = 1
    try:
        mon = Monitor(TREATY, horizon=timedelta(hours=1))
        for i in range(0, 100, 5):
            mon.feed(ev(f"e{i:03d}", at(days=i), "ceasefire"))
            mon.status(at(days=i))
        before = mon.status(at(days=200))
        assert len(mon._log) < 20
        mon.feed(ev("old", at(days=1), "join_alliance", member="UA", alliance="X",
                    kind="military"))
        mon.feed(ev("new", at(days=150), "join_alliance", member="UA", alliance="X",
                    kind="military"))
        with pytest.raises(ValueError, match=r"1 event.s. older than the horizon .* refused: old"):
            mon.status(at(days=200))
        after = mon.status(at(days=200))
        assert [o.id for o in before.obligations] == ["neutrality/all"]
        # the old breach was not recorded, the new one fed with it was
        assert [o.id for o in after.obligations] == ["neutrality/new/UA"]
        with pytest.raises(ValueError, match=r"as of .* is older than the horizon"):
            mon.status(at(days=2))
    finally:
        monitor_module.MIN_CHECKPOINT_GAP = saved


@PROPS
@given(logs(), st.randoms(use_true_random=False), as_of_hours, st.lists(as_of_hours, max_size=4))
def test_later_calls_do_not_change_an_earlier_result(
    events: list[Event], rnd: Any, h: int, probes: list[int]
) -> None:
    """A result read after more feeding and status calls still shows the state as of its time."""
    shuffled = list(events)
    rnd.shuffle(shuffled)
    half = len(shuffled) // 2
    mon = Monitor(TREATY)
    mon.feed_many(shuffled[:half])
    early = mon.status(at(h))  # its lazy parts are built only when read, below
    mon.feed_many(shuffled[half:])
    for p in probes:
        mon.status(at(p))
    assert repr(early) == repr(status(shuffled[:half], at(h)))
