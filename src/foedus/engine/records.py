"""The record store of a run: what arose, what was settled, what did not arise and why.

Stage: written by the executors (``engine.state``, ``engine.columns``) through the rules
of ``engine.plan``; read by ``engine.results``, which builds the public result values
from it lazily. A record is mutable while open and never changes once settled, so a
copy of the state shares its settled records.

Record kinds, one per thing the semantics distinguishes:

* :class:`EachRecord` — the instances of an `each` obligation that arose together (one
  record, one verdict per obligor);
* :class:`CollectiveRecord` — an `any of` / `at least k of` obligation (one instance);
* :class:`Overdue` — a violated collective instance, counting the members who act late;
* :class:`Violation` — an act a prohibition forbids (settled at birth);
* :class:`Period` — a span of time in which a prohibition applies (respected unless
  breached);
* :class:`DecisionRecord` — a collective decision;
* :class:`NonArising` — a trigger that created nothing, and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Literal, NamedTuple, final

from foedus.engine.matching import Bindings, Test
from foedus.engine.model import DecisionStatus, ObligationStatus
from foedus.engine.plan import DecisionPlan, ObligationPlan, ProhibitionPlan

__all__ = [
    "CollectiveRecord",
    "DecisionRecord",
    "EachRecord",
    "NonArising",
    "ObligationRecord",
    "Overdue",
    "Period",
    "Record",
    "RecordStore",
    "Verdict",
    "Violation",
    "verdict_states",
]

PENDING = ObligationStatus.PENDING
# A settled instance: (state, when it became final, the event that settled it, if any).
Verdict = tuple[ObligationStatus, datetime | None, str | None]


@final
class EachRecord:
    """The instances of an `each` obligation that arose from one trigger.

    ``outcome`` holds the verdict of every settled obligor; the others are pending.
    ``open`` is true while any obligor is pending.
    """

    __slots__ = ("beneficiary", "bindings", "due_at", "key", "n_open", "obligors", "open",
                 "outcome", "plan", "test", "trigger_at", "trigger_fields", "trigger_id",
                 "trigger_type")

    def __init__(
        self,
        plan: ObligationPlan,
        key: str,
        obligors: tuple[str, ...],
        beneficiary: str | None,
        trigger_id: str | None,
        trigger_type: str | None,
        trigger_at: datetime | None,
        trigger_fields: Mapping[str, Any],
        due_at: datetime,
        test: Test,
        bindings: Bindings,
    ) -> None:
        self.plan = plan
        self.key = key  # "<clause>/<trigger>/": instance ids are key + obligor
        self.obligors = obligors
        self.beneficiary = beneficiary
        self.trigger_id = trigger_id
        self.trigger_type = trigger_type  # of a trigger event (a pattern may list several)
        self.trigger_at = trigger_at
        self.trigger_fields = trigger_fields
        self.due_at = due_at
        self.test = test
        self.bindings = bindings
        self.outcome: dict[str, Verdict] = {}
        self.n_open = len(obligors)
        self.open = True

    def settle(self, party: str, verdict: Verdict) -> None:
        self.outcome[party] = verdict
        self.n_open -= 1
        if self.n_open == 0:
            self.open = False

    def copy(self) -> EachRecord:
        new = EachRecord.__new__(EachRecord)
        for name in EachRecord.__slots__:
            setattr(new, name, getattr(self, name))
        new.outcome = dict(self.outcome)
        return new


@final
class CollectiveRecord:
    """One `any of` / `at least k of` obligation: met once ``k`` distinct members acted."""

    __slots__ = ("acted", "beneficiary", "bindings", "due_at", "id", "k", "label", "members",
                 "open", "plan", "test", "trigger_at", "trigger_fields", "trigger_id",
                 "trigger_type", "verdict")

    def __init__(
        self,
        plan: ObligationPlan,
        id: str,
        members: tuple[str, ...],
        beneficiary: str | None,
        trigger_id: str | None,
        trigger_type: str | None,
        trigger_at: datetime | None,
        trigger_fields: Mapping[str, Any],
        due_at: datetime,
        test: Test,
        bindings: Bindings,
    ) -> None:
        self.plan = plan
        self.id = id
        self.label = plan.obligors.label
        self.members = members
        self.k = plan.obligors.k
        self.beneficiary = beneficiary
        self.trigger_id = trigger_id
        self.trigger_type = trigger_type
        self.trigger_at = trigger_at
        self.trigger_fields = trigger_fields
        self.due_at = due_at
        self.test = test
        self.bindings = bindings
        self.acted: dict[str, str] = {}  # member -> the event by which it acted
        self.verdict: Verdict | None = None
        self.open = True

    def settle(self, verdict: Verdict) -> None:
        self.verdict = verdict
        self.open = False

    def copy(self) -> CollectiveRecord:
        new = CollectiveRecord.__new__(CollectiveRecord)
        for name in CollectiveRecord.__slots__:
            setattr(new, name, getattr(self, name))
        new.acted = dict(self.acted)
        return new


ObligationRecord = EachRecord | CollectiveRecord


@final
class Overdue:
    """A violated `any of` / `at least k of` instance waiting to be performed late.

    The record stays as settled (shared by copies of the state); the members who act
    after the due time are counted here, after those who acted in time.
    """

    __slots__ = ("acted", "record")

    def __init__(self, record: CollectiveRecord, acted: dict[str, str]) -> None:
        self.record = record
        self.acted = acted  # member -> the event by which it acted

    def copy(self) -> Overdue:
        return Overdue(self.record, dict(self.acted))


@final
class Violation:
    """An act that a prohibition forbade: one violated instance, settled by the act."""

    __slots__ = ("actor", "at", "beneficiary", "event_id", "event_type", "fields", "period",
                 "plan")
    open: ClassVar[Literal[False]] = False  # settled at birth

    def __init__(self, period: Period, actor: str, event_id: str, event_type: str,
                 at: datetime, fields: Mapping[str, Any], beneficiary: str | None) -> None:
        self.plan = period.plan
        self.period = period
        self.actor = actor
        self.event_id = event_id
        self.event_type = event_type  # which of the action's types the act was
        self.at = at
        self.fields = fields
        self.beneficiary = beneficiary

    @property
    def id(self) -> str:
        return f"{self.plan.id}/{self.event_id}/{self.actor}"


@final
class Period:
    """A span in which a prohibition applies to some parties (never changes once made)."""

    __slots__ = ("bindings", "end_at", "key", "members", "plan", "start_at", "test",
                 "trigger_at", "trigger_id")
    open: ClassVar[Literal[False]] = False  # never pending

    def __init__(
        self,
        plan: ProhibitionPlan,
        key: str,
        members: frozenset[str],
        start_at: datetime | None,
        end_at: datetime | None,
        test: Test,
        trigger_id: str | None,
        trigger_at: datetime | None,
        bindings: Bindings,
    ) -> None:
        self.plan = plan
        self.key = key  # "<clause>/<trigger or all>": the id of its respected entry
        self.members = members
        self.start_at = start_at
        self.end_at = end_at
        self.test = test
        self.trigger_id = trigger_id
        self.trigger_at = trigger_at
        self.bindings = bindings

    def covers(self, at: datetime) -> bool:
        return (self.start_at is None or at >= self.start_at) and (
            self.end_at is None or at <= self.end_at)


@final
class DecisionRecord:
    """A collective decision: its voters, time to decide, votes and outcome."""

    __slots__ = ("bindings", "closes_at", "id", "plan", "resolved_at", "resolved_by", "state",
                 "tally", "trigger_at", "trigger_fields", "trigger_id", "trigger_type",
                 "vote_ids", "voter_set", "voters")

    def __init__(
        self,
        plan: DecisionPlan,
        id: str,
        voters: tuple[str, ...],
        trigger_id: str | None,
        trigger_type: str | None,
        trigger_at: datetime,
        trigger_fields: Mapping[str, Any],
        closes_at: datetime,
        bindings: Bindings,
    ) -> None:
        self.plan = plan
        self.id = id
        self.voters = voters
        self.voter_set = frozenset(voters)
        self.trigger_id = trigger_id
        self.trigger_type = trigger_type
        self.trigger_at = trigger_at
        self.trigger_fields = trigger_fields
        self.closes_at = closes_at
        self.bindings = bindings
        self.tally: dict[str, str] = {}  # voter -> yes / no / abstain, first vote only
        self.vote_ids: list[str] = []
        self.state = DecisionStatus.OPEN
        self.resolved_at: datetime | None = None
        self.resolved_by: str | None = None

    @property
    def open(self) -> bool:
        return self.state is DecisionStatus.OPEN

    def copy(self) -> DecisionRecord:
        new = DecisionRecord.__new__(DecisionRecord)
        for name in DecisionRecord.__slots__:
            setattr(new, name, getattr(self, name))
        new.tally = dict(self.tally)
        new.vote_ids = list(self.vote_ids)
        return new


class NonArising(NamedTuple):
    """A trigger that created nothing: when, which clause, which event, and why."""

    at: datetime | None
    clause_index: int
    clause: str
    event: str
    reason: str


Record = EachRecord | CollectiveRecord | Violation | Period


class RecordStore:
    """Every record of a run, in the order it arose (the order of the output)."""

    __slots__ = ("arisen", "breaches", "decisions", "first_open", "forgotten", "late",
                 "n_instances", "n_periods", "not_arisen", "permissions")

    def __init__(self, permission_ids: tuple[str, ...] = ()) -> None:
        self.arisen: list[Record] = []
        self.first_open = 0  # every record before this index is settled
        self.n_instances = 0  # obligation and violation instances (an each-record counts n)
        self.n_periods = 0
        self.breaches: dict[str, int] = {}  # period key -> violations in it
        self.decisions: list[DecisionRecord] = []
        self.not_arisen: list[NonArising] = []
        self.permissions: dict[str, list[str]] = {p: [] for p in permission_ids}
        # verdicts counted and dropped by ``forget_settled``: clause -> state -> number
        self.forgotten: dict[str, dict[str, int]] = {}
        # violated instances performed late: instance id -> (time, event) of the act
        self.late: dict[str, tuple[datetime, str]] = {}

    def forget_settled(self) -> None:
        """Count and drop the settled records that arose before the oldest open one.

        For runs that report counts only: memory then holds what is open, not the
        history. Prohibition periods are kept (a later act may still breach one).
        """
        first = self.oldest_open()
        if first == 0:
            return
        kept: list[Record] = []
        for x in self.arisen[:first]:
            if type(x) is Period:
                kept.append(x)
            else:
                for clause, state, n in verdict_states(x):
                    per = self.forgotten.setdefault(clause, {})
                    per[state] = per.get(state, 0) + n
        del self.arisen[:first]
        self.arisen[:0] = kept
        self.first_open = len(kept)

    def oldest_open(self) -> int:
        """Index in ``arisen`` of the oldest record that may still be open."""
        arisen = self.arisen
        first = self.first_open
        while first < len(arisen) and not arisen[first].open:
            first += 1
        self.first_open = first
        return first

    def open_records(self) -> list[ObligationRecord]:
        """The obligation records still open, in the order they arose."""
        return [x for x in self.arisen[self.oldest_open():]
                if x.open and isinstance(x, EachRecord | CollectiveRecord)]

    def size(self) -> int:
        """The number of entries the result lists: instances, and periods not breached."""
        return self.n_instances + self.n_periods - len(self.breaches)

    def clone(self, memo: dict[int, Any]) -> RecordStore:
        """A copy that shares settled records; open ones are copied and noted in ``memo``."""
        new = RecordStore.__new__(RecordStore)
        arisen = list(self.arisen)
        first = self.oldest_open()
        for i in range(first, len(arisen)):
            x = arisen[i]
            if x.open:
                copy = x.copy()
                memo[id(x)] = copy
                arisen[i] = copy
        new.arisen = arisen
        new.first_open = first
        new.n_instances = self.n_instances
        new.n_periods = self.n_periods
        new.breaches = dict(self.breaches)
        decisions = list(self.decisions)
        for i, dec in enumerate(decisions):
            if dec.open:
                dec_copy = dec.copy()
                memo[id(dec)] = dec_copy
                decisions[i] = dec_copy
        new.decisions = decisions
        new.not_arisen = list(self.not_arisen)
        new.permissions = {k: list(v) for k, v in self.permissions.items()}
        new.forgotten = {k: dict(v) for k, v in self.forgotten.items()}
        new.late = dict(self.late)
        return new


def verdict_states(x: Record, breaches: dict[str, int] | None = None
                   ) -> list[tuple[str, str, int]]:
    """The verdicts a record holds, as (clause, state, number) (a breached period none)."""
    clause = x.plan.clause.id
    if type(x) is EachRecord:
        out = [(clause, "pending", x.n_open)] if x.n_open else []
        return out + [(clause, verdict[0].value, 1) for verdict in x.outcome.values()]
    if type(x) is CollectiveRecord:
        return [(clause, "pending" if x.verdict is None else x.verdict[0].value, 1)]
    if type(x) is Violation:
        return [(clause, "violated", 1)]
    assert type(x) is Period
    return [] if (breaches or {}).get(x.key) else [(clause, "respected", 1)]
