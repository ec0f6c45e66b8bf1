"""Resolve clauses: obligors, actions, decisions and conditions, one clause kind at a time.

Stage: after ``symbols``; the resolved clauses go into ``model.Treaty``. Triggers are
resolved by ``triggers`` and deadlines by ``deadlines``. Sense checks live beside the
construct they concern: a quantifier must range over somebody, an action must have an
actor, a count must be reachable.
"""

from __future__ import annotations

from foedus.diagnostics import Diagnostic, did_you_mean, error
from foedus.language import ast
from foedus.language import model as m
from foedus.language.check.deadlines import resolve_deadline, resolve_window
from foedus.language.check.symbols import Symbols, not_a_party
from foedus.language.check.triggers import (
    PARTY,
    STATE,
    resolve_trigger,
    resolve_verdict,
    verdict_cycles,
)
from foedus.language.check.values import Scope, declared_event, resolve_pattern, resolve_value

K = m.FieldKind
_EFFECTS = {
    "in force": m.ConditionEffect.ENTRY_INTO_FORCE,
    "suspended": m.ConditionEffect.SUSPENSION,
    "resumes": m.ConditionEffect.RESUMPTION,
    "terminated": m.ConditionEffect.TERMINATION,
}


def check_clauses(
    clauses: list[ast.ClauseDecl], symbols: Symbols, zone: str = "UTC"
) -> tuple[tuple[m.Clause, ...], list[Diagnostic]]:
    """Resolve clause bodies; ``zone`` is the treaty's time zone (a valid IANA name)."""
    diags: list[Diagnostic] = []
    by_name: dict[str, ast.ClauseDecl] = {}
    for c in clauses:
        if c.name.text in by_name:
            diags.append(
                error(
                    "duplicate-clause",
                    f"clause `{c.name.text}` is declared twice",
                    c.name.span,
                    notes=(f"first declared on line {by_name[c.name.text].name.span.line}",),
                )
            )
        else:
            by_name[c.name.text] = c
    resolved: list[m.Clause] = []
    for c in clauses:
        if by_name.get(c.name.text) is not c:
            continue
        context = f'clause {c.name.text}' + (f' "{c.title.value}"' if c.title else "")
        scope = Scope(symbols, context=context, clause=c.name.text, zone=zone)
        clause = _check_clause(c, by_name, scope)
        diags.extend(scope.diags)
        if clause is not None:
            resolved.append(clause)
    diags.extend(verdict_cycles(clauses, by_name))
    return tuple(resolved), diags


def _check_clause(
    c: ast.ClauseDecl, by_name: dict[str, ast.ClauseDecl], scope: Scope
) -> m.Clause | None:
    if not c.quotes:
        scope.err(
            "missing-quote",
            f"clause `{c.name.text}` quotes no source words",
            c.name.span,
            suggestion='add `quote "..."` with the words of the text this clause encodes',
        )
    for q in c.quotes:
        if not q.value.strip():
            scope.err("empty-quote", "the quote is empty", q.span)
    before = len(scope.diags)
    body: m.Body | None
    b = c.body
    if isinstance(b, ast.ObligationAst):
        body, kind = _obligation(b, by_name, scope), m.ClauseKind.OBLIGATION
    elif isinstance(b, ast.ProhibitionAst):
        body, kind = _prohibition(b, by_name, scope), m.ClauseKind.PROHIBITION
    elif isinstance(b, ast.PermissionAst):
        body, kind = _permission(b, scope), m.ClauseKind.PERMISSION
    elif isinstance(b, ast.DecisionAst):
        body, kind = _decision(b, by_name, scope), m.ClauseKind.DECISION
    else:
        body, kind = _condition(b, by_name, scope), m.ClauseKind.CONDITION
    if body is None or len(scope.diags) > before:
        return None
    return m.Clause(
        c.name.text,
        c.title.value if c.title else c.name.text,
        tuple(q.value for q in c.quotes),
        kind,
        body,
        c.standalone,
        c.span,
    )


# ---------------------------------------------------------------- triggers and bindings


# ---------------------------------------------------------------- obligors, actions, deadlines


