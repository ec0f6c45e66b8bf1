"""Collect declarations into a symbol table: parties, states, roles, groups, territories,
events, calendars.

Stage: after ``imports``; ``clauses`` resolves clause bodies against the table. Names
share one namespace (a value like ``UA`` or ``Crimea`` is resolved by what it names), so
a name declared twice, as anything, is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from foedus.diagnostics import Diagnostic, Span, did_you_mean, error
from foedus.language import ast
from foedus.language import model as m
from foedus.language.check.chains import depths

BUILTIN_TYPES = ("party", "state", "territory", "text", "number")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_PARTIES = "party"  # `each party`: every declared party


@dataclass
class Symbols:
    parties: dict[str, m.Party] = field(default_factory=dict)
    states: dict[str, m.State] = field(default_factory=dict)  # states that are not parties
    roles: dict[str, tuple[str, Span]] = field(default_factory=dict)  # name -> (title, span)
    groups: dict[str, tuple[ast.Name, ...]] = field(default_factory=dict)
    group_spans: dict[str, Span] = field(default_factory=dict)
    territories: dict[str, m.Territory] = field(default_factory=dict)
    events: dict[str, m.EventType] = field(default_factory=dict)
    calendars: dict[str, m.Calendar] = field(default_factory=dict)
    convention_decls: dict[str, ast.ConventionDecl] = field(default_factory=dict)
    conventions: dict[str, m.Convention] = field(default_factory=dict)  # the valid ones
    kinds: dict[str, str] = field(default_factory=dict)  # name -> what it is, for messages
    spans: dict[str, Span] = field(default_factory=dict)  # name -> where it is declared
    role_members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    group_members: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def roleset(self, name: str) -> m.RoleSet | None:
        """The parties a name stands for, when it names a role, a group or a party."""
        if name == ALL_PARTIES:
            return m.RoleSet(ALL_PARTIES, tuple(sorted(self.parties)))
        if name in self.role_members:
            return m.RoleSet(name, self.role_members[name])
        if name in self.group_members:
            return m.RoleSet(name, self.group_members[name])
        if name in self.parties:
            return m.RoleSet(name, (name,))
        return None

    def all_names(self) -> list[str]:
        return list(self.kinds)


def collect_symbols(modules: list[ast.Module]) -> tuple[Symbols, list[Diagnostic]]:
    """Build the symbol table from declarations in imported modules then the main one."""
    table = Symbols()
    diags: list[Diagnostic] = []
    party_roles: dict[str, list[ast.Name]] = {}
    stmts = [s for mod in modules for s in mod.statements]

    def declare(name: ast.Name, kind: str) -> bool:
        if name.text in table.kinds:
            previous = table.kinds[name.text]
            first = table.spans.get(name.text)
            diags.append(
                error(
                    f"duplicate-{kind}" if previous == kind else "name-clash",
                    f"`{name.text}` is already declared as {article(previous)}",
                    name.span,
                    notes=(f"first declared at {_where(first, name.span)}",) if first else (),
                    suggestion="every name must be declared once; choose another name",
                )
            )
            return False
        table.kinds[name.text] = kind
        table.spans[name.text] = name.span
        return True

    # Roles first: party declarations refer to them.
    for s in stmts:
        if isinstance(s, ast.RoleDecl):
            for item in s.items:
                if declare(item.name, "role"):
                    title = item.title.value if item.title else item.name.text
                    table.roles[item.name.text] = (title, item.name.span)
    for s in stmts:
        if isinstance(s, ast.GroupDecl) and declare(s.name, "group"):
            table.groups[s.name.text] = s.members
            table.group_spans[s.name.text] = s.name.span
    # Parties: an item naming a group assigns roles to its members rather than declaring.
    # Titled items declare parties; they go first, so that a party may be given a role
    # (`party TR role guarantor`) before or after its titled declaration.
    group_roles: list[tuple[str, tuple[ast.Name, ...]]] = []
    for s in stmts:
        if not isinstance(s, ast.PartyDecl):
            continue
        for item in s.items:
            if item.title is not None and declare(item.name, "party"):
                name = item.name.text
                table.parties[name] = m.Party(name, item.title.value, (), item.name.span)
    for s in stmts:
        if not isinstance(s, ast.PartyDecl):
            continue
        for item in s.items:
            name = item.name.text
            if item.title is not None:
                declared = table.parties.get(name)
                if declared is not None and declared.span == item.name.span:
                    party_roles.setdefault(name, []).extend(s.roles)
                continue
            if name in table.groups:
                group_roles.append((name, s.roles))
                continue
            if name in table.parties:
                party_roles.setdefault(name, []).extend(s.roles)
                continue
            if declare(item.name, "party"):
                title = item.title.value if item.title else name
                table.parties[name] = m.Party(name, title, (), item.name.span)
                party_roles.setdefault(name, []).extend(s.roles)
    for s in stmts:
        if isinstance(s, ast.StateDecl):
            for item in s.items:
                if declare(item.name, "state"):
                    title = item.title.value if item.title else item.name.text
                    table.states[item.name.text] = m.State(item.name.text, title, item.name.span)
    _expand_groups(table, diags)
    # A group given roles gives them to every party in it, through nested groups too.
    for group, roles_given in group_roles:
        for member in table.group_members.get(group, ()):
            party_roles.setdefault(member, []).extend(roles_given)
    reported: set[Span] = set()
    for code, role_names in party_roles.items():
        roles: list[str] = []
        for role in role_names:
            if role.text not in table.roles:
                # A role given to a group is given to each member; report it once.
                if role.span not in reported:
                    reported.add(role.span)
                    diags.append(_unknown(role, "role", list(table.roles)))
            elif role.text not in roles:
                roles.append(role.text)
        if code in table.parties:
            p = table.parties[code]
            table.parties[code] = m.Party(code, p.name, tuple(sorted(roles)), p.span)
        else:
            # Roles given to a group member that was never declared as a party:
            # reported by _expand_groups already.
            pass
    for role_name in table.roles:
        table.role_members[role_name] = tuple(
            sorted(code for code, p in table.parties.items() if role_name in p.roles)
        )
    for s in stmts:
        if isinstance(s, ast.TerritoryDecl):
            for t in s.items:
                if declare(t.name, "territory"):
                    title = t.title.value if t.title else t.name.text
                    parent = t.parent.text if t.parent else None
                    table.territories[t.name.text] = m.Territory(
                        t.name.text, title, parent, t.name.span
                    )
    _check_territories(stmts, table, diags)
    for s in stmts:
        if isinstance(s, ast.EventDecl) and declare(s.name, "event"):
            event = _event_type(s, diags)
            table.events[event.name] = event
    for s in stmts:
        if isinstance(s, ast.CalendarDecl) and declare(s.name, "calendar"):
            table.calendars[s.name.text] = _calendar(s, diags)
    for s in stmts:
        if isinstance(s, ast.ConventionDecl) and declare(s.name, "convention"):
            table.convention_decls[s.name.text] = s
    return table, diags


def article(word: str) -> str:
    """``a party``, ``an event``: the word with its indefinite article."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _where(first: Span, here: Span) -> str:
    if first.file == here.file:
        return f"line {first.line}"
    return f"{first.file}:{first.line}"


