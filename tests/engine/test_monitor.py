"""Obligations, prohibitions and permissions run by the monitor (docs/semantics.md §1, §3, §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from engine_builders import (
    GUARANTOR,
    GUARANTORS,
    ROLE_UA,
    anyof,
    at,
    atleast,
    attack,
    by_date,
    by_status,
    c,
    consult,
    each,
    ev,
    obligation,
    on,
    party,
    pat,
    prohibition,
    ref,
    run,
    single,
    terr,
    three_days,
    treaty,
    when,
    within,
)

from foedus.engine.monitor import Monitor
from foedus.events import Event
from foedus.language import model as m


def test_consultation_within_three_days_fulfils_and_silence_violates() -> None:
    """Example 3.1: TR consults in time, the other guarantors (not RU, the aggressor) do not."""
    mon = run(treaty(three_days()), [attack("e1", at(0)), consult("e2", at(hours=5), "TR")])
    result = mon.status(at(days=4))
    statuses = by_status(result)
    assert "three_days/e1/RU" not in statuses
    assert statuses["three_days/e1/TR"] == "fulfilled"
    assert statuses["three_days/e1/US"] == "violated"
    assert len(statuses) == 8
    us = next(o for o in result.obligations if o.obligor == "US")
    assert us.settled_at == at(days=3) == us.due_at
    assert us.beneficiary == "UA"
    assert us.explanation.reason == (
        "It arose from armed_attack e1 at 2022-03-29T10:00+03:00; due 2022-04-01T10:00+03:00; "
        "no consultations(with: UA) by US by then."
    )


def test_obligation_is_pending_until_the_due_time_passes() -> None:
    """Example 3.2: at the due instant the obligation is still pending; just after, violated."""
    mon = run(treaty(three_days()), [attack("e1", at(0))])
    assert by_status(mon.status(at(days=3)))["three_days/e1/US"] == "pending"
    later = at(days=3) + timedelta(microseconds=1)
    assert by_status(mon.status(later))["three_days/e1/US"] == "violated"


def test_due_time_is_inclusive() -> None:
    """Example 3.2: an action exactly at the due time fulfils the obligation."""
    mon = run(treaty(three_days()), [attack("e1", at(0)), consult("e2", at(days=3), "US")])
    assert by_status(mon.status(at(days=5)))["three_days/e1/US"] == "fulfilled"


def test_action_before_the_trigger_does_not_count() -> None:
    """An action that happened before the trigger fulfils nothing."""
    mon = run(treaty(three_days()), [consult("e0", at(-1), "US"), attack("e1", at(0))])
    assert by_status(mon.status(at(days=5)))["three_days/e1/US"] == "violated"


def test_action_must_match_the_bound_beneficiary() -> None:
    """A consultation with another party than the attack's victim does not fulfil."""
    mon = run(treaty(three_days()), [attack("e1", at(0)), consult("e2", at(1), "US", "PL")])
    assert by_status(mon.status(at(days=5)))["three_days/e1/US"] == "violated"


def test_carve_out_gives_a_non_arising_with_the_reason() -> None:
    """Example 3.3: an attack in Sevastopol is inside Crimea, which the clause excludes."""
    mon = run(treaty(three_days()), [attack("e1", at(0), place="Sevastopol")])
    result = mon.status(at(days=5))
    assert result.obligations == ()
    (na,) = result.not_arisen
    assert (na.clause, na.event) == ("three_days", "e1")
    assert na.reason == "place Sevastopol is within Crimea, which clause three_days excludes"
    explained = mon.explain("three_days", at(days=5))
    assert explained is not None and "Sevastopol is within Crimea" in explained.reason


def test_positive_constraint_failure_is_not_reported() -> None:
    """An attack on another victim is simply not the clause's business."""
    mon = run(treaty(three_days()), [attack("e1", at(0), victim="PL", place="Poland")])
    assert mon.status(at(days=5)).not_arisen == ()


def test_no_obligor_left() -> None:
    """Example 3.4: when every member is excepted, nothing arises and the reason says so."""
    lone = obligation("lone", when(pat("armed_attack"), "a"), each(ROLE_UA, ref("a", "victim")),
                      pat("consultations"), within(1))
    mon = run(treaty(lone), [attack("e1", at(0))])
    result = mon.status(at(days=2))
    assert result.obligations == ()
    assert result.not_arisen[0].reason == (
        "no obligor left: every UA is excepted (a.victim = UA)"
    )