def _obligors(o: ast.ObligorsAst, scope: Scope) -> m.Obligors | None:
    if o.ref is not None:
        return _bound_obligor(o.ref, scope)
    target = o.target.text
    rs = scope.symbols.roleset(target)
    if target in scope.symbols.states:
        scope.diags.append(
            not_a_party(o.target, "the treaty binds its parties only", scope.context)
        )
        return None
    if rs is None:
        pool = ["party", *scope.symbols.parties, *scope.symbols.roles, *scope.symbols.groups]
        hint = did_you_mean(target, pool)
        scope.err(
            "unknown-obligor",
            f"unknown party, role or group `{target}`",
            o.target.span,
            suggestion=f"did you mean `{hint}`?" if hint else None,
        )
        return None
    is_set = target == "party" or target in scope.symbols.roles or target in scope.symbols.groups
    if o.quantifier == "single" and is_set:
        scope.err(
            "missing-quantifier",
            f"`{target}` is a set of parties; say who among them",
            o.target.span,
            suggestion=f"write `each {target}`, `any {target}` or `at least 2 of {target}`",
        )
        return None
    if not rs.members:
        scope.err(
            "empty-role",
            f"`{target}` has no members, so this clause binds nobody",
            o.target.span,
            suggestion=f"give some party the role with `party XX role {target}`",
        )
        return None
    k = 1
    quantifier = m.Quantifier.EACH if o.quantifier in ("each", "single") else m.Quantifier.ANY
    if o.quantifier == "at_least":
        assert o.k is not None
        quantifier = m.Quantifier.AT_LEAST
        if not o.k.raw.isdigit() or int(o.k.raw) < 1:
            scope.err(
                "bad-count",
                f"`at least {o.k.raw} of` counts no one; the count must be a whole number, "
                "1 or more",
                o.k.span,
                suggestion=f"write `at least 1 of {target}`, or `any {target}`",
            )
            return None
        k = int(o.k.raw)
        if k > len(rs.members):
            scope.err(
                "count-exceeds-members",
                f"at least {k} of `{target}` is impossible: it has {len(rs.members)} "
                f"member{'s' if len(rs.members) != 1 else ''}",
                o.k.span,
                notes=(f"members of `{target}`: " + ", ".join(rs.members),),
            )
            return None
    exceptions: list[m.Value] = []
    for e in o.exceptions:
        # A state field may be excepted: when it holds a state that is not a party,
        # it excepts no one.
        v = resolve_value(e, _as_named(e, scope), scope)
        if v is None:
            continue
        outside = _outside(v, rs)
        if outside:
            scope.err(
                "exception-not-member",
                f"`{outside}` is not one of `{target}`, so excepting it changes nothing",
                e.span,
                notes=(f"members of `{target}`: " + ", ".join(rs.members),),
                suggestion="remove the exception, or name a member of the set",
            )
            continue
        exceptions.append(v)
    return m.Obligors(quantifier, k, rs, tuple(exceptions))


def _bound_obligor(ref: ast.RefValue, scope: Scope) -> m.Obligors | None:
    """``attack.victim must ...``: the one party a field of the trigger names, when it
    names a party."""
    value = resolve_value(ref, PARTY, scope)
    if not isinstance(value, m.Ref):
        return None
    everyone = scope.symbols.roleset("party")
    assert everyone is not None
    return m.Obligors(m.Quantifier.EACH, 1, everyone, (), value)


def _outside(v: m.Value, among: m.RoleSet) -> str | None:
    """The name of a fixed exception that has no member in ``among``; None if it has one."""
    if isinstance(v, m.Const) and v.value not in among.members:
        return str(v.value)
    if isinstance(v, m.RoleSet) and not set(v.members) & set(among.members):
        return v.name
    return None


def _action(p: ast.PatternAst, scope: Scope) -> m.Pattern | None:
    """An action: every event type it lists says who performs it (its own actor)."""
    pattern = resolve_pattern(p, scope)
    if pattern is None:
        return None
    ok = True
    for name in p.events:
        et = scope.symbols.events[name.text]
        if et.actor is None:
            scope.err(
                "no-actor",
                f"event `{et.name}` has no party field, so no party can perform it",
                name.span,
                suggestion="add a field such as `by: party actor` to its declaration",
            )
            ok = False
    return pattern if ok else None


def _beneficiary(
    explicit: ast.Value | None, action: m.Pattern, scope: Scope
) -> m.Value | None:
    """The explicit ``for X``, else the first party named in the action other than its actor.

    Only a party can be owed: a state that is not a party, or a state field (which may
    hold one), is refused. The actor of any of its event types is passed over.
    """
    if explicit is not None:
        value = resolve_value(explicit, _as_named(explicit, scope), scope)
        if isinstance(value, m.Const | m.Ref) and value.kind is K.STATE:
            _owed_to_state(value, explicit, scope)
            return None
        return value
    actors = {scope.symbols.events[e].actor for e in action.events}
    for c in action.constraints:
        named = isinstance(c.value, m.Const | m.Ref) and c.value.kind is K.PARTY
        if named and c.field not in actors and c.op in (m.Op.EQ, m.Op.WITHIN):
            return c.value
    return None


