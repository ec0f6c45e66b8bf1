"""Parser: source text -> ``ast.Module``, or diagnostics for every syntax error in the file.

Stage: first of the pipeline; ``check`` comes next. The grammar (``grammar.lark``) is
LALR(1). To report every mistake rather than the first, the file is cut into top-level
statements (a line that starts with a declaration keyword starts a statement) and each
statement is parsed on its own: one bad clause does not hide the next.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import (
    LarkError,
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from foedus.diagnostics import Diagnostic, Span, error
from foedus.language import ast

MAX_SOURCE_BYTES = 20 * 1024 * 1024
MAX_NESTING = 200
# Parentheses leave no node in the syntax tree but two in lark's parse tree (or, and), so
# the parse tree is bounded as well: parentheses nested more than about MAX_NESTING deep,
# `((((a.b == X))))`, are `too-deep` too.
_MAX_TREE_DEPTH = 2 * MAX_NESTING + 20

TOP_KEYWORDS = (
    "treaty",
    "import",
    "role",
    "group",
    "party",
    "territory",
    "event",
    "calendar",
    "clause",
)
_STATEMENT_START = re.compile(r"^(?:{})\b".format("|".join(TOP_KEYWORDS)), re.MULTILINE)
_COMMENT = re.compile(r"#[^\n]*")

UNITS = {
    "hour": "hours",
    "hours": "hours",
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
    "month": "months",
    "months": "months",
    "year": "years",
    "years": "years",
}

# Human names for the grammar's terminals, used in "expected ..." messages.
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


@cache
def _lark() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


@dataclass(frozen=True)
class ParseResult:
    module: ast.Module
    diagnostics: tuple[Diagnostic, ...]


def decode_source(data: bytes, file: str) -> tuple[str | None, list[Diagnostic]]:
    """Turn raw bytes into text, or explain why they are not a Foedus source."""
    if len(data) > MAX_SOURCE_BYTES:
        return None, [
            error(
                "file-too-large",
                f"the file is {len(data):,} bytes; the limit is {MAX_SOURCE_BYTES:,} bytes",
                Span.point(file, 1, 1),
                suggestion="split the treaty and `import` shared declarations",
            )
        ]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        # Columns count characters, like every other span; the line up to here is valid.
        column = len(data[line_start : exc.start].decode("utf-8")) + 1
        return None, [
            error(
                "invalid-utf8",
                f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                Span.point(file, line, column),
                suggestion="save the file as UTF-8 text",
            )
        ]
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return None, [
            error(
                "binary-file",
                "the file contains NUL bytes; it looks binary, not a Foedus source",
                Span.point(file, line, 1),
            )
        ]
    return text, []


def parse(text: str, file: str = "<input>") -> ParseResult:
    """Parse a whole source text.

    Args:
        text: the source.
        file: the name used in spans and messages.

    Returns:
        The module (statements that parsed) and a diagnostic for each syntax error.

    >>> r = parse('treaty t "T"\\nparty UA "Ukraine"')
    >>> [type(s).__name__ for s in r.module.statements], r.diagnostics
    (['TreatyHeader', 'PartyDecl'], ())
    """
    with _gc_paused():
        return _parse_text(text.replace("\r\n", "\n").replace("\r", "\n"), file)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while parsing.

    Parsing allocates many small objects that all stay alive until it ends; with the
    collector running, its repeated full passes over the growing heap took about half of
    the time on a 10,000-clause treaty. Nothing collectable is lost: it is collected later.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse_text(text: str, file: str) -> ParseResult:
    comments = tuple(
        ast.Comment(m.group(0).rstrip(), line)
        for m, line in _with_lines(text, _comment_matches(text))
    )
    statements: list[ast.Statement] = []
    diagnostics: list[Diagnostic] = []
    # Line numbers are counted incrementally: counting from the start of the text for
    # every chunk made parsing quadratic in the number of statements.
    line0 = 0
    for chunk in _chunks(text):
        stmts, diags = _parse_chunk(chunk, line0, file)
        statements.extend(stmts)
        diagnostics.extend(diags)
        line0 += chunk.count("\n")
    return ParseResult(ast.Module(file, tuple(statements), comments), tuple(diagnostics))


def _comment_matches(text: str) -> list[re.Match[str]]:
    """Comments outside string literals."""
    out = []
    for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*', text):
        if m.group(0).startswith("#"):
            out.append(m)
    return out


def _with_lines(text: str, matches: list[re.Match[str]]) -> list[tuple[re.Match[str], int]]:
    """Pair each match (in text order) with the 1-based line it starts on."""
    out = []
    line, position = 1, 0
    for m in matches:
        line += text.count("\n", position, m.start())
        position = m.start()
        out.append((m, line))
    return out


def _chunks(text: str) -> list[str]:
    """Split at lines that begin with a top-level keyword; the chunks cover the whole text."""
    starts = [m.start() for m in _STATEMENT_START.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = [*starts, len(text)]
    return [text[bounds[i] : bounds[i + 1]] for i in range(len(starts))]


def _parse_chunk(chunk: str, line0: int, file: str) -> tuple[list[ast.Statement], list[Diagnostic]]:
    """Parse one chunk whose first line is line ``line0 + 1`` of the file."""
    if not _COMMENT.sub("", chunk).strip():
        return [], []
    try:
        tree = _lark().parse(chunk)
    except UnexpectedInput as exc:
        return [], [_syntax_diagnostic(exc, chunk, file, line0)]
    except (LarkError, RecursionError):
        span = Span.point(file, line0 + 1, 1)
        return [], [error("syntax", "this statement could not be parsed", span)]
    try:
        module_stmts = _ToAst(file, line0).transform(tree)
    except (_NestingError, RecursionError):
        return [], [_too_deep(file, line0)]
    return list(module_stmts), []


def _too_deep(file: str, line0: int) -> Diagnostic:
    return error(
        "too-deep",
        f"expressions are nested more than {MAX_NESTING} levels deep",
        Span.point(file, line0 + 1, 1),
        suggestion="split the condition into simpler parts",
    )


class _NestingError(Exception):
    pass


def _syntax_diagnostic(exc: UnexpectedInput, chunk: str, file: str, line0: int) -> Diagnostic:
    line = (exc.line if exc.line and exc.line > 0 else chunk.count("\n") + 1) + line0
    column = exc.column if exc.column and exc.column > 0 else 1
    if isinstance(exc, UnexpectedCharacters):
        char = chunk[exc.pos_in_stream] if exc.pos_in_stream < len(chunk) else "?"
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


def _span(file: str, line0: int, meta: object) -> Span:
    m = meta  # lark Meta or Token
    line = getattr(m, "line", None) or 1
    column = getattr(m, "column", None) or 1
    end_line = getattr(m, "end_line", None) or line
    end_column = getattr(m, "end_column", None) or column + 1
    return Span(file, line + line0, column, end_line + line0, end_column)


def _unescape(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


class _ToAst:
    """Lark tree -> frozen dataclasses; every node keeps its span.

    Each rule is handled by the method of the same name, called as ``method(meta,
    children)`` once its children are converted; tokens are kept as they are.
    """

    def __init__(self, file: str, line0: int):
        self.file = file
        self.line0 = line0

    def transform(self, tree: Tree) -> object:  # type: ignore[type-arg]
        """Convert bottom-up with an explicit stack.

        Unlike lark's recursive ``Transformer`` this cannot overflow the call stack on a
        deep tree, and it avoids lark's per-call wrappers, which cost about a quarter of
        the parse time of a large treaty.
        """
        values: list[object] = []
        stack: list[tuple[object, bool, int]] = [(tree, False, 1)]
        while stack:
            node, children_done, depth = stack.pop()
            if depth > _MAX_TREE_DEPTH:
                raise _NestingError
            if not isinstance(node, Tree):
                values.append(node)
            elif children_done:
                count = len(node.children)
                children = values[len(values) - count :]
                del values[len(values) - count :]
                method = getattr(self, node.data, None)
                if method is None:
                    values.append(Tree(node.data, children, node.meta))
                else:
                    values.append(method(node.meta, children))
            else:
                stack.append((node, True, depth))
                stack.extend((child, False, depth + 1) for child in reversed(node.children))
        return values[0]

    def _s(self, meta: object) -> Span:
        return _span(self.file, self.line0, meta)

    def _name(self, tok: Token) -> ast.Name:
        return ast.Name(str(tok), self._s(tok))

    def _text(self, tok: Token | None) -> ast.Text | None:
        if tok is None:
            return None
        return ast.Text(_unescape(str(tok)), self._s(tok))

    # -- declarations
    def start(self, meta, items):
        return items

    def treaty_header(self, meta, items):
        name, title = items
        return ast.TreatyHeader(self._name(name), self._text(title), self._s(meta))

    def import_stmt(self, meta, items):
        return ast.Import(self._text(items[0]), self._s(meta))  # type: ignore[arg-type]

    def role_item(self, meta, items):
        return ast.Titled(self._name(items[0]), self._text(items[1]))

    party_item = role_item

    def role_decl(self, meta, items):
        return ast.RoleDecl(tuple(items), self._s(meta))

    def group_decl(self, meta, items):
        return ast.GroupDecl(
            self._name(items[0]), tuple(self._name(t) for t in items[1:]), self._s(meta)
        )

    def party_roles(self, meta, items):
        return tuple(self._name(t) for t in items)

    def party_decl(self, meta, items):
        roles = items[-1] if items and isinstance(items[-1], tuple) else ()
        parties = [i for i in items if isinstance(i, ast.Titled)]
        return ast.PartyDecl(tuple(parties), roles, self._s(meta))

    def territory_item(self, meta, items):
        name, title, parent = items
        return ast.TerritoryItem(
            self._name(name), self._text(title), self._name(parent) if parent else None
        )

    def territory_decl(self, meta, items):
        return ast.TerritoryDecl(tuple(items), self._s(meta))

    def field_type(self, meta, items):
        return ast.FieldTypeAst(tuple(self._name(t) for t in items), self._s(meta))

    def actor(self, meta, items):
        return True

    def field_decl(self, meta, items):
        name, ftype, actor = items
        return ast.FieldDeclAst(self._name(name), ftype, bool(actor), self._s(meta))

    def event_decl(self, meta, items):
        fields = tuple(i for i in items[1:] if i is not None)
        return ast.EventDecl(self._name(items[0]), fields, self._s(meta))

    def cal_zone(self, meta, items):
        return ("zone", self._text(items[0]))

    def cal_workdays(self, meta, items):
        return ("workdays", tuple(self._name(t) for t in items))

    def cal_holidays(self, meta, items):
        return ("holidays", tuple(ast.DateLit(str(t), self._s(t)) for t in items))

    def calendar_decl(self, meta, items):
        parts = dict(items[1:])
        return ast.CalendarDecl(
            self._name(items[0]),
            parts.get("zone"),
            parts.get("workdays"),
            parts.get("holidays", ()),
            self._s(meta),
        )

    # -- values, patterns, guards
    def ref(self, meta, items):
        return ast.RefValue(self._name(items[0]), self._name(items[1]), self._s(meta))

    def name(self, meta, items):
        return self._name(items[0])

    def text(self, meta, items):
        return self._text(items[0])

    def number(self, meta, items):
        return ast.Number(str(items[0]), self._s(items[0]))

    def arg_op(self, meta, items):
        return " ".join(str(t) for t in items)

    def arg(self, meta, items):
        if len(items) == 2:
            field, value = items
            op = ""
        else:
            field, op, value = items
            op = op or ""
        return ast.Arg(self._name(field), op, value, self._s(meta))

    def pattern(self, meta, items):
        args = tuple(a for a in items[1:] if a is not None)
        return ast.PatternAst(self._name(items[0]), args, self._s(meta))

    def compare_op(self, meta, items):
        return " ".join(str(t) for t in items)

    def comparison(self, meta, items):
        left, op, right = items
        return ast.CompareAst(left, op, right, self._s(meta))

    def or_(self, meta, items):
        if len(items) == 1:
            return items[0]
        return ast.OrAst(tuple(items), self._s(meta))

    def and_(self, meta, items):
        if len(items) == 1:
            return items[0]
        return ast.AndAst(tuple(items), self._s(meta))

    def not_(self, meta, items):
        return ast.NotAst(items[0], self._s(meta))

    def guard(self, meta, items):
        if _guard_depth(items[0]) > MAX_NESTING:
            raise _NestingError
        return items[0]

    def verdict(self, meta, items):
        return str(items[0])

    def verdict_trigger(self, meta, items):
        return ("verdict", items[0], self._name(items[1]))

    def trigger(self, meta, items):
        source, binding, guard = items
        if isinstance(source, tuple):
            _, verdict, clause = source
            pattern = None
        else:
            verdict, clause, pattern = None, None, source
        return ast.TriggerAst(
            pattern, verdict, clause, self._name(binding) if binding else None, guard, self._s(meta)
        )

    # -- obligors, deadlines, windows, rules
    def quant(self, meta, items):
        return str(items[0])

    def exceptions(self, meta, items):
        return tuple(items)

    def quantified(self, meta, items):
        quant, target, exc = items
        return ast.ObligorsAst(quant, None, self._name(target), exc or (), self._s(meta))

    def at_least(self, meta, items):
        k, target, exc = items
        return ast.ObligorsAst(
            "at_least", ast.Number(str(k), self._s(k)), self._name(target), exc or (), self._s(meta)
        )

    def single(self, meta, items):
        return ast.ObligorsAst("single", None, self._name(items[0]), (), self._s(meta))

    def unit(self, meta, items):
        words = [str(t) for t in items]
        if words[0] == "business":
            return "business_days"
        return UNITS[words[0]]

    def zone(self, meta, items):
        return self._text(items[0])

    def within(self, meta, items):
        amount, unit, anchor, zone, calendar = items
        return ast.DeadlineAst(
            "within",
            ast.Number(str(amount), self._s(amount)),
            unit,
            self._name(anchor) if anchor else None,
            zone,
            self._name(calendar) if calendar else None,
            None,
            self._s(meta),
        )

    def end_of_day(self, meta, items):
        amount, anchor, zone = items
        return ast.DeadlineAst(
            "end_of_day",
            ast.Number(str(amount), self._s(amount)),
            "days",
            self._name(anchor),
            zone,
            None,
            None,
            self._s(meta),
        )

    def at(self, meta, items):
        date = ast.DateLit(str(items[0]), self._s(items[0]))
        return ast.DeadlineAst("at", None, None, None, None, None, date, self._s(meta))

    def window_from(self, meta, items):
        start, end = items
        return ast.WindowAst(
            ast.DateLit(str(start), self._s(start)),
            ast.DateLit(str(end), self._s(end)) if end else None,
            self._s(meta),
        )

    def window_until(self, meta, items):
        return ast.WindowAst(None, ast.DateLit(str(items[0]), self._s(items[0])), self._s(meta))

    def rule_kind(self, meta, items):
        return str(items[0])

    def rule_simple(self, meta, items):
        return ast.RuleAst(items[0], None, None, None, self._s(meta))

    def rule_qualified(self, meta, items):
        num, den = items
        return ast.RuleAst(
            "qualified",
            None,
            ast.Number(str(num), self._s(num)),
            ast.Number(str(den), self._s(den)),
            self._s(meta),
        )

    def rule_at_least(self, meta, items):
        return ast.RuleAst(
            "at_least", ast.Number(str(items[0]), self._s(items[0])), None, None, self._s(meta)
        )

    def votes(self, meta, items):
        return self._name(items[0])

    def beneficiary(self, meta, items):
        return items[0]

    # -- clauses
    def obligation(self, meta, items):
        trigger, obligors, action, beneficiary, deadline = items
        return ast.ObligationAst(trigger, obligors, action, beneficiary, deadline, self._s(meta))

    def prohibition(self, meta, items):
        trigger, obligors, action, beneficiary, window = items
        return ast.ProhibitionAst(trigger, obligors, action, beneficiary, window, self._s(meta))

    def permission(self, meta, items):
        obligors, action, window = items
        return ast.PermissionAst(obligors, action, window, self._s(meta))

    def decision(self, meta, items):
        trigger, voters, rule, votes, deadline = items
        return ast.DecisionAst(trigger, voters, rule, votes, deadline, self._s(meta))

    def effect(self, meta, items):
        return " ".join(str(t) for t in items)

    def step(self, meta, items):
        return tuple(items)

    def condition(self, meta, items):
        return ast.ConditionAst(items[0], tuple(items[1:]), self._s(meta))

    def standalone(self, meta, items):
        return True

    def quote(self, meta, items):
        return self._text(items[0])

    def clause(self, meta, items):
        name, title, standalone, *rest = items
        body = rest[-1]
        quotes = tuple(q for q in rest[:-1] if q is not None)
        return ast.ClauseDecl(
            self._name(name), self._text(title), bool(standalone), quotes, body, self._s(meta)
        )


def _guard_depth(node: object) -> int:
    """Depth of a guard tree, iteratively (a deep tree must not overflow the stack)."""
    best = 0
    stack: list[tuple[object, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        best = max(best, depth)
        if isinstance(current, ast.AndAst | ast.OrAst):
            stack.extend((i, depth + 1) for i in current.items)
        elif isinstance(current, ast.NotAst):
            stack.append((current.item, depth + 1))
    return best
