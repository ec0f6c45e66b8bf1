"""Resolve values, patterns and guards against the symbol table and the clause's bindings.

Stage: used by ``clauses``. A bare name means what it names: a party, a state that is
not a party, a role or group (a set of parties), a territory, or an enumeration option of
the field it is compared with. Types must agree: a party field is never compared with a
territory. Party and state fields both hold codes of states, so they may be compared with
each other; a state that is not a party fits only a state field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from foedus.diagnostics import Diagnostic, Span, did_you_mean, error
from foedus.language import ast
from foedus.language import model as m
from foedus.language.check.symbols import Symbols, article

K = m.FieldKind
CODES = frozenset({K.PARTY, K.STATE})  # kinds whose values are codes of states


@dataclass(frozen=True)
class Binding:
    """What ``name.field`` may refer to inside a clause: the fields of the bound event."""

    name: str
    fields: dict[str, m.FieldType]
    what: str  # for messages: 'event armed_attack', 'verdict of clause x'
    # False when the trigger itself could not be resolved: uses of the binding are then
    # skipped quietly rather than reported as a second, consequential mistake.
    known: bool = True
    # Fields that some of the event types it may be bound to lack (or declare with another
    # kind), each with what is wrong: "is not declared in `military_operation`".
    uncommon: dict[str, str] = field(default_factory=dict)


@dataclass
class Scope:
    symbols: Symbols
    bindings: dict[str, Binding] = field(default_factory=dict)
    diags: list[Diagnostic] = field(default_factory=list)
    context: str | None = None
    clause: str = ""
    zone: str = "UTC"  # the treaty's time zone: the default of deadlines and of bare dates

    def err(
        self,
        code: str,
        message: str,
        span: Span | None,
        *,
        notes: tuple[str, ...] = (),
        suggestion: str | None = None,
    ) -> None:
        self.diags.append(
            error(code, message, span, notes=notes, suggestion=suggestion, context=self.context)
        )


_OPS = {
    "": m.Op.EQ,
    "==": m.Op.EQ,
    "!=": m.Op.NE,
    "not": m.Op.NE,
    "within": m.Op.WITHIN,
    "not within": m.Op.NOT_WITHIN,
    "<": m.Op.LT,
    "<=": m.Op.LE,
    ">": m.Op.GT,
    ">=": m.Op.GE,
}
_ORDER_OPS = {m.Op.LT, m.Op.LE, m.Op.GT, m.Op.GE}


def _kind_word(kind: m.FieldKind) -> str:
    return {K.ENUM: "an option", K.TEXT: "a text", K.NUMBER: "a number"}.get(kind, f"a {kind}")


def _type_word(kind: m.FieldKind) -> str:
    return "an enumeration" if kind is K.ENUM else _kind_word(kind)


def _listing(names: Sequence[str]) -> str:
    """Names in backquotes, joined for a message.

    >>> _listing(["a", "b", "c"])
    '`a`, `b` and `c`'
    """
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


# Why a field is not common to several event types: (error code, what is wrong with it).
Uncommon = tuple[str, str]


def common_fields(
    events: Sequence[m.EventType],
) -> tuple[dict[str, m.FieldType], dict[str, Uncommon]]:
    """The fields every one of ``events`` declares with one kind (an enumeration: with the
    options they all offer), and why each other field is not common.

    A pattern over several event types may constrain, and a binding to it read, only the
    common fields: whichever type the event has, the field is there and means one thing.

    >>> F, T = m.FieldDecl, m.FieldType
    >>> a = m.EventType("a", (F("by", T(K.PARTY)), F("place", T(K.TERRITORY))), "by")
    >>> b = m.EventType("b", (F("by", T(K.PARTY)), F("place", T(K.TEXT))), "by")
    >>> shared, uncommon = common_fields([a, b])
    >>> list(shared), uncommon["place"][1]
    (['by'], 'is a territory in `a` but a text in `b`')
    """
    shared: dict[str, m.FieldType] = {}
    uncommon: dict[str, Uncommon] = {}
    for name in dict.fromkeys(f.name for e in events for f in e.fields):
        declared: list[tuple[str, m.FieldType]] = []
        for e in events:
            decl = e.field(name)
            if decl is None:
                uncommon[name] = ("field-missing-in-alternative",
                                  f"is not declared in `{e.name}`")
                break
            declared.append((e.name, decl.type))
        else:
            one = _one_kind(declared)
            if isinstance(one, m.FieldType):
                shared[name] = one
            else:
                uncommon[name] = ("field-kind-differs", one)
    return shared, uncommon


def _one_kind(declared: list[tuple[str, m.FieldType]]) -> m.FieldType | str:
    """The one type of a field declared by several event types, or what differs."""
    (first_event, first), *others = declared
    for event, ftype in others:
        if ftype.kind is not first.kind:
            return (f"is {_type_word(first.kind)} in `{first_event}` but "
                    f"{_type_word(ftype.kind)} in `{event}`")
    if first.kind is not K.ENUM or not others:
        return first
    options = tuple(o for o in first.options if all(o in t.options for _, t in others))
    if not options:
        return f"has no option common to {_listing([e for e, _ in declared])}"
    return m.FieldType(K.ENUM, options)


def event_fields(symbols: Symbols, events: Sequence[str]) -> tuple[dict[str, m.FieldType],
                                                                     dict[str, str]]:
    """What a binding to an event of one of the (declared) ``events`` may read, and why it
    may not read the other fields some of them declare."""
    declared = [symbols.events[e] for e in events if e in symbols.events]
    if not declared:
        return {}, {}
    shared, uncommon = common_fields(declared)
    return shared, {name: why for name, (_, why) in uncommon.items()}


def events_word(events: Sequence[str]) -> str:
    """How messages name the event of a binding: event `a`, or event `a | b`."""
    return f"event `{' | '.join(events)}`"


def resolve_ref(v: ast.RefValue, scope: Scope) -> tuple[m.Ref, m.FieldType] | None:
    binding = scope.bindings.get(v.binding.text)
    if binding is None:
        hint = did_you_mean(v.binding.text, list(scope.bindings))
        scope.err(
            "unknown-binding",
            f"`{v.binding.text}` is not bound in this clause",
            v.binding.span,
            suggestion=f"did you mean `{hint}`?"
            if hint
            else "name the trigger with `when event(...) as NAME`",
        )
        return None
    if not binding.known:
        return None
    ftype = binding.fields.get(v.field.text)
    if ftype is None and v.field.text in binding.uncommon:
        scope.err(
            "field-not-common",
            f"`{v.binding.text}.{v.field.text}` cannot be read: field `{v.field.text}` "
            f"{binding.uncommon[v.field.text]}",
            v.field.span,
            notes=(f"`{v.binding.text}` may be an event of several types, so it reads only "
                   "the fields they all declare with one kind",),
            suggestion="fields: " + ", ".join(sorted(binding.fields))
            if binding.fields else "write one clause per event type to read this field",
        )
        return None
    if ftype is None:
        hint = did_you_mean(v.field.text, list(binding.fields))
        scope.err(
            "unknown-field",
            f"{binding.what} has no field `{v.field.text}`",
            v.field.span,
            suggestion=f"did you mean `{hint}`?"
            if hint
            else "fields: " + ", ".join(sorted(binding.fields)),
        )
        return None
    return m.Ref(v.binding.text, v.field.text, ftype.kind), ftype


def resolve_value(v: ast.Value, expected: m.FieldType | None, scope: Scope) -> m.Value | None:
    """Resolve ``v``; when ``expected`` is given, the value must fit that type."""
    if isinstance(v, ast.RefValue):
        found = resolve_ref(v, scope)
        if found is None:
            return None
        ref, ftype = found
        if expected is not None and not _compatible(ftype, expected):
            scope.err(
                "type-mismatch",
                f"`{v.binding.text}.{v.field.text}` is {_kind_word(ftype.kind)}, "
                f"but {_kind_word(expected.kind)} is expected here",
                v.span,
            )
            return None
        return ref
    if isinstance(v, ast.Text):
        if expected is None or expected.kind is K.TEXT:
            return m.Const(K.TEXT, v.value)
        if expected.kind is K.ENUM and v.value in expected.options:
            scope.err(
                "quoted-option",
                f"option `{v.value}` is written without quotes",
                v.span,
                suggestion=f"write `{v.value}` without the quotes",
            )
            return None
        scope.err(
            "type-mismatch",
            f"a text is given, but {_kind_word(expected.kind)} is expected here",
            v.span,
        )
        return None
    if isinstance(v, ast.Number):
        if expected is None or expected.kind is K.NUMBER:
            return m.Const(K.NUMBER, v.value)
        scope.err(
            "type-mismatch",
            f"a number is given, but {_kind_word(expected.kind)} is expected here",
            v.span,
        )
        return None
    return _resolve_name(v, expected, scope)


def _compatible(actual: m.FieldType, expected: m.FieldType) -> bool:
    if actual.kind in CODES and expected.kind in CODES:
        return True  # a party field may hold what a state field holds, and the reverse
    if actual.kind is not expected.kind:
        return False
    if actual.kind is K.ENUM:
        return set(actual.options) <= set(expected.options) or set(expected.options) <= set(
            actual.options
        )
    return True


def _resolve_name(v: ast.Name, expected: m.FieldType | None, scope: Scope) -> m.Value | None:
    sym = scope.symbols
    name = v.text
    if expected is not None and expected.kind is K.ENUM:
        if name in expected.options:
            return m.Const(K.ENUM, name)
        hint = did_you_mean(name, expected.options)
        scope.err(
            "unknown-option",
            f"`{name}` is not an option here",
            v.span,
            notes=("options: " + ", ".join(expected.options),),
            suggestion=f"did you mean `{hint}`?" if hint else None,
        )
        return None
    kind = sym.kinds.get(name)
    if name == "party":
        kind = "role"
    if kind is None:
        pool: list[str]
        if expected is not None and expected.kind in CODES:
            states = list(sym.states) if expected.kind is K.STATE else []
            pool = [*sym.parties, *states, *sym.roles, *sym.groups]
            what = str(expected.kind)
        elif expected is not None and expected.kind is K.TERRITORY:
            pool = list(sym.territories)
            what = "territory"
        elif expected is not None and expected.kind is K.TEXT:
            scope.err(
                "unquoted-text",
                f"`{name}` is not a declared name; a text value is written in quotes",
                v.span,
                suggestion=f'write "{name}"',
            )
            return None
        else:
            pool = [*sym.parties, *sym.states, *sym.roles, *sym.groups, *sym.territories]
            what = "name"
        hint = did_you_mean(name, pool)
        if hint:
            help_text: str | None = f"did you mean `{hint}`?"
        elif what == "name":
            help_text = "declare it as a party, state, role, group or territory, or quote a text"
        else:
            help_text = f"declare it with `{what} {name}`"
        scope.err(f"unknown-{what}", f"unknown {what} `{name}`", v.span, suggestion=help_text)
        return None
    if kind in ("party", "role", "group"):
        value: m.Value
        if kind == "party":
            value = m.Const(K.PARTY, name)
        else:
            rs = sym.roleset(name)
            assert rs is not None
            value = rs
        actual = K.PARTY
    elif kind == "state":
        value = m.Const(K.STATE, name)
        actual = K.STATE
    elif kind == "territory":
        value = m.Const(K.TERRITORY, name)
        actual = K.TERRITORY
    else:
        scope.err(
            "wrong-kind-of-name",
            f"`{name}` is {article(kind)}, not a value",
            v.span,
            notes=("a value is a party, a state, a role or group, a territory, an option, "
                   "a number, a quoted text or a field such as `attack.victim`",),
        )
        return None
    if expected is not None and actual is K.STATE and expected.kind is K.PARTY:
        scope.err(
            "type-mismatch",
            f"`{name}` is a state that is not a party, but a party is expected here",
            v.span,
            notes=("a party field holds parties only; a state field holds any declared state",),
        )
        return None
    if expected is not None and expected.kind is not actual and {actual, expected.kind} != CODES:
        scope.err(
            "type-mismatch",
            f"`{name}` is {article(kind)}, but {_kind_word(expected.kind)} is expected here",
            v.span,
        )
        return None
    return value


def value_kind(v: m.Value) -> m.FieldKind:
    if isinstance(v, m.RoleSet):
        return K.PARTY
    return v.kind


def resolve_op(raw: str, kind: m.FieldKind, value: m.Value, span: Span, scope: Scope) -> m.Op:
    """Normalise an operator for the field kind: on territories and party sets, == means within."""
    op = _OPS[raw]
    if op in _ORDER_OPS and kind is not K.NUMBER:
        scope.err(
            "ordering-not-number",
            f"`{raw}` compares numbers, but this is {_kind_word(kind)}",
            span,
            suggestion="compare it with `==`, `!=`"
            + (" or `within`" if kind is K.TERRITORY else ""),
        )
    if op in (m.Op.WITHIN, m.Op.NOT_WITHIN):
        if kind is not K.TERRITORY and not isinstance(value, m.RoleSet):
            scope.err(
                "within-needs-territory",
                "`within` applies to territories and to roles or groups of parties",
                span,
                suggestion="compare a single party with `==`, "
                "or name a role or group after `within`",
            )
        return op
    if kind is K.TERRITORY or isinstance(value, m.RoleSet):
        if op is m.Op.EQ:
            return m.Op.WITHIN
        if op is m.Op.NE:
            return m.Op.NOT_WITHIN
    return op


def resolve_pattern(p: ast.PatternAst, scope: Scope) -> m.Pattern | None:
    """A pattern over one event type, or several (``a | b(...)``): each constrained field
    must be declared with one kind in every listed type."""
    events = _pattern_events(p, scope)
    if events is None:
        return None
    shared, uncommon = common_fields(events)
    constraints: list[m.Constraint] = []
    seen: set[str] = set()
    for arg in p.args:
        ftype = shared.get(arg.field.text)
        if ftype is None:
            _field_error(arg, events, shared, uncommon.get(arg.field.text), scope)
            continue
        if arg.field.text in seen:
            scope.err("duplicate-argument", f"field `{arg.field.text}` is given twice", arg.span)
            continue
        seen.add(arg.field.text)
        if _option_not_shared(arg, events, ftype, scope):
            continue
        value = resolve_value(arg.value, ftype, scope)
        if value is None:
            continue
        op = resolve_op(arg.op, ftype.kind, value, arg.span, scope)
        constraints.append(m.Constraint(arg.field.text, op, value))
    names = tuple(e.name for e in events)
    return m.Pattern(names[0], tuple(constraints), p.span, names[1:])


def declared_event(name: ast.Name, scope: Scope, otherwise: str) -> m.EventType | None:
    """The event type ``name`` declares, or an error with a did-you-mean hint (else the
    hint ``otherwise``)."""
    event = scope.symbols.events.get(name.text)
    if event is None:
        hint = did_you_mean(name.text, list(scope.symbols.events))
        scope.err(
            "unknown-event",
            f"unknown event `{name.text}`",
            name.span,
            suggestion=f"did you mean `{hint}`?" if hint else otherwise,
        )
    return event


def _pattern_events(p: ast.PatternAst, scope: Scope) -> list[m.EventType] | None:
    """The event types a pattern lists, each declared and listed once; None if not."""
    found: list[m.EventType] = []
    seen: set[str] = set()
    ok = True
    for name in p.events:
        if name.text in seen:
            scope.err(
                "duplicate-alternative",
                f"event `{name.text}` is listed twice in this pattern",
                name.span,
                suggestion=f"list `{name.text}` once",
            )
            ok = False
            continue
        seen.add(name.text)
        event = declared_event(name, scope, f"declare it with `event {name.text}(...)`")
        if event is None:
            ok = False
            continue
        found.append(event)
    return found if ok else None


def _option_not_shared(
    arg: ast.Arg, events: list[m.EventType], ftype: m.FieldType, scope: Scope
) -> bool:
    """Report an option that some of the listed types offer for the field, but not all."""
    option = arg.value.text if isinstance(arg.value, ast.Name) else None
    if len(events) == 1 or ftype.kind is not K.ENUM or option is None or option in ftype.options:
        return False
    lacking = []
    for e in events:
        decl = e.field(arg.field.text)
        if decl is not None and option not in decl.type.options:
            lacking.append(e.name)
    if len(lacking) == len(events):
        return False  # an option of none of them: resolve_value says so
    scope.err(
        "unknown-option",
        f"`{option}` is not an option of `{arg.field.text}` in {_listing(lacking)}",
        arg.value.span,
        notes=("options every listed event offers: " + ", ".join(ftype.options),),
        suggestion="compare with an option they all offer, or write one clause per event",
    )
    return True


def _field_error(
    arg: ast.Arg,
    events: list[m.EventType],
    shared: dict[str, m.FieldType],
    uncommon: Uncommon | None,
    scope: Scope,
) -> None:
    """Report a constrained field that is not declared, with one kind, in every type."""
    name = arg.field.text
    if uncommon is not None:
        code, why = uncommon
        if code == "field-missing-in-alternative":
            help_text = ("a pattern over several events constrains only the fields they all "
                         "declare: " + ", ".join(shared) if shared
                         else "these events share no field: write one clause per event")
        else:
            help_text = "a field constrained over several events has one kind in all of them"
        scope.err(code, f"field `{name}` {why}", arg.field.span, suggestion=help_text)
        return
    pool = list(shared) if len(events) > 1 else [f.name for f in events[0].fields]
    hint = did_you_mean(name, pool)
    what = (f"event `{events[0].name}` has" if len(events) == 1
            else f"events {_listing([e.name for e in events])} have")
    scope.err(
        "unknown-field",
        f"{what} no field `{name}`",
        arg.field.span,
        suggestion=f"did you mean `{hint}`?" if hint else "fields: " + ", ".join(pool)
        if pool else None,
    )


def resolve_guard(g: ast.GuardAst, scope: Scope) -> m.Guard | None:
    if isinstance(g, ast.AndAst | ast.OrAst):
        items = [resolve_guard(i, scope) for i in g.items]
        if any(i is None for i in items):
            return None
        cls = m.And if isinstance(g, ast.AndAst) else m.Or
        return cls(tuple(i for i in items if i is not None))
    if isinstance(g, ast.NotAst):
        inner = resolve_guard(g.item, scope)
        return m.Not(inner) if inner is not None else None
    return _resolve_compare(g, scope)


def _resolve_compare(g: ast.CompareAst, scope: Scope) -> m.Compare | None:
    # Resolve the side whose type is known first (a field reference), then the other against it.
    left_first = isinstance(g.left, ast.RefValue) or not isinstance(g.right, ast.RefValue)
    first, second = (g.left, g.right) if left_first else (g.right, g.left)
    a = resolve_value(first, None, scope)
    if a is None:
        return None
    expected = _type_of(a, first, scope)
    b = resolve_value(second, expected, scope)
    if b is None:
        return None
    left, right = (a, b) if left_first else (b, a)
    op = resolve_op(g.op, value_kind(left), right, g.span, scope)
    return m.Compare(left, op, right)


def _type_of(v: m.Value, source: ast.Value, scope: Scope) -> m.FieldType:
    if isinstance(v, m.Ref) and isinstance(source, ast.RefValue):
        binding = scope.bindings[v.binding]
        return binding.fields[v.field]
    return m.FieldType(value_kind(v))
