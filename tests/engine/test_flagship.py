"""The engine on checked source text: the flagship treaty and its event log, end to end."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from engine_builders import GUARANTORS, at, attack, by_status, consult, three_days, treaty

from foedus.engine.model import RunResult
from foedus.engine.monitor import Monitor
from foedus.events import Event, load_events
from foedus.language.check import check_source
from foedus.language.model import Treaty

EXAMPLES = Path(__file__).parents[2] / "examples"
AS_OF = datetime.fromisoformat("2022-10-02T00:00:00+03:00")

THREE_DAYS = """
treaty t "Example 3.1" zone "Europe/Kyiv"
role guarantor
party UA
party US, GB, FR, CN, RU, DE, TR, IL, PL role guarantor
territory Ukraine, Crimea within Ukraine, Sevastopol within Crimea, Kyiv within Ukraine
territory Poland
event armed_attack(aggressor: party actor, victim: party, place: territory)
event consultations(by: party actor, with: party)
clause three_days quote "In case of an attack, consultations should take place within 3 days"
  when armed_attack(victim: UA, place: not within Crimea) as attack
  each guarantor except attack.aggressor
    must consultations(with: attack.victim) for attack.victim within 3 days of attack
"""


@pytest.fixture(scope="module")
def flagship() -> tuple[Treaty, list[Event]]:
    source = EXAMPLES / "istanbul_2022.foedus"
    checked = check_source(source.read_text(), str(source))
    assert checked.treaty is not None, checked.diagnostics
    events, problems = load_events(EXAMPLES / "istanbul_2022.events.jsonl", checked.treaty)
    assert not problems
    return checked.treaty, events


@pytest.fixture(scope="module")
def result(flagship: tuple[Treaty, list[Event]]) -> RunResult:
    t, events = flagship
    mon = Monitor(t)
    mon.feed_many(events)
    return mon.status(AS_OF)


def test_source_text_runs_like_the_hand_built_treaty() -> None:
    """Example 3.1 written in the language gives the same verdicts as the built model."""
    checked = check_source(THREE_DAYS, "three_days.foedus")
    assert checked.treaty is not None, checked.diagnostics
    events = [attack("e1", at(0)), consult("e2", at(hours=5), "TR"),
              attack("e3", at(1), place="Sevastopol")]
    results = []
    for t in (checked.treaty, treaty(three_days())):
        mon = Monitor(t)
        mon.feed_many(events)
        results.append(mon.status(at(days=4)))
    from_source, built = (
        sorted((o.id, o.state, o.due_at, o.beneficiary, o.explanation.reason)
               for o in r.obligations)
        for r in results
    )
    assert from_source == built  # the checker lists role members in its own order
    assert results[0].not_arisen == results[1].not_arisen
    assert by_status(results[0])["three_days/e1/TR"] == "fulfilled"


def test_flagship_enters_into_force_after_its_four_steps(result: RunResult) -> None:
    """Ceasefire, end of the emergency, referendum, signature: in force from the signature."""
    assert result.treaty_status.value == "in_force"
    assert result.conditions == {"entry_into_force": "met at 2022-07-10T12:00+03:00 (event e08)"}


def test_flagship_consultations_after_the_attack_on_kyiv(result: RunResult) -> None:
    """S4: five guarantors consult within 3 days of e17; CN and IL do not; RU owes nothing."""
    got = {o.obligor: o.state.value for o in result.obligations if o.id.startswith("consult/e17")}
    assert got == {"US": "fulfilled", "GB": "fulfilled", "FR": "fulfilled", "CN": "violated",
                   "DE": "fulfilled", "TR": "fulfilled", "IL": "violated"}
    assert set(got) == set(GUARANTORS[:8]) - {"RU"}


def test_flagship_crimea_is_carved_out(result: RunResult) -> None:
    """S7: the attack on Sevastopol (e09) creates no consultation and no decision."""
    carved = {(n.clause, n.event, n.reason) for n in result.not_arisen}
    assert carved == {
        ("consult", "e09", "place Sevastopol is within Crimea, which clause consult excludes"),
        ("support_decision", "e09",
         "place Sevastopol is within Crimea, which clause support_decision excludes"),
    }


def test_flagship_support_decision_and_support(result: RunResult) -> None:
    """S5: the majority is reached at the fourth yes (e28); TR assists too late, CN and IL never."""
    (d,) = result.decisions
    assert (d.id, d.state.value, d.resolved_at) == (
        "support_decision/e17", "adopted", datetime.fromisoformat("2022-09-02T15:30+03:00"))
    assert "RU" not in d.voters
    support = {o.obligor: o.state.value for o in result.obligations if o.clause == "support"}
    assert support == {"US": "fulfilled", "GB": "fulfilled", "FR": "fulfilled", "CN": "violated",
                       "DE": "fulfilled", "TR": "violated", "IL": "violated"}


def test_flagship_prohibitions(result: RunResult) -> None:
    """S6, S7, S11, S12: each breach is one violation; untouched prohibitions are respected."""
    statuses = by_status(result)
    assert statuses["neutrality/e34/UA"] == "violated"
    assert statuses["no_force_crimea/e10/RU"] == "violated"
    assert statuses["stop_chernihiv/e02/RU"] == "violated"
    assert statuses["stop_kyiv/all"] == "respected"
    assert statuses["no_repression/all"] == "respected"
    breach = {o.obligor: o.state.value for o in result.obligations if o.clause == "crimea_breach"}
    assert breach["IL"] == "violated" and breach["CN"] == "fulfilled" and "RU" not in breach


def test_flagship_dated_commitments(result: RunResult) -> None:
    """S10: UA's talks with Russia are held by e04; guarantors' multilateral talks are recorded."""
    assert by_status(result)["talks_with_russia/start/UA"] == "fulfilled"
    assert result.permissions == {"multilateral": ("e01", "e03")}


def test_flagship_arrival_order_does_not_matter(
    flagship: tuple[Treaty, list[Event]], result: RunResult
) -> None:
    """The log fed backwards, one event at a time with queries between, gives the same result."""
    t, events = flagship
    mon = Monitor(t)
    for e in reversed(events):
        mon.feed(e)
        mon.status(AS_OF)
    assert mon.status(AS_OF) == result


def test_verdict_columns_equal_the_verdicts(result: RunResult) -> None:
    """The columns a writer reads (built from the records) hold the verdicts' own rows."""
    from foedus.engine.model import verdict_table

    assert result.table().equals(verdict_table(result.obligations))
    assert result.table().num_rows == len(result.obligations) > 0