def _unknown(name: ast.Name, kind: str, pool: list[str]) -> Diagnostic:
    hint = did_you_mean(name.text, pool)
    return error(
        f"unknown-{kind}",
        f"unknown {kind} `{name.text}`",
        name.span,
        suggestion=f"did you mean `{hint}`?" if hint else f"declare it with `{kind} {name.text}`",
    )


def not_a_party(name: ast.Name, why: str, context: str | None = None) -> Diagnostic:
    """A declared state named where only a party will do."""
    return error(
        "state-not-party",
        f"`{name.text}` is a state that is not a party; {why}",
        name.span,
        suggestion=f"declare it with `party {name.text}` if the treaty binds it",
        context=context,
    )


MAX_DEPTH = 64
"""The deepest nesting of territories within territories, and the longest chain of
clauses triggered by verdicts: far more than any treaty needs, and it keeps every walk
up or down them short (see ``chains``)."""


def _expand_groups(table: Symbols, diags: list[Diagnostic]) -> None:
    """Groups may contain parties and other groups; expand them, rejecting cycles.

    Depth first with a stack of its own rather than the call stack, so that groups nested
    however deep (in whatever order they are declared) are expanded, each once.
    """
    done = table.group_members
    for root in table.groups:
        if root in done:
            continue
        frames = [(root, iter(table.groups[root]), list[str]())]
        open_groups = {root}
        while frames:
            name, members, found = frames[-1]
            member = next(members, None)
            if member is None:
                frames.pop()
                open_groups.discard(name)
                done[name] = tuple(sorted(set(found)))
                if frames:
                    frames[-1][2].extend(done[name])
            elif member.text in table.parties:
                found.append(member.text)
            elif member.text in table.states:
                diags.append(not_a_party(member, "a group holds parties only"))
            elif member.text not in table.groups:
                diags.append(_unknown(member, "party", list(table.parties)))
            elif member.text in open_groups:
                diags.append(
                    error(
                        "group-cycle",
                        f"group `{member.text}` contains itself",
                        member.span,
                        suggestion="a group may contain other groups, but never itself",
                    )
                )
            elif member.text in done:
                found.extend(done[member.text])
            else:
                frames.append((member.text, iter(table.groups[member.text]), []))
                open_groups.add(member.text)


