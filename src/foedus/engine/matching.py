"""Patterns, constraints, guards and obligor sets compiled into plain closures.

Stage: used by ``engine.plan`` when a treaty is compiled (patterns without references)
and by the executors when a clause arises (patterns that refer to the trigger's
bindings); ``engine.results`` renders patterns with it. The
closures take an event's ``fields`` mapping and return a bool, so the hot path is one
call per candidate event.

Bindings map a name (``attack``) to ``(fields, at, event id)`` of the bound event.

>>> from foedus.language import model as m
>>> t = m.Treaty("t", "", (), (), (), (m.Territory("Ukraine", "", None),
...     m.Territory("Crimea", "", "Ukraine")), (), (), ())
>>> match = Matcher(t)
>>> p = m.Pattern("attack", (m.Constraint("place", m.Op.NOT_WITHIN,
...     m.Const(m.FieldKind.TERRITORY, "Crimea")),))
>>> test = match.pattern(p, {})
>>> test({"place": "Ukraine"}), test({"place": "Crimea"})
(True, False)
>>> match.mismatch(p, {"place": "Crimea"}, {}, "c3")
'place Crimea is within Crimea, which clause c3 excludes'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from foedus.language.model import (
    And,
    Compare,
    Const,
    Constraint,
    FieldKind,
    Guard,
    Not,
    Obligors,
    Op,
    Or,
    Pattern,
    Quantifier,
    Ref,
    RoleSet,
    Treaty,
    Value,
    Verdict,
    ancestors,
)

Bound = tuple[Mapping[str, Any], datetime | None, str | None]
Bindings = Mapping[str, Bound]
Test = Callable[[Mapping[str, Any]], bool]

MISSING: Any = object()
NEGATIVE = (Op.NE, Op.NOT_WITHIN)
OP_TEXT = {
    Op.EQ: "",
    Op.NE: "not ",
    Op.WITHIN: "within ",
    Op.NOT_WITHIN: "not within ",
    Op.LT: "< ",
    Op.LE: "<= ",
    Op.GT: "> ",
    Op.GE: ">= ",
}

__all__ = [
    "MISSING",
    "Bindings",
    "Bound",
    "Matcher",
    "fmt_time",
    "fmt_value",
    "obligors_label",
    "pattern_fields",
    "render_guard",
    "render_pattern",
    "render_step",
    "render_value",
]


def _always(fields: Mapping[str, Any]) -> bool:
    return True


def fmt_value(value: Any) -> str:
    """A field value as people write it: ``3`` rather than ``3.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is MISSING or value is None:
        return "?"
    return str(value)


def fmt_time(at: datetime | None, tz: tzinfo | None = None) -> str:
    """An instant for people, in ``tz`` when given: minutes unless it has seconds; UTC as Z.

    >>> from datetime import UTC, timedelta, timezone
    >>> t = datetime(2022, 4, 4, 7, tzinfo=UTC)
    >>> fmt_time(t), fmt_time(t, timezone(timedelta(hours=3)))
    ('2022-04-04T07:00Z', '2022-04-04T10:00+03:00')
    """
    if at is None:
        return "the start"
    if tz is not None:
        at = at.astimezone(tz)
    if at.second == 0 and at.microsecond == 0:
        text = at.isoformat(timespec="minutes")
    elif at.microsecond == 0:
        text = at.isoformat(timespec="seconds")
    else:
        text = at.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def render_value(value: Value, bindings: Bindings | None = None) -> str:
    """``UA``, ``attack.aggressor`` (or its bound value when ``bindings`` has it), ``guarantor``."""
    if isinstance(value, Const):
        return fmt_value(value.value)
    if isinstance(value, Ref):
        if bindings and value.binding in bindings:
            got = bindings[value.binding][0].get(value.field, MISSING)
            if got is not MISSING:
                return fmt_value(got)
        return f"{value.binding}.{value.field}"
    return value.name


