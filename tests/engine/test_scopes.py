"""Scopes and shapes of clauses: triggered prohibitions, anchors, guards, numbers, explain."""

from __future__ import annotations

from engine_builders import (
    GUARANTOR,
    K,
    anyof,
    at,
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
    prohibition,
    ref,
    run,
    single,
    three_days,
    treaty,
    vote,
    when,
    within,
)

from foedus.language import model as m


def test_triggered_prohibition_lasts_for_its_deadline() -> None:
    """`when ceasefire, RU must not armed_attack within 2 days`: only attacks inside count."""
    truce = prohibition("truce", single("RU"), pat("armed_attack"),
                        trigger=when(pat("ceasefire"), "cf"), deadline=within(2))
    events = [attack("a0", at(-1)), ev("cf", at(0), "ceasefire"), attack("a1", at(days=1)),
              attack("a2", at(days=3)), attack("a3", at(days=1), aggressor="PL")]
    result = run(treaty(truce), events).status(at(days=5))
    assert [(o.id, o.state.value, o.trigger_event) for o in result.obligations] == [
        ("truce/a1/RU", "violated", "cf")]


def test_triggered_prohibition_respected_per_trigger() -> None:
    """With no breach, a triggered prohibition reports one respected entry per trigger."""
    truce = prohibition("truce", single("RU"), pat("armed_attack"),
                        trigger=when(pat("ceasefire"), "cf"), deadline=within(2))
    result = run(treaty(truce), [ev("cf", at(0), "ceasefire")]).status(at(days=5))
    (entry,) = result.obligations
    assert (entry.id, entry.state.value, entry.due_at, entry.settled_at) == (
        "truce/cf", "respected", at(days=2), at(days=2))


def test_standalone_prohibition_applies_before_entry_into_force() -> None:
    """A standalone prohibition is violated even though the treaty never entered into force."""
    t = treaty(condition("entry", "entry_into_force", (pat("signature"),)),
               prohibition("stop", single("RU"), pat("armed_attack"), standalone=True),
               prohibition("neutral", single("UA"), pat("join_alliance")))
    events = [attack("a1", at(1)),
              ev("j", at(2), "join_alliance", member="UA", alliance="X", kind="military")]
    assert by_status(run(t, events).status(at(5))) == {
        "stop/a1/RU": "violated", "neutral/all": "respected"}


def test_deadline_anchored_on_another_binding() -> None:
    """A reparation due `within 5 days of attack` counts from the attack, not from the breach."""
    repair = obligation("repair", on("violated", "three_days", "b"), single("UA"),
                        pat("consultations"), within(5, anchor="attack"))
    result = run(treaty(three_days(), repair), [attack("e1", at(0))]).status(at(days=4))
    repairs = [o for o in result.obligations if o.clause == "repair"]
    assert {o.triggered_at for o in repairs} == {at(days=3)}
    assert {o.due_at for o in repairs} == {at(days=5)}


def test_end_of_day_and_business_day_obligations() -> None:
    """Calendar deadlines run through the monitor: end of day in Kyiv, business days."""
    eod = obligation("eod", when(pat("armed_attack"), "a"), single("UA"), pat("consultations"),
                     m.Deadline(m.DeadlineKind.END_OF_DAY, m.Duration(1, m.Unit.DAYS),
                                zone="Europe/Kyiv"))
    bd = obligation("bd", when(pat("armed_attack"), "a"), single("UA"), pat("consultations"),
                    within(1, "business_days"))
    friday = at(days=3)  # 2022-04-01 is a Friday
    result = run(treaty(eod, bd), [attack("e1", friday)]).status(friday)
    due = {o.clause: o.due_at.isoformat() for o in result.obligations if o.due_at}
    assert due == {"eod": "2022-04-02T23:59:59.999999+03:00", "bd": "2022-04-04T10:00:00+03:00"}


def test_guards_combine_with_and_or_not() -> None:
    """Guards use and/or/not, role membership and territorial containment."""
    guard = m.And((
        m.Or((m.Compare(ref("a", "aggressor"), m.Op.WITHIN, GUARANTOR),
              m.Compare(ref("a", "aggressor"), m.Op.EQ, party("PL")))),
        m.Not(m.Compare(ref("a", "place", K.TERRITORY), m.Op.WITHIN,
                        m.Const(K.TERRITORY, "Crimea"))),
    ))
    clause = obligation("g", when(pat("armed_attack"), "a", guard), single("UA"),
                        pat("consultations"), within(1))
    events = [attack("e1", at(0)), attack("e2", at(1), place="Sevastopol"),
              attack("e3", at(2), aggressor="UA")]
    result = run(treaty(clause), events).status(at(3))
    assert [o.trigger_event for o in result.obligations] == ["e1"]
    assert [n.event for n in result.not_arisen] == ["e2", "e3"]


