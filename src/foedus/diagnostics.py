"""Diagnostics: one shape for every problem found in a treaty or an event log.

Every stage (parse, check, load events) reports problems as :class:`Diagnostic`
values; the CLI renders them as text, the API as JSON. Library code never prints.

Error tree::

    FoedusError                 raised when a stage cannot go on
     +-- TreatyError            the treaty has errors (carries diagnostics)
     +-- EventError             an event or event log is invalid (carries diagnostics)
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns count from 1, end is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, file: str, line: int, column: int, width: int = 1) -> Span:
        return cls(file, line, column, line, column + max(width, 1))

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A problem with a stable ``code`` that tests and API clients can match on."""

    severity: Severity
    code: str
    message: str
    span: Span | None = None
    notes: tuple[str, ...] = ()
    suggestion: str | None = None
    context: str | None = None  # e.g. 'clause consult "3 days"'

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, object]:
        return {
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
            "span": self.span.to_json() if self.span else None,
            "notes": list(self.notes),
            "suggestion": self.suggestion,
            "context": self.context,
        }


def error(
    code: str,
    message: str,
    span: Span | None = None,
    *,
    notes: tuple[str, ...] = (),
    suggestion: str | None = None,
    context: str | None = None,
) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, span, notes, suggestion, context)


def warning(
    code: str,
    message: str,
    span: Span | None = None,
    *,
    notes: tuple[str, ...] = (),
    suggestion: str | None = None,
    context: str | None = None,
) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, span, notes, suggestion, context)


class FoedusError(Exception):
    """Base of all errors that carry diagnostics for a person to read."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        first = self.diagnostics[0].message if self.diagnostics else "error"
        super().__init__(first)


class TreatyError(FoedusError):
    """The treaty source has errors; nothing downstream can run."""


class EventError(FoedusError):
    """An event or an event log is invalid; nothing of it was applied."""


# Codes people often write for parties declared under their ISO 3166 codes.
_COMMON_ALIASES = {
    "UK": "GB",
    "EL": "GR",
    "USA": "US",
    "RF": "RU",
    "RUS": "RU",
    "UKR": "UA",
    "BLR": "BY",
    "DPRK": "KP",
    "ROC": "TW",
    "PRC": "CN",
}


SIMILAR_NAME = 80  # the longest name for which a similar one is looked for
SIMILAR_POOL = 5000  # the most names to compare it with


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Return the closest candidate to a misspelled name, if one is close enough.

    >>> did_you_mean("UK", ["US", "GB", "UA"])
    'GB'
    >>> did_you_mean("guarantr", ["guarantor", "guaranteed"])
    'guarantor'
    """
    pool = list(candidates)
    alias = _COMMON_ALIASES.get(name.upper()) if len(name) <= 4 else None
    if alias in pool:
        return alias
    # Comparing costs the product of the lengths: a long name (a mistyped id, a line of
    # garbage) or a huge pool gets the case-insensitive match only.
    if len(name) <= SIMILAR_NAME and len(pool) <= SIMILAR_POOL:
        matches = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
        if matches:
            return matches[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(name.lower())


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    if d.span is None:
        return ("", 0, 0, d.code)
    return (d.span.file, d.span.line, d.span.column, d.code)


def render_text(diagnostics: Iterable[Diagnostic], sources: dict[str, str]) -> str:
    """Render diagnostics like a compiler: location, source line, caret, help.

    ``sources`` maps file names to their text, for quoting the offending line.
    """
    return "\n".join(render_one(d, sources) for d in diagnostics)


def render_one(d: Diagnostic, sources: dict[str, str]) -> str:
    """One diagnostic as text for a terminal: what the input supplied (a file name, a
    value quoted in the message) cannot drive the terminal, see :func:`printable`."""
    return _render_one(d, sources)


def printable(text: str, keep: str = "") -> str:
    r"""``text`` with control characters (C0, C1, DEL, U+2028/9, and the marks that
    reorder text: bidirectional overrides and isolates) written as escapes, so that input
    shown on a terminal cannot move the cursor, recolour it, hide a line or reverse it.
    Characters in ``keep`` stay as they are.

    >>> printable("e17\x1b[31m\u2028")
    'e17\\x1b[31m\\u2028'
    """
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(
        lambda m: m.group(0) if m.group(0) in keep else m.group(0).encode(
            "unicode_escape").decode("ascii"), text)


UNSAFE_BEYOND_C0 = ((0x7F, 0x9F), (0x061C, 0x061C), (0x200E, 0x200F), (0x2028, 0x202E),
                    (0x2066, 0x2069))
"""What a terminal obeys besides C0 controls, as ranges of code points: DEL and C1, the
Arabic letter mark, LRM and RLM, the line and paragraph separators with the embeddings
and overrides (U+2028..U+202E), and the isolates. JSON output escapes these too."""


def char_class(ranges: tuple[tuple[int, int], ...], escape: str = "\\u{:04x}") -> str:
    """The inside of a regular expression's character class for ``ranges``; ``escape``
    writes one code point (``\\x{{{:X}}}`` for RE2)."""
    return "".join(escape.format(a) + ("-" + escape.format(b) if b > a else "")
                   for a, b in ranges)


_UNPRINTABLE = re.compile(f"[\\x00-\\x1f{char_class(UNSAFE_BEYOND_C0)}]")


def _render_one(d: Diagnostic, sources: dict[str, str]) -> str:
    """Each part one line: a line break in a value the message quotes is an escape too."""
    out = [f"{d.severity}[{d.code}]: {printable(d.message)}"]
    if d.span is not None:
        where = f"{printable(d.span.file)}:{d.span.line}:{d.span.column}"
        if d.context:
            where += f"   ({printable(d.context)})"
        out.append(f"  --> {where}")
        line_text = _source_line(sources.get(d.span.file), d.span.line)
        if line_text is not None:
            number = str(d.span.line)
            pad = " " * len(number)
            if d.span.end_line == d.span.line:
                width = max(d.span.end_column - d.span.column, 1)
            else:
                width = max(len(line_text) - d.span.column + 1, 1)
            width = min(width, max(len(line_text) - d.span.column + 1, 1))
            out.append(f"{pad} |")
            out.append(f"{number} | {line_text}")
            out.append(f"{pad} | {' ' * (d.span.column - 1)}{'^' * width}")
    elif d.context:
        out.append(f"  --> {printable(d.context)}")
    for note in d.notes:
        out.append(f"   = note: {printable(note)}")
    if d.suggestion:
        out.append(f"   = help: {printable(d.suggestion)}")
    return "\n".join(out) + "\n"


def _source_line(text: str | None, line: int) -> str | None:
    if text is None:
        return None
    # Lines end where the parser's do (\n, \r\n, \r): not at a form feed or U+2028,
    # which str.splitlines also takes for ends of lines.
    lines = _LINE_END.split(text)
    if 1 <= line <= len(lines):
        # A tab would misalign the caret and a control character could drive the
        # terminal: each is shown as one visible character.
        return _UNPRINTABLE.sub(_visible, lines[line - 1][:300])
    return None


_LINE_END = re.compile(r"\r\n|\r|\n")
def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    return " " if char == "\t" else "\ufffd"


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diagnostics], indent=2, ensure_ascii=False)


@dataclass
class Collector:
    """Collects diagnostics within a pass; passes stop between stages if any is an error."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, d: Diagnostic) -> None:
        self.items.append(d)

    def extend(self, ds: Iterable[Diagnostic]) -> None:
        self.items.extend(ds)

    @property
    def has_errors(self) -> bool:
        return has_errors(self.items)