def render_pattern(pattern: Pattern, bindings: Bindings | None = None,
                   event: str | None = None) -> str:
    """``consultations(with: UA)``, with references resolved when ``bindings`` has them;
    ``talks | consultations(with: UA)`` over several types, or just ``event`` if given.

    >>> from foedus.language import model as m
    >>> p = m.Pattern("talks", (), alternatives=("consultations",))
    >>> render_pattern(p), render_pattern(p, event="consultations")
    ('talks | consultations()', 'consultations()')
    """
    args = ", ".join(
        f"{c.field}: {OP_TEXT[c.op]}{render_value(c.value, bindings)}" for c in pattern.constraints
    )
    head = event or (" | ".join(pattern.events) if pattern.alternatives else pattern.event)
    return f"{head}({args})"


def render_step(item: Pattern | Verdict) -> str:
    """A step of a condition: a pattern, or a verdict ``violated(support)``."""
    if isinstance(item, Verdict):
        return f"{item.kind.value}({item.clause})"
    return render_pattern(item)


def pattern_fields(pattern: Pattern, bindings: Bindings | None = None) -> dict[str, Any]:
    """A pattern as data: ``{"event": type, "fields": {field: value}}``, references
    resolved when ``bindings`` has them; a constraint other than equality is
    ``{"op": "not within", "value": ...}``. A pattern over several event types names the
    first as ``event`` and the others as ``alternatives``.

    >>> from foedus.language import model as m
    >>> p = m.Pattern("consultations", (m.Constraint("with", m.Op.EQ,
    ...     m.Const(m.FieldKind.PARTY, "UA")),))
    >>> pattern_fields(p)
    {'event': 'consultations', 'fields': {'with': 'UA'}}
    """
    fields: dict[str, Any] = {}
    for c in pattern.constraints:
        value = _data(c.value, bindings)
        fields[c.field] = value if c.op is Op.EQ else {"op": c.op.value, "value": value}
    if pattern.alternatives:
        return {"event": pattern.event, "alternatives": list(pattern.alternatives),
                "fields": fields}
    return {"event": pattern.event, "fields": fields}


def _data(value: Value, bindings: Bindings | None) -> Any:
    if isinstance(value, Const):
        got: Any = value.value
    elif isinstance(value, Ref):
        bound = (bindings or {}).get(value.binding)
        got = bound[0].get(value.field, MISSING) if bound is not None else MISSING
        if got is MISSING:
            return {"ref": f"{value.binding}.{value.field}"}
    else:
        return {"among": value.name, "members": list(value.members)}
    return int(got) if isinstance(got, float) and got.is_integer() else got


def render_guard(guard: Guard) -> str:
    """The guard in source syntax."""
    if isinstance(guard, Compare):
        return f"{render_value(guard.left)} {guard.op.value} {render_value(guard.right)}"
    if isinstance(guard, Not):
        return f"not ({render_guard(guard.item)})"
    joiner = " and " if isinstance(guard, And) else " or "
    return "(" + joiner.join(render_guard(g) for g in guard.items) + ")"


def obligors_label(obligors: Obligors) -> str:
    """``guarantor`` for each, ``any of guarantor``, ``2 of guarantor``; a lone party by code;
    ``attack.victim`` for the party a trigger names."""
    if obligors.bound is not None:
        return render_value(obligors.bound)
    name = obligors.among.name
    if obligors.quantifier is Quantifier.ANY:
        return f"any of {name}"
    if obligors.quantifier is Quantifier.AT_LEAST:
        return f"{obligors.k} of {name}"
    return name


