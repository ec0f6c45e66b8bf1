"""The example treaties: every clause quotes its source, and the flagship encodes S1-S12."""

from __future__ import annotations

from pathlib import Path

import pytest

from foedus.diagnostics import render_text
from foedus.language import model as m
from foedus.language.check import check_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.foedus"))


@pytest.fixture(scope="module")
def flagship() -> m.Treaty:
    """The checked flagship treaty, examples/istanbul_2022.foedus."""
    result = check_file(ROOT / "examples" / "istanbul_2022.foedus")
    assert result.treaty is not None, render_text(result.diagnostics, result.sources)
    return result.treaty


def _clause(treaty: m.Treaty, clause_id: str) -> m.Clause:
    clause = treaty.clause(clause_id)
    assert clause is not None, f"the flagship has no clause `{clause_id}`"
    return clause


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_clause_has_a_quote(path: Path) -> None:
    """Every clause of every example checks cleanly and quotes non-empty source words."""
    result = check_file(path)
    assert result.treaty is not None, render_text(result.diagnostics, result.sources)
    assert result.treaty.clauses
    for clause in result.treaty.clauses:
        assert clause.quotes, f"{path.name}: clause {clause.id} has no quote"
        assert all(q.strip() for q in clause.quotes), f"{path.name}: {clause.id} empty quote"


def test_s1_guarantors(flagship: m.Treaty) -> None:
    """S1: the guarantor role has 8 members, among them the whole unsc_permanent group."""
    roles = {r.name: r.members for r in flagship.roles}
    groups = {g.name: g.members for g in flagship.groups}
    assert roles["guarantor"] == ("CN", "DE", "FR", "GB", "IL", "RU", "TR", "US")
    assert groups["unsc_permanent"] == ("CN", "FR", "GB", "RU", "US")
    assert set(groups["unsc_permanent"]) <= set(roles["guarantor"])
    assert roles["guaranteed"] == ("UA",)


def test_s7_crimea_within_ukraine(flagship: m.Treaty) -> None:
    """S7/S12: Crimea is a territory within Ukraine, and Sevastopol within Crimea."""
    territories = {t.name: t.parent for t in flagship.territories}
    assert territories["Crimea"] == "Ukraine"
    assert territories["Sevastopol"] == "Crimea"
    assert territories["Ukraine"] is None


def test_s2_s4_consultations_within_3_days_except_aggressor(flagship: m.Treaty) -> None:
    """S2-S4: each guarantor but the aggressor must consult within 3 days of an attack."""
    clause = _clause(flagship, "consult")
    body = clause.body
    assert clause.kind is m.ClauseKind.OBLIGATION and isinstance(body, m.Obligation)
    assert body.trigger is not None and body.trigger.pattern is not None
    assert body.trigger.pattern.event == "armed_attack"
    place = next(c for c in body.trigger.pattern.constraints if c.field == "place")
    assert (place.op, place.value) == (m.Op.NOT_WITHIN, m.Const(m.FieldKind.TERRITORY, "Crimea"))
    assert body.obligors.quantifier is m.Quantifier.EACH
    assert body.obligors.among.name == "guarantor"
    assert body.obligors.exceptions == (m.Ref("attack", "aggressor", m.FieldKind.STATE),)
    assert body.action.event == "consultations"
    assert body.deadline.duration == m.Duration(3, m.Unit.DAYS)
    assert body.deadline.anchor == "attack"


def test_s5_support_follows_the_consultations_with_no_vote(flagship: m.Treaty) -> None:
    """S5: support arises from each consultation duty, kept or not; no decision, and the
    deadline is the treaty's named convention, not a number in the clause."""
    assert not [c for c in flagship.clauses if c.kind is m.ClauseKind.DECISION]
    for clause_id, verdict in (("support", m.TriggerKind.FULFILLED),
                               ("support_if_silent", m.TriggerKind.VIOLATED)):
        body = _clause(flagship, clause_id).body
        assert isinstance(body, m.Obligation) and body.trigger is not None
        assert (body.trigger.kind, body.trigger.clause) == (verdict, "consult")
        assert body.obligors.bound is not None and body.obligors.bound.field == "obligor"
        assert body.action.event == "assistance"
        assert body.deadline.convention == "promptly"
    (promptly,) = flagship.conventions
    assert promptly.duration == m.Duration(7, m.Unit.DAYS)


