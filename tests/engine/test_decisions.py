"""Collective decisions: votes, rules, time limits, gated clauses (docs/semantics.md §5)."""

from __future__ import annotations

from engine_builders import (
    GUARANTOR,
    at,
    attack,
    by_status,
    c,
    decision,
    each,
    ev,
    obligation,
    on,
    pat,
    ref,
    treaty,
    vote,
    when,
    within,
)

from foedus.engine.monitor import Monitor
from foedus.events import Event
from foedus.language import model as m

FIVE = m.RoleSet("five", ("US", "GB", "FR", "DE", "TR"))


def decide(rule: m.Rule, voters: m.RoleSet = FIVE) -> m.Clause:
    """`when armed_attack as attack, decision by each <voters> rule ... within 3 days`."""
    return decision("decide", when(pat("armed_attack"), "attack"), each(voters), rule, within(3))


def outcome(rule: m.Rule, votes: list[tuple[str, str]], days: float = 1) -> tuple[str, object]:
    """Status and resolution time of the decision after an attack at T0 and the given votes."""
    events: list[Event] = [attack("e0", at(0))]
    events += [vote(f"v{i}", at(i + 1), p, choice) for i, (p, choice) in enumerate(votes)]
    mon = Monitor(treaty(decide(rule)))
    mon.feed_many(events)
    (d,) = mon.status(at(days=days)).decisions
    return d.state.value, d.resolved_at


UNANIMITY = m.Rule(m.RuleKind.UNANIMITY)
MAJORITY = m.Rule(m.RuleKind.MAJORITY)
CONSENSUS = m.Rule(m.RuleKind.CONSENSUS)


def test_unanimity_adopted_when_all_vote_yes() -> None:
    """Example 5.1: unanimity is adopted at the last yes."""
    votes = [(p, "yes") for p in FIVE.members]
    assert outcome(UNANIMITY, votes) == ("adopted", at(5))


def test_unanimity_rejected_by_one_no_or_abstention() -> None:
    """Example 5.1: one abstention is enough to reject under unanimity."""
    assert outcome(UNANIMITY, [("US", "yes"), ("GB", "abstain")]) == ("rejected", at(2))
    assert outcome(UNANIMITY, [("US", "no")]) == ("rejected", at(1))


def test_majority_counts_all_voters() -> None:
    """Example 5.2: majority needs yes > n/2; abstention and silence count against it."""
    assert outcome(MAJORITY, [("US", "yes"), ("GB", "yes"), ("FR", "yes")]) == ("adopted", at(3))
    votes = [("US", "no"), ("GB", "abstain"), ("FR", "no")]
    assert outcome(MAJORITY, votes) == ("rejected", at(3))


def test_qualified_majority_rounds_up() -> None:
    """Example 5.2: 2/3 of five voters needs ceil(10/3) = 4 yes votes."""
    rule = m.Rule(m.RuleKind.QUALIFIED, num=2, den=3)
    three = [("US", "yes"), ("GB", "yes"), ("FR", "yes")]
    assert outcome(rule, three) == ("open", None)
    assert outcome(rule, [*three, ("DE", "yes")]) == ("adopted", at(4))
    assert outcome(rule, [("US", "no"), ("GB", "no")]) == ("rejected", at(2))


def test_at_least_k() -> None:
    """Example 5.2: `at least 2` is adopted at the second yes."""
    rule = m.Rule(m.RuleKind.AT_LEAST, k=2)
    assert outcome(rule, [("US", "yes"), ("GB", "no"), ("FR", "yes")]) == ("adopted", at(3))


def test_undecided_decision_lapses_at_its_time_limit() -> None:
    """Example 5.3: still undecided when the time to decide ends means lapsed, at closes_at."""
    assert outcome(MAJORITY, [("US", "yes")], days=4) == ("lapsed", at(days=3))


def test_consensus_silence_and_abstention_do_not_block() -> None:
    """Example 5.4: consensus is adopted at the time limit unless someone objects."""
    assert outcome(CONSENSUS, [("US", "abstain")], days=4) == ("adopted", at(days=3))
    assert outcome(CONSENSUS, [(p, "abstain") for p in FIVE.members]) == ("adopted", at(5))
    assert outcome(CONSENSUS, [("US", "yes"), ("GB", "no")]) == ("rejected", at(2))


def test_only_a_voters_first_vote_counts_and_outsiders_are_ignored() -> None:
    """Example 5.5: a second vote by the same voter and votes by non-voters do not count."""
    votes = [("US", "no"), ("US", "yes"), ("PL", "yes")]
    mon = Monitor(treaty(decide(MAJORITY)))
    mon.feed_many([attack("e0", at(0))] + [vote(f"v{i}", at(i + 1), p, ch)
                                           for i, (p, ch) in enumerate(votes)])
    (d,) = mon.status(at(10)).decisions
    assert dict(d.tally) == {"US": "no"}
    assert d.explanation.events == ("e0", "v0")


def test_vote_applies_to_the_oldest_open_instance() -> None:
    """Two open decisions of the same clause: a vote goes to the older one."""
    mon = Monitor(treaty(decide(MAJORITY)))
    mon.feed_many([attack("e0", at(0)), attack("e1", at(1)), vote("v", at(2), "US", "yes")])
    first, second = mon.status(at(3)).decisions
    assert (first.id, dict(first.tally)) == ("decide/e0", {"US": "yes"})
    assert (second.id, dict(second.tally)) == ("decide/e1", {})


def test_adopted_decision_gates_support_without_the_aggressor() -> None:
    """Example 5.6: `when adopted(decide) as d, each guarantor except d.aggressor must assist`."""
    support = obligation("support", on("adopted", "decide", "d"),
                         each(GUARANTOR, ref("d", "aggressor")),
                         pat("assistance", c("to", ref("d", "victim"))), within(3))
    decide_all = decision("decide", when(pat("armed_attack"), "attack"),
                          each(GUARANTOR, ref("attack", "aggressor")), MAJORITY, within(3))
    voters = [p for p in GUARANTOR.members if p != "RU"][:5]
    events = [attack("e0", at(0))] + [vote(f"v{p}", at(1), p, "yes") for p in voters]
    events.append(ev("a1", at(2), "assistance", by="US", to="UA"))
    mon = Monitor(treaty(decide_all, support))
    mon.feed_many(events)
    result = mon.status(at(days=5))
    (d,) = result.decisions
    assert d.voters == tuple(p for p in GUARANTOR.members if p != "RU")
    assert (d.state.value, d.resolved_at) == ("adopted", at(1))
    statuses = by_status(result)
    assert "support/decide/e0/RU" not in statuses
    assert statuses["support/decide/e0/US"] == "fulfilled"
    assert statuses["support/decide/e0/GB"] == "violated"
    assert all(o.triggered_at == at(1) for o in result.obligations)


def test_rejected_decision_records_why_support_did_not_arise() -> None:
    """Example 5.6: when the decision is rejected, the gated clause records a non-arising."""
    support = obligation("support", on("adopted", "decide", "d"), each(FIVE),
                         pat("assistance"), within(3))
    mon = Monitor(treaty(decide(UNANIMITY), support))
    mon.feed_many([attack("e0", at(0)), vote("v", at(1), "US", "no")])
    result = mon.status(at(days=5))
    assert result.obligations == ()
    (na,) = result.not_arisen
    assert (na.clause, na.event) == ("support", "e0")
    assert na.reason == "decision decide/e0 was rejected at 2022-03-29T11:00+03:00"
