"""Entry into force, suspension, resumption and termination (docs/semantics.md §2)."""

from __future__ import annotations

from engine_builders import (
    at,
    attack,
    by_date,
    by_status,
    clause,
    condition,
    consult,
    ev,
    obligation,
    pat,
    prohibition,
    run,
    single,
    three_days,
    treaty,
)

from foedus.engine.monitor import Monitor
from foedus.events import Event
from foedus.language import model as m

ENTRY = condition("entry", "entry_into_force", (pat("ceasefire"),),
                  (pat("emergency_ends"), pat("referendum")), (pat("signature"),))


def steps(*types: str) -> list[Event]:
    """One event of each type, an hour apart from T0."""
    return [ev(f"s{i}", at(i), t, **({"by": "UA"} if t == "signature" else {}))
            for i, t in enumerate(types)]


def test_no_entry_clause_means_in_force_from_the_start() -> None:
    """Example 2.1: without an entry-into-force clause the treaty is in force at once."""
    result = Monitor(treaty(three_days())).status(at(0))
    assert result.treaty_status.value == "in_force"


def test_steps_in_order_enter_into_force() -> None:
    """Example 2.2: ceasefire, then emergency end and referendum in any order, then signature."""
    t = treaty(ENTRY)
    events = steps("ceasefire", "referendum", "emergency_ends", "signature")
    result = run(t, events).status(at(9))
    assert result.treaty_status.value == "in_force"
    assert result.conditions == {"entry": "met at 2022-03-29T13:00+03:00 (event s3)"}


def test_a_later_step_only_counts_after_the_previous_one() -> None:
    """Example 2.2: a signature before the ceasefire does not count and must come again."""
    t = treaty(ENTRY)
    events = steps("signature", "ceasefire", "referendum", "emergency_ends")
    result = run(t, events).status(at(9))
    assert result.treaty_status.value == "not_in_force"
    assert result.conditions["entry"] == "step 3 of 3: waiting for signature()"


def test_trigger_before_entry_does_not_create_obligations() -> None:
    """Example 2.3: an attack before entry into force gives a non-arising, not an obligation."""
    t = treaty(ENTRY, three_days())
    events = [attack("a0", at(0.5)), *steps("ceasefire", "referendum", "emergency_ends",
                                            "signature"), attack("a1", at(5))]
    result = run(t, events).status(at(9))
    assert {o.trigger_event for o in result.obligations} == {"a1"}
    (na,) = result.not_arisen
    assert (na.event, na.reason) == ("a0", "treaty not in force yet")


def test_standalone_clause_applies_before_entry_into_force() -> None:
    """Example 2.3: a standalone commitment binds even while the treaty is not in force."""
    standalone = obligation("talks", None, single("UA"), pat("consultations"),
                            by_date(at(days=14)), standalone=True)
    result = run(treaty(ENTRY, standalone), [consult("c", at(1), "UA")]).status(at(9))
    assert by_status(result) == {"talks/start/UA": "fulfilled"}


def test_dated_obligation_arises_at_entry_into_force() -> None:
    """Example 2.4: a dated, non-standalone obligation arises when the treaty enters into force."""
    dated = obligation("report", None, single("UA"), pat("consultations"), by_date(at(days=2)))
    events = steps("ceasefire", "referendum", "emergency_ends", "signature")
    (item,) = run(treaty(ENTRY, dated), events).status(at(9)).obligations
    assert (item.id, item.trigger_event, item.triggered_at) == ("report/in-force/UA", "s3", at(3))


def test_suspension_and_resumption() -> None:
    """Example 2.5: while suspended, triggers give non-arisings and prohibitions do not apply."""
    t = treaty(
        condition("pause", "suspension", (pat("suspend"),)),
        condition("again", "resumption", (pat("resume"),)),
        three_days(),
        prohibition("neutrality", single("UA"), pat("join_alliance")),
    )
    events = [
        ev("p", at(1), "suspend"),
        attack("a1", at(2)),
        ev("j1", at(3), "join_alliance", member="UA", alliance="X", kind="military"),
        ev("r", at(4), "resume"),
        attack("a2", at(5)),
        ev("p2", at(6), "suspend"),
    ]
    result = run(t, events).status(at(9))
    assert result.treaty_status.value == "suspended"
    assert {o.trigger_event for o in result.obligations if o.clause == "three_days"} == {"a2"}
    assert [o.state.value for o in result.obligations if o.clause == "neutrality"] == [
        "respected"]
    (na,) = result.not_arisen
    assert na.reason == "treaty suspended since 2022-03-29T11:00+03:00 (event p)"


def test_termination_discharges_pending_obligations() -> None:
    """Example 2.6: termination discharges what is pending; later triggers never arise."""
    t = treaty(condition("end", "termination", (pat("denounce"),)), three_days())
    events = [attack("a1", at(0)), consult("c1", at(1), "US"), ev("d", at(2), "denounce", by="RU"),
              attack("a2", at(3))]
    result = run(t, events).status(at(days=9))
    statuses = by_status(result)
    assert statuses["three_days/a1/US"] == "fulfilled"
    assert statuses["three_days/a1/GB"] == "discharged"
    assert not any(k.startswith("three_days/a2") for k in statuses)
    gb = next(o for o in result.obligations if o.id == "three_days/a1/GB")
    assert (gb.settled_at, gb.settled_by) == (at(2), "d")
    assert result.not_arisen[0].reason.startswith("treaty terminated since")