def test_s6_neutrality_prohibits_joining_alliances(flagship: m.Treaty) -> None:
    """S6: Ukraine is prohibited from joining an alliance."""
    clause = _clause(flagship, "neutrality")
    assert clause.kind is m.ClauseKind.PROHIBITION and isinstance(clause.body, m.Prohibition)
    assert clause.body.action.event == "join_alliance"
    assert clause.body.obligors.among.members == ("UA",)


def test_s6_neutrality_is_suspended_when_support_fails(flagship: m.Treaty) -> None:
    """S6: neutrality binds only while the guarantees hold."""
    governing = {c.id: c.body for c in flagship.clauses
                 if isinstance(c.body, m.Condition) and c.body.target == "neutrality"}
    assert {k: (b.effect, b.steps) for k, b in governing.items()} == {
        "guarantees_fail": (m.ConditionEffect.SUSPENSION,
                            ((m.Verdict(m.TriggerKind.VIOLATED, "support"),),)),
        "guarantees_fail_silent": (m.ConditionEffect.SUSPENSION,
                                   ((m.Verdict(m.TriggerKind.VIOLATED,
                                               "support_if_silent"),),)),
    }


def test_s7_force_over_crimea_binds_russia_whatever_the_log_calls_it(
        flagship: m.Treaty) -> None:
    """S7: force over Crimea is prohibited to Russia, as a use of force or an armed attack;
    no clause is invented for its breach."""
    no_force = _clause(flagship, "no_force_crimea")
    assert isinstance(no_force.body, m.Prohibition)
    assert no_force.body.obligors.among.members == ("RU",)
    assert no_force.body.action.events == ("use_of_force", "armed_attack")
    assert no_force.body.action.constraints == (
        m.Constraint("place", m.Op.WITHIN, m.Const(m.FieldKind.TERRITORY, "Crimea")),
    )
    waiting = [c.id for c in flagship.clauses
               if getattr(c.body, "trigger", None) is not None
               and c.body.trigger.clause == "no_force_crimea"]  # type: ignore[union-attr]
    assert waiting == []


def test_s8_s9_entry_into_force_in_two_unordered_chains(flagship: m.Treaty) -> None:
    """S8/S9: ceasefire then signature; end of the emergency then referendum; the two
    chains are not ordered between them."""
    chains = {c.id: [[p.event for p in step] for step in c.body.steps]  # type: ignore[union-attr]
              for c in flagship.clauses if isinstance(c.body, m.Condition)
              and c.body.effect is m.ConditionEffect.ENTRY_INTO_FORCE}
    assert chains == {"signing": [["ceasefire"], ["signature"]],
                      "referendum": [["emergency_lifted"], ["referendum"]]}


def test_s10_s11_standalone_clauses(flagship: m.Treaty) -> None:
    """S10/S11: the two-week talks (permissions, one window) and the stop of operations
    are standalone clauses."""
    for clause_id in ("talks_with_russia", "multilateral", "stop_kyiv", "stop_chernihiv"):
        assert _clause(flagship, clause_id).standalone, clause_id
    windows = set()
    for clause_id in ("talks_with_russia", "multilateral"):
        clause = _clause(flagship, clause_id)
        assert clause.kind is m.ClauseKind.PERMISSION and isinstance(clause.body, m.Permission)
        windows.add(clause.body.window)
    assert len(windows) == 1
    stop = _clause(flagship, "stop_kyiv")
    assert stop.kind is m.ClauseKind.PROHIBITION and isinstance(stop.body, m.Prohibition)
    assert stop.body.window.start_at is not None
    assert not _clause(flagship, "consult").standalone


def test_s12_no_military_repression_in_ukraine(flagship: m.Treaty) -> None:
    """S12: military repression anywhere within Ukraine is prohibited for each party."""
    clause = _clause(flagship, "no_repression")
    assert isinstance(clause.body, m.Prohibition)
    assert clause.body.action.event == "military_repression"
    assert clause.body.action.constraints == (
        m.Constraint("place", m.Op.WITHIN, m.Const(m.FieldKind.TERRITORY, "Ukraine")),
    )
    assert clause.body.obligors.among.name == "party"
