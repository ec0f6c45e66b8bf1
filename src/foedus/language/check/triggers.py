"""Resolve triggers: the event or verdict a clause waits for, and the names it binds.

Stage: used by ``clauses`` (after ``symbols``). A verdict trigger must name a clause of
the right kind, must not name its own clause, and clauses must not trigger each other
in a ring.
"""

from __future__ import annotations

from foedus.diagnostics import Diagnostic, Span, did_you_mean, error
from foedus.language import ast
from foedus.language import model as m
from foedus.language.check.chains import depths, rings
from foedus.language.check.symbols import ALL_PARTIES, MAX_DEPTH, Symbols, article
from foedus.language.check.values import (
    Binding,
    Scope,
    event_fields,
    events_word,
    resolve_guard,
    resolve_pattern,
)

PARTY = m.FieldType(m.FieldKind.PARTY)
STATE = m.FieldType(m.FieldKind.STATE)
_BODY_WORDS: dict[type, str] = {
    ast.ObligationAst: "obligation",
    ast.ProhibitionAst: "prohibition",
    ast.PermissionAst: "permission",
    ast.DecisionAst: "decision",
    ast.ConditionAst: "condition",
}

_VERDICT_KINDS = {
    "violated": m.TriggerKind.VIOLATED,
    "fulfilled": m.TriggerKind.FULFILLED,
    "adopted": m.TriggerKind.ADOPTED,
    "rejected": m.TriggerKind.REJECTED,
}


Fields = tuple[dict[str, m.FieldType], dict[str, str]]


def _pattern_fields(symbols: Symbols, pattern: ast.PatternAst) -> Fields:
    return event_fields(symbols, [e.text for e in pattern.events])


def _causing_fields(name: str, by_name: dict[str, ast.ClauseDecl], symbols: Symbols) -> Fields:
    """Fields available on a verdict of clause ``name``: those of the event that caused it,
    found by following verdict triggers back (at most ``MAX_DEPTH`` of them: a longer
    chain is an error of its own, see :func:`verdict_cycles`). With the fields some of
    its event types lack (see :func:`~foedus.language.check.values.event_fields`)."""
    seen: set[str] = set()
    while name not in seen and len(seen) <= MAX_DEPTH:
        seen.add(name)
        c = by_name.get(name)
        if c is None:
            return {}, {}
        b = c.body
        if isinstance(b, ast.ProhibitionAst):
            return _pattern_fields(symbols, b.action)
        trigger = getattr(b, "trigger", None)
        if trigger is None:
            return {}, {}
        if trigger.pattern is not None:
            return _pattern_fields(symbols, trigger.pattern)
        if trigger.clause is None:
            return {}, {}
        name = trigger.clause.text
    return {}, {}


def resolve_trigger(
    t: ast.TriggerAst, by_name: dict[str, ast.ClauseDecl], scope: Scope, self_name: str
) -> m.Trigger | None:
    if t.binding is not None:
        # Until the trigger resolves, its binding stands for an unknown event.
        scope.bindings[t.binding.text] = Binding(t.binding.text, {}, "the trigger", known=False)
    if t.pattern is not None:
        pattern = resolve_pattern(t.pattern, scope)
        if pattern is None:
            return None
        if t.binding is not None and not _binding_ok(t.binding, scope):
            return None
        if t.binding is not None:
            fields, uncommon = event_fields(scope.symbols, pattern.events)
            scope.bindings[t.binding.text] = Binding(
                t.binding.text, fields, events_word(pattern.events), uncommon=uncommon
            )
        guard = resolve_guard(t.guard, scope) if t.guard is not None else None
        return m.Trigger(
            m.TriggerKind.EVENT, t.binding.text if t.binding else None, pattern, None, guard
        )
    assert t.clause is not None and t.verdict is not None
    kind = resolve_verdict(t.verdict, t.clause, by_name, scope, self_name)
    if kind is None:
        return None
    if t.binding is not None and not _binding_ok(t.binding, scope):
        return None
    if t.binding is not None:
        causing, uncommon = _causing_fields(t.clause.text, by_name, scope.symbols)
        fields = dict(causing)
        if kind in (m.TriggerKind.VIOLATED, m.TriggerKind.FULFILLED):
            fields["obligor"] = PARTY
            fields["beneficiary"] = PARTY
        scope.bindings[t.binding.text] = Binding(
            t.binding.text, fields, f"the verdict `{t.verdict}({t.clause.text})`",
            uncommon={k: v for k, v in uncommon.items() if k not in fields},
        )
    guard = resolve_guard(t.guard, scope) if t.guard is not None else None
    return m.Trigger(kind, t.binding.text if t.binding else None, None, t.clause.text, guard)


