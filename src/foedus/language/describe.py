"""Plain-English description of a checked treaty: who owes what to whom, when.

Stage: reads ``model.Treaty`` (after ``check``); used by ``foedus describe``.

>>> from foedus.language.check import check_source
>>> t = check_source('treaty t "T"\\nrole r\\nparty A "Alpha" role r\\n'
...                  'event go(by: party)\\nclause c quote "A will not go" A must not go()').treaty
>>> print(describe_clause(t, t.clauses[0]))
Alpha (A) must never do “go”, while the treaty is in force.
"""

from __future__ import annotations

from foedus.language import model as m

_OPS = {
    m.Op.EQ: "is",
    m.Op.NE: "is not",
    m.Op.WITHIN: "is within",
    m.Op.NOT_WITHIN: "is not within",
    m.Op.LT: "is less than",
    m.Op.LE: "is at most",
    m.Op.GT: "is more than",
    m.Op.GE: "is at least",
}


def describe_treaty(treaty: m.Treaty) -> str:
    """The whole treaty as text: its time zone unless UTC, parties, states that are not
    parties, roles, then each clause with its quoted words."""
    lines = [f"{treaty.title} ({treaty.name})"]
    if treaty.zone != "UTC":
        lines.append(f"Times are in {treaty.zone}.")
    lines.append("")
    lines.append("Parties:")
    for p in treaty.parties:
        roles = f" — {', '.join(p.roles)}" if p.roles else ""
        lines.append(f"  {p.code:<4} {p.name}{roles}")
    if treaty.states:
        lines.append("Other states (not parties: events may name them, no clause binds them):")
        for state in treaty.states:
            lines.append(f"  {state.code:<4} {state.name}")
    for r in treaty.roles:
        lines.append(f"Role {r.name}: {', '.join(r.members) or 'nobody'}")
    for g in treaty.groups:
        lines.append(f"Group {g.name}: {', '.join(g.members)}")
    for c in treaty.conventions:
        said = f" ({c.title})" if c.title != c.name else ""
        cal = f" of calendar {c.calendar}" if c.calendar else ""
        lines.append(f"Convention: {c.name}{said} means {c.duration.describe()}{cal}; the "
                     "text gives no number, this is the reading this file chose.")
    if treaty.territories:
        lines.append(
            "Territories: "
            + ", ".join(
                f"{t.name} (within {t.parent})" if t.parent else t.name for t in treaty.territories
            )
        )
    lines.append("")
    for clause in treaty.clauses:
        head = f"[{clause.id}] {clause.title}" if clause.title != clause.id else f"[{clause.id}]"
        lines.append(f"{head} — {clause.kind}")
        for q in clause.quotes:
            lines.append(f'  “{q}”')
        lines.append("  " + describe_clause(treaty, clause))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def describe_clause(treaty: m.Treaty, clause: m.Clause) -> str:
    b = clause.body
    scope = " This applies whether or not the treaty is in force." if clause.standalone else ""
    governors = [c.id for c in treaty.clauses
                 if isinstance(c.body, m.Condition) and c.body.target == clause.id]
    if governors:
        named = " and ".join(f"[{g}]" for g in governors)
        scope += f" When it applies is also governed by {named}."
    if isinstance(b, m.Obligation):
        when = _trigger(treaty, b.trigger) + ", " if b.trigger else ""
        who = _obligors(treaty, b.obligors)
        action = _pattern(treaty, b.action)
        to = ""
        if b.beneficiary is not None and _value(treaty, b.beneficiary) not in action:
            to = f" for {_value(treaty, b.beneficiary)}"
        text = f"{when}{who} must do {action}{to} {_deadline(b.deadline)}."
        return _cap(text) + scope
    if isinstance(b, m.Prohibition):
        when = _trigger(treaty, b.trigger) + ", " if b.trigger else ""
        who = _obligors(treaty, b.obligors, prohibition=True)
        in_force = "" if clause.standalone else ", while the treaty is in force"
        window = _window(b.window) or in_force
        return _cap(f"{when}{who} must never do {_pattern(treaty, b.action)}{window}.") + scope
    if isinstance(b, m.Permission):
        who = _obligors(treaty, b.obligors)
        return _cap(f"{who} may do {_pattern(treaty, b.action)}{_window(b.window)}.") + scope
    if isinstance(b, m.Decision):
        rule = _rule(b.rule)
        voters = _set(treaty, b.voters.among, b.voters.exceptions)
        return _cap(
            f"{_trigger(treaty, b.trigger)}, {voters} decide by {rule}, "
            f"voting with `{b.vote_event}` events, {_deadline(b.deadline)}; "
            "undecided by then, the decision lapses."
        )
    assert isinstance(b, m.Condition)
    subject = f"Clause {b.target}" if b.target is not None else "The treaty"
    effect = {
        m.ConditionEffect.ENTRY_INTO_FORCE: "enters into force",
        m.ConditionEffect.SUSPENSION: "is suspended",
        m.ConditionEffect.RESUMPTION: "resumes",
        m.ConditionEffect.TERMINATION: "terminates",
    }[b.effect]
    steps = [" and ".join(_step(treaty, p) for p in step) for step in b.steps]
    order = ", in this order: " if len(steps) > 1 else " "
    return f"{subject} {effect} once{order}" + "; then ".join(steps) + "."


