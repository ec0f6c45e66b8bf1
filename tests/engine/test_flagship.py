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
AS_OF = datetime.fromisoformat("2022-10-15T00:00:00+03:00")

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


def test_flagship_enters_into_force_after_both_conditions(result: RunResult) -> None:
    """S8, S9: ceasefire then signature; end of the emergency then referendum: in force
    from the signature, the later of the two."""
    assert result.treaty_status.value == "in_force"
    assert result.conditions["signing"] == "met at 2022-07-10T12:00+03:00 (event e08)"
    assert result.conditions["referendum"] == "met at 2022-07-03T21:00+03:00 (event e07)"


def test_flagship_consultations_after_the_attack_on_kyiv(result: RunResult) -> None:
    """S4: five guarantors consult within 3 days of e17; CN and IL do not; RU owes nothing."""
    got = {o.obligor: o.state.value for o in result.obligations if o.id.startswith("consult/e17")}
    assert got == {"US": "fulfilled", "GB": "fulfilled", "FR": "fulfilled", "CN": "violated",
                   "DE": "fulfilled", "TR": "fulfilled", "IL": "violated"}
    assert set(got) == set(GUARANTORS[:8]) - {"RU"}


def test_flagship_crimea_is_carved_out(result: RunResult) -> None:
    """S7: the attack on Sevastopol (e09) obliges no one to consult."""
    carved = {(n.clause, n.event, n.reason) for n in result.not_arisen if n.event == "e09"}
    assert carved == {
        ("consult", "e09", "place Sevastopol is within Crimea, which clause consult excludes"),
    }


def test_flagship_support_follows_the_consultations(result: RunResult) -> None:
    """S5: who consulted owes support within `promptly` (7 days) of consulting; TR assists
    too late; CN and IL, silent, owe it all the same, from the end of their 3 days."""
    support = {o.obligor: (o.clause, o.state.value) for o in result.obligations
               if o.clause.startswith("support") and o.trigger_event == "e17"}
    assert support == {
        "US": ("support", "fulfilled"), "GB": ("support", "fulfilled"),
        "FR": ("support", "fulfilled"), "DE": ("support", "fulfilled"),
        "TR": ("support", "violated"),
        "CN": ("support_if_silent", "violated"),
        "IL": ("support_if_silent", "violated"),
    }
    due = {o.obligor: o.due_at for o in result.obligations
           if o.id.startswith("support/consult/e17")}
    assert due["TR"] == datetime.fromisoformat("2022-09-10T14:00+03:00")  # consulted + 7 days


def test_flagship_neutrality_binds_while_the_guarantees_hold(result: RunResult) -> None:
    """S6: joining in August violates neutrality; once TR's support is violated (10 Sep),
    neutrality is suspended, and joining NATO in October is no violation."""
    statuses = by_status(result)
    assert statuses["neutrality/e10/UA"] == "violated"
    assert "neutrality/e34/UA" not in statuses
    (why,) = [n.reason for n in result.not_arisen if n.event == "e34"]
    assert why.startswith("clause neutrality suspended since 2022-09-10T14:00+03:00 "
                          "(violated(support): support/consult/e17/TR/TR)")


def test_flagship_prohibitions(result: RunResult) -> None:
    """S7, S11, S12: each breach is one violation, whatever type the log gave it; untouched
    prohibitions are respected."""
    statuses = by_status(result)
    assert statuses["no_force_crimea/e09/RU"] == "violated"  # an armed attack on Sevastopol
    assert statuses["stop_chernihiv/e02/RU"] == "violated"  # a military operation
    assert statuses["stop_kyiv/e17/RU"] == "violated"  # an armed attack in Kyiv region
    assert statuses["no_repression/all"] == "respected"


def test_flagship_an_attack_by_a_state_outside_the_treaty(result: RunResult) -> None:
    """S3: Belarus (not a party) attacks Chernihiv region: every guarantor owes consultations
    and breaks nothing itself; Russia's silence makes its consultation violated."""
    got = {o.obligor: o.state.value for o in result.obligations if o.id.startswith("consult/e35")}
    assert len(got) == 8 and got["RU"] == "violated"
    assert not any(o.id.startswith("stop_chernihiv/e35") for o in result.obligations)


def test_flagship_talks_are_permissions(result: RunResult) -> None:
    """S10: UA's talks with Russia and the guarantors' talks among themselves are listed."""
    assert result.permissions == {"multilateral": ("e01", "e03"), "talks_with_russia": ("e04",)}


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
