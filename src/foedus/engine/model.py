"""What a run gives: verdicts with their explanations, decisions, the treaty's status.

Stage: ``engine.results`` builds these values from a run's records; the report and the
interfaces only read them. A verdict's state is the word ``state`` everywhere: in these
values, in JSON and on the command line.

Verdicts are views: an :class:`ObligationInstance` reads its fields from the run's
records when asked, and builds its explanation only when it is read, so counting states
over a million verdicts formats no text. Times are shown in the treaty's zone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any, Final, Protocol

__all__ = [
    "FIELDS",
    "TIME_FIELDS",
    "DecisionInstance",
    "DecisionStatus",
    "EventEffect",
    "EventExplanation",
    "Explanation",
    "NonArising",
    "ObligationInstance",
    "ObligationStatus",
    "ProhibitionStatus",
    "Row",
    "RunResult",
    "TreatyStatus",
]


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


class InstanceSource(Protocol):
    """Where an instance reads its fields: one record of a run (see ``engine.results``).

    ``fields`` gives them in the order of ``FIELDS``, times as recorded (any zone).
    """

    tz: tzinfo

    def fields(self, party: str | None) -> Row: ...

    def state(self, party: str | None) -> ObligationStatus | ProhibitionStatus: ...

    def instance_id(self, party: str | None) -> str: ...

    def explain(self, party: str | None) -> Explanation: ...


# The fields of a verdict, in the order of ``ObligationInstance.row()`` and of the columns
# of ``RunResult.table()``; the times among them.
# ``action_fields`` holds the action as JSON text (``ObligationInstance.action_fields``).
FIELDS = ("id", "clause", "kind", "obligor", "action", "action_fields", "beneficiary",
          "trigger_event", "triggered_at", "due_at", "state", "settled_at", "settled_by",
          "performed_at", "performed_by")
TIME_FIELDS = frozenset({"triggered_at", "due_at", "settled_at", "performed_at"})
# (literal positions, so that a type checker knows each field's type)
_ID: Final = 0
_CLAUSE: Final = 1
_KIND: Final = 2
_OBLIGOR: Final = 3
_ACTION: Final = 4
_ACTION_FIELDS: Final = 5
_BENEFICIARY: Final = 6
_TRIGGER_EVENT: Final = 7
_TRIGGERED_AT: Final = 8
_DUE_AT: Final = 9
_STATE: Final = 10
_SETTLED_AT: Final = 11
_SETTLED_BY: Final = 12
_PERFORMED_AT: Final = 13
_PERFORMED_BY: Final = 14
# A verdict's values in the order of ``FIELDS``.
Row = tuple[str, str, str, str | None, str, str, str | None, str | None, datetime | None,
            datetime | None, ObligationStatus | ProhibitionStatus, datetime | None, str | None,
            datetime | None, str | None]


class ObligationInstance:
    """One verdict: who owes what to whom, by when, and its state (or a prohibition's).

    ``kind`` is "obligation" or "prohibition"; ``state`` an :class:`ObligationStatus`, or
    a :class:`ProhibitionStatus` for prohibitions. Equal instances have equal fields and
    equal explanations.
    """

    __slots__ = ("_explanation", "_fields", "_party", "_source")

    def __init__(self, source: InstanceSource, party: str | None = None) -> None:
        self._source = source
        self._party = party
        self._fields: Row | None = None
        self._explanation: Explanation | None = None

    def _all(self) -> Row:
        got = self._fields
        if got is None:
            got = self._fields = self._source.fields(self._party)
        return got

    @property
    def id(self) -> str:
        """Stable: ``<clause>/<trigger event>/<obligor>``."""
        if self._fields is None:
            return self._source.instance_id(self._party)
        return str(self._fields[_ID])

    @property
    def clause(self) -> str:
        return str(self._all()[_CLAUSE])

    @property
    def kind(self) -> str:
        return str(self._all()[_KIND])

    @property
    def obligor(self) -> str:
        """A party code, or ``any of R`` / ``2 of R`` for a collective obligation."""
        return str(self._all()[_OBLIGOR])

    @property
    def action(self) -> str:
        """The action, as written in the treaty with its references resolved."""
        return str(self._all()[_ACTION])

    @property
    def action_fields(self) -> dict[str, Any]:
        """The action as data: ``{"event": type, "fields": {field: value}}``; a field
        constrained otherwise than by equality maps to ``{"op": ..., "value": ...}``."""
        return json.loads(self._all()[_ACTION_FIELDS])  # type: ignore[no-any-return]

    @property
    def beneficiary(self) -> str | None:
        return self._all()[_BENEFICIARY]

    @property
    def trigger_event(self) -> str | None:
        return self._all()[_TRIGGER_EVENT]

    @property
    def triggered_at(self) -> datetime | None:
        return self._time(self._all()[_TRIGGERED_AT])

    @property
    def due_at(self) -> datetime | None:
        return self._time(self._all()[_DUE_AT])

    @property
    def state(self) -> ObligationStatus | ProhibitionStatus:
        if self._fields is None:
            return self._source.state(self._party)
        return self._fields[_STATE]

    @property
    def settled_at(self) -> datetime | None:
        """When the verdict became final (None while pending)."""
        return self._time(self._all()[_SETTLED_AT])

    @property
    def settled_by(self) -> str | None:
        """The fulfilling, violating or terminating event, if an event settled it."""
        return self._all()[_SETTLED_BY]

    @property
    def performed_at(self) -> datetime | None:
        """When a violated obligation was performed late (None if it was not)."""
        return self._time(self._all()[_PERFORMED_AT])

    @property
    def performed_by(self) -> str | None:
        """The event that performed a violated obligation late (``docs/semantics.md`` §3)."""
        return self._all()[_PERFORMED_BY]

    @property
    def late_by(self) -> timedelta | None:
        """How late the obligation was performed: ``performed_at - due_at``."""
        row = self._all()
        done, due = row[_PERFORMED_AT], row[_DUE_AT]
        return done - due if done is not None and due is not None else None

    @property
    def explanation(self) -> Explanation:
        got = self._explanation
        if got is None:
            got = self._explanation = self._source.explain(self._party)
        return got

    def _time(self, at: datetime | None) -> datetime | None:
        return at.astimezone(self._source.tz) if at is not None else None

    def row(self) -> tuple[Any, ...]:
        """The fields in the order of ``FIELDS``, times as recorded: for fast writers."""
        return self._all()

    def as_tuple(self) -> tuple[Any, ...]:
        """The fields (times in the treaty's zone), then the explanation."""
        values: list[Any] = list(self._all())
        for i, name in enumerate(FIELDS):
            if name in TIME_FIELDS:
                values[i] = self._time(values[i])
        return (*values, self.explanation)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ObligationInstance):
            return NotImplemented
        return self.as_tuple() == other.as_tuple()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in zip(FIELDS, self.as_tuple(), strict=False))
        return f"ObligationInstance({values}, explanation={self.explanation!r})"