def test_any_of_is_one_collective_instance() -> None:
    """Example 3.5: `any of guarantor` is met by the first guarantor who acts."""
    clause = obligation("help", when(pat("armed_attack"), "a"),
                        anyof(GUARANTOR, ref("a", "aggressor")),
                        pat("assistance", c("to", ref("a", "victim"))), within(3))
    mon = run(treaty(clause), [attack("e1", at(0)),
                               ev("e2", at(1), "assistance", by="RU", to="UA"),
                               ev("e3", at(2), "assistance", by="FR", to="UA")])
    (only,) = mon.status(at(days=5)).obligations
    assert (only.id, only.obligor, only.state.value, only.settled_by) == (
        "help/e1/any", "any of guarantor", "fulfilled", "e3")


def test_at_least_k_needs_k_distinct_members() -> None:
    """Example 3.5: `at least 2 of guarantor` needs two different guarantors."""
    clause = obligation("help", when(pat("armed_attack"), "a"), atleast(2), pat("assistance"),
                        within(3))
    one_twice = [attack("e1", at(0)), ev("e2", at(1), "assistance", by="FR", to="UA"),
                 ev("e3", at(2), "assistance", by="FR", to="UA")]
    (item,) = run(treaty(clause), one_twice).status(at(days=5)).obligations
    assert (item.obligor, item.state.value) == ("2 of guarantor", "violated")
    assert "only 1 of 2 acted" in item.explanation.reason
    two = [*one_twice, ev("e4", at(2.5), "assistance", by="DE", to="UA")]
    (item,) = run(treaty(clause), two).status(at(days=5)).obligations
    assert (item.state.value, item.settled_by) == ("fulfilled", "e4")


def test_one_action_fulfils_every_open_instance_it_matches() -> None:
    """Two attacks, one consultation: both of TR's pending obligations are fulfilled."""
    mon = run(treaty(three_days()), [attack("e1", at(0)), attack("e2", at(1)),
                                     consult("e3", at(2), "TR")])
    statuses = by_status(mon.status(at(days=9)))
    assert statuses["three_days/e1/TR"] == statuses["three_days/e2/TR"] == "fulfilled"


def test_reparation_fires_at_the_due_time_with_obligor_binding() -> None:
    """Example 3.6: a violated consultation obliges the others to assist, from its due time."""
    repair = obligation("repair", on("violated", "three_days", "breach"),
                        each(GUARANTOR, ref("breach", "obligor"), ref("breach", "aggressor")),
                        pat("assistance", c("to", ref("breach", "victim"))), within(2))
    t = treaty(three_days(), repair)
    events = [attack("e1", at(0))] + [consult(f"c{p}", at(1), p) for p in GUARANTORS if
                                      p not in ("RU", "US")]
    result = run(t, events).status(at(days=10))
    repairs = [o for o in result.obligations if o.clause == "repair"]
    assert {o.obligor for o in repairs} == set(GUARANTORS) - {"US", "RU"}
    assert all(o.triggered_at == at(days=3) and o.due_at == at(days=5) for o in repairs)
    assert repairs[0].id == "repair/three_days/e1/US/" + repairs[0].obligor
    assert repairs[0].trigger_event == "e1"


def test_fulfilled_trigger_fires_at_the_fulfilling_event() -> None:
    """A `fulfilled(c)` clause arises when the obligation is met."""
    thanks = obligation("thanks", on("fulfilled", "three_days", "done"), single("UA"),
                        pat("consultations", c("with", ref("done", "obligor"))), within(1))
    mon = run(treaty(three_days(), thanks), [attack("e1", at(0)), consult("e2", at(1), "TR")])
    (item,) = [o for o in mon.status(at(days=1)).obligations if o.clause == "thanks"]
    assert item.triggered_at == at(1) and item.action == "consultations(with: TR)"


def test_dated_obligation_arises_at_the_start() -> None:
    """Example 3.7: an obligation with a date and no trigger exists from the start."""
    dated = obligation("talks", None, single("UA"), pat("consultations"), by_date(at(days=14)))
    mon = run(treaty(dated), [])
    (item,) = mon.status(at(days=1)).obligations
    assert (item.id, item.state.value, item.triggered_at) == ("talks/start/UA", "pending", None)
    assert by_status(mon.status(at(days=15)))["talks/start/UA"] == "violated"


def test_prohibition_violated_by_each_matching_event() -> None:
    """Example 6.1: every alliance UA joins is one violation, settled by that event."""
    neutral = prohibition("neutrality", single("UA"),
                          pat("join_alliance", c("member", party("UA"))))
    events = [ev("e1", at(1), "join_alliance", member="UA", alliance="NATO", kind="military"),
              ev("e2", at(2), "join_alliance", member="PL", alliance="NATO", kind="military"),
              ev("e3", at(3), "join_alliance", member="UA", alliance="EU", kind="political")]
    result = run(treaty(neutral), events).status(at(5))
    assert [(o.id, o.state.value, o.settled_by) for o in result.obligations] == [
        ("neutrality/e1/UA", "violated", "e1"), ("neutrality/e3/UA", "violated", "e3")]


