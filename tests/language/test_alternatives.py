"""Patterns over several event types, `a | b(...)`: what the checker accepts and refuses,
beyond the goldens (``good/alternatives.foedus``, ``bad/field_*``,
``bad/duplicate_alternative``)."""

from __future__ import annotations

from foedus.language import model as m
from foedus.language.check import check_source

HEAD = """\
treaty t "T"
role guarantor
party UA "Ukraine", RU "Russia"
party US "United States" role guarantor
territory Ukraine, Kyiv within Ukraine
event military_operation(by: party, victim: party, place: territory)
event armed_attack(aggressor: party, victim: party, place: territory)
event consultations(by: party actor, with: party)
event talks(with: party, by: party actor)
event calm(note: text)
event join_alliance(member: party, kind: military | political)
event join_bloc(member: party, kind: economic | military)
"""


def check(body: str) -> tuple[m.Treaty | None, list[tuple[str, str]]]:
    result = check_source(HEAD + 'clause c quote "q"\n' + body)
    return result.treaty, [(d.code, d.message) for d in result.diagnostics]


def test_the_model_lists_every_type_in_order() -> None:
    """`military_operation | armed_attack(...)` keeps the first type as `event`."""
    t, problems = check("RU must not military_operation | armed_attack(place: Kyiv)")
    assert problems == [] and t is not None
    body = t.clauses[0].body
    assert isinstance(body, m.Prohibition)
    assert body.action.events == ("military_operation", "armed_attack")
    assert (body.action.event, body.action.alternatives) == ("military_operation",
                                                             ("armed_attack",))


def test_a_field_of_no_listed_type_is_unknown() -> None:
    """A field none of the types declares is `unknown-field`, naming them all."""
    _, problems = check("RU must not military_operation | armed_attack(zz: 1)")
    assert problems == [("unknown-field",
                         "events `military_operation` and `armed_attack` have no field `zz`")]


def test_every_type_of_an_action_needs_an_actor() -> None:
    """An action over several types is refused if one of them has no party to act."""
    _, problems = check("RU must not military_operation | calm()")
    assert problems == [("no-actor",
                         "event `calm` has no party field, so no party can perform it")]


def test_an_option_must_be_offered_by_every_type() -> None:
    """`kind: political` is refused when `join_bloc` has no such option; `military` is not."""
    _, problems = check("UA must not join_alliance | join_bloc(kind: political)")
    assert problems == [("unknown-option",
                         "`political` is not an option of `kind` in `join_bloc`")]
    t, problems = check("UA must not join_alliance | join_bloc(kind: military)")
    assert problems == [] and t is not None


def test_guard_and_verdict_bindings_read_common_fields_only() -> None:
    """A guard on `strike.aggressor`, or a verdict binding's `breach.aggressor`, is refused
    when one of the listed types lacks the field; `victim` is common and accepted."""
    _, problems = check("when military_operation | armed_attack() as s if s.aggressor == RU\n"
                        "UA must consultations() within 1 day of s")
    assert [code for code, _ in problems] == ["field-not-common"]
    result = check_source(
        HEAD + 'clause stop quote "q"\n  RU must not military_operation | armed_attack()\n'
        'clause c quote "q"\n  when violated(stop) as breach\n'
        "  each guarantor must consultations(with: breach.victim) within 1 day of breach\n")
    assert result.diagnostics == []


def test_beneficiary_is_a_party_no_listed_type_acts_with() -> None:
    """Without `for`, the beneficiary is the first party named that is no type's actor."""
    t, problems = check("when armed_attack() as x\n"
                        "each guarantor must consultations | talks(by: US, with: UA) "
                        "within 1 day of x")
    assert problems == [] and t is not None
    body = t.clauses[0].body
    assert isinstance(body, m.Obligation)
    assert body.beneficiary == m.Const(m.FieldKind.PARTY, "UA")