def test_numeric_constraints() -> None:
    """Numbers compare as numbers: `report(size: > 3)` ignores small reports."""
    clause = obligation("big", when(pat("report", c("size", m.Const(K.NUMBER, 3.0), m.Op.GT))),
                        single("UA"), pat("consultations"), within(1))
    events = [ev("r1", at(0), "report", by="UA", size=3.0),
              ev("r2", at(1), "report", by="UA", size=4.5)]
    assert [o.trigger_event for o in run(treaty(clause), events).status(at(2)).obligations] == [
        "r2"]


def test_explain_instances_and_decisions() -> None:
    """explain() answers for obligation, prohibition and decision ids."""
    t = treaty(three_days(),
               prohibition("neutral", single("UA"), pat("join_alliance")),
               decision("decide", when(pat("armed_attack"), "attack"), each(GUARANTOR),
                        m.Rule(m.RuleKind.UNANIMITY), within(1)))
    events = [attack("e1", at(0)), consult("c1", at(1), "TR"), vote("v1", at(2), "US", "no"),
              ev("j", at(3), "join_alliance", member="UA", alliance="X", kind="military")]
    mon = run(t, events)
    as_of = at(days=5)
    tr = mon.explain("three_days/e1/TR", as_of)
    assert tr is not None and tr.events == ("e1", "c1") and tr.quotes == ()
    j = mon.explain("neutral/j/UA", as_of)
    assert j is not None and j.reason.startswith("UA did join_alliance() (event j at")
    d = mon.explain("decide/e1", as_of)
    assert d is not None and d.reason.endswith("Rejected at 2022-03-29T12:00+03:00 (event v1).")


def test_collective_obligation_violated_reason() -> None:
    """An unmet `any of` obligation names the collective in its reason."""
    clause = obligation("help", when(pat("armed_attack"), "a"), anyof(), pat("assistance"),
                        within(1))
    (item,) = run(treaty(clause), [attack("e1", at(0))]).status(at(days=2)).obligations
    assert item.state.value == "violated"
    assert item.explanation.reason.endswith("no assistance() by any of guarantor by then.")


def test_termination_lapses_open_decisions() -> None:
    """Open decisions lapse when the treaty terminates."""
    t = treaty(condition("end", "termination", (pat("denounce"),)),
               decision("decide", when(pat("armed_attack"), "attack"), each(GUARANTOR),
                        m.Rule(m.RuleKind.MAJORITY), within(3)))
    events = [attack("e1", at(0)), ev("d", at(1), "denounce", by="UA")]
    (d,) = run(t, events).status(at(2)).decisions
    assert (d.state.value, d.resolved_at) == ("lapsed", at(1))


def test_prohibition_triggered_by_each_violation_is_one_period_per_instance() -> None:
    """Two violated instances of one attack each start their own period, with distinct ids."""
    no_aid = prohibition("no_aid", each(GUARANTOR, ref("b", "aggressor")),
                         pat("assistance", c("by", ref("b", "obligor"))),
                         trigger=on("violated", "three_days", "b"), deadline=within(2))
    events = [attack("e1", at(0)), ev("x1", at(days=3.5), "assistance", by="US", to="UA")]
    events += [consult(f"c{g}", at(1), g) for g in GUARANTOR.members if g not in ("RU", "US", "GB")]
    result = run(treaty(three_days(), no_aid), events).status(at(days=10))
    mine = [(o.id, o.state.value, o.trigger_event) for o in result.obligations
            if o.clause == "no_aid"]
    assert mine == [("no_aid/three_days/e1/GB", "respected", "e1"),
                    ("no_aid/x1/US", "violated", "e1")]


def test_an_act_inside_overlapping_periods_is_one_violation() -> None:
    """An attack inside the periods of two ceasefires is one violation, and neither is respected."""
    truce = prohibition("truce", single("RU"), pat("armed_attack"),
                        trigger=when(pat("ceasefire"), "cf"), deadline=within(2))
    events = [ev("cf1", at(0), "ceasefire"), ev("cf2", at(1), "ceasefire"),
              attack("a1", at(days=1))]
    result = run(treaty(truce), events).status(at(days=5))
    assert [(o.id, o.state.value, o.trigger_event) for o in result.obligations] == [
        ("truce/a1/RU", "violated", "cf1")]
    assert len(result.obligations) == 1
