"""Runtime values of the engine: events in, verdicts out.

Stage: ``language.model.Treaty`` is compiled by ``engine`` into a monitor that consumes
:class:`~foedus.events.model.Event` values and produces a :class:`RunResult` as of a
given time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ObligationStatus(StrEnum):
    PENDING = "pending"
    FULFILLED = "fulfilled"
    VIOLATED = "violated"
    DISCHARGED = "discharged"  # a condition fell away (e.g. the treaty terminated)
    VOID = "void"  # never in force (e.g. triggered before entry into force)


class ProhibitionStatus(StrEnum):
    RESPECTED = "respected"
    VIOLATED = "violated"


class TreatyStatus(StrEnum):
    NOT_IN_FORCE = "not_in_force"
    IN_FORCE = "in_force"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class DecisionStatus(StrEnum):
    OPEN = "open"
    ADOPTED = "adopted"
    REJECTED = "rejected"
    LAPSED = "lapsed"


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a verdict is what it is: the clause, its quoted words, the events and the reason."""

    clause: str
    title: str
    quotes: tuple[str, ...]
    reason: str  # one or two plain sentences
    events: tuple[str, ...] = ()  # ids of the events that caused it, in order


@dataclass(frozen=True, slots=True)
class ObligationInstance:
    """One obligation arisen from a clause: who owes what to whom, by when, and its state."""

    id: str  # stable: "<clause>/<trigger event id>/<obligor>"
    clause: str
    kind: str  # "obligation" or "prohibition"
    obligor: str  # a party code, or "any of R" / "2 of R" for collective obligations
    action: str  # human rendering of the action pattern
    beneficiary: str | None
    trigger_event: str | None
    triggered_at: datetime | None
    due_at: datetime | None
    status: ObligationStatus | ProhibitionStatus
    settled_at: datetime | None  # when the verdict became final
    settled_by: str | None  # the fulfilling / violating event id, if any
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class DecisionInstance:
    id: str
    clause: str
    trigger_event: str
    opened_at: datetime
    closes_at: datetime
    voters: tuple[str, ...]
    status: DecisionStatus
    tally: Mapping[str, str]  # voter -> yes / no / abstain (silent voters absent)
    resolved_at: datetime | None
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class NonArising:
    """A trigger-shaped event that created nothing, and why (carve-out, not in force)."""

    clause: str
    event: str
    reason: str


@dataclass(frozen=True, slots=True)
class RunResult:
    """The state of a treaty as of one instant. Same inputs give the same result, byte for byte."""

    treaty: str
    as_of: datetime
    treaty_status: TreatyStatus
    obligations: tuple[ObligationInstance, ...]
    decisions: tuple[DecisionInstance, ...]
    not_arisen: tuple[NonArising, ...]
    conditions: Mapping[str, str]  # condition clause id -> human state
    permissions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # clause -> event ids
