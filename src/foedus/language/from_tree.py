"""Lark parse tree -> ``ast`` nodes, each with its span.

Stage: inside ``parser`` (which runs lark and calls :class:`TreeToAst` on each
statement); ``check`` consumes the resulting ``ast.Module``.
"""

from __future__ import annotations

import re
from typing import NamedTuple, TypeVar

from lark import Token, Tree
from lark.tree import Meta

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

Items = list[object]
"""A rule's children once converted: tokens, ``None`` for an absent optional part
(``[...]`` in the grammar), and whatever the methods of its sub-rules returned."""

_T = TypeVar("_T")


class NestingError(Exception):
    """Raised when expressions nest deeper than MAX_NESTING."""


MAX_NUMBER_CHARS = 30
"""The longest number literal: every count, duration and amount fits, and no number
reaches Python's limit on converting long digit strings."""


class NumberTooLong(Exception):
    """Raised for a number literal longer than MAX_NUMBER_CHARS."""

    def __init__(self, number: ast.Number) -> None:
        super().__init__(number.raw[:40])
        self.number = number


class _VerdictSource(NamedTuple):
    """``violated(clause)`` as the source of a trigger, before the trigger is built."""

    verdict: str
    clause: ast.Name


def _span(file: str, line0: int, meta: Meta | Token) -> Span:
    # An empty Meta has no position attributes at all; a Token's may be None.
    line = getattr(meta, "line", None) or 1
    column = getattr(meta, "column", None) or 1
    end_line = getattr(meta, "end_line", None) or line
    end_column = getattr(meta, "end_column", None) or column + 1
    return Span(file, line + line0, column, end_line + line0, end_column)


