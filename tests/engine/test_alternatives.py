"""Patterns over several event types: one fact, logged as whichever type, is one event
every clause listing that type sees (``docs/semantics.md`` §7)."""

from __future__ import annotations

from engine_builders import (
    GUARANTOR,
    at,
    atleast,
    attack,
    by_status,
    c,
    condition,
    consult,
    decision,
    each,
    ev,
    obligation,
    on,
    party,
    pat,
    permission,
    prohibition,
    ref,
    run,
    single,
    terr,
    treaty,
    vote,
    when,
    within,
)

from foedus.engine.columns import supports
from foedus.engine.plan import compile_treaty
from foedus.language import model as m


def operation(id: str, days: float, by: str = "RU", place: str = "Kyiv") -> object:
    return ev(id, at(days=days), "military_operation", by=by, victim="UA", place=place)


def talks(id: str, days: float, by: str, with_: str = "UA") -> object:
    return ev(id, at(days=days), "talks", by=by, with_=with_)


STOP_KYIV = prohibition("stop_kyiv", single("RU"),
                        pat("military_operation | armed_attack", c("place", terr("Kyiv"))))
CONSULT = obligation(
    "consult", when(pat("armed_attack | military_operation", c("victim", party("UA"))), "strike"),
    each(GUARANTOR, ref("strike", "victim")),
    pat("consultations | talks", c("with", ref("strike", "victim"))), within(3))


def test_one_armed_attack_breaks_a_prohibition_over_two_types() -> None:
    """Example 7.1: an armed attack in Kyiv breaks `RU must not military_operation |
    armed_attack(place: Kyiv)`, and so does an operation; each by its own actor."""
    events = [attack("a1", at(days=1)), operation("o1", 2), attack("a2", at(days=3), "PL"),
              operation("o2", 4, by="PL"), operation("o3", 5, place="Crimea")]
    result = run(treaty(STOP_KYIV), events).status(at(days=6))
    assert by_status(result) == {"stop_kyiv/a1/RU": "violated", "stop_kyiv/o1/RU": "violated"}
    first = result.obligations[0]
    assert first.action == "military_operation | armed_attack(place: Kyiv)"
    assert first.explanation.reason.startswith("RU did armed_attack(place: Kyiv) (event a1 at")


def test_no_act_of_either_type_is_respected() -> None:
    """With no act of any listed type, one respected entry, as for one type."""
    result = run(treaty(STOP_KYIV), [attack("a1", at(days=1), place="Crimea")]).status(at(2))
    assert by_status(result) == {"stop_kyiv/all": "respected"}
    assert result.obligations[0].explanation.reason.startswith(
        "No military_operation | armed_attack(place: Kyiv) by RU while")


def test_obligation_fulfilled_by_the_second_type() -> None:
    """Example 7.2: talks fulfil `consultations | talks(...)` as consultations do; the
    instance arose from an operation, and its explanation says so."""
    events = [operation("o1", 0), talks("t1", 1, "US"), consult("c1", at(days=2), "GB"),
              talks("t2", 1, "FR", with_="GB")]
    result = run(treaty(CONSULT), events).status(at(days=4))
    states = by_status(result)
    assert (states["consult/o1/US"], states["consult/o1/GB"], states["consult/o1/FR"]) == (
        "fulfilled", "fulfilled", "violated")
    us = next(o for o in result.obligations if o.id == "consult/o1/US")
    assert us.settled_by == "t1"
    assert us.explanation.reason.startswith("It arose from military_operation o1 at ")
    assert "fulfilled by t1 at" in us.explanation.reason


def test_trigger_by_either_type() -> None:
    """Example 7.3: an armed attack and an operation each trigger the clause; an event of
    another type does not."""
    events = [attack("a1", at(0)), operation("o1", 1), ev("x", at(days=1), "assistance",
                                                          by="RU", to="UA")]
    result = run(treaty(CONSULT), events).status(at(days=1, hours=1))
    assert sorted({o.trigger_event for o in result.obligations}) == ["a1", "o1"]


def test_met_by_one_type_an_instance_leaves_the_other_types() -> None:
    """Once talks met FR's duty, a later consultation by FR is nothing more; two open
    instances are both met by one act of either type."""
    events = [attack("a1", at(0)), operation("o1", 0.5), talks("t1", 1, "FR"),
              consult("c1", at(days=1.5), "FR")]
    result = run(treaty(CONSULT), events).status(at(days=5))
    fr = [o for o in result.obligations if o.obligor == "FR"]
    assert [(o.id, o.state.value, o.settled_by) for o in fr] == [
        ("consult/a1/FR", "fulfilled", "t1"), ("consult/o1/FR", "fulfilled", "t1")]


