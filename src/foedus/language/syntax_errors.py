"""Syntax errors for people: lark's exceptions -> diagnostics with what was expected and a hint.

Stage: inside ``parser``; the diagnostics go out with the parse result.
"""

from __future__ import annotations

from lark import Token
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from foedus.diagnostics import Diagnostic, Span, error

_TERMINAL_NAMES = {
    "NAME": "a name",
    "STRING": 'a quoted text ("...")',
    "NUMBER": "a number",
    "DATE": "a date (2022-03-29 or 2022-03-29T10:00:00+03:00)",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "EQUAL": "`=`",
    "DOT": "`.`",
    "VBAR": "`|`",
    "SLASH": "`/`",
    "EQEQ": "`==`",
    "NOTEQ": "`!=`",
    "LESSTHAN": "`<`",
    "MORETHAN": "`>`",
    "LESSEQUAL": "`<=`",
    "MOREEQUAL": "`>=`",
    "$END": "the end of the file",
}


def syntax_diagnostic(exc: UnexpectedInput, chunk: str, file: str, line0: int) -> Diagnostic:
    line = (exc.line if exc.line and exc.line > 0 else chunk.count("\n") + 1) + line0
    column = exc.column if exc.column and exc.column > 0 else 1
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        char = chunk[pos] if pos is not None and pos < len(chunk) else "?"
        if char == '"':
            return error(
                "unterminated-text",
                "this text has no closing quote",
                Span.point(file, line, column),
                suggestion='close the text with `"` on the same line',
            )
        shown = repr(char)[1:-1] if not char.isprintable() else char
        return error(
            "unexpected-character",
            f"unexpected character `{shown}`",
            Span.point(file, line, column),
            notes=(_expected(exc.allowed),) if exc.allowed else (),
            suggestion=_CHARACTER_HINTS.get(char),
        )
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        expected = _expected(exc.expected)
        if token.type == "$END":
            last = chunk.rstrip()
            line = line0 + last.count("\n") + 1
            column = len(last) - (last.rfind("\n") + 1) + 1
            return error(
                "unexpected-end",
                "this statement ends too early",
                Span.point(file, line, column),
                notes=(expected,),
                suggestion=_hint(exc.expected, None, chunk),
            )
        width = len(str(token))
        return error(
            "unexpected-token",
            f"unexpected {_describe_token(token)}",
            Span.point(file, line, column, width),
            notes=(expected,),
            suggestion=_hint(exc.expected, token, chunk),
        )
    if isinstance(exc, UnexpectedEOF):
        return error("unexpected-end", "the file ends too early", Span.point(file, line, column))
    return error("syntax", str(exc).splitlines()[0], Span.point(file, line, column))


def _describe_token(token: Token) -> str:
    if token.type == "NAME":
        return f"name `{token}`"
    if token.type == "STRING":
        return f"text {token}"
    if token.type in ("NUMBER", "DATE"):
        return f"`{token}`"
    return f"`{token}`"


def _term_name(term: str) -> str:
    if term in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[term]
    # Anonymous keyword terminals are named after the keyword in capitals.
    return f"`{term.lower()}`"


def _expected(terms: set[str] | frozenset[str]) -> str:
    names = sorted({_term_name(t) for t in terms if not t.startswith("__")})
    if not names:
        return "expected something else here"
    if len(names) > 8:
        names = [*names[:8], "…"]
    return "expected " + (names[0] if len(names) == 1 else "one of: " + ", ".join(names))


_CHARACTER_HINTS = {
    ";": "statements need no terminator; remove the `;`",
    "'": 'texts are written in double quotes: "..."',
    "{": "clauses are not written in braces; see examples/istanbul_2022.foedus",
    "=": "compare with `==`; a field's value is written `name: value`",
}


def _hint(
    expected: set[str] | frozenset[str], token: Token | None, chunk: str = ""
) -> str | None:
    """A likely fix for a syntax error, from what was expected and what was found."""
    word = str(token) if token is not None else ""
    kind = token.type if token is not None else "$END"
    if kind == "STRING" and ("QUOTE" in expected or chunk.lstrip().startswith("clause")):
        return "write `quote` before the quoted source words"
    if kind == "NAME" and word in {"should", "shall", "will"}:
        return "obligations are written with `must`; permissions with `may`"
    if word == "except" and "MUST" in expected:
        return "a role or group needs a quantifier before `except`: `each R except ...`"
    if kind == "NAME" and "MUST" in expected:
        return "an obligor is followed by `must` or `may`"
    if word in ("from", "until") and "WITHIN" in expected:
        return (
            "an obligation has a deadline (`within 3 days of X` or `by DATE`), not a window; "
            "`from`/`until` limit prohibitions and permissions"
        )
    if word in ("within", "by") and "FROM" in expected:
        return (
            "a prohibition or permission has no deadline; "
            "limit it in time with `from DATE` and/or `until DATE`"
        )
    if "RPAR" in expected and "COMMA" in expected and kind not in ("$END", "RPAR", "COMMA"):
        return "separate fields with `,`"
    if kind == "$END" and "RPAR" in expected:
        return "close the parentheses with `)`"
    if "COLON" in expected:
        return "write fields as `name: value`"
    return None

