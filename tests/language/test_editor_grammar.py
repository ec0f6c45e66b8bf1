"""The VS Code extension: its files load and its grammar keeps up with grammar.lark."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import foedus.language.parser as parser_module

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
LARK = (Path(parser_module.__file__).parent / "grammar.lark").read_text(encoding="utf-8")
# Rules only: terminal definitions (``NAME: /regex/``) and ``//`` comments are not syntax.
RULES = "\n".join(
    line.split("//")[0]
    for line in LARK.splitlines()
    if not re.match(r"\s*[A-Z_]+(\.\d+)?\s*:", line)
)
LITERALS = set(re.findall(r'"([^"\s]+)"', RULES))
WORDS = sorted(w for w in LITERALS if re.fullmatch(r"[a-z]+", w))
SYMBOLS = sorted(LITERALS - set(WORDS))


def _tm() -> dict:
    return json.loads((EXTENSION / "foedus.tmLanguage.json").read_text(encoding="utf-8"))


def _patterns(key: str) -> list[dict]:
    return _tm()["repository"][key]["patterns"]


def _scopes(key: str, text: str) -> list[str]:
    """Scope names of the patterns under ``key`` that match all of ``text``."""
    return [p["name"] for p in _patterns(key) if re.fullmatch(p["match"], text)]


def test_extension_files_are_valid_json() -> None:
    """package.json, the language configuration and the grammar are valid JSON that agree."""
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    config = json.loads((EXTENSION / "language-configuration.json").read_text(encoding="utf-8"))
    grammar = _tm()
    (contributed,) = package["contributes"]["grammars"]
    assert contributed["scopeName"] == grammar["scopeName"] == "source.foedus"
    assert (EXTENSION / contributed["path"]).is_file()
    assert package["contributes"]["languages"][0]["extensions"] == [".foedus"]
    assert config["comments"]["lineComment"] == "#"


def test_grammar_words_were_found() -> None:
    """The literal extraction sees the grammar's keywords, so the next test is not vacuous."""
    assert {"treaty", "clause", "must", "within", "business", "violated"} <= set(WORDS)
    assert {"==", "!=", "(", ")"} <= set(SYMBOLS)


@pytest.mark.parametrize("word", WORDS)
def test_every_grammar_keyword_is_highlighted(word: str) -> None:
    """Each word literal of grammar.lark matches one of the extension's keyword patterns."""
    assert _scopes("keywords", word), f"`{word}` is in grammar.lark but not highlighted"


def test_every_grammar_symbol_is_highlighted() -> None:
    """Each punctuation or operator literal of grammar.lark has a highlighting pattern."""
    for symbol in SYMBOLS:
        assert _scopes("operators", symbol) or _scopes("punctuation", symbol), symbol


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("dates", "2022-03-29"),
        ("dates", "2022-02-01T00:00:00+02:00"),
        ("dates", "2022-12-31T23:59:59.5Z"),
        ("numbers", "-1.5"),
        ("parties", "UA"),
        ("parties", "US_2"),
        ("comments", "# a comment"),
    ],
)
def test_token_patterns_match_examples(key: str, text: str) -> None:
    """Dates, numbers, party names and comments are matched by their patterns."""
    assert _scopes(key, text)


def test_duration_pattern_splits_amount_and_unit() -> None:
    """A duration highlights its amount and its unit, including business days."""
    (pattern,) = _patterns("durations")
    match = re.fullmatch(pattern["match"], "2 business days")
    assert match is not None and match.groups() == ("2", "business days")
    assert re.fullmatch(pattern["match"], "1 hour") is not None


def test_lowercase_names_are_not_parties() -> None:
    """Only UPPERCASE names look like parties; roles such as `guarantor` do not."""
    assert not _scopes("parties", "guarantor")
    assert not _scopes("parties", "Ukraine")
