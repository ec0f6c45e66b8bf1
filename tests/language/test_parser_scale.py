"""Parser behaviour on large inputs: positions stay exact and the process state is restored."""

from __future__ import annotations

import gc

from foedus.language import ast
from foedus.language.parser import parse


def test_positions_are_exact_deep_into_a_large_file() -> None:
    """Statement spans and comment lines are right thousands of statements into a file."""
    lines = []
    for i in range(3000):
        lines.append(f"# party {i}")
        lines.append(f'party P{i} "Party {i}" role guarantor')
        lines.append("")
    result = parse("\n".join(lines), "big.foedus")
    assert result.diagnostics == ()
    statements = result.module.statements
    assert len(statements) == 3000
    last = statements[-1]
    assert isinstance(last, ast.PartyDecl)
    assert (last.span.line, last.span.column) == (3 * 2999 + 2, 1)
    assert last.items[0].name.span.line == 3 * 2999 + 2
    assert result.module.comments[-1] == ast.Comment("# party 2999", 3 * 2999 + 1)


def test_error_position_after_many_statements() -> None:
    """A syntax error late in a large file is reported on its own line."""
    text = "party A\n" * 2000 + "party B role\n" + "party C\n" * 10
    result = parse(text, "big.foedus")
    assert [d.code for d in result.diagnostics] == ["unexpected-end"]
    assert result.diagnostics[0].span is not None
    assert result.diagnostics[0].span.line == 2001
    assert len(result.module.statements) == 2010


def test_garbage_collector_state_is_restored() -> None:
    """Parsing pauses the garbage collector and leaves it as it found it, even on errors."""
    assert gc.isenabled()
    parse("party A\nclause")
    assert gc.isenabled()
    gc.disable()
    try:
        parse("party A")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_parentheses_nested_within_the_limit_are_accepted() -> None:
    """A guard inside 150 parentheses parses to the plain comparison."""
    guard = "(" * 150 + "a.b == X" + ")" * 150
    text = f'clause c quote "q" when e() as a if {guard} UA must f() within 1 day'
    result = parse(text)
    assert result.diagnostics == ()
    clause = result.module.statements[0]
    assert isinstance(clause, ast.ClauseDecl)
    assert isinstance(clause.body, ast.ObligationAst)
    assert clause.body.trigger is not None
    assert isinstance(clause.body.trigger.guard, ast.CompareAst)
