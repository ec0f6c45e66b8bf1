"""Lark parse tree -> ``ast`` nodes, each with its span.

Stage: inside ``parser`` (which runs lark and calls :class:`TreeToAst` on each
statement); ``check`` consumes the resulting ``ast.Module``.
"""

from __future__ import annotations

import re

from lark import Token, Tree

from foedus.diagnostics import Span
from foedus.language import ast

MAX_NESTING = 200


# Parentheses leave no node in the syntax tree but two in lark's parse tree (or, and), so
# the parse tree is bounded as well: parentheses nested more than about MAX_NESTING deep,
# `((((a.b == X))))`, are `too-deep` too.
_MAX_TREE_DEPTH = 2 * MAX_NESTING + 20


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


class NestingError(Exception):
    """Raised when expressions nest deeper than MAX_NESTING."""


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


class TreeToAst:
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
                raise NestingError
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
            raise NestingError
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