def _as_named(v: ast.Value, scope: Scope) -> m.FieldType:
    """The type a value is resolved as where a party is wanted: a party's, or a state's for
    the name of a declared state, so that the message says what is wrong with it."""
    return STATE if isinstance(v, ast.Name) and v.text in scope.symbols.states else PARTY


def _owed_to_state(value: m.Const | m.Ref, written: ast.Value, scope: Scope) -> None:
    if isinstance(value, m.Ref):
        name = f"{value.binding}.{value.field}"
        why = "it is a state field, and may hold a state that is not a party"
    else:
        name, why = str(value.value), "it is a state that is not a party"
    scope.err(
        "beneficiary-not-party",
        f"nothing can be owed to `{name}`: {why}",
        written.span,
        suggestion="name a party, a role, or a party field such as `attack.victim` after `for`",
    )


# ---------------------------------------------------------------- clause kinds


def _obligation(
    b: ast.ObligationAst, by_name: dict[str, ast.ClauseDecl], scope: Scope
) -> m.Obligation | None:
    trigger = resolve_trigger(b.trigger, by_name, scope, scope.clause) if b.trigger else None
    obligors = _obligors(b.obligors, scope)
    action = _action(b.action, scope)
    deadline = resolve_deadline(b.deadline, trigger, scope) if (trigger or not b.trigger) else None
    if b.trigger and trigger is None:
        return None
    if obligors is None or action is None or deadline is None:
        return None
    beneficiary = _beneficiary(b.beneficiary, action, scope)
    return m.Obligation(trigger, obligors, action, beneficiary, deadline)


def _prohibition(
    b: ast.ProhibitionAst, by_name: dict[str, ast.ClauseDecl], scope: Scope
) -> m.Prohibition | None:
    trigger = resolve_trigger(b.trigger, by_name, scope, scope.clause) if b.trigger else None
    if b.obligors.quantifier in ("any", "at_least"):
        k = b.obligors.k.raw if b.obligors.k else ""
        said = "any" if b.obligors.quantifier == "any" else f"at least {k} of"
        scope.err(
            "quantifier-in-prohibition",
            f"`{said} {b.obligors.target.text} must not` is ambiguous: a prohibition binds "
            "each party it names",
            b.obligors.span,
            suggestion=f"write `each {b.obligors.target.text} must not ...`",
        )
        return None
    obligors = _obligors(b.obligors, scope)
    action = _action(b.action, scope)
    window = resolve_window(b.window, scope)
    if (b.trigger and trigger is None) or obligors is None or action is None:
        return None
    beneficiary = _beneficiary(b.beneficiary, action, scope)
    return m.Prohibition(trigger, obligors, action, beneficiary, window)


def _permission(b: ast.PermissionAst, scope: Scope) -> m.Permission | None:
    obligors = _obligors(b.obligors, scope)
    action = _action(b.action, scope)
    window = resolve_window(b.window, scope)
    if obligors is None or action is None:
        return None
    return m.Permission(obligors, action, window)


def _decision(
    b: ast.DecisionAst, by_name: dict[str, ast.ClauseDecl], scope: Scope
) -> m.Decision | None:
    trigger = resolve_trigger(b.trigger, by_name, scope, scope.clause)
    voters = _obligors(b.voters, scope)
    rule = _rule(b.rule, voters, scope)
    vote_event = _vote_event(b.votes, scope)
    deadline = resolve_deadline(b.deadline, trigger, scope) if trigger else None
    if trigger is None or voters is None or rule is None or vote_event is None or deadline is None:
        return None
    if voters.quantifier is not m.Quantifier.EACH:
        scope.err(
            "voters-need-each",
            "voters are a whole role or group: write `decision by each R`",
            b.voters.span,
        )
        return None
    return m.Decision(trigger, voters, rule, deadline, vote_event)


