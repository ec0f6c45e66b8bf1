"""States that are not parties: the `state` declaration and field type in the checker,
the printer and the description."""

from __future__ import annotations

from foedus.language import model as m
from foedus.language.check import check_source
from foedus.language.describe import describe_treaty
from foedus.language.printer import format_source

HEAD = """treaty t "T"
role guarantor
party UA "Ukraine"
party US "United States", GB "United Kingdom", RU "Russia" role guarantor
state BY "Belarus", KP
territory Ukraine
event armed_attack(aggressor: state, victim: party, place: territory)
event consultations(by: party actor, with: party)
"""


def _clause(body: str) -> str:
    return HEAD + 'clause c\n  quote "q"\n' + body + "\n"


def _codes(source: str) -> list[str]:
    return [d.code for d in check_source(source).diagnostics]


def test_states_are_declared_apart_from_parties() -> None:
    """Declared states are in the treaty's states, not among its parties."""
    treaty = check_source(HEAD).treaty
    assert treaty is not None
    assert [p.code for p in treaty.parties] == ["GB", "RU", "UA", "US"]
    assert [(s.code, s.name) for s in treaty.states] == [("BY", "Belarus"), ("KP", "KP")]
    assert treaty.state_codes() == ("GB", "RU", "UA", "US", "BY", "KP")
    attack = treaty.event("armed_attack")
    assert attack is not None
    assert attack.fields[0].type == m.FieldType(m.FieldKind.STATE)
    assert attack.actor == "victim"  # the first party field: a state field never acts


def test_a_state_fits_a_state_field_and_a_party_fits_both() -> None:
    """`aggressor: BY` is a state constant, `aggressor: RU` a party one."""
    treaty = check_source(_clause(
        "  when armed_attack(aggressor: BY) as a if a.aggressor != RU\n"
        "  each guarantor must consultations(with: UA) within 1 day of a")).treaty
    assert treaty is not None
    body = treaty.clauses[0].body
    assert isinstance(body, m.Obligation) and body.trigger is not None
    assert body.trigger.pattern is not None
    (constraint,) = body.trigger.pattern.constraints
    assert constraint.value == m.Const(m.FieldKind.STATE, "BY")
    assert body.trigger.guard == m.Compare(m.Ref("a", "aggressor", m.FieldKind.STATE), m.Op.NE,
                                           m.Const(m.FieldKind.PARTY, "RU"))


def test_a_state_that_is_not_a_party_does_not_fit_a_party_field() -> None:
    """A party field never holds Belarus: naming it there, or comparing with it, is refused."""
    assert _codes(_clause(
        "  when armed_attack(victim: BY) as a\n"
        "  each guarantor must consultations(with: UA) within 1 day of a")) == ["type-mismatch"]
    assert _codes(_clause(
        "  when armed_attack() as a if a.victim == KP\n"
        "  each guarantor must consultations(with: UA) within 1 day of a")) == ["type-mismatch"]


def test_a_state_field_and_a_party_field_may_be_compared() -> None:
    """A party field may be compared with a state field, both ways, in guards and patterns."""
    source = _clause(
        "  when armed_attack() as a if a.aggressor == a.victim or a.victim != a.aggressor\n"
        "  each guarantor except a.aggressor must consultations(with: a.aggressor) "
        "within 1 day of a")
    assert _codes(source) == []


def test_nothing_is_owed_to_a_state_that_is_not_a_party() -> None:
    """`for BY` and `for a.aggressor` are refused; the implicit beneficiary skips state
    fields, since one may hold a state that is not a party."""
    for owed in ("BY", "a.aggressor"):
        assert _codes(_clause(
            "  when armed_attack() as a\n"
            f"  each guarantor must consultations(with: UA) for {owed} within 1 day of a"
        )) == ["beneficiary-not-party"]
    treaty = check_source(_clause(
        "  when armed_attack() as a\n"
        "  each guarantor must consultations(with: a.aggressor) within 1 day of a")).treaty
    assert treaty is not None
    body = treaty.clauses[0].body
    assert isinstance(body, m.Obligation) and body.beneficiary is None


def test_excepting_a_state_that_is_not_a_party_changes_nothing() -> None:
    """`except BY` is reported as excepting no one; an unknown name after `except` or
    `for` is an unknown party, as before states existed."""
    assert _codes(_clause(
        "  when armed_attack() as a\n"
        "  each guarantor except BY must consultations(with: UA) within 1 day of a"
    )) == ["exception-not-member"]
    assert _codes(_clause(
        "  when armed_attack() as a\n"
        "  each guarantor except XY must consultations(with: UA) for XX within 1 day of a"
    )) == ["unknown-party", "unknown-party"]


def test_a_state_that_is_not_a_party_is_bound_by_nothing() -> None:
    """A state is neither an obligor nor a member of a group."""
    assert _codes(_clause("  BY must not consultations(with: UA)")) == ["state-not-party"]
    assert _codes(HEAD + "group hostile = RU, BY\n") == ["state-not-party"]


def test_state_is_still_a_name_inside_statements() -> None:
    """`state` starts a statement only at the start of a line: a field may be called so."""
    assert _codes(HEAD + "event report(state: state actor)\n") == []
    assert _codes(HEAD + "event report(by: party, state: state)\n") == []


def test_format_keeps_states_and_their_titles() -> None:
    """`foedus fmt` lays out a state declaration like a party one, without roles."""
    text, diagnostics = format_source('state  BY "Belarus" ,KP\nstate IR')
    assert diagnostics == []
    assert text == 'state BY "Belarus", KP\nstate IR\n'


def test_describe_names_the_states() -> None:
    """The description lists the states apart from the parties and names them in clauses."""
    treaty = check_source(_clause(
        "  when armed_attack(aggressor: BY) as a\n"
        "  each guarantor must consultations(with: UA) within 1 day of a")).treaty
    assert treaty is not None
    text = describe_treaty(treaty)
    assert "Other states (not parties: events may name them, no clause binds them):\n" \
           "  BY   Belarus\n  KP   KP\n" in text
    assert "where aggressor is Belarus (BY)" in text