def test_prohibition_respected_is_one_entry() -> None:
    """Example 6.2: with no violation there is one `respected` entry for the clause."""
    neutral = prohibition("neutrality", single("UA"), pat("join_alliance"))
    (only,) = run(treaty(neutral), []).status(at(5)).obligations
    assert (only.id, only.state.value, only.obligor, only.settled_at) == (
        "neutrality/all", "respected", "UA", None)


def test_prohibition_window_bounds_it() -> None:
    """Events outside the prohibition's window are not violations."""
    window = m.Window(at(1), at(2))
    force = prohibition("no_force", each(), pat("armed_attack", c("place", terr("Crimea"))),
                        window)
    events = [attack("e1", at(0.5), place="Crimea"), attack("e2", at(1.5), place="Sevastopol"),
              attack("e3", at(3), place="Crimea")]
    result = run(treaty(force), events).status(at(5))
    assert [o.id for o in result.obligations] == ["no_force/e2/RU"]


def test_permission_records_exercising_events() -> None:
    """Permissions list the events by which a permitted party used the permission."""
    clause = m.Clause("talks", "", (), m.ClauseKind.PERMISSION,
                      m.Permission(each(), pat("consultations"), m.Window(at(0), at(2))))
    events = [consult("e1", at(1), "TR"), consult("e2", at(3), "TR"), consult("e3", at(1), "UA")]
    assert run(treaty(clause), events).status(at(5)).permissions == {"talks": ("e1",)}


def test_guard_failure_is_reported() -> None:
    """A trigger whose guard fails records why nothing arose."""
    guard = m.Compare(ref("a", "aggressor"), m.Op.NE, party("RU"))
    clause = obligation("g", when(pat("armed_attack"), "a", guard), single("UA"),
                        pat("consultations"), within(1))
    result = run(treaty(clause), [attack("e1", at(0))]).status(at(2))
    assert result.not_arisen[0].reason == "the guard `if a.aggressor != RU` does not hold"


def test_status_as_of_ignores_later_events() -> None:
    """A state as of an earlier instant does not see the events after it."""
    mon = run(treaty(three_days()), [attack("e1", at(0)), consult("e2", at(2), "TR")])
    assert by_status(mon.status(at(1)))["three_days/e1/TR"] == "pending"
    assert by_status(mon.status(at(5)))["three_days/e1/TR"] == "fulfilled"
    assert by_status(mon.status(at(1)))["three_days/e1/TR"] == "pending"


def test_late_event_gives_the_sorted_result() -> None:
    """Example 1.1: a consultation fed after a later status call still fulfils in time."""
    mon = Monitor(treaty(three_days()))
    mon.feed(attack("e1", at(0)))
    mon.feed(consult("e3", at(days=4), "US"))
    assert by_status(mon.status(at(days=5)))["three_days/e1/US"] == "violated"
    mon.feed(consult("e2", at(days=2), "US"))
    assert by_status(mon.status(at(days=5)))["three_days/e1/US"] == "fulfilled"


def test_explain_returns_none_for_unknown_ids() -> None:
    """Unknown ids have no explanation."""
    assert Monitor(treaty(three_days())).explain("nope", at(1)) is None


def test_fixed_length_deadline_is_elapsed_time_across_dst() -> None:
    """A 24-hour obligation triggered by an event stamped in Europe/Berlin is due 24 h later."""
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2022, 3, 26, 12, 0, tzinfo=berlin)
    reply = obligation("reply", when(pat("armed_attack"), "a"), single("UA"),
                       pat("consultations"), within(24, "hours"))
    mon = run(treaty(reply), [attack("e1", start)])
    (item,) = mon.status(start + timedelta(days=3)).obligations
    assert item.due_at is not None
    assert item.due_at.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)


def test_status_gives_as_of_as_asked_for_equal_instants_in_other_zones() -> None:
    """The same instant asked for in another zone gives the result a fresh monitor gives."""
    mon = run(treaty(three_days()), [attack("e1", at(0))])
    kyiv, utc_time = at(1), at(1).astimezone(UTC)
    assert mon.status(kyiv).as_of.utcoffset() == timedelta(hours=3)
    again = mon.status(utc_time)
    assert repr(again) == repr(run(treaty(three_days()), [attack("e1", at(0))]).status(utc_time))