class Matcher:
    """Compiles patterns of one treaty; knows its territories and field kinds."""

    def __init__(self, treaty: Treaty) -> None:
        self.treaty = treaty
        children: dict[str, set[str]] = {t.name: {t.name} for t in treaty.territories}
        parents = {t.name: t.parent for t in treaty.territories}
        for t in treaty.territories:
            for ancestor in ancestors(t.name, parents):
                children.setdefault(ancestor, {ancestor}).add(t.name)
        self.inside: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in children.items()}
        self.kinds: dict[tuple[str, str], FieldKind] = {
            (e.name, f.name): f.type.kind for e in treaty.events for f in e.fields
        }

    # ------------------------------------------------------------ values

    def resolve(self, value: Value, bindings: Bindings) -> Any:
        """A constant, a bound field value, or a frozenset of role members (MISSING if unbound)."""
        if isinstance(value, Const):
            return value.value
        if isinstance(value, Ref):
            bound = bindings.get(value.binding)
            if bound is None:
                return MISSING
            return bound[0].get(value.field, MISSING)
        return frozenset(value.members)

    def within(self, inner: Any, outer: Any) -> bool:
        """Whether territory ``inner`` is ``outer`` or lies inside it."""
        return inner in self.inside.get(outer, (outer,))

    def _kind(self, event: str, c: Constraint) -> FieldKind | None:
        kind = self.kinds.get((event, c.field))
        if kind is None and isinstance(c.value, Const | Ref):
            kind = c.value.kind
        return kind

    # ------------------------------------------------------------ constraints

    def constraint(self, event: str, c: Constraint, bindings: Bindings) -> Test:
        """A closure testing one constraint on an event's fields."""
        name = c.field
        target = self.resolve(c.value, bindings)
        negative = c.op in NEGATIVE
        if target is MISSING:
            return (lambda f: True) if negative else (lambda f: False)
        if isinstance(target, frozenset) or self._kind(event, c) is FieldKind.TERRITORY:
            group = target if isinstance(target, frozenset) else self.inside.get(target, {target})
            if negative:
                return lambda f: f.get(name, MISSING) not in group
            return lambda f: f.get(name, MISSING) in group
        op = c.op
        if op in (Op.EQ, Op.WITHIN):
            return lambda f: f.get(name, MISSING) == target
        if op in NEGATIVE:
            return lambda f: f.get(name, MISSING) != target
        compare: Callable[[Any, Any], bool] = {
            Op.LT: lambda a, b: a < b,
            Op.LE: lambda a, b: a <= b,
            Op.GT: lambda a, b: a > b,
            Op.GE: lambda a, b: a >= b,
        }[op]

        def ordered(f: Mapping[str, Any]) -> bool:
            got = f.get(name)
            try:
                return got is not None and compare(got, target)
            except TypeError:
                return False

        return ordered

    def pattern(self, pattern: Pattern, bindings: Bindings) -> Test:
        """A closure testing every constraint of ``pattern`` (the caller checks the type)."""
        tests = [self.constraint(pattern.event, c, bindings) for c in pattern.constraints]
        if not tests:
            return _always
        if len(tests) == 1:
            return tests[0]
        if len(tests) == 2:
            a, b = tests
            return lambda f: a(f) and b(f)
        return lambda f: all(t(f) for t in tests)

    def mismatch(
        self, pattern: Pattern, fields: Mapping[str, Any], bindings: Bindings, clause: str
    ) -> str | None:
        """Why an event fails ``pattern`` through a carve-out (``not``), or None.

        Returns None when a positive constraint fails: such an event is simply not the
        clause's business, while a carve-out is worth reporting.
        """
        carve_out: str | None = None
        for c in pattern.constraints:
            if self.constraint(pattern.event, c, bindings)(fields):
                continue
            if c.op not in NEGATIVE:
                return None
            if carve_out is None:
                carve_out = f"{self._failed(pattern, c, fields, bindings)}, which clause " \
                    f"{clause} excludes"
        return carve_out

    def unmet(self, pattern: Pattern, fields: Mapping[str, Any], bindings: Bindings,
              clause: str) -> str | None:
        """Why an event fails ``pattern``: the carve-out :meth:`mismatch` names if there is
        one, else the first positive constraint that fails (``place Kyiv_oblast is not
        within Chernihiv_oblast``); None when the event matches. For ``foedus explain`` of
        an event, which also answers for events that are not a clause's business.

        >>> from foedus.language import model as m
        >>> t = m.Treaty("t", "", (), (), (), (m.Territory("Ukraine", "", None),), (), (), ())
        >>> p = m.Pattern("attack", (m.Constraint("victim", m.Op.EQ,
        ...     m.Const(m.FieldKind.PARTY, "UA")),))
        >>> Matcher(t).unmet(p, {"victim": "GB"}, {}, "c3")
        'victim GB is not UA'
        """
        why = self.mismatch(pattern, fields, bindings, clause)
        if why is not None:
            return why
        for c in pattern.constraints:
            if not self.constraint(pattern.event, c, bindings)(fields):
                return self._failed(pattern, c, fields, bindings)
        return None

    def _failed(self, pattern: Pattern, c: Constraint, fields: Mapping[str, Any],
                bindings: Bindings) -> str:
        """``place Sevastopol is within Crimea``: the value that made ``c`` fail."""
        got = fmt_value(fields.get(c.field, MISSING))
        shown = render_value(c.value, bindings)
        negative = c.op in NEGATIVE
        if isinstance(c.value, RoleSet):
            return f"{c.field} {got} is {'a' if negative else 'not a'} {shown}"
        territorial = c.op in (Op.WITHIN, Op.NOT_WITHIN) or \
            self._kind(pattern.event, c) is FieldKind.TERRITORY
        if negative:
            return f"{c.field} {got} is {'within ' if territorial else ''}{shown}"
        if c.op in (Op.EQ, Op.WITHIN):
            return f"{c.field} {got} is not {'within ' if territorial else ''}{shown}"
        return f"{c.field} {got} is not {OP_TEXT[c.op]}{shown}"

    # ------------------------------------------------------------ guards

    def guard(self, guard: Guard, bindings: Bindings) -> bool:
        """Evaluate a trigger guard against the bindings."""
        if isinstance(guard, And):
            return all(self.guard(g, bindings) for g in guard.items)
        if isinstance(guard, Or):
            return any(self.guard(g, bindings) for g in guard.items)
        if isinstance(guard, Not):
            return not self.guard(guard.item, bindings)
        left = self.resolve(guard.left, bindings)
        right = self.resolve(guard.right, bindings)
        if left is MISSING or right is MISSING:
            return False
        op = guard.op
        territorial = any(
            isinstance(v, Const | Ref) and v.kind is FieldKind.TERRITORY
            for v in (guard.left, guard.right)
        )
        if isinstance(right, frozenset):
            inside = left in right
        elif territorial or op in (Op.WITHIN, Op.NOT_WITHIN):
            inside = self.within(left, right)
        else:
            inside = left == right
        if op in (Op.EQ, Op.WITHIN):
            return inside
        if op in NEGATIVE:
            return not inside
        try:
            # the values are Any: the comparisons of field values (str, float) are bools
            compared: dict[Op, bool] = {
                Op.LT: left < right,
                Op.LE: left <= right,
                Op.GT: left > right,
                Op.GE: left >= right,
            }
            return compared[op]
        except TypeError:
            return False

    # ------------------------------------------------------------ obligors

    def obligors(self, obligors: Obligors, bindings: Bindings) -> tuple[str, ...]:
        """Members of the quantified set minus the exceptions, in declaration order; for
        a bound obligor, the party its field names (none when it names no party)."""
        if obligors.bound is not None:
            got = self.resolve(obligors.bound, bindings)
            return (got,) if got in obligors.among.members else ()
        excluded: set[Any] = set()
        for value in obligors.exceptions:
            got = self.resolve(value, bindings)
            if isinstance(got, frozenset):
                excluded |= got
            elif got is not MISSING:
                excluded.add(got)
        return tuple(p for p in obligors.among.members if p not in excluded)

    def exceptions_text(self, obligors: Obligors, bindings: Bindings) -> str:
        """``attack.aggressor = RU`` style description of the exceptions."""
        parts = []
        for value in obligors.exceptions:
            got = self.resolve(value, bindings)
            if isinstance(value, Ref):
                parts.append(f"{value.binding}.{value.field} = {fmt_value(got)}")
            else:
                parts.append(render_value(value))
        return ", ".join(parts)
