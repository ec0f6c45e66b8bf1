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
    assert body.obligors.exceptions == (m.Ref("attack", "aggressor", m.FieldKind.PARTY),)
    assert body.action.event == "consultations"
    assert body.deadline.duration == m.Duration(3, m.Unit.DAYS)
    assert body.deadline.anchor == "attack"


def test_s5_decision_gates_support(flagship: m.Treaty) -> None:
    """S5: a majority decision of the guarantors gates the support obligation via adopted()."""
    decision = _clause(flagship, "support_decision")
    assert decision.kind is m.ClauseKind.DECISION and isinstance(decision.body, m.Decision)
    assert decision.body.rule.kind is m.RuleKind.MAJORITY
    support = _clause(flagship, "support")
    assert isinstance(support.body, m.Obligation) and support.body.trigger is not None
    assert support.body.trigger.kind is m.TriggerKind.ADOPTED
    assert support.body.trigger.clause == "support_decision"
    assert support.body.action.event == "assistance"


def test_s6_neutrality_prohibits_joining_alliances(flagship: m.Treaty) -> None:
    """S6: Ukraine is prohibited from joining an alliance."""
    clause = _clause(flagship, "neutrality")
    assert clause.kind is m.ClauseKind.PROHIBITION and isinstance(clause.body, m.Prohibition)
    assert clause.body.action.event == "join_alliance"
    assert clause.body.obligors.among.members == ("UA",)


def test_s7_breach_over_crimea_obliges_consultations(flagship: m.Treaty) -> None:
    """S7: force over Crimea is prohibited, and its violation triggers consultations."""
    no_force = _clause(flagship, "no_force_crimea")
    assert isinstance(no_force.body, m.Prohibition)
    assert no_force.body.action.constraints == (
        m.Constraint("place", m.Op.WITHIN, m.Const(m.FieldKind.TERRITORY, "Crimea")),
    )
    breach = _clause(flagship, "crimea_breach")
    assert isinstance(breach.body, m.Obligation) and breach.body.trigger is not None
    assert breach.body.trigger.kind is m.TriggerKind.VIOLATED
    assert breach.body.trigger.clause == "no_force_crimea"


def test_s8_s9_entry_into_force_in_order(flagship: m.Treaty) -> None:
    """S8/S9: entry into force after ceasefire, then emergency lifted, referendum, signature."""
    clause = _clause(flagship, "entry_into_force")
    assert clause.kind is m.ClauseKind.CONDITION and isinstance(clause.body, m.Condition)
    assert clause.body.effect is m.ConditionEffect.ENTRY_INTO_FORCE
    steps = [[p.event for p in step] for step in clause.body.steps]
    assert steps == [["ceasefire"], ["emergency_lifted"], ["referendum"], ["signature"]]


def test_s10_s11_standalone_clauses(flagship: m.Treaty) -> None:
    """S10/S11: the two-week talks and the stop of operations are standalone clauses."""
    for clause_id in ("talks_with_russia", "multilateral", "stop_kyiv", "stop_chernihiv"):
        assert _clause(flagship, clause_id).standalone, clause_id
    assert _clause(flagship, "multilateral").kind is m.ClauseKind.PERMISSION
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