def test_times_without_a_zone_are_refused() -> None:
    """A naive as-of time or event time is refused with ValueError; the aware events are kept."""
    mon = Monitor(treaty(three_days()))
    with pytest.raises(ValueError, match="as of 2022-04-01T00:00:00 has no time zone"):
        mon.status(datetime(2022, 4, 1))
    mon.feed_many([attack("e1", at(0)), attack("naive", datetime(2022, 3, 29, 12))])
    with pytest.raises(ValueError, match=r"1 event.s. without a time zone were refused: naive"):
        mon.status(at(days=5))
    assert {o.trigger_event for o in mon.status(at(days=5)).obligations} == {"e1"}
    mon.feed(attack("naive2", datetime(2022, 3, 30)))
    with pytest.raises(ValueError, match="refused: naive2"):
        mon.status(at(days=5))


def test_groups_with_other_reference_values_render_their_own_action() -> None:
    """Two attacks on different victims give each obligation the action with its own victim."""
    clause = obligation(
        "any_victim", when(pat("armed_attack"), "attack"),
        each(GUARANTOR, ref("attack", "aggressor")),
        pat("consultations", c("with", ref("attack", "victim"))), within(3, "days"),
    )
    mon = run(treaty(clause), [attack("e1", at(0)), attack("e2", at(1), victim="PL"),
                               attack("e3", at(2))])
    actions = {o.id: o.action for o in mon.status(at(days=4)).obligations}
    assert actions["any_victim/e1/US"] == "consultations(with: UA)"
    assert actions["any_victim/e2/US"] == "consultations(with: PL)"
    assert actions["any_victim/e3/US"] == "consultations(with: UA)"


@pytest.mark.parametrize("enabled", [True, False])
def test_reading_the_result_leaves_the_garbage_collector_as_it_was(enabled: bool) -> None:
    """Building the obligations pauses the cyclic collector and restores its previous state."""
    import gc

    mon = run(treaty(three_days()), [attack("e1", at(0))])
    result = mon.status(at(days=4))
    was = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        assert len(tuple(result.obligations)) == 8
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def _mixed_log() -> list[Event]:
    """Attacks and consultations, some at the same instant, in no particular order."""
    import random

    rng = random.Random(7)
    out = []
    for i in range(300):
        when_at = at(hours=rng.randrange(0, 200))
        if rng.random() < 0.1:
            out.append(attack(f"e{i}", when_at, aggressor=rng.choice(GUARANTORS)))
        else:
            out.append(consult(f"e{i}", when_at, rng.choice(GUARANTORS)))
    rng.shuffle(out)
    return out


def test_presorted_feeding_gives_the_result_of_unsorted_feeding() -> None:
    """Events fed presorted, in one batch or two, give the results of the same events unsorted."""
    from foedus.engine.monitor import sort_events

    log = _mixed_log()
    ordered = list(log)
    sort_events(ordered)
    plain, whole, split = (Monitor(treaty(three_days())) for _ in range(3))
    plain.feed_many(log)
    whole.feed_many(ordered, presorted=True)
    split.feed_many(ordered[150:], presorted=True)
    split.status(at(days=20))
    split.feed_many(ordered[:150], presorted=True)  # older than what was applied: rolls back
    for as_of in (at(days=2), at(days=5), at(days=20)):
        expected = plain.status(as_of)
        assert whole.status(as_of) == expected
        assert split.status(as_of) == expected


def test_presorted_feeding_refuses_events_out_of_order() -> None:
    """Unsorted events fed as presorted raise ValueError and none of them is added."""
    mon = Monitor(treaty(three_days()))
    with pytest.raises(ValueError, match="e2 comes after event e3"):
        mon.feed_many([attack("e1", at(0)), attack("e3", at(2)), attack("e2", at(1))],
                      presorted=True)
    assert len(mon.status(at(days=4)).obligations) == 0


def test_presorted_feeding_checks_ids_at_equal_times() -> None:
    """At one instant, presorted events must come in id order."""
    mon = Monitor(treaty(three_days()))
    with pytest.raises(ValueError, match="not in \\(at, id\\) order"):
        mon.feed_many([attack("e2", at(0)), attack("e1", at(0))], presorted=True)
    mon.feed_many([attack("e1", at(0)), attack("e2", at(0))], presorted=True)
    assert len(mon.status(at(days=4)).obligations) == 16


def test_presorted_feeding_still_refuses_times_without_a_zone() -> None:
    """A naive time among presorted events is refused by status, and the others are kept."""
    mon = Monitor(treaty(three_days()))
    naive = attack("e2", at(1).replace(tzinfo=None))
    mon.feed_many([attack("e1", at(0)), naive], presorted=True)
    with pytest.raises(ValueError, match="without a time zone"):
        mon.status(at(days=4))
    assert len(mon.status(at(days=4)).obligations) == 8
