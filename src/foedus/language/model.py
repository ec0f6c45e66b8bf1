"""The checked treaty: an immutable, fully resolved model that the engine consumes.

Stage: ``language.check`` produces it from the AST; ``engine`` compiles it into monitors.
Every name here is resolved: roles and groups are expanded to party codes, territories
know their ancestors, patterns know the types of their fields. ``to_json`` gives a stable
export (``foedus check FILE --json``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from foedus.diagnostics import Span

# ---------------------------------------------------------------- declarations


class FieldKind(StrEnum):
    PARTY = "party"
    STATE = "state"  # a party, or a declared state that is not one
    TERRITORY = "territory"
    TEXT = "text"
    NUMBER = "number"
    ENUM = "enum"


@dataclass(frozen=True, slots=True)
class FieldType:
    kind: FieldKind
    options: tuple[str, ...] = ()  # for ENUM

    def describe(self) -> str:
        if self.kind is FieldKind.ENUM:
            return " | ".join(self.options)
        return str(self.kind)


@dataclass(frozen=True, slots=True)
class FieldDecl:
    name: str
    type: FieldType


@dataclass(frozen=True, slots=True)
class EventType:
    """A declared kind of event. ``actor`` names the party field that says who acted."""

    name: str
    fields: tuple[FieldDecl, ...]
    actor: str | None
    span: Span | None = None

    def field(self, name: str) -> FieldDecl | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True, slots=True)
class Party:
    code: str
    name: str
    roles: tuple[str, ...]
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class State:
    """A state that is not a party: events may name it (an aggressor), no clause binds it
    and nothing is owed to it."""

    code: str
    name: str
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Territory:
    name: str
    title: str
    parent: str | None
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Calendar:
    """Business days for commercial deadlines: working weekdays (0=Mon) and holidays."""

    name: str
    zone: str
    workdays: tuple[int, ...]
    holidays: tuple[date, ...]


# ---------------------------------------------------------------- values and patterns


@dataclass(frozen=True, slots=True)
class Const:
    """A literal: a party or state code, territory name, enum option, text or number.

    A declared party is of kind PARTY wherever it is written; kind STATE is a state that
    is not a party.
    """

    kind: FieldKind
    value: str | float


@dataclass(frozen=True, slots=True)
class Ref:
    """A field of a bound event: ``attack.aggressor`` is Ref("attack", "aggressor").

    For a verdict trigger (``violated(c) as breach``) the pseudo-fields ``obligor`` and
    ``beneficiary`` are available beside the fields of the event that caused the verdict.
    """

    binding: str
    field: str
    kind: FieldKind


@dataclass(frozen=True, slots=True)
class RoleSet:
    """Members of a role or group, already expanded to party codes."""

    name: str
    members: tuple[str, ...]


Value = Const | Ref | RoleSet


class Op(StrEnum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    WITHIN = "within"  # territory containment, reflexive; party membership in a role set
    NOT_WITHIN = "not within"


@dataclass(frozen=True, slots=True)
class Constraint:
    """``field op value`` on an event. Territory equality means containment (``within``)."""

    field: str
    op: Op
    value: Value


@dataclass(frozen=True, slots=True)
class Pattern:
    """Events of type ``event``, or of any of ``alternatives`` (``a | b(...)``), whose
    fields meet every constraint. Each constrained field has one kind in every type."""

    event: str
    constraints: tuple[Constraint, ...]
    span: Span | None = None
    alternatives: tuple[str, ...] = ()  # the types after the first

    @property
    def events(self) -> tuple[str, ...]:
        return (self.event, *self.alternatives)


@dataclass(frozen=True, slots=True)
class Compare:
    left: Value
    op: Op
    right: Value


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Guard, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Guard, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Guard


Guard = Compare | And | Or | Not

# ---------------------------------------------------------------- triggers


class TriggerKind(StrEnum):
    EVENT = "event"  # an event matching ``pattern``
    VIOLATED = "violated"  # a verdict of another clause
    FULFILLED = "fulfilled"
    ADOPTED = "adopted"  # an outcome of a collective decision
    REJECTED = "rejected"
    IN_FORCE = "in_force"  # the treaty enters into force


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: TriggerKind
    binding: str | None
    pattern: Pattern | None = None  # EVENT
    clause: str | None = None  # VIOLATED / FULFILLED / ADOPTED / REJECTED
    guard: Guard | None = None


# ---------------------------------------------------------------- obligors and deadlines


class Quantifier(StrEnum):
    EACH = "each"  # one obligation per member
    ANY = "any"  # one obligation, met when any one member acts
    AT_LEAST = "at_least"  # one obligation, met when k distinct members act


@dataclass(frozen=True, slots=True)
class Obligors:
    quantifier: Quantifier
    k: int
    among: RoleSet  # the role, group or single party quantified over
    exceptions: tuple[Value, ...] = ()
    bound: Ref | None = None  # ``attack.victim must``: the party a field of the trigger names


class Unit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    YEARS = "years"
    BUSINESS_DAYS = "business_days"


FIRST_INSTANT = datetime(1, 1, 2, tzinfo=UTC)
LAST_INSTANT = datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC)
"""The range of times, of events, dates in a treaty and due times alike: a day inside the
range of ``datetime`` on each side, so that every zone can show them. A due time past the
end is the end (``engine.deadlines``)."""

LONGEST_DEADLINE = {
    Unit.HOURS: 87_658_200,
    Unit.DAYS: 3_652_425,
    Unit.WEEKS: 521_775,
    Unit.MONTHS: 120_000,
    Unit.YEARS: 10_000,
    Unit.BUSINESS_DAYS: 3_652_425,
}
"""The longest deadline in each unit: 10,000 years, the whole range of times an event may
have (0001 to 9999). A longer one could never be reached; the checker refuses it."""


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: Unit

    def describe(self) -> str:
        unit = self.unit.value.replace("_", " ")
        return f"{self.amount} {unit[:-1] if self.amount == 1 else unit}"


class DeadlineKind(StrEnum):
    WITHIN = "within"  # anchor time + duration (calendar arithmetic in ``zone``)
    END_OF_DAY = "end_of_day"  # end of the n-th calendar day after the anchor's day, in ``zone``
    AT = "at"  # a fixed instant


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: DeadlineKind
    duration: Duration | None = None
    anchor: str | None = None  # binding name; None = the trigger
    at: datetime | None = None
    zone: str = "UTC"
    calendar: str | None = None  # for business days
    convention: str | None = None  # the named reading it comes from (``promptly``)


@dataclass(frozen=True, slots=True)
class Convention:
    """The reading of a duty the text gives no number: ``promptly`` means 3 days."""

    name: str
    title: str
    duration: Duration
    calendar: str | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """Time scope of a prohibition or permission; ``None`` ends are open."""

    start_at: datetime | None = None
    end_at: datetime | None = None


# ---------------------------------------------------------------- clauses


class ClauseKind(StrEnum):
    OBLIGATION = "obligation"
    PROHIBITION = "prohibition"
    PERMISSION = "permission"
    DECISION = "decision"
    CONDITION = "condition"


@dataclass(frozen=True, slots=True)
class Obligation:
    """``when trigger, obligors must action [for beneficiary] deadline``.

    With ``trigger`` None and a fixed deadline, the obligation arises when the clause
    comes into force (dated obligations, S10).
    """

    trigger: Trigger | None
    obligors: Obligors
    action: Pattern
    beneficiary: Value | None
    deadline: Deadline


@dataclass(frozen=True, slots=True)
class Prohibition:
    trigger: Trigger | None
    obligors: Obligors
    action: Pattern
    beneficiary: Value | None
    window: Window
    deadline: Deadline | None = None  # how long a triggered prohibition lasts


@dataclass(frozen=True, slots=True)
class Permission:
    obligors: Obligors
    action: Pattern
    window: Window


class RuleKind(StrEnum):
    UNANIMITY = "unanimity"  # every voter votes yes
    MAJORITY = "majority"  # more yes than half of the voters
    QUALIFIED = "qualified"  # yes >= num/den of the voters
    AT_LEAST = "at_least"  # k yes votes
    CONSENSUS = "consensus"  # no voter objects (silence and abstention do not block)


@dataclass(frozen=True, slots=True)
class Rule:
    kind: RuleKind
    k: int = 0
    num: int = 0
    den: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """A collective decision that opens on its trigger and resolves by its rule."""

    trigger: Trigger
    voters: Obligors
    rule: Rule
    deadline: Deadline
    vote_event: str  # event type of votes: needs fields by/decision/choice


class ConditionEffect(StrEnum):
    ENTRY_INTO_FORCE = "entry_into_force"
    SUSPENSION = "suspension"
    RESUMPTION = "resumption"
    TERMINATION = "termination"


@dataclass(frozen=True, slots=True)
class Verdict:
    """``violated(support)`` as a step of a condition: a verdict of another clause (or an
    outcome of a decision), reached by an event or by the passing of a deadline."""

    kind: TriggerKind  # VIOLATED / FULFILLED / ADOPTED / REJECTED
    clause: str


Step = Pattern | Verdict


@dataclass(frozen=True, slots=True)
class Condition:
    """``treaty in force after A then B and C``: steps in order; within a step, any order.

    ``target`` names the clause the condition governs (``neutrality suspended after
    violated(support)``); None is the whole treaty.
    """

    effect: ConditionEffect
    steps: tuple[tuple[Step, ...], ...]
    target: str | None = None


Body = Obligation | Prohibition | Permission | Decision | Condition


@dataclass(frozen=True, slots=True)
class Clause:
    id: str
    title: str
    quotes: tuple[str, ...]
    kind: ClauseKind
    body: Body
    standalone: bool = False  # applies whether or not the treaty is in force (S11)
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class Treaty:
    name: str
    title: str
    parties: tuple[Party, ...]
    roles: tuple[RoleSet, ...]
    groups: tuple[RoleSet, ...]
    territories: tuple[Territory, ...]
    events: tuple[EventType, ...]
    calendars: tuple[Calendar, ...]
    clauses: tuple[Clause, ...]
    source: str = ""
    zone: str = "UTC"  # default zone of deadlines and of dates written without a time
    conventions: tuple[Convention, ...] = ()
    states: tuple[State, ...] = ()  # states that are not parties

    def state_codes(self) -> tuple[str, ...]:
        """What a ``state`` field may hold: every party's code, then every other state's."""
        return (*(p.code for p in self.parties), *(s.code for s in self.states))

    def event(self, name: str) -> EventType | None:
        for e in self.events:
            if e.name == name:
                return e
        return None

    def clause(self, clause_id: str) -> Clause | None:
        for c in self.clauses:
            if c.id == clause_id:
                return c
        return None

    def territory_ancestors(self, name: str) -> tuple[str, ...]:
        """The territory itself and every territory containing it, innermost first."""
        parents = {t.name: t.parent for t in self.territories}
        return ancestors(name, parents)


def ancestors(name: str, parents: dict[str, str | None]) -> tuple[str, ...]:
    """``name`` and every territory containing it in ``parents``, innermost first."""
    chain: list[str] = []
    seen: set[str] = set()
    current: str | None = name
    while current is not None and current not in seen:
        chain.append(current)
        seen.add(current)
        current = parents.get(current)
    return tuple(chain)


# ---------------------------------------------------------------- JSON export


def to_json(obj: Any) -> Any:
    """Stable JSON-ready form: dataclasses become dicts tagged with their type, spans dropped.

    >>> to_json(Duration(3, Unit.DAYS))
    {'type': 'Duration', 'amount': 3, 'unit': 'days'}
    """
    if is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {"type": type(obj).__name__}
        for f in fields(obj):
            if f.name == "span" or isinstance(getattr(obj, f.name), Span):
                continue
            out[f.name] = to_json(getattr(obj, f.name))
        return out
    if isinstance(obj, StrEnum):
        return obj.value
    if isinstance(obj, (tuple, list)):
        return [to_json(x) for x in obj]
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    return obj