def _rule(r: ast.RuleAst, voters: m.Obligors | None, scope: Scope) -> m.Rule | None:
    if r.kind in ("unanimity", "majority", "consensus"):
        return m.Rule(m.RuleKind(r.kind))
    if r.kind == "at_least":
        assert r.k is not None
        if not r.k.raw.isdigit() or int(r.k.raw) < 1:
            scope.err(
                "bad-count",
                f"`rule at least {r.k.raw}` needs no vote at all; the count must be a whole "
                "number, 1 or more",
                r.k.span,
                suggestion="write e.g. `rule at least 2`, or `rule majority`",
            )
            return None
        k = int(r.k.raw)
        if voters is not None and k > len(voters.among.members):
            scope.err(
                "count-exceeds-members",
                f"{k} votes can never be reached by {len(voters.among.members)} voters",
                r.k.span,
            )
            return None
        return m.Rule(m.RuleKind.AT_LEAST, k=k)
    assert r.num is not None and r.den is not None
    digits = r.num.raw.isdigit() and r.den.raw.isdigit()
    if not digits or not 0 < int(r.num.raw) <= int(r.den.raw):
        scope.err(
            "bad-fraction",
            f"`{r.num.raw}/{r.den.raw}` is not a fraction between 0 and 1",
            r.span,
            suggestion="write e.g. `rule 2/3 majority`",
        )
        return None
    return m.Rule(m.RuleKind.QUALIFIED, num=int(r.num.raw), den=int(r.den.raw))


def _vote_event(name: ast.Name, scope: Scope) -> str | None:
    et = declared_event(
        name, scope, "declare `event vote(by: party, decision: text, choice: yes | no | abstain)`")
    if et is None:
        return None
    decision = et.field("decision")
    choice = et.field("choice")
    if (
        et.actor is None
        or decision is None
        or decision.type.kind is not K.TEXT
        or choice is None
        or choice.type.kind is not K.ENUM
        or not {"yes", "no"} <= set(choice.type.options)
    ):
        scope.err(
            "bad-vote-event",
            f"event `{name.text}` cannot carry votes",
            name.span,
            notes=("a vote event needs a party actor, `decision: text` and `choice: yes | no`"
                   " (optionally `| abstain`)",),
        )
        return None
    return et.name


def _condition(
    b: ast.ConditionAst, by_name: dict[str, ast.ClauseDecl], scope: Scope
) -> m.Condition | None:
    target = _condition_target(b, by_name, scope) if b.target is not None else None
    steps: list[tuple[m.Step, ...]] = []
    for step in b.steps:
        items = [_step_item(item, by_name, scope) for item in step]
        if any(item is None for item in items):
            return None
        steps.append(tuple(item for item in items if item is not None))
    if b.target is not None and target is None:
        return None
    return m.Condition(_EFFECTS[b.effect], tuple(steps), target)


def _step_item(
    item: ast.StepItemAst, by_name: dict[str, ast.ClauseDecl], scope: Scope
) -> m.Step | None:
    if isinstance(item, ast.PatternAst):
        return resolve_pattern(item, scope)
    kind = resolve_verdict(item.verdict, item.clause, by_name, scope, scope.clause)
    return m.Verdict(kind, item.clause.text) if kind is not None else None


def _condition_target(
    b: ast.ConditionAst, by_name: dict[str, ast.ClauseDecl], scope: Scope
) -> str | None:
    """The clause a condition governs: one that arises or applies, not a condition; and,
    for entry into force, one with a trigger (a clause without one arises when the treaty
    enters into force, and could not wait for its own condition)."""
    assert b.target is not None
    name = b.target.text
    clause = by_name.get(name)
    if clause is None:
        hint = did_you_mean(name, list(by_name))
        scope.err(
            "unknown-clause",
            f"unknown clause `{name}`: a condition governs the treaty or one of its clauses",
            b.target.span,
            suggestion=f"did you mean `{hint}`?" if hint else "write `treaty ...` for the "
            "whole treaty",
        )
        return None
    if isinstance(clause.body, ast.ConditionAst):
        scope.err(
            "condition-on-condition",
            f"`{name}` is a condition; a condition governs an obligation, prohibition, "
            "permission or decision",
            b.target.span,
        )
        return None
    untriggered = isinstance(clause.body, ast.ObligationAst) and clause.body.trigger is None
    if b.effect == "in force" and untriggered:
        scope.err(
            "condition-on-untriggered",
            f"`{name}` has no trigger: it arises when the treaty enters into force, so it "
            "cannot wait for an entry condition of its own",
            b.target.span,
            suggestion=f"give `{name}` a trigger, or put the condition on the treaty",
        )
        return None
    return name
