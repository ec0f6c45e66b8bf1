"""What one event did, and why it did nothing more: ``explain_event`` over a run's records."""

from __future__ import annotations

from pathlib import Path

from engine_builders import (
    GUARANTOR,
    at,
    attack,
    c,
    condition,
    consult,
    each,
    ev,
    obligation,
    pat,
    ref,
    run,
    three_days,
    treaty,
    when,
    within,
)

from foedus import check_file, run_file_full
from foedus.engine.model import EventEffect, EventExplanation

ROOT = Path(__file__).resolve().parents[2]


def _kinds(x: EventExplanation, clause: str) -> list[EventEffect]:
    return [e for e in (*x.effects, *x.misses) if e.clause == clause]


def test_attack_in_crimea_triggers_nothing_and_says_it_is_carved_out() -> None:
    """An attack on Sevastopol: the consultations are not triggered, by the carve-out."""
    mon = run(treaty(three_days()), [attack("a1", at(), place="Sevastopol")])
    x = mon.explain_event("a1", at(1))
    assert x is not None
    assert x.effects == ()
    assert _kinds(x, "three_days") == [EventEffect(
        "three_days", "not_triggered",
        "place Sevastopol is within Crimea, which clause three_days excludes")]


def test_attack_on_another_victim_names_the_field() -> None:
    """A positive constraint that fails is explained too (not only carve-outs)."""
    mon = run(treaty(three_days()), [attack("a1", at(), victim="PL", place="Poland")])
    x = mon.explain_event("a1", at(1))
    assert x is not None
    assert [e.reason for e in x.misses] == ["victim PL is not UA"]


def test_attack_triggers_consultations_of_seven_guarantors() -> None:
    """The flagship's attack e17 triggers consult for the 7 guarantors other than Russia,
    violates stop_kyiv and is outside stop_chernihiv's territory."""
    checked = check_file(ROOT / "examples" / "istanbul_2022.foedus")
    assert checked.treaty is not None
    batch = run_file_full(checked.treaty, ROOT / "examples" / "istanbul_2022.events.jsonl",
                          keep_events=True)
    x = batch.explain_event("e17")
    assert x is not None
    triggered = [e.item for e in x.effects if e.kind == "triggered"]
    assert triggered == [f"consult/e17/{p}" for p in ("CN", "DE", "FR", "GB", "IL", "TR", "US")]
    assert ("stop_kyiv", "violated") in {(e.clause, e.kind) for e in x.effects}
    assert EventEffect("stop_chernihiv", "not_violated",
                       "place Kyiv_oblast is not within Chernihiv_oblast") in x.misses
    assert "signing" in x.unconcerned


def test_consultation_fulfils_one_instance_and_not_the_other() -> None:
    """US consults UA: it meets its duty after the attack on UA, not after the one on GB."""
    help_ = obligation("help", when(pat("armed_attack"), "attack"),
                       each(GUARANTOR, ref("attack", "aggressor")),
                       pat("consultations", c("with", ref("attack", "victim"))),
                       within(3, "days"))
    events = [attack("a1", at(), victim="UA"), attack("a2", at(1), victim="GB"),
              consult("c1", at(2), "US", "UA")]
    x = run(treaty(help_), events).explain_event("c1", at(3))
    assert x is not None
    assert [(e.kind, e.item) for e in x.effects] == [("fulfilled", "help/a1/US")]
    assert x.misses == (EventEffect("help", "not_fulfilled", "with UA is not GB", "help/a2/US",
                                    "pending"),)


def test_act_after_the_deadline() -> None:
    """A consultation four days after the attack came after the deadline."""
    events = [attack("a1", at()), consult("c1", at(days=4), "US")]
    x = run(treaty(three_days()), events).explain_event("c1", at(days=5))
    assert x is not None
    assert x.effects == ()
    assert x.misses == (EventEffect("three_days", "not_fulfilled",
                                    "it came after the deadline 2022-04-01T10:00+03:00",
                                    "three_days/a1/US", "violated"),)


def test_actor_not_an_obligor_and_obligor_excepted() -> None:
    """UA owes no consultation; RU, the aggressor, is excepted."""
    events = [attack("a1", at()), consult("c1", at(1), "UA"), consult("c2", at(2), "RU")]
    mon = run(treaty(three_days()), events)
    ua, ru = mon.explain_event("c1", at(3)), mon.explain_event("c2", at(3))
    assert ua is not None and ru is not None
    assert [e.reason for e in ua.misses] == ["by UA is not an obligor (guarantor)"]
    assert [e.reason for e in ru.misses] == [
        "the obligor was excepted: by RU is a guarantor but owes nothing under "
        "three_days/a1/"]


def test_event_before_entry_into_force() -> None:
    """An attack before the ceasefire that brings the treaty into force triggers nothing;
    the ceasefire advanced the condition and brought it into force."""
    t = treaty(condition("entry", "entry_into_force", (pat("ceasefire"),)), three_days())
    events = [attack("a1", at()), ev("f1", at(5), "ceasefire")]
    mon = run(t, events)
    x = mon.explain_event("a1", at(6))
    assert x is not None
    assert x.misses == (EventEffect("three_days", "not_triggered", "treaty not in force yet"),)
    fire = mon.explain_event("f1", at(6))
    assert fire is not None
    assert fire.effects == (EventEffect(
        "entry", "advanced", "step 1 of 1 met: the condition is met; the treaty is now in "
        "force"),)


def test_event_after_as_of_and_unknown_event() -> None:
    """An event later than the time asked about did nothing yet; an unknown id is None."""
    mon = run(treaty(three_days()), [attack("a1", at(5))])
    x = mon.explain_event("a1", at())
    assert x is not None and x.note is not None and x.effects == ()
    assert mon.explain_event("nope", at()) is None

