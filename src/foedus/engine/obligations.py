"""Obligations: instances arise, actions fulfil them, deadlines violate them.

Stage: part of the run state (``engine.state``); the rules are in ``docs/semantics.md``
§3. Open instances are indexed by (action type, actor), so an event finds what its actor
owes of its type with two dictionary lookups (an action of several types is indexed under
each, and leaves all of them once met); the instances of an `each` obligation that arose
together share one record and one deadline.

A violated instance waits for its late performance in a second index of the same shape
(``late``): the first later act that would have fulfilled it is recorded in the store
(``RecordStore.late``), the verdict stays violated. The index is empty, and costs an event
one truth test, while nothing is overdue; each overdue instance holds one entry per action
type and obligor until it is performed or discharged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from heapq import heappush
from typing import Any

from foedus.engine.caches import Caches
from foedus.engine.clock import Clock
from foedus.engine.deadlines import elapsed_due
from foedus.engine.matching import MISSING, Bindings
from foedus.engine.model import ObligationStatus
from foedus.engine.plan import ObligationPlan, Plan, beneficiary
from foedus.engine.records import (
    CollectiveRecord,
    EachRecord,
    ObligationRecord,
    Overdue,
    RecordStore,
    Verdict,
)
from foedus.events.model import Event
from foedus.language.model import Quantifier, Ref, TriggerKind

__all__ = ["Arise", "Obligations", "VerdictFn"]

FULFILLED = ObligationStatus.FULFILLED
VIOLATED = ObligationStatus.VIOLATED
DISCHARGED = ObligationStatus.DISCHARGED
EACH = Quantifier.EACH
# A verdict on one instance that other clauses may wait for:
# (kind, clause, instance id, obligor, beneficiary, causing event, its fields, bindings, at)
VerdictFn = Callable[
    [TriggerKind, ObligationPlan, str, str, str | None, str | None, Mapping[str, Any],
     Bindings, datetime | None],
    None,
]
# The arise rule of one clause: (bindings, trigger id, at, key, trigger fields, trigger type)
# -> why not; the type is the trigger event's (None for a verdict, the start, entry into force)
Arise = Callable[
    [Bindings, str | None, datetime | None, str, Mapping[str, Any], str | None], str | None
]
# open instances: action type -> actor -> index key -> record
OpenIndex = dict[str, dict[str, dict[str, ObligationRecord]]]
# violated instances waiting for a late act: action type -> actor -> index key -> what waits
LateIndex = dict[str, dict[str, dict[str, EachRecord | Overdue]]]


class Obligations:
    """The obligation instances of a run: arising, fulfilment, violation, discharge."""

    __slots__ = ("caches", "clock", "late", "open", "plan", "store", "verdict")

    def __init__(self, plan: Plan, store: RecordStore, clock: Clock, caches: Caches,
                 verdict: VerdictFn) -> None:
        self.plan = plan
        self.store = store
        self.clock = clock
        self.caches = caches
        self.verdict = verdict
        self.open: OpenIndex = {}
        self.late: LateIndex = {}

    def clone(self, store: RecordStore, clock: Clock, verdict: VerdictFn,
              memo: dict[int, Any]) -> Obligations:
        new = Obligations(self.plan, store, clock, self.caches, verdict)
        new.open = {
            t: {a: {k: memo[id(x)] for k, x in d.items()} for a, d in by_actor.items()}
            for t, by_actor in self.open.items()
        }
        if self.late:  # an overdue collective instance counts its late members: copied
            copies: dict[int, Overdue] = {}
            new.late = {
                t: {a: {k: _copy_overdue(x, copies) for k, x in d.items()}
                    for a, d in by_actor.items()}
                for t, by_actor in self.late.items()
            }
        return new

    # ------------------------------------------------------------ arising

    def arising(self, plan: ObligationPlan) -> Arise:
        """The arise rule of ``plan``: the instances one trigger creates, or why none.

        What does not change between triggers (a fixed obligor set, action test,
        beneficiary or length of deadline) is looked up once, here.
        """
        part, deadline, action = plan.obligors, plan.deadline, plan.action
        static_obligors, fixed, static_test = part.static, deadline.fixed, action.static
        each = part.spec.quantifier is EACH
        owed_value = plan.beneficiary
        static_owed = None if isinstance(owed_value, Ref) else beneficiary(owed_value, {})
        head = plan.clause.id + "/"
        tag = "any" if part.spec.quantifier is Quantifier.ANY else f"{part.k}-of"
        caches, store, opened = self.caches, self.store, self.open
        heap, seq = self.clock.heap, self.clock.seq
        action_types = action.events

        def arise(bindings: Bindings, trigger_id: str | None, at: datetime | None, key: str,
                  fields: Mapping[str, Any], kind: str | None) -> str | None:
            obligors = static_obligors or caches.obligors_of(part, bindings)
            if not obligors:
                return part.none_left(bindings)
            if fixed is not None and at is not None:
                due = elapsed_due(at, fixed)
            else:
                found = deadline.due(at, bindings)
                if found is None:
                    return "the deadline has no anchor time"
                due = found
            test = static_test or caches.action_of(action, bindings)
            owed = static_owed if static_owed is not None or owed_value is None else (
                beneficiary(owed_value, bindings))
            prefix = head + key + "/"
            record: ObligationRecord
            if each:
                record = EachRecord(plan, prefix, obligors, owed, trigger_id, kind, at, fields,
                                    due, test, bindings)
                store.n_instances += len(obligors)
                index_key = prefix
            else:
                record = CollectiveRecord(plan, prefix + tag, obligors, owed, trigger_id, kind,
                                          at, fields, due, test, bindings)
                store.n_instances += 1
                index_key = record.id
            store.arisen.append(record)
            for action_type in action_types:  # an action of several types: under each
                by_actor = opened.get(action_type)
                if by_actor is None:
                    by_actor = opened[action_type] = {}
                for party in obligors:
                    entries = by_actor.get(party)
                    if entries is None:
                        by_actor[party] = {index_key: record}
                    else:
                        entries[index_key] = record
            heappush(heap, (due, next(seq), record))  # Clock.schedule, without the call
            return None

        return arise

    def _unindex(self, record: ObligationRecord, parties: Iterable[str], key: str,
                 skip: str | None = None) -> None:
        """Drop what ``parties`` owe under ``key``, from the index of each action type
        (but ``skip``)."""
        for action_type in record.plan.action.events:
            by_actor = self.open.get(action_type)
            if by_actor is not None and action_type != skip:
                _drop(by_actor, parties, key)

    # ------------------------------------------------------------ fulfilment

    def fulfilling(self, event_type: str, actor_field: str) -> Callable[[Event], None]:
        """What an event of ``event_type`` does to open obligations: fulfil those its actor
        owes that it matches."""
        opened, fulfil, late, perform = self.open, self.fulfil, self.late, self.perform

        def step(ev: Event) -> None:
            by_actor = opened.get(event_type)
            if by_actor:
                actor = ev.fields.get(actor_field, MISSING)
                items = by_actor.get(actor)
                if items:
                    fulfil(ev, actor, items)
            if late:  # (empty while nothing is overdue: the common case costs this test)
                overdue = late.get(event_type)
                if overdue:
                    who = ev.fields.get(actor_field, MISSING)
                    waiting = overdue.get(who)
                    if waiting:
                        perform(ev, who, waiting)

        return step

    def fulfil(self, ev: Event, actor: str, items: dict[str, ObligationRecord]) -> None:
        """``ev`` fulfils those of ``items`` (what ``actor`` owes of its type) it matches.

        The first matching action after the trigger, by an obligor, no later than the due
        time (``docs/semantics.md`` §3): the state applies events in order and settles
        deadlines before later events, so every open instance here qualifies by time.
        """
        fields = ev.fields
        verdict: Verdict = (FULFILLED, ev.at, ev.id)
        last_test: Any = MISSING
        matched = False
        done: list[str] = []
        after: list[ObligationRecord] | None = None  # what needs more once the loop is over
        elsewhere: list[tuple[ObligationRecord, str]] | None = None  # also of other types
        watched, several = self.plan.fulfilled_watched, self.plan.several_types
        for key, record in items.items():  # (nothing below changes ``items`` in the loop)
            test = record.test  # instances share tests: run each once per event
            if test is not last_test:
                last_test = test
                matched = test(fields)
            if not matched:
                continue
            done.append(key)
            if several and record.plan.clause.id in several:
                elsewhere = [(record, key)] if elsewhere is None else [*elsewhere, (record, key)]
            if type(record) is EachRecord:
                record.outcome[actor] = verdict
                left = record.n_open - 1
                record.n_open = left
                if not left:
                    record.open = False
                if watched and record.plan.clause.id in watched:
                    after = [record] if after is None else [*after, record]
                continue
            record.acted[actor] = ev.id
            if len(record.acted) >= record.k:
                record.settle(verdict)
                after = [record] if after is None else [*after, record]
        if len(done) < len(items):
            for key in done:
                del items[key]
        else:  # everything this actor owed of this type is met
            by_actor = self.open.get(ev.type)
            if by_actor is not None and by_actor.get(actor) is items:
                del by_actor[actor]
        for record, key in elsewhere or ():  # met: no other type of its action counts now
            self._unindex(record, (actor,), key, skip=ev.type)
        for record in after or ():
            if type(record) is CollectiveRecord:
                self._unindex(record, record.members, record.id)
            if watched and record.plan.clause.id in watched:
                self._fire(TriggerKind.FULFILLED, record,
                           actor if type(record) is EachRecord else None, verdict)

    # ------------------------------------------------------------ late performance

    def perform(self, ev: Event, actor: str, waiting: dict[str, EachRecord | Overdue]) -> None:
        """``ev`` performs late those of ``waiting`` (what ``actor`` owes, overdue) it matches.

        The same rule as fulfilment (``docs/semantics.md`` §3): an act by the obligor that
        matches the action under the instance's bindings; a collective instance is
        performed when its k-th distinct member has acted. The first such act is kept.
        """
        done: list[tuple[EachRecord | Overdue, str]] = []
        for key, item in waiting.items():
            if type(item) is EachRecord:
                if item.test(ev.fields):
                    self.store.late[key + actor] = (ev.at, ev.id)
                    done.append((item, key))
                continue
            assert type(item) is Overdue
            record = item.record
            if record.test(ev.fields):
                item.acted[actor] = ev.id
                done.append((item, key))
                if len(item.acted) >= record.k:
                    self.store.late[record.id] = (ev.at, ev.id)
        for item, key in done:
            if type(item) is Overdue and item.record.id in self.store.late:
                self._unwait(item.record.plan, item.record.members, key)
            else:
                self._unwait(item.record.plan if type(item) is Overdue else item.plan,
                             (actor,), key)

    def _wait(self, plan: ObligationPlan, parties: Iterable[str], key: str,
              item: EachRecord | Overdue) -> None:
        """Index ``item`` under what ``parties`` owe of each type of the action."""
        for action_type in plan.action.events:
            by_actor = self.late.setdefault(action_type, {})
            for party in parties:
                by_actor.setdefault(party, {})[key] = item

    def _unwait(self, plan: ObligationPlan, parties: Iterable[str], key: str) -> None:
        """Stop waiting for late acts of ``parties`` under ``key`` (every action type)."""
        late = self.late
        for action_type in plan.action.events:
            by_actor = late.get(action_type)
            if by_actor is None:
                continue
            _drop(by_actor, parties, key)
            if not by_actor:
                del late[action_type]

    # ------------------------------------------------------------ deadlines

    def expire(self, record: ObligationRecord) -> None:
        """The due time of ``record`` passed while it was open: its pending duties are breached."""
        verdict: Verdict = (VIOLATED, record.due_at, None)
        watched = record.plan.clause.id in self.plan.violated_watched
        if type(record) is EachRecord:
            late = self._settle_each(record, verdict)
            self._wait(record.plan, late, record.key, record)
            if watched:
                for party in late:
                    self._fire(TriggerKind.VIOLATED, record, party, verdict)
            return
        record.settle(verdict)
        self._unindex(record, record.members, record.id)
        self._wait(record.plan, [m for m in record.members if m not in record.acted],
                   record.id, Overdue(record, dict(record.acted)))
        if watched:
            self._fire(TriggerKind.VIOLATED, record, None, verdict)

    def _settle_each(self, record: EachRecord, verdict: Verdict) -> list[str]:
        outcome = record.outcome
        rest = [p for p in record.obligors if p not in outcome]
        for party in rest:
            record.settle(party, verdict)
        self._unindex(record, rest, record.key)
        return rest

    def discharge(self, at: datetime, by: str, clause: str | None = None) -> None:
        """The treaty terminated at ``by``: every pending duty of a non-standalone clause
        ends. With ``clause``, that clause terminated: its pending duties end."""
        verdict: Verdict = (DISCHARGED, at, by)
        if self.late:
            self._stop_waiting(clause)
        for record in self.store.open_records():
            if clause is not None and record.plan.clause.id != clause:
                continue
            if clause is None and record.plan.standalone:
                continue
            if type(record) is EachRecord:
                self._settle_each(record, verdict)
            else:
                record.settle(verdict)
                self._unindex(record, record.members, record.id)

    def _stop_waiting(self, clause: str | None) -> None:
        """Termination ends the duties of ``clause`` (None: of every clause but standalone
        ones): their violated instances no longer wait to be performed."""
        def ended(item: EachRecord | Overdue) -> bool:
            plan = item.record.plan if type(item) is Overdue else item.plan
            return plan.clause.id == clause if clause is not None else not plan.standalone

        for action_type, by_actor in list(self.late.items()):
            for actor, entries in list(by_actor.items()):
                for key in [k for k, x in entries.items() if ended(x)]:
                    del entries[key]
                if not entries:
                    del by_actor[actor]
            if not by_actor:
                del self.late[action_type]

    def _fire(self, kind: TriggerKind, record: ObligationRecord, party: str | None,
              verdict: Verdict) -> None:
        if isinstance(record, EachRecord):
            assert party is not None
            instance, obligor = record.key + party, party
        else:
            instance, obligor = record.id, record.label
        self.verdict(kind, record.plan, instance, obligor, record.beneficiary,
                     record.trigger_id, record.trigger_fields, record.bindings, verdict[1])


def _copy_overdue(item: EachRecord | Overdue, copies: dict[int, Overdue]
                  ) -> EachRecord | Overdue:
    """``item`` for a copy of the index: an each-record is shared (settled), an overdue
    collective instance copied once (it is under each of its members)."""
    if type(item) is EachRecord:
        return item
    assert type(item) is Overdue
    got = copies.get(id(item))
    if got is None:
        got = copies[id(item)] = item.copy()
    return got


def _drop(by_actor: dict[str, dict[str, Any]], parties: Iterable[str], key: str) -> None:
    """Remove ``key`` from what each of ``parties`` is indexed under, and the parties left
    with nothing."""
    for party in parties:
        entries = by_actor.get(party)
        if entries is not None:
            entries.pop(key, None)
            if not entries:
                del by_actor[party]
