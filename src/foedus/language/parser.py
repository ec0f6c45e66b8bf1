"""Parser: source text -> ``ast.Module``, or diagnostics for every syntax error in the file.

Stage: first of the pipeline; ``check`` comes next. The grammar (``grammar.lark``) is
LALR(1). To report every mistake rather than the first, the file is cut into top-level
statements (a line that starts with a declaration keyword starts a statement) and each
statement is parsed on its own: one bad clause does not hide the next.
"""

from __future__ import annotations

import errno
import gc
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lark import Lark
from lark.exceptions import (
    LarkError,
    UnexpectedInput,
)

from foedus.diagnostics import Diagnostic, Span, error
from foedus.language import ast
from foedus.language.from_tree import (
    MAX_NESTING,
    MAX_NUMBER_CHARS,
    NestingError,
    NumberTooLong,
    TreeToAst,
)
from foedus.language.syntax_errors import syntax_diagnostic

MAX_SOURCE_BYTES = 20 * 1024 * 1024
TOP_KEYWORDS = (
    "treaty",
    "import",
    "role",
    "group",
    "party",
    "state",
    "territory",
    "event",
    "calendar",
    "clause",
)
_STATEMENT_START = re.compile(r"^(?:{})\b".format("|".join(TOP_KEYWORDS)), re.MULTILINE)
_COMMENT = re.compile(r"#[^\n]*")

# Human names for the grammar's terminals, used in "expected ..." messages.
@cache
def keywords() -> frozenset[str]:
    """The words of the language (``must``, ``within``, ``after`` …): a name declared with
    one of them could not be told apart from it where both may stand."""
    grammar = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
    rules = re.sub(r"//[^\n]*", "", grammar)  # (comments quote words too)
    return frozenset(re.findall(r'"([a-z]+)"', rules))


@cache
def _lark() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


@dataclass(frozen=True)
class ParseResult:
    module: ast.Module
    diagnostics: tuple[Diagnostic, ...]


def read_source(path: Path, *, streams: bool = True) -> bytes:
    """The bytes of the source at ``path``, at most one more than ``MAX_SOURCE_BYTES``:
    enough for :func:`decode_source` to refuse a file that is too large without reading
    all of it (``/dev/zero`` never ends).

    A folder is refused (``IsADirectoryError``). A pipe or a device is read as a stream
    when ``streams`` is true (a treaty named on the command line); otherwise only a
    regular file is read (an ``import``, which must not wait on a pipe for ever).
    """
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file", str(path))
    if not streams and not stat.S_ISREG(mode):
        raise OSError(errno.EINVAL, "it is not a regular file", str(path))
    with open(path, "rb") as file:
        return file.read(MAX_SOURCE_BYTES + 1)


def decode_source(data: bytes, file: str) -> tuple[str | None, list[Diagnostic]]:
    """Turn raw bytes into text, or explain why they are not a Foedus source."""
    if len(data) > MAX_SOURCE_BYTES:
        return None, [
            error(
                "file-too-large",
                f"the file is larger than the limit of {MAX_SOURCE_BYTES:,} bytes",
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
        return [], [syntax_diagnostic(exc, chunk, file, line0)]
    except (LarkError, RecursionError):
        span = Span.point(file, line0 + 1, 1)
        return [], [error("syntax", "this statement could not be parsed", span)]
    try:
        statements = TreeToAst(file, line0).statements(tree)
    except (NestingError, RecursionError):
        return [], [_too_deep(file, line0)]
    except NumberTooLong as exc:
        return [], [error(
            "number-too-long",
            f"a number may have at most {MAX_NUMBER_CHARS} characters; this one has "
            f"{len(exc.number.raw):,}",
            exc.number.span,
            suggestion="no count, deadline or amount needs more digits",
        )]
    return statements, []


def _too_deep(file: str, line0: int) -> Diagnostic:
    return error(
        "too-deep",
        f"expressions are nested more than {MAX_NESTING} levels deep",
        Span.point(file, line0 + 1, 1),
        suggestion="split the condition into simpler parts",
    )


