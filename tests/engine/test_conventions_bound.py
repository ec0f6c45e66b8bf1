"""Deadlines named by a convention (``promptly``) and obligors bound from the trigger
(``c.obligor must``, ``attack.victim must``), on checked source text."""

from __future__ import annotations

from datetime import timedelta

from engine_builders import at, attack, by_status, consult, ev

from foedus.engine.monitor import Monitor
from foedus.language.check import check_source
from foedus.language.model import Treaty

SOURCE = """
treaty support "Support after the consultations" zone "Europe/Kyiv"
convention promptly "without undue delay" means 3 days
convention forthwith means 24 hours
role guarantor
party UA "Ukraine"
party US "United States", GB "United Kingdom", FR "France", RU "Russia"
party US, GB, FR, RU role guarantor
territory Kyiv
event armed_attack(aggressor: party, victim: party, place: territory)
event consultations(by: party actor, with: party)
event assistance(by: party actor, to: party)
event report(by: party actor)

clause consult quote "consultations should take place within 3 days"
  when armed_attack(victim: UA) as attack
  each guarantor except attack.aggressor
    must consultations(with: UA) within 3 days of attack

clause support quote "the guarantor countries should support us"
  when fulfilled(consult) as c
  c.obligor must assistance(to: UA) promptly after c

clause support_anyway quote "the guarantor countries should support us"
  when violated(consult) as c
  c.obligor must assistance(to: UA) promptly after c

clause notify quote "the victim reports forthwith"
  when armed_attack() as attack
  attack.victim must report() forthwith
"""


def _treaty() -> Treaty:
    checked = check_source(SOURCE, "support.foedus")
    assert checked.treaty is not None, checked.diagnostics
    return checked.treaty


def _states(events: list, as_of_days: float) -> dict[str, str]:
    mon = Monitor(_treaty())
    mon.feed_many(events)
    return by_status(mon.status(at(days=as_of_days)))


def test_the_guarantor_that_consulted_owes_support_promptly_after() -> None:
    """US consults a day after the attack and assists two days later: fulfilled. GB
    consults and never assists: violated three days (``promptly``) after it consulted."""
    events = [attack("a1", at(0)), consult("c1", at(days=1), "US"),
              ev("s1", at(days=3), "assistance", by="US", to="UA"),
              consult("c2", at(days=1), "GB")]
    states = _states(events, 10)
    assert states["support/consult/a1/US/US"] == "fulfilled"
    assert states["support/consult/a1/GB/GB"] == "violated"
    mon = Monitor(_treaty())
    mon.feed_many(events)
    due = {o.id: o.due_at for o in mon.status(at(days=10)).obligations}
    assert due["support/consult/a1/GB/GB"] == at(days=1) + timedelta(days=3)


def test_a_silent_guarantor_still_owes_support() -> None:
    """FR never consults: its consultation is violated when the 3 days end, and its duty
    to support arises then, due 3 days later; silence does not make it disappear."""
    states = _states([attack("a1", at(0))], 10)
    assert states["consult/a1/FR"] == "violated"
    assert states["support_anyway/consult/a1/FR/FR"] == "violated"
    assert _states([attack("a1", at(0))], 5)["support_anyway/consult/a1/FR/FR"] == "pending"
    assert "support_anyway/consult/a1/RU/RU" not in states  # the aggressor never owed


def test_the_victim_named_by_the_trigger_is_the_obligor() -> None:
    """``attack.victim must report() forthwith``: the attacked party owes, within 24 hours."""
    events = [attack("a1", at(0), aggressor="RU", victim="GB"),
              ev("r1", at(hours=20), "report", by="GB"),
              attack("a2", at(days=2), aggressor="RU", victim="FR"),
              ev("r2", at(days=2, hours=30), "report", by="FR")]
    states = _states(events, 10)
    assert states == {"notify/a1/GB": "fulfilled", "notify/a2/FR": "violated"}


def test_a_bound_obligor_that_is_no_party_gives_a_reason() -> None:
    """A verdict with no beneficiary binds no one: the non-arising says why."""
    source = SOURCE + """
clause thanks quote "x"
  when fulfilled(notify) as n
  n.beneficiary must report() promptly after n
"""
    checked = check_source(source, "support.foedus")
    assert checked.treaty is not None, checked.diagnostics
    mon = Monitor(checked.treaty)
    mon.feed_many([attack("a1", at(0), victim="GB"), ev("r1", at(hours=2), "report", by="GB")])
    result = mon.status(at(days=1))
    reasons = [n.reason for n in result.not_arisen if n.clause == "thanks"]
    assert reasons == ["no obligor left: n.beneficiary = ? is not a party"], reasons
