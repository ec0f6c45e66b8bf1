"""Printer: canonical layout, golden round-trip files, comments, and `foedus fmt`."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from foedus.cli import fmt_command
from foedus.language import ast
from foedus.language.from_tree import UNITS
from foedus.language.parser import parse
from foedus.language.printer import format_source, print_module, strip_spans

ROUNDTRIP = sorted((Path(__file__).parent / "roundtrip").glob("*.foedus"))

FORMAT = Path(__file__).parent / "format"
MESSY = (FORMAT / "messy.foedus").read_text(encoding="utf-8")
CANONICAL = (FORMAT / "messy.expected").read_text(encoding="utf-8")


def test_roundtrip_files_exist() -> None:
    """The golden round-trip directory holds several canonical files."""
    assert len(ROUNDTRIP) >= 4


@pytest.mark.parametrize("path", ROUNDTRIP, ids=lambda p: p.name)
def test_canonical_file_prints_identically(path: Path) -> None:
    """A file already in canonical layout parses cleanly and prints byte for byte the same."""
    text = path.read_text(encoding="utf-8")
    result = parse(text, path.name)
    assert result.diagnostics == ()
    assert print_module(result.module) == text


@pytest.mark.parametrize("path", ROUNDTRIP, ids=lambda p: p.name)
def test_canonical_file_keeps_every_comment(path: Path) -> None:
    """Every comment of a golden file appears in the printed text, in the same order."""
    module = parse(path.read_text(encoding="utf-8")).module
    printed = print_module(module)
    comment_lines = [line for line in printed.splitlines() if line.startswith("#")]
    assert comment_lines == [c.text for c in module.comments]


def test_messy_source_is_laid_out_canonically() -> None:
    """Irregular spacing, clauses on one line and `1 days` become the canonical layout."""
    text, diagnostics = format_source(MESSY, "messy.foedus")
    assert diagnostics == []
    assert text == CANONICAL


def test_format_is_idempotent_and_preserves_the_tree() -> None:
    """Formatting twice changes nothing, and the tree is the same as the original's."""
    once, _ = format_source(MESSY)
    assert once is not None
    twice, _ = format_source(once)
    assert twice == once
    assert strip_spans(parse(once).module.statements) == strip_spans(parse(MESSY).module.statements)


def test_strip_spans_ignores_only_positions() -> None:
    """Trees differing in layout compare equal once stripped; different names do not."""
    a = parse("party UA role guarantor").module.statements
    b = parse("\n\nparty   UA\n  role guarantor").module.statements
    c = parse("party UB role guarantor").module.statements
    assert a != b
    assert strip_spans(a) == strip_spans(b)
    assert strip_spans(a) != strip_spans(c)


def test_comment_inside_statement_moves_before_it() -> None:
    """A comment between a clause's first and last line is printed just before the clause."""
    source = 'party UA\nclause c quote "q"\n  # inside\n  UA must f() within 2 days # tail\n'
    text, _ = format_source(source)
    assert text == (
        'party UA\n\n# inside\n# tail\nclause c\n  quote "q"\n  UA\n    must f() within 2 days\n'
    )


def test_comment_between_statements_stays_with_the_next() -> None:
    """A comment between two statements of the same kind stays between them."""
    text, _ = format_source("party A\n# about B\nparty B\n")
    assert text == "party A\n# about B\nparty B\n"


def test_file_of_only_comments_keeps_them() -> None:
    """A file with comments and no statements prints the comments alone."""
    text, _ = format_source("\n  # one\n\n# two   \n")
    assert text == "# one\n# two\n"


def test_empty_file_prints_empty() -> None:
    """An empty or blank file formats to the empty string."""
    assert format_source("") == ("", [])
    assert format_source("\n \n\t\n") == ("", [])


def test_strings_are_reescaped() -> None:
    """Quotes, backslashes, newlines and tabs in texts are written as escapes."""
    text, _ = format_source('treaty t "a \\"b\\" \\\\ c\\nd\\te\\q"')
    assert text == 'treaty t "a \\"b\\" \\\\ c\\nd\\teq"\n'


def test_syntax_error_gives_no_text() -> None:
    """A file with a syntax error is not printed; the diagnostics say why."""
    text, diagnostics = format_source('party UA "Ukraine\n', "x.foedus")
    assert text is None
    assert [d.code for d in diagnostics] == ["unterminated-text"]