def _step(treaty: m.Treaty, item: m.Step) -> str:
    if isinstance(item, m.Pattern):
        return _pattern(treaty, item, noun=True)
    verdict = {
        m.TriggerKind.VIOLATED: "is violated",
        m.TriggerKind.FULFILLED: "is fulfilled",
        m.TriggerKind.ADOPTED: "is adopted",
        m.TriggerKind.REJECTED: "is rejected",
    }[item.kind]
    return f"clause {item.clause} {verdict}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _party(treaty: m.Treaty, code: str) -> str:
    """A party, or a state that is not one, by name and code."""
    names = {p.code: p.name for p in treaty.parties} | {s.code: s.name for s in treaty.states}
    name = names.get(code, code)
    return f"{name} ({code})" if name != code else code


def _set(treaty: m.Treaty, rs: m.RoleSet, exceptions: tuple[m.Value, ...] = ()) -> str:
    if rs.members == (rs.name,):
        base = _party(treaty, rs.name)
    else:
        label = "every party" if rs.name == "party" else f"the {_nouns(treaty, rs.name)[1]}"
        base = f"{label} ({', '.join(rs.members)})"
    if exceptions:
        base += " except " + " and ".join(_value(treaty, e) for e in exceptions)
    return base


def _obligors(treaty: m.Treaty, o: m.Obligors, prohibition: bool = False) -> str:
    if o.bound is not None:
        return _value(treaty, o.bound)
    rs = o.among
    if rs.members == (rs.name,):
        return _set(treaty, rs, o.exceptions)
    exc = " except " + " and ".join(_value(treaty, e) for e in o.exceptions) if o.exceptions else ""
    listing = f" ({', '.join(rs.members)})"
    one, many = _nouns(treaty, rs.name)
    if o.quantifier is m.Quantifier.EACH:
        return f"each {one}{listing}{exc}"
    if o.quantifier is m.Quantifier.ANY:
        return f"at least one {one}{listing}{exc}"
    return f"at least {o.k} {many}{listing}{exc}"


def _nouns(treaty: m.Treaty, name: str) -> tuple[str, str]:
    """One member and several of a role (``guarantor``, ``guarantors``), of every party,
    or of a group, whose name is not a noun (``members of unsc_permanent``)."""
    if name == "party" or name in {r.name for r in treaty.roles}:
        return _words(name), plural(_words(name))
    return f"member of {name}", f"members of {name}"


def plural(noun: str) -> str:
    """``guarantors``, ``allies``, ``parties``, ``witnesses``: the plural of a role word.

    >>> [plural(w) for w in ("guarantor", "ally", "party", "witness", "day")]
    ['guarantors', 'allies', 'parties', 'witnesses', 'days']
    """
    if noun.endswith("y") and noun[-2:-1] not in tuple("aeiou"):
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def _value(treaty: m.Treaty, v: m.Value | None) -> str:
    if v is None:
        return "?"
    if isinstance(v, m.Ref):
        if v.field == "by":
            return f"the party that did {v.binding}"
        if v.field in _PREPOSITIONS:
            return f"the “{v.field}” party of {v.binding}"
        return f"the {_words(v.field)} of {v.binding}"
    if isinstance(v, m.RoleSet):
        return _set(treaty, v)
    if v.kind in (m.FieldKind.PARTY, m.FieldKind.STATE):
        return _party(treaty, str(v.value))
    if v.kind is m.FieldKind.TEXT:
        return f'"{v.value}"'
    if v.kind is m.FieldKind.NUMBER:
        number = float(v.value)
        return str(int(number)) if number.is_integer() else str(number)
    return str(v.value)