# ---------------------------------------------------------------- verdicts and clauses

NEUTRALITY = prohibition("neutrality", single("UA"), pat("join_alliance"))
SUPPORT = obligation("support", three_days().body.trigger, three_days().body.obligors,
                     pat("assistance"), three_days().body.deadline)


def governs(cid: str, effect: str, target: str | None, *steps: tuple) -> m.Clause:
    return clause(cid, m.Condition(m.ConditionEffect(effect), tuple(steps), target))


def violated(clause_id: str) -> m.Verdict:
    return m.Verdict(m.TriggerKind.VIOLATED, clause_id)


def join(id: str, hours: float) -> Event:
    return ev(id, at(hours), "join_alliance", member="UA", alliance="NATO", kind="military")


def test_a_clause_suspended_by_a_verdict_reached_at_a_deadline() -> None:
    """Example 2.7: `neutrality suspended after violated(support)`: the guarantors' duty is
    violated when its 3 days pass, with no event; from that instant UA may join, and the
    suspension says which verdict caused it."""
    t = treaty(SUPPORT, NEUTRALITY, governs("fails", "suspension", "neutrality",
                                            (violated("support"),)))
    events = [attack("a1", at(0)), join("j1", 24), join("j2", 80)]
    result = run(t, events).status(at(100))
    states = by_status(result)
    assert states["neutrality/j1/UA"] == "violated"  # still bound on day 1
    assert "neutrality/j2/UA" not in states  # suspended from hour 72
    reasons = {n.event: n.reason for n in result.not_arisen if n.clause == "neutrality"}
    assert reasons["j2"].startswith("clause neutrality suspended since 2022-04-01T10:00+03:00 "
                                    "(violated(support): support/a1/")
    assert result.conditions["fails"].startswith(
        "met at 2022-04-01T10:00+03:00 (violated(support): support/a1/")
    # the treaty itself stays in force
    assert result.treaty_status.value == "in_force"


def test_a_kept_duty_leaves_the_clause_in_force() -> None:
    """Example 2.7: every guarantor assists in time; neutrality still binds."""
    t = treaty(SUPPORT, NEUTRALITY, governs("fails", "suspension", "neutrality",
                                            (violated("support"),)))
    helpers = ("US", "GB", "FR", "CN", "DE", "TR", "IL", "PL")
    events = [attack("a1", at(0)), *(ev(f"h{i}", at(1), "assistance", by=p, to="UA")
                                      for i, p in enumerate(helpers)), join("j2", 80)]
    states = by_status(run(t, events).status(at(100)))
    assert states["neutrality/j2/UA"] == "violated"


def test_a_suspended_clause_gives_a_reason_and_resumes() -> None:
    """Example 2.8: a triggered clause that a condition suspended does not arise, and says
    why; after `resume` it arises again."""
    t = treaty(three_days(), governs("pause", "suspension", "three_days", (pat("suspend"),)),
               governs("again", "resumption", "three_days", (pat("resume"),)))
    events = [ev("p1", at(0), "suspend"), attack("a1", at(1)), ev("r1", at(2), "resume"),
              attack("a2", at(3))]
    result = run(t, events).status(at(4))
    reasons = {n.event: n.reason for n in result.not_arisen}
    assert reasons == {"a1": "clause three_days suspended since 2022-03-29T10:00+03:00 "
                             "(event p1)"}
    assert any(o.id.startswith("three_days/a2/") for o in result.obligations)


def test_a_clause_in_force_after_its_own_condition() -> None:
    """Example 2.9: `three_days in force after ceasefire()`: an attack before the ceasefire
    gives "clause three_days not in force yet"; the treaty is in force all along."""
    t = treaty(three_days(), governs("from_ceasefire", "entry_into_force", "three_days",
                                     (pat("ceasefire"),)))
    events = [attack("a1", at(0)), ev("c1", at(1), "ceasefire"), attack("a2", at(2))]
    result = run(t, events).status(at(3))
    reasons = {n.event: n.reason for n in result.not_arisen}
    assert reasons == {"a1": "clause three_days not in force yet"}
    assert any(o.id.startswith("three_days/a2/") for o in result.obligations)


def test_a_terminated_clause_discharges_its_pending_duties_only() -> None:
    """Example 2.10: `three_days terminated after denounce()` discharges its pending duties;
    the treaty and its other clauses go on."""
    t = treaty(three_days(), NEUTRALITY,
               governs("end", "termination", "three_days", (pat("denounce"),)))
    events = [attack("a1", at(0)), ev("d1", at(1), "denounce", by="UA"), join("j1", 2)]
    states = by_status(run(t, events).status(at(100)))
    assert {v for k, v in states.items() if k.startswith("three_days/")} == {"discharged"}
    assert states["neutrality/j1/UA"] == "violated"