# ---------------------------------------------------------------- foedus fmt


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test application."""

    fmt_command.register(app)
    return app


def _run(*args: str):
    return CliRunner().invoke(_app(), ["fmt", *args])


def test_fmt_rewrites_changed_files_only(tmp_path: Path) -> None:
    """`fmt` rewrites a messy file in place, reports it, and leaves a canonical one untouched."""
    messy = tmp_path / "a.foedus"
    messy.write_text(MESSY, encoding="utf-8")
    clean = tmp_path / "sub" / "b.foedus"
    clean.parent.mkdir()
    clean.write_text(CANONICAL, encoding="utf-8")
    before = clean.stat().st_mtime_ns
    result = _run(str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"reformatted {messy}" in result.output
    assert str(clean) not in result.output
    assert messy.read_text(encoding="utf-8") == CANONICAL
    assert clean.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.foedus", "b.foedus", "sub"]


def test_fmt_check_lists_files_and_changes_nothing(tmp_path: Path) -> None:
    """`fmt --check` exits 1 naming files that would change, and does not write them."""
    messy = tmp_path / "a.foedus"
    messy.write_text(MESSY, encoding="utf-8")
    result = _run(str(tmp_path), "--check")
    assert result.exit_code == 1
    assert f"would reformat {messy}" in result.output
    assert messy.read_text(encoding="utf-8") == MESSY
    messy.write_text(CANONICAL, encoding="utf-8")
    assert _run(str(messy), "--check").exit_code == 0


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'party UA "Ukraine\n', "unterminated-text"),
        (b"party UA \xff\xfe\n", "invalid-utf8"),
        (b"\x00\x01\x02binary", "binary-file"),
    ],
)
def test_fmt_reports_bad_files_without_traceback(tmp_path: Path, content: bytes, code: str) -> None:
    """Syntax errors, invalid UTF-8 and binary files are rendered diagnostics with exit 1."""
    path = tmp_path / "bad.foedus"
    path.write_bytes(content)
    result = _run(str(path))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"error[{code}]" in result.output
    assert path.read_bytes() == content


def test_fmt_missing_path_is_a_diagnostic(tmp_path: Path) -> None:
    """A path that does not exist is reported as an error, not a crash."""
    result = _run(str(tmp_path / "nope.foedus"))
    assert result.exit_code == 1
    assert "error[unreadable-file]" in result.output


def test_fmt_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    """Formatting a symbolic link rewrites the file it points to and keeps the link."""
    real = tmp_path / "real.foedus"
    real.write_text(MESSY, encoding="utf-8")
    link = tmp_path / "link.foedus"
    link.symlink_to(real)
    result = _run(str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == CANONICAL


def _walk(node: object):
    """Every AST node and value reachable from ``node``."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, tuple | list):
            stack.extend(current)
        elif hasattr(current, "__dataclass_fields__"):
            stack.extend(getattr(current, f) for f in current.__dataclass_fields__)


def test_golden_files_cover_every_construct() -> None:
    """The golden files use every AST node type and every variant of every keyword choice."""
    nodes = [n for p in ROUNDTRIP for n in _walk(parse(p.read_text(encoding="utf-8")).module)]
    seen_types = {type(n).__name__ for n in nodes}
    all_types = {
        name
        for name, obj in vars(ast).items()
        if isinstance(obj, type) and hasattr(obj, "__dataclass_fields__")
    }
    assert all_types <= seen_types

    def values(cls: type, attr: str) -> set[object]:
        return {getattr(n, attr) for n in nodes if isinstance(n, cls)}

    assert values(ast.ObligorsAst, "quantifier") == {"each", "any", "at_least", "single",
                                                        "bound"}
    assert values(ast.DeadlineAst, "kind") == {"within", "end_of_day", "at", "convention"}
    assert values(ast.DeadlineAst, "unit") >= {*UNITS.values(), "business_days"}
    assert values(ast.RuleAst, "kind") == {
        "unanimity",
        "majority",
        "consensus",
        "qualified",
        "at_least",
    }
    assert values(ast.ConditionAst, "effect") == {"in force", "suspended", "resumes", "terminated"}
    assert values(ast.TriggerAst, "verdict") == {
        None,
        "violated",
        "fulfilled",
        "adopted",
        "rejected",
    }
    compare = {"==", "!=", "<=", ">=", "<", ">", "within", "not within"}
    assert values(ast.CompareAst, "op") == compare
    assert values(ast.Arg, "op") == compare | {"", "not"}
    windows = {(w.start is None, w.end is None) for w in nodes if isinstance(w, ast.WindowAst)}
    assert windows == {(False, True), (True, False), (False, False)}
