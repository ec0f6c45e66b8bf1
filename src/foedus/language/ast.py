"""Syntax tree of a Foedus source file: what was written, with a span on every node.

Stage: ``parser`` builds it from text; ``check`` resolves it into ``model.Treaty``;
``printer`` turns it back into canonical source. Nothing here is resolved yet: a
``Name`` may be a party, a role, a territory or a misspelling.
"""

from __future__ import annotations

from dataclasses import dataclass

from foedus.diagnostics import Span


@dataclass(frozen=True, slots=True)
class Name:
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class Text:
    """A string literal, already unescaped."""

    value: str
    span: Span


@dataclass(frozen=True, slots=True)
class Number:
    raw: str
    span: Span

    @property
    def value(self) -> float:
        return float(self.raw)


@dataclass(frozen=True, slots=True)
class DateLit:
    raw: str
    span: Span


@dataclass(frozen=True, slots=True)
class RefValue:
    """``binding.field``, e.g. ``attack.aggressor``."""

    binding: Name
    field: Name
    span: Span


Value = Name | Text | Number | RefValue

# ---------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class TreatyHeader:
    name: Name
    title: Text | None
    zone: Text | None  # the treaty's time zone, ``zone "Europe/Kyiv"``
    span: Span


@dataclass(frozen=True, slots=True)
class Import:
    path: Text
    span: Span


@dataclass(frozen=True, slots=True)
class Titled:
    """A declared name with an optional human title: ``UA "Ukraine"``."""

    name: Name
    title: Text | None


