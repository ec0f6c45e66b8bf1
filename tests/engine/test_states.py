"""Events that name a state that is not a party: an attack by Belarus on Ukraine."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from engine_builders import T0, by_status, ev, run

from foedus.engine.batch import run_file_full
from foedus.engine.columns import supports
from foedus.engine.plan import compile_treaty
from foedus.events import Event, write_events
from foedus.language import model as m
from foedus.language.check import check_source

HEAD = """treaty states "Guarantees against an attack by any state"
role guarantor
party UA "Ukraine"
party US "United States", GB "United Kingdom", FR "France", RU "Russia" role guarantor
state BY "Belarus", KP "North Korea"
territory Ukraine, Crimea within Ukraine
event armed_attack(aggressor: state, victim: party, place: territory)
event consultations(by: party actor, with: party)
"""
CONSULT = """
clause consult
  quote "consultations should take place within 3 days"
  when armed_attack(victim: UA, aggressor: not RU) as attack
  each guarantor except attack.aggressor
    must consultations(with: UA) within 3 days of attack
"""
OUTSIDER = """
clause outsider
  quote "an attack by a state outside the treaty"
  when armed_attack(aggressor: not guarantor) as attack if attack.aggressor != KP
  any guarantor
    must consultations(with: attack.victim) within 1 day of attack
"""


def checked(*clauses: str) -> m.Treaty:
    result = check_source(HEAD + "".join(clauses))
    assert result.treaty is not None, result.diagnostics
    return result.treaty


def attack(eid: str, aggressor: str, hours: float = 0, victim: str = "UA") -> Event:
    return ev(eid, T0 + timedelta(hours=hours), "armed_attack", aggressor=aggressor,
              victim=victim, place="Ukraine")


def consult(eid: str, by: str, hours: float) -> Event:
    return ev(eid, T0 + timedelta(hours=hours), "consultations", by=by, with_="UA")


AS_OF = T0 + timedelta(days=10)


def test_an_attack_by_a_state_that_is_not_a_party_obliges_every_guarantor() -> None:
    """Example 3.8: Belarus is not RU, so `aggressor: not RU` matches; excepting the
    aggressor excepts no one, since Belarus is no guarantor."""
    events = [attack("a1", "BY"), consult("c1", "GB", 5)]
    result = run(checked(CONSULT), events).status(AS_OF)
    assert by_status(result) == {
        "consult/a1/FR": "violated",
        "consult/a1/GB": "fulfilled",
        "consult/a1/RU": "violated",
        "consult/a1/US": "violated",
    }


def test_a_guarantor_that_attacks_is_excepted_and_the_carved_out_party_is_not_matched() -> None:
    """Example 3.8: an attack by GB excepts GB; one by RU is carved out by `not RU`, with
    its reason."""
    result = run(checked(CONSULT), [attack("a1", "GB"), attack("a2", "RU", 1)]).status(AS_OF)
    assert sorted(by_status(result)) == ["consult/a1/FR", "consult/a1/RU", "consult/a1/US"]
    assert [(n.event, n.reason) for n in result.not_arisen] == [
        ("a2", "aggressor RU is RU, which clause consult excludes")]


def test_role_membership_and_guards_over_a_state_field() -> None:
    """`aggressor: not guarantor` matches a state that is not a party; the guard compares
    the field with another state."""
    events = [attack("a1", "BY"), attack("a2", "KP", 1), attack("a3", "US", 2),
              consult("c1", "FR", 3)]
    result = run(checked(OUTSIDER), events).status(AS_OF)
    assert by_status(result) == {"outsider/a1/any": "fulfilled"}
    (owed,) = result.obligations
    assert owed.beneficiary == "UA"  # the victim, a party field named in the action


def test_a_state_that_is_not_a_party_never_acts() -> None:
    """A consultation by a state that is not a party cannot even be read as an event."""
    from foedus.diagnostics import EventError
    from foedus.events import read_events_text

    text = ('{"id": "c1", "at": "2022-03-29T10:00:00Z", "type": "consultations", '
            '"by": "BY", "with": "UA"}')
    with pytest.raises(EventError) as caught:
        read_events_text(text, checked(CONSULT))
    assert [d.message for d in caught.value.diagnostics] == [
        "`BY` in field `by` is a state that is not a party"]


@pytest.mark.parametrize("suffix", ["jsonl", "parquet", "arrow"])
def test_every_executor_agrees_on_states(tmp_path: Path, suffix: str) -> None:
    """A batch run (by columns for Parquet and Arrow) gives what the monitor gives."""
    treaty = checked(CONSULT)
    assert supports(compile_treaty(treaty))
    events = [attack("a1", "BY"), attack("a2", "RU", 1), attack("a3", "GB", 2),
              consult("c1", "US", 3), consult("c2", "RU", 80)]
    path = tmp_path / f"log.{suffix}"
    write_events(path, events)
    batch = run_file_full(treaty, path, AS_OF)
    assert batch.path == ("in order" if suffix == "jsonl" else "columns")
    streamed = run(treaty, events).status(AS_OF)
    assert by_status(batch.result) == by_status(streamed)
    assert [(n.event, n.reason) for n in batch.result.not_arisen] == [
        (n.event, n.reason) for n in streamed.not_arisen]