def test_at_least_k_counts_a_member_once_whatever_the_type() -> None:
    """`at least 2 of guarantor`: FR's talks then FR's consultation are one guarantor."""
    help2 = obligation("help2", when(pat("armed_attack"), "a"), atleast(2),
                       pat("consultations | talks"), within(3))
    once = run(treaty(help2), [attack("a1", at(0)), talks("t1", 1, "FR"),
                               consult("c1", at(days=2), "FR")]).status(at(days=4))
    (item,) = once.obligations
    assert item.state.value == "violated"
    assert item.explanation.events == ("a1", "t1")
    twice = run(treaty(help2), [attack("a1", at(0)), talks("t1", 1, "FR"),
                                consult("c1", at(days=2), "DE")]).status(at(days=4))
    assert [(o.state.value, o.settled_by) for o in twice.obligations] == [("fulfilled", "c1")]


def test_triggered_prohibition_and_decision_over_two_types() -> None:
    """A ceasefire or an armistice starts a truce; an attack or an operation opens a decision."""
    truce = prohibition("truce", single("RU"), pat("armed_attack | military_operation"),
                        trigger=when(pat("ceasefire | armistice"), "cf"), deadline=within(2))
    decide = decision("decide", when(pat("military_operation | armed_attack"), "s"),
                      each(GUARANTOR), m.Rule(m.RuleKind.AT_LEAST, k=1), within(1))
    events = [ev("cf", at(0), "armistice"), operation("o1", 1),
              vote("v1", at(days=1, hours=1), "US", "yes")]
    result = run(treaty(truce, decide), events).status(at(days=3))
    assert by_status(result) == {"truce/o1/RU": "violated"}
    (d,) = result.decisions
    assert (d.id, d.state.value) == ("decide/o1", "adopted")
    assert d.explanation.reason.startswith("It arose from military_operation o1 at ")


def test_condition_step_met_by_either_type() -> None:
    """`treaty in force after ceasefire | armistice()`: an armistice brings it into force."""
    t = treaty(condition("entry", "entry_into_force", (pat("ceasefire | armistice"),)),
               STOP_KYIV)
    waiting = run(t, []).status(at(0))
    assert waiting.conditions["entry"] == (
        "step 1 of 1: waiting for ceasefire | armistice()")
    result = run(t, [ev("x", at(0), "armistice"), attack("a1", at(1))]).status(at(2))
    assert result.treaty_status.value == "in_force"
    assert by_status(result) == {"stop_kyiv/a1/RU": "violated"}


def test_permission_used_by_either_type() -> None:
    """A permission over two types lists the acts of both, by their own actors."""
    may = permission("may_talk", each(GUARANTOR), pat("talks | consultations",
                                                     c("with", party("UA"))))
    events = [talks("t1", 1, "US"), consult("c1", at(days=2), "GB"),
              talks("t2", 3, "UA"), consult("c2", at(days=4), "FR", with_="GB")]
    assert run(treaty(may), events).status(at(days=5)).permissions == {
        "may_talk": ("t1", "c1")}


def test_verdict_binding_reads_the_common_fields() -> None:
    """`violated(stop_kyiv) as breach` reads `breach.victim`, which both types declare."""
    stop = prohibition("stop_kyiv", single("RU"),
                       pat("military_operation | armed_attack", c("place", terr("Kyiv"))))
    repair = obligation("repair", on("violated", "stop_kyiv", "breach"), single("US"),
                        pat("consultations", c("with", ref("breach", "victim"))), within(1))
    result = run(treaty(stop, repair), [operation("o1", 0)]).status(at(days=2))
    (item,) = [o for o in result.obligations if o.clause == "repair"]
    assert (item.id, item.action) == ("repair/stop_kyiv/o1/RU/US", "consultations(with: UA)")


def test_carve_out_of_an_alternative_trigger_is_reported() -> None:
    """An operation in Crimea, carved out, is a non-arising as an attack would be."""
    clause = obligation("c", when(pat("armed_attack | military_operation",
                                      c("place", terr("Crimea"), m.Op.NOT_WITHIN))),
                        single("UA"), pat("consultations"), within(1))
    result = run(treaty(clause), [operation("o1", 0, place="Crimea")]).status(at(1))
    assert [(n.event, n.reason) for n in result.not_arisen] == [
        ("o1", "place Crimea is within Crimea, which clause c excludes")]


def test_columns_decline_alternatives() -> None:
    """The columnar executor serves one type per trigger and action; others run by event."""
    plain = obligation("p", when(pat("armed_attack"), "a"), each(), pat("consultations"),
                       within(1))
    by_trigger = obligation("t", when(pat("armed_attack | military_operation"), "a"), each(),
                            pat("consultations"), within(1))
    by_action = obligation("a", when(pat("armed_attack"), "a"), each(),
                           pat("consultations | talks"), within(1))
    assert supports(compile_treaty(treaty(plain)))
    assert not supports(compile_treaty(treaty(by_trigger)))
    assert not supports(compile_treaty(treaty(by_action)))


def test_plan_indexes_a_clause_under_each_type() -> None:
    """The plan finds the clause from each listed type: triggers, prohibitions, actions."""
    plan = compile_treaty(treaty(STOP_KYIV, CONSULT))
    assert plan.by_type["military_operation"].triggers == plan.by_type["armed_attack"].triggers
    assert plan.by_type["military_operation"].prohibitions
    assert plan.by_type["armed_attack"].prohibitions
    assert plan.action_types == {"consultations", "talks"}