@dataclass(frozen=True, slots=True)
class RoleDecl:
    items: tuple[Titled, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class GroupDecl:
    name: Name
    members: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class PartyDecl:
    items: tuple[Titled, ...]
    roles: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class StateDecl:
    """``state BY "Belarus"``: states that are not parties, which events may name."""

    items: tuple[Titled, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class TerritoryItem:
    name: Name
    title: Text | None
    parent: Name | None


@dataclass(frozen=True, slots=True)
class TerritoryDecl:
    items: tuple[TerritoryItem, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class FieldTypeAst:
    """``party``, ``state``, ``territory``, ``text``, ``number``, or an enumeration ``a | b``."""

    options: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class FieldDeclAst:
    name: Name
    type: FieldTypeAst
    actor: bool
    span: Span


@dataclass(frozen=True, slots=True)
class EventDecl:
    name: Name
    fields: tuple[FieldDeclAst, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class CalendarDecl:
    name: Name
    zone: Text | None
    workdays: tuple[Name, ...] | None
    holidays: tuple[DateLit, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ConventionDecl:
    """``convention promptly "without undue delay" means 3 days``: the one reading of a
    duty the text gives no number, named by deadlines."""

    name: Name
    title: Text | None
    amount: Number
    unit: str  # canonical plural, as in ``DeadlineAst.unit``
    calendar: Name | None
    span: Span


# ---------------------------------------------------------------- clause parts


@dataclass(frozen=True, slots=True)
class Arg:
    """``field: [op] value`` inside a pattern; op is '' when omitted."""

    field: Name
    op: str
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class PatternAst:
    """``event(args)``, or ``event | other(args)``: an event of any of the listed types."""

    event: Name
    args: tuple[Arg, ...]
    span: Span
    alternatives: tuple[Name, ...] = ()  # the types after the first

    @property
    def events(self) -> tuple[Name, ...]:
        return (self.event, *self.alternatives)


@dataclass(frozen=True, slots=True)
class CompareAst:
    left: Value
    op: str
    right: Value
    span: Span


@dataclass(frozen=True, slots=True)
class AndAst:
    items: tuple[GuardAst, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class OrAst:
    items: tuple[GuardAst, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class NotAst:
    item: GuardAst
    span: Span


GuardAst = CompareAst | AndAst | OrAst | NotAst


@dataclass(frozen=True, slots=True)
class TriggerAst:
    """``when pattern [as name] [if guard]`` or ``when violated(clause) [as name] ...``."""

    pattern: PatternAst | None
    verdict: str | None  # violated / fulfilled / adopted / rejected
    clause: Name | None
    binding: Name | None
    guard: GuardAst | None
    span: Span


@dataclass(frozen=True, slots=True)
class ObligorsAst:
    """``each guarantor except x``, ``any R``, ``at least 2 of R``, a single name, or a
    party bound from the trigger (``attack.victim``: quantifier ``bound``, ``ref`` set)."""

    quantifier: str  # each / any / at_least / single / bound
    k: Number | None
    target: Name
    exceptions: tuple[Value, ...]
    span: Span
    ref: RefValue | None = None


@dataclass(frozen=True, slots=True)
class DeadlineAst:
    kind: str  # within / end_of_day / at / convention (``promptly [after NAME]``)
    amount: Number | None
    unit: str | None  # canonical plural: hours, days, weeks, months, years, business_days
    anchor: Name | None
    zone: Text | None
    calendar: Name | None
    at: DateLit | None
    span: Span
    convention: Name | None = None


@dataclass(frozen=True, slots=True)
class WindowAst:
    start: DateLit | None
    end: DateLit | None
    span: Span


@dataclass(frozen=True, slots=True)
class RuleAst:
    kind: str  # unanimity / majority / consensus / qualified / at_least
    k: Number | None
    num: Number | None
    den: Number | None
    span: Span


@dataclass(frozen=True, slots=True)
class ObligationAst:
    trigger: TriggerAst | None
    obligors: ObligorsAst
    action: PatternAst
    beneficiary: Value | None
    deadline: DeadlineAst
    span: Span


@dataclass(frozen=True, slots=True)
class ProhibitionAst:
    trigger: TriggerAst | None
    obligors: ObligorsAst
    action: PatternAst
    beneficiary: Value | None
    window: WindowAst | None
    span: Span


@dataclass(frozen=True, slots=True)
class PermissionAst:
    obligors: ObligorsAst
    action: PatternAst
    window: WindowAst | None
    span: Span


@dataclass(frozen=True, slots=True)
class DecisionAst:
    trigger: TriggerAst
    voters: ObligorsAst
    rule: RuleAst
    votes: Name
    deadline: DeadlineAst
    span: Span


@dataclass(frozen=True, slots=True)
class VerdictStepAst:
    """``violated(support)`` as a step of a condition."""

    verdict: str  # violated / fulfilled / adopted / rejected
    clause: Name
    span: Span


StepItemAst = PatternAst | VerdictStepAst


@dataclass(frozen=True, slots=True)
class ConditionAst:
    """``treaty suspended after ...`` or ``neutrality suspended after ...`` (``target``
    names the clause; None is the whole treaty)."""

    effect: str  # in force / suspended / resumes / terminated
    steps: tuple[tuple[StepItemAst, ...], ...]
    span: Span
    target: Name | None = None


BodyAst = ObligationAst | ProhibitionAst | PermissionAst | DecisionAst | ConditionAst


@dataclass(frozen=True, slots=True)
class ClauseDecl:
    name: Name
    title: Text | None
    standalone: bool
    quotes: tuple[Text, ...]
    body: BodyAst
    span: Span


Statement = (
    TreatyHeader
    | Import
    | RoleDecl
    | GroupDecl
    | PartyDecl
    | StateDecl
    | TerritoryDecl
    | EventDecl
    | CalendarDecl
    | ConventionDecl
    | ClauseDecl
)


@dataclass(frozen=True, slots=True)
class Comment:
    text: str  # including the leading '#'
    line: int


@dataclass(frozen=True, slots=True)
class Module:
    """A parsed file: its statements in source order and its comments."""

    file: str
    statements: tuple[Statement, ...]
    comments: tuple[Comment, ...]