def _unescape(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


# -- narrowing a converted child to what the grammar guarantees it is


def _unexpected(expected: str, item: object) -> TypeError:
    return TypeError(f"expected {expected} in the parse tree, got {type(item).__name__}")


def _token(item: object) -> Token:
    if isinstance(item, Token):
        return item
    raise _unexpected("a token", item)


def _node(kind: type[_T], item: object) -> _T:
    if isinstance(item, kind):
        return item
    raise _unexpected(kind.__name__, item)


def _opt_node(kind: type[_T], item: object) -> _T | None:
    return None if item is None else _node(kind, item)


def _tuple_of(kind: type[_T], item: object) -> tuple[_T, ...]:
    items = _node(tuple, item)
    return tuple(_node(kind, i) for i in items)


def _value(item: object) -> ast.Value:
    if isinstance(item, ast.Value):
        return item
    raise _unexpected("a value", item)


def _opt_value(item: object) -> ast.Value | None:
    return None if item is None else _value(item)


def _guard(item: object) -> ast.GuardAst:
    if isinstance(item, ast.GuardAst):
        return item
    raise _unexpected("a condition", item)


def _body(item: object) -> ast.BodyAst:
    if isinstance(item, ast.BodyAst):
        return item
    raise _unexpected("a clause body", item)


def _statement(item: object) -> ast.Statement:
    if isinstance(item, ast.Statement):
        return item
    raise _unexpected("a statement", item)


def _tagged(item: object) -> tuple[str, object]:
    """A ``(key, value)`` pair, as the parts of a calendar declaration are returned."""
    pair = _node(tuple, item)
    if len(pair) != 2:
        raise _unexpected("a pair", item)
    key, value = pair
    return _node(str, key), value


class TreeToAst:
    """Lark tree -> frozen dataclasses; every node keeps its span.

    Each rule is handled by the method of the same name, called as ``method(meta,
    children)`` once its children are converted; tokens are kept as they are.
    """

    def __init__(self, file: str, line0: int):
        self.file = file
        self.line0 = line0

    def statements(self, tree: Tree[Token]) -> list[ast.Statement]:
        """Convert the tree of one chunk (rule ``start``) into its statements."""
        result = self.transform(tree)
        if not isinstance(result, list):
            raise _unexpected("a list of statements", result)
        return result

    def transform(self, tree: Tree[Token]) -> object:
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

    def _s(self, meta: Meta | Token) -> Span:
        return _span(self.file, self.line0, meta)

    def _name(self, item: object) -> ast.Name:
        tok = _token(item)
        return ast.Name(str(tok), self._s(tok))

    def _opt_name(self, item: object) -> ast.Name | None:
        return None if item is None else self._name(item)

    def _text(self, item: object) -> ast.Text:
        tok = _token(item)
        return ast.Text(_unescape(str(tok)), self._s(tok))

    def _opt_text(self, item: object) -> ast.Text | None:
        return None if item is None else self._text(item)

    def _number(self, item: object) -> ast.Number:
        tok = _token(item)
        number = ast.Number(str(tok), self._s(tok))
        if len(number.raw) > MAX_NUMBER_CHARS:
            raise NumberTooLong(number)
        return number

    def _date(self, item: object) -> ast.DateLit:
        tok = _token(item)
        return ast.DateLit(str(tok), self._s(tok))

    # -- declarations
    def start(self, meta: Meta, items: Items) -> list[ast.Statement]:
        return [_statement(i) for i in items]

    def treaty_header(self, meta: Meta, items: Items) -> ast.TreatyHeader:
        name, title, zone = items
        return ast.TreatyHeader(
            self._name(name), self._opt_text(title), self._opt_text(zone), self._s(meta)
        )

    def import_stmt(self, meta: Meta, items: Items) -> ast.Import:
        return ast.Import(self._text(items[0]), self._s(meta))

    def role_item(self, meta: Meta, items: Items) -> ast.Titled:
        return ast.Titled(self._name(items[0]), self._opt_text(items[1]))

    party_item = role_item
    state_item = role_item

    def role_decl(self, meta: Meta, items: Items) -> ast.RoleDecl:
        return ast.RoleDecl(tuple(_node(ast.Titled, i) for i in items), self._s(meta))

    def group_decl(self, meta: Meta, items: Items) -> ast.GroupDecl:
        return ast.GroupDecl(
            self._name(items[0]), tuple(self._name(t) for t in items[1:]), self._s(meta)
        )

    def party_roles(self, meta: Meta, items: Items) -> tuple[ast.Name, ...]:
        return tuple(self._name(t) for t in items)

    def party_decl(self, meta: Meta, items: Items) -> ast.PartyDecl:
        roles = _tuple_of(ast.Name, items[-1]) if items and isinstance(items[-1], tuple) else ()
        parties = [i for i in items if isinstance(i, ast.Titled)]
        return ast.PartyDecl(tuple(parties), roles, self._s(meta))

    def state_decl(self, meta: Meta, items: Items) -> ast.StateDecl:
        return ast.StateDecl(tuple(_node(ast.Titled, i) for i in items), self._s(meta))

    def territory_item(self, meta: Meta, items: Items) -> ast.TerritoryItem:
        name, title, parent = items
        return ast.TerritoryItem(self._name(name), self._opt_text(title), self._opt_name(parent))

    def territory_decl(self, meta: Meta, items: Items) -> ast.TerritoryDecl:
        return ast.TerritoryDecl(tuple(_node(ast.TerritoryItem, i) for i in items), self._s(meta))

    def field_type(self, meta: Meta, items: Items) -> ast.FieldTypeAst:
        return ast.FieldTypeAst(tuple(self._name(t) for t in items), self._s(meta))

    def actor(self, meta: Meta, items: Items) -> bool:
        return True

    def field_decl(self, meta: Meta, items: Items) -> ast.FieldDeclAst:
        name, ftype, actor = items
        return ast.FieldDeclAst(
            self._name(name), _node(ast.FieldTypeAst, ftype), bool(actor), self._s(meta)
        )

    def event_decl(self, meta: Meta, items: Items) -> ast.EventDecl:
        fields = tuple(_node(ast.FieldDeclAst, i) for i in items[1:] if i is not None)
        return ast.EventDecl(self._name(items[0]), fields, self._s(meta))

    def cal_zone(self, meta: Meta, items: Items) -> tuple[str, ast.Text]:
        return ("zone", self._text(items[0]))

    def cal_workdays(self, meta: Meta, items: Items) -> tuple[str, tuple[ast.Name, ...]]:
        return ("workdays", tuple(self._name(t) for t in items))

    def cal_holidays(self, meta: Meta, items: Items) -> tuple[str, tuple[ast.DateLit, ...]]:
        return ("holidays", tuple(self._date(t) for t in items))

    def calendar_decl(self, meta: Meta, items: Items) -> ast.CalendarDecl:
        parts = dict(_tagged(i) for i in items[1:])
        workdays = parts.get("workdays")
        return ast.CalendarDecl(
            self._name(items[0]),
            _opt_node(ast.Text, parts.get("zone")),
            None if workdays is None else _tuple_of(ast.Name, workdays),
            _tuple_of(ast.DateLit, parts.get("holidays", ())),
            self._s(meta),
        )

    # -- values, patterns, guards
    def ref(self, meta: Meta, items: Items) -> ast.RefValue:
        return ast.RefValue(self._name(items[0]), self._name(items[1]), self._s(meta))

    def name(self, meta: Meta, items: Items) -> ast.Name:
        return self._name(items[0])

    def text(self, meta: Meta, items: Items) -> ast.Text:
        return self._text(items[0])

    def number(self, meta: Meta, items: Items) -> ast.Number:
        return self._number(items[0])

    def arg_op(self, meta: Meta, items: Items) -> str:
        return " ".join(str(t) for t in items)

    def arg(self, meta: Meta, items: Items) -> ast.Arg:
        if len(items) == 2:
            field, value = items
            op: object = ""
        else:
            field, op, value = items
        return ast.Arg(self._name(field), _opt_node(str, op) or "", _value(value), self._s(meta))

    def alternative(self, meta: Meta, items: Items) -> ast.Name:
        return self._name(items[0])

    def pattern(self, meta: Meta, items: Items) -> ast.PatternAst:
        others = tuple(i for i in items[1:] if isinstance(i, ast.Name))
        args = tuple(_node(ast.Arg, a) for a in items[1 + len(others):] if a is not None)
        return ast.PatternAst(self._name(items[0]), args, self._s(meta), others)

    def compare_op(self, meta: Meta, items: Items) -> str:
        return " ".join(str(t) for t in items)

    def comparison(self, meta: Meta, items: Items) -> ast.CompareAst:
        left, op, right = items
        return ast.CompareAst(_value(left), _node(str, op), _value(right), self._s(meta))

    def or_(self, meta: Meta, items: Items) -> ast.GuardAst:
        if len(items) == 1:
            return _guard(items[0])
        return ast.OrAst(tuple(_guard(i) for i in items), self._s(meta))

    def and_(self, meta: Meta, items: Items) -> ast.GuardAst:
        if len(items) == 1:
            return _guard(items[0])
        return ast.AndAst(tuple(_guard(i) for i in items), self._s(meta))

    def not_(self, meta: Meta, items: Items) -> ast.NotAst:
        return ast.NotAst(_guard(items[0]), self._s(meta))

    def guard(self, meta: Meta, items: Items) -> ast.GuardAst:
        if _guard_depth(items[0]) > MAX_NESTING:
            raise NestingError
        return _guard(items[0])

    def verdict(self, meta: Meta, items: Items) -> str:
        return str(items[0])

    def verdict_trigger(self, meta: Meta, items: Items) -> _VerdictSource:
        return _VerdictSource(_node(str, items[0]), self._name(items[1]))

    def trigger(self, meta: Meta, items: Items) -> ast.TriggerAst:
        source, binding, guard = items
        pattern: ast.PatternAst | None
        verdict: str | None
        clause: ast.Name | None
        if isinstance(source, _VerdictSource):
            pattern, verdict, clause = None, source.verdict, source.clause
        else:
            pattern, verdict, clause = _node(ast.PatternAst, source), None, None
        return ast.TriggerAst(
            pattern,
            verdict,
            clause,
            self._opt_name(binding),
            None if guard is None else _guard(guard),
            self._s(meta),
        )

    # -- obligors, deadlines, windows, rules
    def quant(self, meta: Meta, items: Items) -> str:
        return str(items[0])

    def exceptions(self, meta: Meta, items: Items) -> tuple[ast.Value, ...]:
        return tuple(_value(i) for i in items)

    def quantified(self, meta: Meta, items: Items) -> ast.ObligorsAst:
        quant, target, exc = items
        return ast.ObligorsAst(
            _node(str, quant), None, self._name(target), _exceptions(exc), self._s(meta)
        )

    def at_least(self, meta: Meta, items: Items) -> ast.ObligorsAst:
        k, target, exc = items
        return ast.ObligorsAst(
            "at_least", self._number(k), self._name(target), _exceptions(exc), self._s(meta)
        )

    def single(self, meta: Meta, items: Items) -> ast.ObligorsAst:
        return ast.ObligorsAst("single", None, self._name(items[0]), (), self._s(meta))

    def bound(self, meta: Meta, items: Items) -> ast.ObligorsAst:
        binding, field = self._name(items[0]), self._name(items[1])
        span = self._s(meta)
        return ast.ObligorsAst("bound", None, binding, (), span,
                               ast.RefValue(binding, field, span))

    def unit(self, meta: Meta, items: Items) -> str:
        words = [str(t) for t in items]
        if words[0] == "business":
            return "business_days"
        return UNITS[words[0]]

    def zone(self, meta: Meta, items: Items) -> ast.Text:
        return self._text(items[0])

    def within(self, meta: Meta, items: Items) -> ast.DeadlineAst:
        amount, unit, anchor, zone, calendar = items
        return ast.DeadlineAst(
            "within",
            self._number(amount),
            _node(str, unit),
            self._opt_name(anchor),
            _opt_node(ast.Text, zone),
            self._opt_name(calendar),
            None,
            self._s(meta),
        )

    def end_of_day(self, meta: Meta, items: Items) -> ast.DeadlineAst:
        amount, anchor, zone = items
        return ast.DeadlineAst(
            "end_of_day",
            self._number(amount),
            "days",
            self._name(anchor),
            _opt_node(ast.Text, zone),
            None,
            None,
            self._s(meta),
        )

    def at(self, meta: Meta, items: Items) -> ast.DeadlineAst:
        date = self._date(items[0])
        return ast.DeadlineAst("at", None, None, None, None, None, date, self._s(meta))

    def by_convention(self, meta: Meta, items: Items) -> ast.DeadlineAst:
        name, anchor, zone = items
        return ast.DeadlineAst("convention", None, None, self._opt_name(anchor),
                               _opt_node(ast.Text, zone), None, None, self._s(meta),
                               self._name(name))

    def convention_decl(self, meta: Meta, items: Items) -> ast.ConventionDecl:
        name, title, amount, unit, calendar = items
        return ast.ConventionDecl(self._name(name), self._opt_text(title),
                                  self._number(amount), _node(str, unit),
                                  self._opt_name(calendar), self._s(meta))

    def window_from(self, meta: Meta, items: Items) -> ast.WindowAst:
        start, end = items
        return ast.WindowAst(
            self._date(start), None if end is None else self._date(end), self._s(meta)
        )

    def window_until(self, meta: Meta, items: Items) -> ast.WindowAst:
        return ast.WindowAst(None, self._date(items[0]), self._s(meta))

    def rule_kind(self, meta: Meta, items: Items) -> str:
        return str(items[0])

    def rule_simple(self, meta: Meta, items: Items) -> ast.RuleAst:
        return ast.RuleAst(_node(str, items[0]), None, None, None, self._s(meta))

    def rule_qualified(self, meta: Meta, items: Items) -> ast.RuleAst:
        num, den = items
        return ast.RuleAst("qualified", None, self._number(num), self._number(den), self._s(meta))

    def rule_at_least(self, meta: Meta, items: Items) -> ast.RuleAst:
        return ast.RuleAst("at_least", self._number(items[0]), None, None, self._s(meta))

    def votes(self, meta: Meta, items: Items) -> ast.Name:
        return self._name(items[0])

    def beneficiary(self, meta: Meta, items: Items) -> ast.Value:
        return _value(items[0])

    # -- clauses
    def obligation(self, meta: Meta, items: Items) -> ast.ObligationAst:
        trigger, obligors, action, beneficiary, deadline = items
        return ast.ObligationAst(
            _opt_node(ast.TriggerAst, trigger),
            _node(ast.ObligorsAst, obligors),
            _node(ast.PatternAst, action),
            _opt_value(beneficiary),
            _node(ast.DeadlineAst, deadline),
            self._s(meta),
        )

    def prohibition(self, meta: Meta, items: Items) -> ast.ProhibitionAst:
        trigger, obligors, action, beneficiary, window = items
        return ast.ProhibitionAst(
            _opt_node(ast.TriggerAst, trigger),
            _node(ast.ObligorsAst, obligors),
            _node(ast.PatternAst, action),
            _opt_value(beneficiary),
            _opt_node(ast.WindowAst, window),
            self._s(meta),
        )

    def permission(self, meta: Meta, items: Items) -> ast.PermissionAst:
        obligors, action, window = items
        return ast.PermissionAst(
            _node(ast.ObligorsAst, obligors),
            _node(ast.PatternAst, action),
            _opt_node(ast.WindowAst, window),
            self._s(meta),
        )

    def decision(self, meta: Meta, items: Items) -> ast.DecisionAst:
        trigger, voters, rule, votes, deadline = items
        return ast.DecisionAst(
            _node(ast.TriggerAst, trigger),
            _node(ast.ObligorsAst, voters),
            _node(ast.RuleAst, rule),
            _node(ast.Name, votes),
            _node(ast.DeadlineAst, deadline),
            self._s(meta),
        )

    def effect(self, meta: Meta, items: Items) -> str:
        return " ".join(str(t) for t in items)

    def verdict_step(self, meta: Meta, items: Items) -> ast.VerdictStepAst:
        return ast.VerdictStepAst(_node(str, items[0]), self._name(items[1]), self._s(meta))

    def step(self, meta: Meta, items: Items) -> tuple[ast.StepItemAst, ...]:
        return tuple(_step_item(i) for i in items)

    def condition_target(self, meta: Meta, items: Items) -> ast.Name | None:
        token = _token(items[0])
        return None if token.type != "NAME" else self._name(token)

    def condition(self, meta: Meta, items: Items) -> ast.ConditionAst:
        steps = tuple(tuple(_step_item(i) for i in _node(tuple, s)) for s in items[2:])
        return ast.ConditionAst(_node(str, items[1]), steps, self._s(meta),
                                _opt_node(ast.Name, items[0]))

    def standalone(self, meta: Meta, items: Items) -> bool:
        return True

    def quote(self, meta: Meta, items: Items) -> ast.Text:
        return self._text(items[0])

    def clause(self, meta: Meta, items: Items) -> ast.ClauseDecl:
        name, title, standalone, *rest = items
        body = _body(rest[-1])
        quotes = tuple(_node(ast.Text, q) for q in rest[:-1] if q is not None)
        return ast.ClauseDecl(
            self._name(name), self._opt_text(title), bool(standalone), quotes, body, self._s(meta)
        )


def _step_item(item: object) -> ast.StepItemAst:
    if isinstance(item, ast.PatternAst | ast.VerdictStepAst):
        return item
    raise _unexpected("a step of a condition", item)


def _exceptions(item: object) -> tuple[ast.Value, ...]:
    """The ``except ...`` part of obligors, empty when absent."""
    return () if item is None else tuple(_value(i) for i in _node(tuple, item))


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