def _check_territories(stmts: list[ast.Statement], table: Symbols, diags: list[Diagnostic]) -> None:
    for s in stmts:
        if not isinstance(s, ast.TerritoryDecl):
            continue
        for t in s.items:
            if t.parent is not None and t.parent.text not in table.territories:
                diags.append(_unknown(t.parent, "territory", list(table.territories)))
    # Containment must be a tree (no territory within itself), and not too deep.
    parents = {t.name: t.parent for t in table.territories.values()}
    for name, depth in depths(parents).items():
        territory = table.territories[name]
        if depth is None:
            diags.append(
                error(
                    "territory-cycle",
                    f"territory `{name}` ends up within itself",
                    territory.span,
                    suggestion="containment must form a tree",
                )
            )
        elif depth == MAX_DEPTH:  # the first too deep on its chain: one error per chain
            diags.append(
                error(
                    "territory-too-deep",
                    f"territory `{name}` is within {MAX_DEPTH} others; territories may nest "
                    f"{MAX_DEPTH} deep at most",
                    territory.span,
                    suggestion="place it within a territory nearer the top",
                )
            )


def _event_type(s: ast.EventDecl, diags: list[Diagnostic]) -> m.EventType:
    fields: list[m.FieldDecl] = []
    names: set[str] = set()
    actor: str | None = None
    for f in s.fields:
        if f.name.text in names:
            diags.append(
                error("duplicate-field", f"field `{f.name.text}` is declared twice", f.name.span)
            )
            continue
        names.add(f.name.text)
        ftype = _field_type(f.type, diags)
        fields.append(m.FieldDecl(f.name.text, ftype))
        if f.actor:
            # a state may act (an attack by a state outside the treaty): it is bound by
            # nothing, so its acts fulfil and break nothing, but a party's acts still do
            if ftype.kind not in (m.FieldKind.PARTY, m.FieldKind.STATE):
                diags.append(
                    error(
                        "actor-not-party",
                        f"the actor field `{f.name.text}` must have type party",
                        f.span,
                        suggestion="the actor is the party that performs the event, "
                        f"as in `{f.name.text}: party actor`",
                    )
                )
            elif actor is not None:
                diags.append(
                    error(
                        "two-actors",
                        f"event `{s.name.text}` marks two actor fields",
                        f.span,
                        suggestion="an event has one actor: the party that performs it",
                    )
                )
            else:
                actor = f.name.text
    if actor is None:
        actor = next((f.name for f in fields if f.type.kind is m.FieldKind.PARTY), None)
    return m.EventType(s.name.text, tuple(fields), actor, s.name.span)


def _field_type(t: ast.FieldTypeAst, diags: list[Diagnostic]) -> m.FieldType:
    if len(t.options) == 1:
        word = t.options[0]
        if word.text in BUILTIN_TYPES:
            return m.FieldType(m.FieldKind(word.text))
        hint = did_you_mean(word.text, BUILTIN_TYPES)
        diags.append(
            error(
                "unknown-type",
                f"unknown field type `{word.text}`",
                word.span,
                notes=(
                    "types are party, state, territory, text, number, or an enumeration `a | b`",
                ),
                suggestion=f"did you mean `{hint}`?" if hint else None,
            )
        )
        return m.FieldType(m.FieldKind.TEXT)
    options: list[str] = []
    for opt in t.options:
        if opt.text in options:
            diags.append(error("duplicate-option", f"option `{opt.text}` appears twice", opt.span))
        else:
            options.append(opt.text)
    return m.FieldType(m.FieldKind.ENUM, tuple(options))


def parse_zone(zone: ast.Text, diags: list[Diagnostic]) -> str:
    try:
        ZoneInfo(zone.value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a name the zone database reads as a path it cannot open (a folder
        # such as "Europe", a name too long for the file system).
        diags.append(
            error(
                "unknown-zone",
                f"unknown time zone `{zone.value}`",
                zone.span,
                suggestion='use an IANA name such as "Europe/Kyiv" or "UTC"',
            )
        )
        return "UTC"
    return zone.value


def _calendar(s: ast.CalendarDecl, diags: list[Diagnostic]) -> m.Calendar:
    zone = parse_zone(s.zone, diags) if s.zone else "UTC"
    workdays: list[int] = []
    for day in s.workdays or ():
        if day.text in WEEKDAYS:
            workdays.append(WEEKDAYS.index(day.text))
        else:
            hint = did_you_mean(day.text, WEEKDAYS)
            diags.append(
                error(
                    "unknown-weekday",
                    f"unknown weekday `{day.text}`",
                    day.span,
                    suggestion=f"did you mean `{hint}`?" if hint else "use mon, tue, … sun",
                )
            )
    holidays: list[date] = []
    for h in s.holidays:
        try:
            holidays.append(date.fromisoformat(h.raw[:10]))
        except ValueError:
            diags.append(error("invalid-date", f"`{h.raw}` is not a valid date", h.span))
    return m.Calendar(
        s.name.text,
        zone,
        tuple(sorted(set(workdays))) if s.workdays else (0, 1, 2, 3, 4),
        tuple(sorted(set(holidays))),
    )
