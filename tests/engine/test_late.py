"""Late performance: a violated obligation records the first later act that would have
fulfilled it, and stays violated (docs/semantics.md §3)."""

from __future__ import annotations

import random
from datetime import timedelta

from engine_builders import (
    GUARANTOR,
    at,
    atleast,
    attack,
    by_status,
    condition,
    consult,
    ev,
    obligation,
    pat,
    run,
    three_days,
    treaty,
    when,
    within,
)

from foedus.engine.monitor import Monitor
from foedus.events import Event

LATE = at(days=3) + timedelta(minutes=31)  # 31 minutes past the due time of an attack at T0


def _us(events: list[Event], days: float = 5) -> object:
    result = run(treaty(three_days()), events).status(at(days=days))
    return next(o for o in result.obligations if o.id == "three_days/e1/US")


def test_an_act_after_the_due_time_is_recorded_and_the_verdict_stays_violated() -> None:
    """Example 3.9: US consults 31 minutes after its due time: violated, performed 31 min
    late by e5; the verdict and its time are unchanged."""
    us = _us([attack("e1", at(0)), consult("e5", LATE, "US")])
    assert (us.state.value, us.settled_at, us.settled_by) == ("violated", at(days=3), None)
    assert (us.performed_by, us.performed_at, us.late_by) == ("e5", LATE,
                                                            timedelta(minutes=31))
    assert us.explanation.reason.endswith(
        "no consultations(with: UA) by US by then. It was performed 31 min late by e5 at "
        "2022-04-01T10:31+03:00.")
    assert us.explanation.events == ("e1", "e5")


def test_nothing_is_recorded_before_the_act_or_without_one() -> None:
    """Pending and unperformed violated instances have no late act."""
    events = [attack("e1", at(0)), consult("e5", LATE, "US")]
    assert _us(events, days=2.5).performed_by is None
    assert _us(events[:1]).performed_by is None
    assert _us(events, days=3.01).performed_by is None  # (the act is later than as of)


def test_an_act_by_another_party_or_of_another_action_does_not_count() -> None:
    """GB's late consultation is GB's; a consultation with PL is not the action owed."""
    us = _us([attack("e1", at(0)), consult("e5", LATE, "GB"),
              consult("e6", LATE, "US", with_="PL")])
    assert us.performed_by is None
    result = run(treaty(three_days()), [attack("e1", at(0)), consult("e5", LATE, "GB")])
    late = {o.id: o.performed_by for o in result.status(at(days=5)).obligations
            if o.performed_by}
    assert late == {"three_days/e1/GB": "e5"}


def test_a_second_late_act_does_not_replace_the_first() -> None:
    """The first later act is kept."""
    us = _us([attack("e1", at(0)), consult("e5", LATE, "US"),
              consult("e6", LATE + timedelta(hours=1), "US")])
    assert (us.performed_by, us.late_by) == ("e5", timedelta(minutes=31))


def test_a_fulfilled_obligation_has_no_late_act() -> None:
    """An act in time fulfils; later acts are nothing."""
    us = _us([attack("e1", at(0)), consult("e2", at(days=1), "US"), consult("e5", LATE, "US")])
    assert (us.state.value, us.settled_by, us.performed_by) == ("fulfilled", "e2", None)


def test_a_collective_obligation_is_performed_when_its_kth_member_acts() -> None:
    """Example 3.9: `at least 2 of guarantor`: FR in time, FR again late (still one member),
    then DE late: performed at DE's act."""
    clause = obligation("help", when(pat("armed_attack"), "a"), atleast(2, GUARANTOR),
                        pat("assistance"), within(3))
    events = [attack("e1", at(0)), ev("e2", at(days=1), "assistance", by="FR", to="UA"),
              ev("e3", LATE, "assistance", by="FR", to="UA")]
    (item,) = run(treaty(clause), events).status(at(days=5)).obligations
    assert (item.state.value, item.performed_by) == ("violated", None)
    events.append(ev("e4", LATE + timedelta(hours=2), "assistance", by="DE", to="UA"))
    (item,) = run(treaty(clause), events).status(at(days=5)).obligations
    assert (item.state.value, item.performed_by) == ("violated", "e4")
    assert item.late_by == timedelta(hours=2, minutes=31)
    assert item.explanation.events == ("e1", "e2", "e4")


def test_a_discharged_obligation_waits_for_no_late_act() -> None:
    """Termination ends the duties: a violated one is no longer performed after it, a
    pending one is discharged."""
    ends = condition("ends", "termination", (pat("denounce"),))
    events = [attack("e1", at(0)), ev("d", at(days=3.5), "denounce", by="UA"),
              consult("e5", at(days=4), "US")]
    result = run(treaty(three_days(), ends), events).status(at(days=5))
    assert {o.performed_by for o in result.obligations} == {None}
    before = [attack("e1", at(0)), consult("e5", LATE, "US"),
              ev("d", at(days=3.5), "denounce", by="UA")]
    result = run(treaty(three_days(), ends), before).status(at(days=5))
    us = next(o for o in result.obligations if o.obligor == "US")
    assert us.performed_by == "e5"


def test_arrival_order_and_status_in_between_do_not_matter() -> None:
    """Fed shuffled, with a status asked between events (checkpoints, rollbacks and copies
    of the state), the result is the sorted one's."""
    events = [attack("e1", at(0)), attack("e2", at(days=1)), consult("e3", at(days=2), "TR"),
              consult("e5", LATE, "US"), consult("e6", at(days=4.2), "GB"),
              consult("e7", at(days=4.5), "US"), consult("e8", at(days=6), "FR")]
    expected = run(treaty(three_days()), events).status(at(days=7))
    for seed in range(8):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        mon = Monitor(treaty(three_days()))
        for i, e in enumerate(shuffled):
            mon.feed(e)
            before = mon.status(at(days=7))
            if i % 2:
                mon.status(at(days=3.5))
        assert mon.status(at(days=7)) == expected
        assert repr(before) == repr(expected)
    late = {o.id: o.performed_by for o in expected.obligations if o.performed_by}
    assert late["three_days/e1/US"] == "e5"  # which fulfils e2's in time: e7 is nothing
    assert "three_days/e2/US" not in late
    assert late["three_days/e1/GB"] == late["three_days/e2/GB"] == "e6"
    assert late["three_days/e1/FR"] == late["three_days/e2/FR"] == "e8"


def test_an_earlier_result_is_not_changed_by_a_later_act() -> None:
    """A status past the due time is a copy: the act fed after it changes later ones only."""
    mon = run(treaty(three_days()), [attack("e1", at(0))])
    early = mon.status(at(days=3.2))
    mon.feed(consult("e5", at(days=3.3), "US"))
    late = mon.status(at(days=4))
    assert by_status(early) == by_status(late)
    assert [o.performed_by for o in early.obligations if o.obligor == "US"] == [None]
    assert [o.performed_by for o in late.obligations if o.obligor == "US"] == ["e5"]
