"""Plain English from `describe` and `explain`: plurals, role members, references, calendars."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from foedus.cli.main import app
from foedus.language.check import check_source
from foedus.language.describe import describe_clause

SOURCE = """
treaty t "T"
role ally
group core = A, B
party A "Alpha", B "Beta", C "Gamma"
party A, B role ally
calendar office workdays mon, tue, wed, thu, fri
event inc(by: party actor, customer: party)
event help(by: party actor, to: party)
event report(by: party actor)
clause c1 quote "x"
  when inc(customer: ally) as i
  at least 2 of ally must help(to: i.customer) within 1 business day of i calendar office
clause c2 quote "x"
  when inc() as i if i.customer == i.by
  each core must report() within 1 day of i
"""


def _described(clause_id: str) -> str:
    treaty = check_source(SOURCE).treaty
    assert treaty is not None
    clause = treaty.clause(clause_id)
    assert clause is not None
    return describe_clause(treaty, clause)


def test_roles_are_plural_nouns_and_groups_have_members() -> None:
    """"at least 2 allies", "customer is one of the allies", "each member of core"."""
    text = _described("c1")
    assert "at least 2 allies (A, B)" in text
    assert "customer is one of the allies (A, B)" in text
    assert "each member of core (A, B)" in _described("c2")


def test_references_and_calendars_read_as_english() -> None:
    """"the party that did i", and the calendar after the anchor, once."""
    assert "the party that did i" in _described("c2")
    assert "within 1 business day of i (calendar office)" in _described("c1")


def test_check_counts_in_the_singular_when_there_is_one(tmp_path: Path) -> None:
    """`foedus check` says "1 clause", not "1 clauses"."""
    path = tmp_path / "one.foedus"
    path.write_text('treaty t "T"\nparty A "Alpha"\nevent go(by: party actor)\n'
                    'clause c quote "A will not go"\n  A must not go()\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("— 1 party, 1 clause\n")


def test_explain_of_a_prohibition_says_must_not() -> None:
    """The duty line of a violated prohibition is what was forbidden: "must not"."""
    root = Path(__file__).resolve().parents[2]
    result = CliRunner().invoke(app, [
        "explain", str(root / "examples" / "istanbul_2022.foedus"),
        str(root / "examples" / "istanbul_2022.events.jsonl"), "no_force_crimea/e09/RU"])
    assert result.exit_code == 0, result.output
    assert "duty: RU must not use_of_force | armed_attack(place: within Crimea)" in result.output