def _words(name: str) -> str:
    return name.replace("_", " ")


_PREPOSITIONS = {"with", "to", "for", "by", "at", "in", "on", "from", "against", "towards"}


def _pattern(treaty: m.Treaty, p: m.Pattern, noun: bool = False) -> str:
    """``consultations(with: UA)`` -> '“consultations” with Ukraine (UA)'; over several
    event types, ``talks | consultations(...)`` -> '“talks” or “consultations” ...'."""
    head = " or ".join(f"“{_words(e)}”" for e in p.events)
    inline: list[str] = []
    where: list[str] = []
    for c in p.constraints:
        value = _value(treaty, c.value)
        if c.field in _PREPOSITIONS and c.op in (m.Op.EQ, m.Op.WITHIN):
            inline.append(f"{c.field} {value}")
        elif isinstance(c.value, m.RoleSet) and c.op in (m.Op.EQ, m.Op.WITHIN):
            where.append(f"{_words(c.field)} is one of {value}")
        elif isinstance(c.value, m.RoleSet) and c.op in (m.Op.NE, m.Op.NOT_WITHIN):
            where.append(f"{_words(c.field)} is none of {value}")
        else:
            where.append(f"{_words(c.field)} {_OPS[c.op]} {value}")
    text = " ".join([head, *inline])
    if where:
        text += " where " + " and ".join(where)
    return text


def _guard(treaty: m.Treaty, g: m.Guard) -> str:
    if isinstance(g, m.Compare):
        return f"{_value(treaty, g.left)} {_OPS[g.op]} {_value(treaty, g.right)}"
    if isinstance(g, m.Not):
        return f"not ({_guard(treaty, g.item)})"
    joiner = " and " if isinstance(g, m.And) else " or "
    return "(" + joiner.join(_guard(treaty, i) for i in g.items) + ")"


def _trigger(treaty: m.Treaty, t: m.Trigger | None) -> str:
    if t is None:
        return ""
    if t.kind is m.TriggerKind.EVENT and t.pattern is not None:
        text = f"when {_pattern(treaty, t.pattern, noun=True)} happens"
    else:
        verb = {
            m.TriggerKind.VIOLATED: "is violated",
            m.TriggerKind.FULFILLED: "is fulfilled",
            m.TriggerKind.ADOPTED: "is adopted",
            m.TriggerKind.REJECTED: "is rejected",
        }.get(t.kind, "happens")
        text = f"when clause {t.clause} {verb}"
    if t.binding:
        text += f" (call it {t.binding})"
    if t.guard is not None:
        text += f" and {_guard(treaty, t.guard)}"
    return text


def _deadline(d: m.Deadline) -> str:
    if d.kind is m.DeadlineKind.AT:
        assert d.at is not None
        return f"by {d.at.isoformat()}"
    assert d.duration is not None
    anchor = d.anchor or "the trigger"
    zone = f" ({d.zone} time)" if d.zone != "UTC" else ""
    if d.kind is m.DeadlineKind.END_OF_DAY:
        return f"by the end of day {d.duration.amount} after {anchor}{zone}"
    cal = f" (calendar {d.calendar})" if d.calendar else ""
    if d.convention is not None:
        return (f"{d.convention} after {anchor} (by the treaty's convention, "
                f"{d.duration.describe()}{cal}){zone}")
    return f"within {d.duration.describe()} of {anchor}{cal}{zone}"


def _window(w: m.Window) -> str:
    if w.start_at and w.end_at:
        return f", from {w.start_at.isoformat()} until {w.end_at.isoformat()}"
    if w.start_at:
        return f", from {w.start_at.isoformat()}"
    if w.end_at:
        return f", until {w.end_at.isoformat()}"
    return ""


def _rule(r: m.Rule) -> str:
    if r.kind is m.RuleKind.QUALIFIED:
        return f"a {r.num}/{r.den} majority"
    if r.kind is m.RuleKind.AT_LEAST:
        return f"at least {r.k} yes votes"
    if r.kind is m.RuleKind.CONSENSUS:
        return "consensus (no objection)"
    return "unanimity" if r.kind is m.RuleKind.UNANIMITY else "simple majority"
