"""Fuzzing the front end: whatever the input, parsing returns diagnostics, never raises.

Every problem must be a ``Diagnostic`` whose span points inside the file it is about.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foedus.diagnostics import Diagnostic, Span
from foedus.language.parser import MAX_SOURCE_BYTES, decode_source, parse
from foedus.language.printer import format_source

ROUNDTRIP = sorted((Path(__file__).parent / "roundtrip").glob("*.foedus"))
SEEDS = [p.read_text(encoding="utf-8") for p in ROUNDTRIP]
FILE = "fuzz.foedus"

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\w+|\s+|.')
POOL = [
    *sorted(set(re.findall(r"[a-z]+", " ".join(SEEDS)))),
    *"()[]{},.:=|/<>!#\"'\\-+*",
    "==", "!=", "<=", ">=", '"', '"x', "\n", "\t", "\r", "\x00", "\ufeff", "\u2028", "é",
    "2022-13-45T99:99", "-1.5", "1e9", "99999999999999999999",
]  # fmt: skip


def assert_well_formed(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], text: str) -> None:
    """Each diagnostic is a Diagnostic with a span inside ``text`` (as the parser sees it)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for d in diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.span is not None, d
        assert d.span.file == FILE
        assert 1 <= d.span.line <= len(lines), d
        assert 1 <= d.span.column <= len(lines[d.span.line - 1]) + 1, d
        assert d.span.line <= d.span.end_line <= len(lines), d
        if d.span.end_line == d.span.line:
            assert d.span.column < d.span.end_column <= len(lines[d.span.line - 1]) + 2, d


def assert_node_spans_inside(module: object, text: str) -> None:
    """Every span in the syntax tree lies inside ``text``."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    stack = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple | list):
            stack.extend(node)
        elif isinstance(node, Span):
            assert node.file == FILE
            assert 1 <= node.line <= node.end_line <= len(lines), node
            assert 1 <= node.column <= len(lines[node.line - 1]) + 1, node
        elif hasattr(node, "__dataclass_fields__"):
            stack.extend(getattr(node, f) for f in node.__dataclass_fields__)


def parse_checked(text: str) -> None:
    """Parse ``text``; check diagnostics, spans, and that formatting what parsed cannot fail."""
    result = parse(text, FILE)
    assert_well_formed(result.diagnostics, text)
    assert_node_spans_inside(result.module.statements, text)
    if not result.diagnostics:
        printed, diagnostics = format_source(text, FILE)
        assert diagnostics == []
        assert printed is not None


def load_bytes(data: bytes) -> None:
    """Decode then parse raw bytes, the way the command line reads a file."""
    text, diagnostics = decode_source(data, FILE)
    if text is None:
        assert diagnostics
        for d in diagnostics:
            assert isinstance(d, Diagnostic)
            assert d.span is not None and d.span.file == FILE
            assert d.span.line >= 1 and d.span.column >= 1
        return
    assert diagnostics == []
    parse_checked(text)


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    """Random bytes are decoded or rejected with a diagnostic, and never crash the parser."""
    load_bytes(data)


@SETTINGS
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    """Random text yields diagnostics with spans inside the text, never an exception."""
    parse_checked(text)


@SETTINGS
@given(st.lists(st.sampled_from(POOL), max_size=60).map(" ".join))
def test_random_token_soup(text: str) -> None:
    """Random sequences of the language's own words and symbols never crash the parser."""
    parse_checked(text)


@st.composite
def mutated_sources(draw: st.DrawFn) -> str:
    """A golden source with a few token- and character-level mutations."""
    tokens = _TOKEN.findall(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["delete", "insert", "swap", "dup", "chardel", "charins"]))
        i = draw(st.integers(0, len(tokens) - 1))
        if kind == "delete" and len(tokens) > 1:
            del tokens[i]
        elif kind == "insert":
            tokens.insert(i, draw(st.sampled_from(POOL)))
        elif kind == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif kind == "dup":
            tokens.insert(i, tokens[i])
        elif kind == "chardel" and tokens[i]:
            k = draw(st.integers(0, len(tokens[i]) - 1))
            tokens[i] = tokens[i][:k] + tokens[i][k + 1 :]
        elif kind == "charins":
            k = draw(st.integers(0, len(tokens[i])))
            tokens[i] = tokens[i][:k] + draw(st.characters()) + tokens[i][k:]
    return "".join(tokens)


