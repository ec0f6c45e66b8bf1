"""Printer: ``ast.Module`` -> canonical Foedus source.

Stage: runs after ``parser`` (``check`` is not needed); ``foedus fmt`` is built on it.
Printing a parsed file and parsing the result gives the same syntax tree, spans aside,
and printing is idempotent: ``format(format(x)) == format(x)``.

Canonical layout:

* one statement per block; statements of the same kind (two ``party`` lines) stay
  together, a blank line separates blocks of different kinds and every clause;
* a clause is laid out as::

      clause c3 "3 days"
        quote "In case of an attack ..."
        when armed_attack(victim: UA) as attack if attack.aggressor != UA
        each guarantor except attack.aggressor
          must consultations(with: UA) within 3 days of attack

  the header, each quote on its own line, the trigger, the obligors, and the action
  with its deadline or time window one level deeper;
* guards carry only the parentheses that precedence requires (``not`` binds tighter
  than ``and``, which binds tighter than ``or``), plus those that keep an explicitly
  nested ``(a or b) or c`` as written;
* units are singular for exactly 1 (``1 day``, ``1 business day``), plural otherwise;
* texts are re-escaped (``\\\\``, ``\\"``, ``\\n``, ``\\t``).

Comments: the parser records each comment with its line, not its place in the tree.
A comment is attached to the first statement that ends on or after its line and is
printed, on its own line, just before that statement. So a comment between two
statements stays before the second one, and a comment *inside* a statement (on any
line from the statement's first to its last, including a trailing comment on the same
line) moves to just before that statement. Comments after the last statement stay at
the end of the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from foedus.diagnostics import Diagnostic, Span, error
from foedus.language import ast
from foedus.language.parser import parse

INDENT = "  "

_UNIT_WORDS = {
    "hours": ("hour", "hours"),
    "days": ("day", "days"),
    "weeks": ("week", "weeks"),
    "months": ("month", "months"),
    "years": ("year", "years"),
    "business_days": ("business day", "business days"),
}


def print_module(module: ast.Module) -> str:
    """Render a module as canonical source text, ending with one newline.

    Args:
        module: a parsed module (spans are used only to place comments).

    Returns:
        The canonical text; empty string for a module with no statements and no comments.

    >>> from foedus.language.parser import parse
    >>> print(print_module(parse('party  UA "Ukraine"role guaranteed  # why').module), end="")
    # why
    party UA "Ukraine" role guaranteed
    """
    before, trailing = _attach_comments(module)
    blocks: list[str] = []
    previous: ast.Statement | None = None
    for index, statement in enumerate(module.statements):
        lines = [c.text for c in before.get(index, ())]
        lines.extend(_statement_lines(statement))
        text = "\n".join(lines)
        if previous is not None and _separated(previous, statement):
            blocks.append("\n" + text)
        else:
            blocks.append(text)
        previous = statement
    if trailing:
        comments = "\n".join(c.text for c in trailing)
        blocks.append(("\n" if blocks else "") + comments)
    if not blocks:
        return ""
    return "\n".join(blocks) + "\n"


def format_source(text: str, file: str = "<input>") -> tuple[str | None, list[Diagnostic]]:
    """Parse and print a source text.

    Args:
        text: the source.
        file: the name used in diagnostics.

    Returns:
        ``(canonical text, [])``, or ``(None, diagnostics)`` when the source has syntax
        errors (nothing is printed from a file that did not fully parse).

    >>> format_source('treaty  t "T"')
    ('treaty t "T"\\n', [])
    """
    result = parse(text, file)
    if result.diagnostics:
        return None, list(result.diagnostics)
    printed = print_module(result.module)
    # Safety net: never hand back text that means something else.
    again = parse(printed, file)
    if again.diagnostics or strip_spans(again.module.statements) != strip_spans(
        result.module.statements
    ):
        return None, [
            error(
                "format-failed",
                "the formatter could not reproduce this file faithfully; it was left as is",
                Span.point(file, 1, 1),
            )
        ]
    return printed, []


def strip_spans(node: object) -> object:
    """A comparable copy of an AST value with every ``span`` removed.

    Two trees that differ only in layout compare equal after stripping.

    >>> from foedus.language.parser import parse
    >>> a = parse("party UA").module.statements
    >>> b = parse("\\n\\n  party   UA").module.statements
    >>> strip_spans(a) == strip_spans(b), a == b
    (True, False)
    """
    if isinstance(node, Span):
        return None
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        fields = [f.name for f in dataclasses.fields(node) if f.name != "span"]
        return (type(node).__name__, *((n, strip_spans(getattr(node, n))) for n in fields))
    if isinstance(node, tuple | list):
        return tuple(strip_spans(item) for item in node)
    return node


# ---------------------------------------------------------------- comments


def _attach_comments(
    module: ast.Module,
) -> tuple[dict[int, list[ast.Comment]], list[ast.Comment]]:
    before: dict[int, list[ast.Comment]] = {}
    trailing: list[ast.Comment] = []
    ends = [s.span.end_line for s in module.statements]
    index = 0
    for comment in sorted(module.comments, key=lambda c: c.line):
        while index < len(ends) and ends[index] < comment.line:
            index += 1
        if index < len(ends):
            before.setdefault(index, []).append(comment)
        else:
            trailing.append(comment)
    return before, trailing


def _separated(previous: ast.Statement, current: ast.Statement) -> bool:
    return type(previous) is not type(current) or isinstance(current, ast.ClauseDecl)


# ---------------------------------------------------------------- declarations


def _statement_lines(s: ast.Statement) -> list[str]:
    match s:
        case ast.TreatyHeader():
            zone = f" zone {quote(s.zone.value)}" if s.zone is not None else ""
            return [f"treaty {s.name.text}{_title(s.title)}{zone}"]
        case ast.Import():
            return [f"import {quote(s.path.value)}"]
        case ast.RoleDecl():
            return ["role " + ", ".join(_titled(i) for i in s.items)]
        case ast.GroupDecl():
            return [f"group {s.name.text} = " + _names(s.members)]
        case ast.PartyDecl():
            roles = f" role {_names(s.roles)}" if s.roles else ""
            return ["party " + ", ".join(_titled(i) for i in s.items) + roles]
        case ast.StateDecl():
            return ["state " + ", ".join(_titled(i) for i in s.items)]
        case ast.TerritoryDecl():
            return ["territory " + ", ".join(_territory(i) for i in s.items)]
        case ast.EventDecl():
            return [f"event {s.name.text}(" + ", ".join(_field(f) for f in s.fields) + ")"]
        case ast.CalendarDecl():
            return [_calendar(s)]
        case ast.ConventionDecl():
            calendar = f" calendar {s.calendar.text}" if s.calendar is not None else ""
            return [f"convention {s.name.text}{_title(s.title)} means "
                    f"{_unit(s.amount, s.unit)}{calendar}"]
        case ast.ClauseDecl():
            return _clause(s)
    raise TypeError(f"not a statement: {type(s).__name__}")


def quote(value: str) -> str:
    """A text value as a Foedus string literal.

    >>> print(quote('say "hi"\\n'))
    "say \\"hi\\"\\n"
    """
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _title(title: ast.Text | None) -> str:
    return f" {quote(title.value)}" if title is not None else ""


def _titled(item: ast.Titled) -> str:
    return item.name.text + _title(item.title)


def _names(names: Sequence[ast.Name]) -> str:
    return ", ".join(n.text for n in names)


def _territory(item: ast.TerritoryItem) -> str:
    within = f" within {item.parent.text}" if item.parent is not None else ""
    return item.name.text + _title(item.title) + within


def _field(f: ast.FieldDeclAst) -> str:
    options = " | ".join(o.text for o in f.type.options)
    return f"{f.name.text}: {options}" + (" actor" if f.actor else "")


def _calendar(c: ast.CalendarDecl) -> str:
    parts = [f"calendar {c.name.text}"]
    if c.zone is not None:
        parts.append(f"zone {quote(c.zone.value)}")
    if c.workdays:
        parts.append("workdays " + _names(c.workdays))
    if c.holidays:
        parts.append("holidays " + ", ".join(d.raw for d in c.holidays))
    return " ".join(parts)


# ---------------------------------------------------------------- clauses


def _clause(c: ast.ClauseDecl) -> list[str]:
    header = f"clause {c.name.text}{_title(c.title)}" + (" standalone" if c.standalone else "")
    lines = [header]
    lines.extend(f"{INDENT}quote {quote(q.value)}" for q in c.quotes)
    lines.extend(_body(c.body))
    return lines


def _body(b: ast.BodyAst) -> list[str]:
    deep = INDENT * 2
    lines: list[str] = []
    match b:
        case ast.ObligationAst():
            if b.trigger is not None:
                lines.append(INDENT + _trigger(b.trigger))
            lines.append(INDENT + _obligors(b.obligors))
            line = f"{deep}must {_pattern(b.action)}{_beneficiary(b.beneficiary)}"
            lines.append(f"{line} {_deadline(b.deadline)}")
        case ast.ProhibitionAst():
            if b.trigger is not None:
                lines.append(INDENT + _trigger(b.trigger))
            lines.append(INDENT + _obligors(b.obligors))
            line = f"{deep}must not {_pattern(b.action)}{_beneficiary(b.beneficiary)}"
            lines.append(line + _window(b.window))
        case ast.PermissionAst():
            lines.append(INDENT + _obligors(b.obligors))
            lines.append(f"{deep}may {_pattern(b.action)}{_window(b.window)}")
        case ast.DecisionAst():
            lines.append(INDENT + _trigger(b.trigger))
            lines.append(f"{INDENT}decision by {_obligors(b.voters)}")
            lines.append(f"{deep}{_rule(b.rule)} votes {b.votes.text} {_deadline(b.deadline)}")
        case ast.ConditionAst():
            steps = [" and ".join(_step_item(p) for p in step) for step in b.steps]
            target = b.target.text if b.target is not None else "treaty"
            lines.append(f"{INDENT}{target} {b.effect} after {steps[0]}")
            lines.extend(f"{deep}then {step}" for step in steps[1:])
        case _:
            raise TypeError(f"not a clause body: {type(b).__name__}")
    return lines


def _step_item(item: ast.StepItemAst) -> str:
    if isinstance(item, ast.VerdictStepAst):
        return f"{item.verdict}({item.clause.text})"
    return _pattern(item)


def _trigger(t: ast.TriggerAst) -> str:
    if t.pattern is not None:
        source = _pattern(t.pattern)
    else:
        assert t.clause is not None
        source = f"{t.verdict}({t.clause.text})"
    out = f"when {source}"
    if t.binding is not None:
        out += f" as {t.binding.text}"
    if t.guard is not None:
        out += f" if {guard(t.guard)}"
    return out


def _obligors(o: ast.ObligorsAst) -> str:
    if o.ref is not None:
        return value(o.ref)
    if o.quantifier == "single":
        out = o.target.text
    elif o.quantifier == "at_least":
        assert o.k is not None
        out = f"at least {o.k.raw} of {o.target.text}"
    else:
        out = f"{o.quantifier} {o.target.text}"
    if o.exceptions:
        out += " except " + ", ".join(value(v) for v in o.exceptions)
    return out


def _pattern(p: ast.PatternAst) -> str:
    events = " | ".join(e.text for e in p.events)
    return f"{events}(" + ", ".join(_arg(a) for a in p.args) + ")"


def _arg(a: ast.Arg) -> str:
    op = f"{a.op} " if a.op else ""
    return f"{a.field.text}: {op}{value(a.value)}"


def value(v: ast.Value) -> str:
    """A value as source: a name, ``binding.field``, a quoted text or a number."""
    match v:
        case ast.RefValue():
            return f"{v.binding.text}.{v.field.text}"
        case ast.Name():
            return v.text
        case ast.Text():
            return quote(v.value)
        case ast.Number():
            return v.raw
    raise TypeError(f"not a value: {type(v).__name__}")


def _beneficiary(v: ast.Value | None) -> str:
    return f" for {value(v)}" if v is not None else ""


def _unit(amount: ast.Number, unit: str) -> str:
    one, many = _UNIT_WORDS[unit]
    return f"{amount.raw} {one if amount.raw == '1' else many}"


def _deadline(d: ast.DeadlineAst) -> str:
    zone = f" in {quote(d.zone.value)}" if d.zone is not None else ""
    if d.kind == "at":
        assert d.at is not None
        return f"by {d.at.raw}"
    if d.kind == "end_of_day":
        assert d.amount is not None and d.anchor is not None
        return f"by end of day {d.amount.raw} after {d.anchor.text}{zone}"
    if d.convention is not None:
        after = f" after {d.anchor.text}" if d.anchor is not None else ""
        return f"{d.convention.text}{after}{zone}"
    assert d.amount is not None and d.unit is not None
    out = f"within {_unit(d.amount, d.unit)}"
    if d.anchor is not None:
        out += f" of {d.anchor.text}"
    out += zone
    if d.calendar is not None:
        out += f" calendar {d.calendar.text}"
    return out


def _window(w: ast.WindowAst | None) -> str:
    if w is None:
        return ""
    if w.start is None:
        assert w.end is not None
        return f" until {w.end.raw}"
    return f" from {w.start.raw}" + (f" until {w.end.raw}" if w.end is not None else "")


def _rule(r: ast.RuleAst) -> str:
    if r.kind == "qualified":
        assert r.num is not None and r.den is not None
        return f"rule {r.num.raw}/{r.den.raw} majority"
    if r.kind == "at_least":
        assert r.k is not None
        return f"rule at least {r.k.raw}"
    return f"rule {r.kind}"


# ---------------------------------------------------------------- guards

_PRECEDENCE = {ast.OrAst: 1, ast.AndAst: 2, ast.NotAst: 3, ast.CompareAst: 4}


def guard(g: ast.GuardAst) -> str:
    """A guard with the fewest parentheses that keep its tree.

    The parser flattens ``a or b or c`` into one ``OrAst`` with three items, so an
    ``OrAst`` directly inside an ``OrAst`` can only come from explicit parentheses
    and keeps them; the same holds for ``and``.

    >>> from foedus.language.parser import parse
    >>> src = 'clause c quote "q" when e() as x if not (x.a == A or x.b == B) and x.c != C '
    >>> clause = parse(src + "P must f() within 1 day").module.statements[0]
    >>> guard(clause.body.trigger.guard)
    'not (x.a == A or x.b == B) and x.c != C'
    """
    # Iterative, so that a guard as deep as the parser accepts cannot exhaust the stack.
    out: list[str] = []
    stack: list[ast.GuardAst | str] = [g]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
            continue
        match node:
            case ast.CompareAst():
                out.append(f"{value(node.left)} {node.op} {value(node.right)}")
            case ast.NotAst():
                out.append("not ")
                stack.extend(reversed(_operand(node.item, _PRECEDENCE[ast.NotAst], True)))
            case ast.AndAst() | ast.OrAst():
                word = " and " if isinstance(node, ast.AndAst) else " or "
                level = _PRECEDENCE[type(node)]
                parts: list[ast.GuardAst | str] = []
                for i, item in enumerate(node.items):
                    if i:
                        parts.append(word)
                    parts.extend(_operand(item, level, False))
                stack.extend(reversed(parts))
    return "".join(out)


def _operand(item: ast.GuardAst, level: int, unary: bool) -> list[ast.GuardAst | str]:
    inner = _PRECEDENCE[type(item)]
    needs = inner < level or (inner == level and not unary)
    return ["(", item, ")"] if needs else [item]
