"""Obligations: instances arise, actions fulfil them, deadlines violate them.

Stage: part of the run state (``engine.state``); the rules are in ``docs/semantics.md``
§3. Open instances are indexed by (action type, actor), so an event finds what its actor
owes of its type with two dictionary lookups; the instances of an `each` obligation that
arose together share one record and one deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from foedus.engine.caches import Caches
from foedus.engine.clock import Clock
from foedus.engine.deadlines import add_elapsed
from foedus.engine.matching import MISSING, Bindings
from foedus.engine.model import ObligationStatus
from foedus.engine.plan import ObligationPlan, Plan, beneficiary
from foedus.engine.records import CollectiveRecord, EachRecord, ObligationRecord, RecordStore
from foedus.events.model import Event
from foedus.language.model import Quantifier, TriggerKind

__all__ = ["Obligations", "VerdictFn"]

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
# open instances: action type -> actor -> index key -> record
OpenIndex = dict[str, dict[str, dict[str, ObligationRecord]]]


class Obligations:
    """The obligation instances of a run: arising, fulfilment, violation, discharge."""

    __slots__ = ("caches", "clock", "open", "plan", "store", "verdict")

    def __init__(self, plan: Plan, store: RecordStore, clock: Clock, caches: Caches,
                 verdict: VerdictFn) -> None:
        self.plan = plan
        self.store = store
        self.clock = clock
        self.caches = caches
        self.verdict = verdict
        self.open: OpenIndex = {}

    def clone(self, store: RecordStore, clock: Clock, verdict: VerdictFn,
              memo: dict[int, Any]) -> Obligations:
        new = Obligations(self.plan, store, clock, self.caches, verdict)
        new.open = {
            t: {a: {k: memo[id(x)] for k, x in d.items()} for a, d in by_actor.items()}
            for t, by_actor in self.open.items()
        }
        return new

    # ------------------------------------------------------------ arising

    def arise(
        self,
        plan: ObligationPlan,
        bindings: Bindings,
        trigger_id: str | None,
        at: datetime | None,
        key: str,
        fields: Mapping[str, Any],
    ) -> str | None:
        """Create the instances of ``plan`` for one trigger; or say why none arose."""
        part = plan.obligors
        obligors = part.static
        if obligors is None:
            obligors = self.caches.obligors_of(part, bindings)
        if not obligors:
            return part.none_left(bindings)
        deadline = plan.deadline
        fixed = deadline.fixed
        due = add_elapsed(at, fixed) if fixed is not None and at is not None else (
            deadline.due(at, bindings))
        if due is None:
            return "the deadline has no anchor time"
        action = plan.action
        test = action.static
        if test is None:
            test = self.caches.action_of(action, bindings)
        owed = beneficiary(plan.beneficiary, bindings)
        prefix = f"{plan.clause.id}/{key}/"
        store = self.store
        record: ObligationRecord
        if part.spec.quantifier is EACH:
            record = EachRecord(plan, prefix, obligors, owed, trigger_id, at, fields, due,
                                test, bindings)
            store.n_instances += len(obligors)
            index_key = prefix
        else:
            tag = "any" if part.spec.quantifier is Quantifier.ANY else f"{part.k}-of"
            record = CollectiveRecord(plan, prefix + tag, obligors, owed, trigger_id, at,
                                      fields, due, test, bindings)
            store.n_instances += 1
            index_key = record.id
        store.arisen.append(record)
        by_actor = self.open.get(action.event)
        if by_actor is None:
            by_actor = self.open[action.event] = {}
        for party in obligors:
            entries = by_actor.get(party)
            if entries is None:
                by_actor[party] = {index_key: record}
            else:
                entries[index_key] = record
        self.clock.schedule(due, record)
        return None

    def _unindex(self, record: ObligationRecord, parties: Iterable[str], key: str) -> None:
        by_actor = self.open.get(record.plan.action.event)
        if by_actor is None:
            return
        for party in parties:
            entries = by_actor.get(party)
            if entries is not None:
                entries.pop(key, None)
                if not entries:
                    del by_actor[party]

    # ------------------------------------------------------------ fulfilment

    def owed(self, ev: Event, actor_field: str) -> dict[str, ObligationRecord] | None:
        """What the actor of ``ev`` owes of its type, if anything."""
        by_actor = self.open.get(ev.type)
        if not by_actor:
            return None
        return by_actor.get(ev.fields.get(actor_field, MISSING))

    def fulfil(self, ev: Event, actor: str, items: dict[str, ObligationRecord]) -> None:
        """``ev`` fulfils those of ``items`` (what ``actor`` owes of its type) it matches.

        The first matching action after the trigger, by an obligor, no later than the due
        time (``docs/semantics.md`` §3): the state applies events in order and settles
        deadlines before later events, so every open instance here qualifies by time.
        """
        fields = ev.fields
        verdict = (FULFILLED, ev.at, ev.id)
        watched = self.plan.fulfilled_watched
        last_test: Any = MISSING
        matched = False
        done: list[str] = []
        for key, record in list(items.items()):
            test = record.test  # instances share tests: run each once per event
            if test is not last_test:
                last_test = test
                matched = test(fields)
            if not matched:
                continue
            if type(record) is EachRecord:
                record.outcome[actor] = verdict
                record.n_open -= 1
                if not record.n_open:
                    record.open = False
                done.append(key)
                if record.plan.clause.id in watched:
                    self._fire(TriggerKind.FULFILLED, record, actor, verdict)
                continue
            assert isinstance(record, CollectiveRecord)
            record.acted[actor] = ev.id
            del items[key]
            if len(record.acted) < record.k:
                continue
            record.settle(verdict)
            self._unindex(record, record.members, record.id)
            if record.plan.clause.id in watched:
                self._fire(TriggerKind.FULFILLED, record, None, verdict)
        if len(done) < len(items):
            for key in done:
                del items[key]
        else:  # everything this actor owed of this type is met
            by_actor = self.open.get(ev.type)
            if by_actor is not None and by_actor.get(actor) is items:
                del by_actor[actor]

    # ------------------------------------------------------------ deadlines

    def expire(self, record: ObligationRecord) -> None:
        """The due time of ``record`` passed while it was open: its pending duties are breached."""
        verdict = (VIOLATED, record.due_at, None)
        watched = record.plan.clause.id in self.plan.violated_watched
        if type(record) is EachRecord:
            late = self._settle_each(record, verdict)
            if watched:
                for party in late:
                    self._fire(TriggerKind.VIOLATED, record, party, verdict)
            return
        assert isinstance(record, CollectiveRecord)
        record.settle(verdict)
        self._unindex(record, record.members, record.id)
        if watched:
            self._fire(TriggerKind.VIOLATED, record, None, verdict)

    def _settle_each(self, record: EachRecord, verdict: tuple[Any, ...]) -> list[str]:
        outcome = record.outcome
        rest = [p for p in record.obligors if p not in outcome]
        for party in rest:
            record.settle(party, verdict)  # type: ignore[arg-type]
        self._unindex(record, rest, record.key)
        return rest

    def discharge(self, at: datetime, by: str) -> None:
        """The treaty terminated at ``by``: every pending duty of a non-standalone clause ends."""
        verdict = (DISCHARGED, at, by)
        for record in self.store.open_records():
            if record.plan.standalone:
                continue
            if type(record) is EachRecord:
                self._settle_each(record, verdict)
            else:
                assert isinstance(record, CollectiveRecord)
                record.settle(verdict)  # type: ignore[arg-type]
                self._unindex(record, record.members, record.id)

    def _fire(self, kind: TriggerKind, record: ObligationRecord, party: str | None,
              verdict: tuple[Any, ...]) -> None:
        if isinstance(record, EachRecord):
            assert party is not None
            instance, obligor = record.key + party, party
        else:
            instance, obligor = record.id, record.label
        self.verdict(kind, record.plan, instance, obligor, record.beneficiary,
                     record.trigger_id, record.trigger_fields, record.bindings, verdict[1])