def resolve_verdict(
    verdict: str, clause: ast.Name, by_name: dict[str, ast.ClauseDecl], scope: Scope,
    self_name: str,
) -> m.TriggerKind | None:
    """``violated(c)`` and its kin, in a trigger or a condition: ``c`` must be a clause
    that can reach that verdict, and not the clause that waits for it."""
    kind = _VERDICT_KINDS[verdict]
    target = by_name.get(clause.text)
    if target is None:
        hint = did_you_mean(clause.text, list(by_name))
        scope.err(
            "unknown-clause",
            f"unknown clause `{clause.text}`",
            clause.span,
            suggestion=f"did you mean `{hint}`?" if hint else None,
        )
        return None
    allowed = {
        m.TriggerKind.VIOLATED: (ast.ObligationAst, ast.ProhibitionAst),
        m.TriggerKind.FULFILLED: (ast.ObligationAst,),
        m.TriggerKind.ADOPTED: (ast.DecisionAst,),
        m.TriggerKind.REJECTED: (ast.DecisionAst,),
    }[kind]
    if not isinstance(target.body, allowed):
        what = "a decision" if kind in (m.TriggerKind.ADOPTED, m.TriggerKind.REJECTED) else (
            "an obligation" if kind is m.TriggerKind.FULFILLED else "an obligation or prohibition"
        )
        actual = article(_BODY_WORDS[type(target.body)])
        scope.err(
            "wrong-verdict",
            f"`{verdict}({clause.text})` needs {what}, but `{clause.text}` is {actual}",
            clause.span,
            notes=(
                "violated(...) applies to obligations and prohibitions, fulfilled(...) to "
                "obligations, adopted(...) and rejected(...) to decisions",
            ),
        )
        return None
    if clause.text == self_name:
        scope.err(
            "self-trigger",
            f"clause `{self_name}` is triggered by its own verdict",
            clause.span,
            suggestion="a clause may follow another clause's verdict, never its own",
        )
        return None
    return kind


def _binding_ok(binding: ast.Name, scope: Scope) -> bool:
    """A binding must not hide a declared name: `as RU` would make `RU` mean two things."""
    kind = "role" if binding.text == ALL_PARTIES else scope.symbols.kinds.get(binding.text)
    if kind is None:
        return True
    scope.err(
        "binding-shadows-name",
        f"the binding `{binding.text}` has the name of {article(kind)}",
        binding.span,
        notes=(f"`{binding.text}` would mean both the {kind} and the trigger's event",),
        suggestion="choose another name for the trigger, e.g. `as attack`",
    )
    return False


def verdict_cycles(
    clauses: list[ast.ClauseDecl], by_name: dict[str, ast.ClauseDecl]
) -> list[Diagnostic]:
    """Clauses triggered by each other's verdicts in a ring would re-arise without end; a
    chain of them longer than ``MAX_DEPTH`` is refused too (one error per chain)."""
    edges: dict[str, str | None] = {}
    for c in clauses:
        trigger = getattr(c.body, "trigger", None)
        if trigger is not None and trigger.clause is not None:
            edges[c.name.text] = trigger.clause.text
    diags: list[Diagnostic] = []
    for name, depth in depths(edges).items():
        if depth == MAX_DEPTH:
            diags.append(error(
                "trigger-too-deep",
                f"clause `{name}` is triggered through {MAX_DEPTH + 1} verdicts of other clauses "
                f"in a row; {MAX_DEPTH} is the most",
                _trigger_span(by_name[name]),
                suggestion="trigger reparation clauses from the clause that failed, not "
                "from a long chain",
            ))
    for ring in rings(edges):
        if len(ring) > 1:  # a clause triggered by its own verdict is refused where it is
            diags.append(error(
                "trigger-cycle",
                "these clauses trigger each other in a ring: " + " -> ".join([*ring, ring[0]]),
                _trigger_span(by_name[ring[0]]),
                suggestion="a reparation clause must not be the cause of its own trigger",
            ))
    return diags


def _trigger_span(decl: ast.ClauseDecl) -> Span:
    trig = getattr(decl.body, "trigger", None)
    return trig.clause.span if trig and trig.clause else decl.name.span