@SETTINGS
@given(mutated_sources())
def test_mutated_sources(text: str) -> None:
    """Valid sources with deleted, inserted, swapped or altered tokens never crash the parser."""
    parse_checked(text)


@SETTINGS
@given(mutated_sources())
def test_mutated_sources_as_bytes(text: str) -> None:
    """Mutated sources read as UTF-8 bytes, with a byte order mark or CRLF, never crash."""
    # A lone surrogate from the mutations encodes to bytes that are not valid UTF-8.
    load_bytes(text.encode("utf-8", "surrogatepass"))
    load_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8", "surrogatepass"))


def _clause_with_guard(guard: str) -> str:
    return (
        'treaty t\nclause c quote "q"\n'
        f"  when attack() as a if {guard}\n"
        "  each guarantor\n    must help() within 1 day\n"
    )


def test_deeply_parenthesised_guard() -> None:
    """A guard inside 10,000 parentheses is a `too-deep` diagnostic, not a recursion error."""
    depth = 10_000
    text = _clause_with_guard("(" * depth + "a.b == X" + ")" * depth)
    result = parse(text, FILE)
    assert [d.code for d in result.diagnostics] == ["too-deep"]
    assert_well_formed(result.diagnostics, text)
    assert [type(s).__name__ for s in result.module.statements] == ["TreatyHeader"]


def test_deeply_negated_guard() -> None:
    """A guard of 10,000 nested `not` is a `too-deep` diagnostic, not a recursion error."""
    text = _clause_with_guard("not " * 10_000 + "a.b == X")
    result = parse(text, FILE)
    assert [d.code for d in result.diagnostics] == ["too-deep"]
    assert_well_formed(result.diagnostics, text)


def test_long_flat_guard_is_accepted() -> None:
    """A guard of 5,000 comparisons joined by `and` is wide, not deep, and parses."""
    text = _clause_with_guard(" and ".join(["a.b == X"] * 5_000))
    result = parse(text, FILE)
    assert result.diagnostics == ()
    printed, _ = format_source(text, FILE)
    assert printed is not None and printed.count(" and ") == 4_999


def test_unclosed_parentheses_deep() -> None:
    """10,000 unclosed parentheses are a syntax error with a span inside the file."""
    text = _clause_with_guard("(" * 10_000 + "a.b == X")
    result = parse(text, FILE)
    assert result.diagnostics
    assert_well_formed(result.diagnostics, text)


def test_empty_file() -> None:
    """An empty file parses to an empty module without diagnostics."""
    result = parse("", FILE)
    assert result.diagnostics == ()
    assert result.module.statements == () and result.module.comments == ()
    assert decode_source(b"", FILE) == ("", [])


def test_file_over_the_size_limit_is_rejected() -> None:
    """A 25 MB file is refused by `decode_source` with a `file-too-large` diagnostic."""
    line = b'party UA "Ukraine"\n'
    data = line * (25 * 1024 * 1024 // len(line) + 1)
    assert len(data) > MAX_SOURCE_BYTES
    text, diagnostics = decode_source(data, FILE)
    assert text is None
    assert [d.code for d in diagnostics] == ["file-too-large"]
    assert diagnostics[0].span is not None and diagnostics[0].span.line == 1


def test_invalid_utf8_points_at_the_bad_byte() -> None:
    """Invalid UTF-8 is an `invalid-utf8` diagnostic at the line and column of the bad byte."""
    text, diagnostics = decode_source(b'treaty t\nparty UA "Ukra\xc3\x28ine"\n', FILE)
    assert text is None
    assert [d.code for d in diagnostics] == ["invalid-utf8"]
    assert diagnostics[0].span is not None
    assert (diagnostics[0].span.line, diagnostics[0].span.column) == (2, 15)


def test_nul_bytes_are_binary() -> None:
    """A file with NUL bytes is reported as binary."""
    text, diagnostics = decode_source(b"treaty t\n\x00\x00", FILE)
    assert text is None
    assert [d.code for d in diagnostics] == ["binary-file"]