@dataclass(frozen=True, slots=True)
class DecisionInstance:
    id: str
    clause: str
    trigger_event: str
    opened_at: datetime
    closes_at: datetime
    voters: tuple[str, ...]
    state: DecisionStatus
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
class EventEffect:
    """What one event did to one clause, or why it did nothing there.

    ``kind`` is what it did — ``triggered``, ``arose`` (on entry into force, or from a
    verdict it caused), ``fulfilled``, ``counted`` (towards a collective duty),
    ``discharged``, ``violated``, ``used``, ``advanced``, ``voted`` — or, for a clause
    whose patterns name its type, what it did not: ``not_triggered``, ``not_fulfilled``,
    ``not_violated``, ``not_used``, ``not_advanced``, ``not_counted``. ``item`` is the
    instance, decision or prohibition period concerned, if one is; ``state`` its state
    as of the result's time.
    """

    clause: str
    kind: str
    reason: str
    item: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class EventExplanation:
    """What one event of the log did under the treaty, and what it did not do, and why.

    ``unconcerned`` lists the clauses none of whose patterns names the event's type;
    ``note`` says why nothing was looked at (an event after the "as of" time).
    """

    event: str
    type: str
    at: datetime
    fields: Mapping[str, Any]
    effects: tuple[EventEffect, ...]
    misses: tuple[EventEffect, ...]
    unconcerned: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    """The state of a treaty as of one instant. Same inputs give the same result, byte for byte.

    ``obligations`` lists obligation instances, prohibition violations and respected
    prohibitions in the order they arose; it is built on first read (its length is known
    before). Times are in the treaty's zone.
    """

    treaty: str
    as_of: datetime
    treaty_status: TreatyStatus
    obligations: Sequence[ObligationInstance]
    decisions: tuple[DecisionInstance, ...]
    not_arisen: Sequence[NonArising]
    conditions: Mapping[str, str]  # condition clause id -> human state
    permissions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # clause -> events
    zone: str = "UTC"
    columns: Callable[[], Any] | None = field(default=None, repr=False, compare=False)
    counter: Callable[[], dict[str, dict[str, int]]] | None = field(
        default=None, repr=False, compare=False)
    blocks: Callable[[], Iterator[Any]] | None = field(default=None, repr=False, compare=False)
    # (an event) -> what it did: ``engine.event_explain`` over the run's records
    event_explainer: Callable[[Any], EventExplanation] | None = field(
        default=None, repr=False, compare=False)

    def table_blocks(self) -> Iterator[Any]:
        """``table()`` a block of rows at a time, built as it is read when the run can."""
        if self.blocks is not None:
            yield from self.blocks()
            return
        table = self.table()
        for start in range(0, table.num_rows, 65_536):
            yield table.slice(start, 65_536)

    def counts(self) -> dict[str, dict[str, int]]:
        """How many verdicts of each clause are in each state (decisions not included),
        without building a verdict: clause -> state -> number, in sorted order."""
        if self.counter is not None:
            return self.counter()
        out: dict[str, dict[str, int]] = {}
        for o in self.obligations:
            per = out.setdefault(o.clause, {})
            per[o.state.value] = per.get(o.state.value, 0) + 1
        return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}

    def table(self) -> Any:
        """Every verdict as a ``pyarrow.Table`` with the columns ``FIELDS`` (times as
        UTC timestamps), in the order of ``obligations``: for writers of many verdicts."""
        if self.columns is None:
            return verdict_table(self.obligations)
        return self.columns()


def verdict_table(instances: Sequence[ObligationInstance]) -> Any:
    """Verdicts as columns (``RunResult.table``), from their rows."""
    import pyarrow as pa

    rows = [o.row() for o in instances]
    utc = pa.timestamp("us", tz="UTC")
    columns = {}
    for i, name in enumerate(FIELDS):
        values = [r[i] for r in rows]
        if name in TIME_FIELDS:
            columns[name] = pa.array(values, utc)
        else:
            columns[name] = pa.array([None if v is None else str(v) for v in values],
                                     pa.string())
    return pa.table(columns)
