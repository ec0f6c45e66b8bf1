"""The monitor's state machine: events and deadlines in time order, verdicts out.

Stage: after ``engine.plan`` (the compiled treaty); before ``engine.results``, which
turns this state into a :class:`~foedus.engine.model.RunResult`. ``engine.monitor``
owns the event log, the checkpoints and the order of application.

One :class:`Runtime` is the state after applying a sorted prefix of the log and every
deadline strictly before ``clock``. It never looks at events out of order: the monitor
guarantees that. Open items live in small indexes (open obligations by action type and
actor, open decisions by clause, a heap of deadlines), settled ones in append-only lists,
so :meth:`Runtime.clone` copies what is open and only shallow-copies the rest.

The parts of the state machine live beside it, one module per construct:
``engine.conditions`` (treaty status), ``engine.prohibitions`` (prohibitions and
permissions) and ``engine.decisions`` (collective decisions); the records they create and
settle are in ``engine.records``.

Processing one event at time t:

1. deadlines due strictly before t are settled, in due order (verdict triggers fire);
2. condition clauses advance (the treaty may enter into force, be suspended, resume or
   terminate: the change takes effect at this event);
3. open obligations whose action the event matches are fulfilled; votes are counted;
   prohibitions and permissions are checked;
4. clauses triggered by the event arise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from heapq import heappop, heappush
from itertools import islice
from typing import Any

from foedus.engine.conditions import Conditions
from foedus.engine.deadlines import add_elapsed, due_at
from foedus.engine.decisions import Decisions
from foedus.engine.matching import MISSING, Bindings, fmt_value, render_guard
from foedus.engine.model import ObligationStatus, TreatyStatus
from foedus.engine.plan import ClausePlan, Plan
from foedus.engine.prohibitions import Prohibitions
from foedus.engine.records import (
    FULFILLED,
    IN_FORCE,
    OPEN,
    PENDING,
    VIOLATED,
    Activation,
    DecisionItem,
    Group,
    Item,
    cached,
    ref_key,
)
from foedus.events.model import Event
from foedus.language.model import ClauseKind, Const, Quantifier, Ref, TriggerKind

__all__ = ["Runtime"]

VERDICTS = (TriggerKind.FULFILLED, TriggerKind.VIOLATED)


class Runtime(Conditions, Prohibitions, Decisions):
    """The mutable state of one run (see the module docstring for the order of work)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.status = TreatyStatus.NOT_IN_FORCE if plan.has_entry else IN_FORCE
        self.status_at: datetime | None = None
        self.status_event: str | None = None
        self.entered_at: datetime | None = None
        self.entry_event: str | None = None
        # condition clause id -> [step index, matched pattern indexes, completed at, by]
        self.cond: dict[str, list[Any]] = {
            p.id: [0, set(), None, None] for p in plan.condition_plans
        }
        self.open: dict[str, dict[str, dict[str, Item]]] = {}
        # everything that arose, in the order it arose (the output order)
        self.arisen: list[Item | Group | Activation] = []
        self.first_open = 0  # every record before this index is settled
        self.n_instances = 0  # obligation instances (group members count one each)
        self.n_activations = 0
        self.dec_open: dict[str, dict[str, DecisionItem]] = {}
        self.decisions: list[DecisionItem] = []
        # (due, seq, group / collective item) or (closes, seq, decision)
        self.heap: list[tuple[datetime, int, Any]] = []
        self.seq = 0
        self.not_arisen: list[tuple[datetime | None, int, str, str, str]] = []
        self.permissions: dict[str, list[str]] = {p.id: [] for p in plan.permission_plans}
        self.activations: dict[str, dict[str, Activation]] = {}
        self.breaches: dict[str, int] = {}  # activation key -> number of violations
        self.pos = 0  # events of the sorted log applied
        self.last_at: datetime | None = None
        self.last_id: str | None = None
        self.clock: datetime | None = None  # deadlines strictly before it are settled
        for p in plan.prohibition_plans:
            if p.trigger is None:
                self._activate(p, {}, None, None, "all")
        for p in plan.at_start:
            self._arise(p, {}, None, None, "start", {})

    @classmethod
    def from_records(
        cls,
        plan: Plan,
        arisen: list[Group],
        not_arisen: list[tuple[datetime | None, int, str, str, str]],
    ) -> Runtime:
        """The state of a run whose records were computed elsewhere (``engine.columnar``).

        ``arisen`` are the each-groups in the order they arose (see :meth:`each_group`),
        ``not_arisen`` the ``(at, clause index, clause id, event id, reason)`` records of
        triggers that did not count, in the same order. Only what ``engine.results`` reads
        is set: the state is for :func:`~foedus.engine.results.build_result`, not for
        applying more events.
        """
        runtime = cls(plan)
        runtime.arisen = arisen  # type: ignore[assignment]
        runtime.not_arisen = not_arisen
        runtime.n_instances = sum(len(g.obligors) for g in arisen)
        return runtime

    @staticmethod
    def each_group(
        key: str,
        plan: ClausePlan,
        obligors: tuple[str, ...],
        beneficiary: str | None,
        trigger_id: str,
        trigger_at: datetime,
        trigger_fields: Mapping[str, Any],
        due: datetime,
        test: Any,
        outcome: dict[str, tuple[ObligationStatus, datetime | None, str | None]],
    ) -> Group:
        """The record of an event-triggered `each` obligation, for :meth:`from_records`.

        ``key`` is the instances' id prefix (``<clause>/<trigger event>/``); ``outcome``
        maps each settled obligor to ``(status, at, event id)`` (the others are pending),
        as :class:`~foedus.engine.records.Group` keeps it.
        """
        binding = plan.binding_name
        group = Group(key, plan, obligors, beneficiary, trigger_id, trigger_at, trigger_fields,
                      due, test, {binding: (trigger_fields, trigger_at, trigger_id)}
                      if binding else {})
        group.outcome = outcome
        group.n_open = len(obligors) - len(outcome)
        group.status = None if group.n_open == 0 else PENDING
        return group

    # ------------------------------------------------------------ copying

    def clone(self) -> Runtime:
        """An independent copy: open items are copied, settled ones shared (they never change)."""
        new = Runtime.__new__(Runtime)
        memo: dict[int, Any] = {}
        new.plan = self.plan
        for name in ("status", "status_at", "status_event", "entered_at", "entry_event",
                     "seq", "pos", "last_at", "last_id", "clock", "n_instances",
                     "n_activations"):
            setattr(new, name, getattr(self, name))
        new.cond = {k: [v[0], set(v[1]), v[2], v[3]] for k, v in self.cond.items()}
        # Everything before the oldest pending record is settled and never changes again:
        # share it, and copy only the pending records after it.
        arisen = list(self.arisen)
        first = self._first_open()
        for i in range(first, len(arisen)):
            x = arisen[i]
            if x.status is PENDING:
                copy = x.copy()  # type: ignore[union-attr]
                memo[id(x)] = copy
                arisen[i] = copy
        new.arisen = arisen
        new.first_open = first
        new.open = {
            t: {a: {i: memo[id(x)] for i, x in d.items()} for a, d in by_actor.items()}
            for t, by_actor in self.open.items()
        }
        decisions: list[DecisionItem] = []
        for dec in self.decisions:
            if dec.status is OPEN:
                copy = dec.copy()
                memo[id(dec)] = copy
                decisions.append(copy)
            else:
                decisions.append(dec)
        new.decisions = decisions
        new.dec_open = {
            cid: {k: memo[id(d)] for k, d in opened.items()}
            for cid, opened in self.dec_open.items()
        }
        new.heap = [
            (d, s, memo.get(id(x), x))
            for d, s, x in self.heap
        ]
        new.not_arisen = list(self.not_arisen)
        new.permissions = {k: list(v) for k, v in self.permissions.items()}
        new.activations = {t: dict(d) for t, d in self.activations.items()}
        new.breaches = dict(self.breaches)
        return new

    def _first_open(self) -> int:
        """Index in ``arisen`` of the oldest record that may still be pending."""
        arisen = self.arisen
        first = self.first_open
        while first < len(arisen) and arisen[first].status is not PENDING:
            first += 1
        self.first_open = first
        return first

    # ------------------------------------------------------------ time

    def advance(self, until: datetime) -> None:
        """Settle every deadline strictly before ``until``, in due order."""
        heap = self.heap
        while heap and heap[0][0] < until:
            x = heappop(heap)[2]
            status = x.status
            if status is PENDING or status is OPEN:
                self._expire(x)
        if self.clock is None or until > self.clock:
            self.clock = until

    def _expire(self, x: Group | Item | DecisionItem) -> None:
        """The due time of ``x`` has passed while it was still open."""
        if type(x) is Group:
            self._violate_group(x)
        elif type(x) is Item:
            self._violate(x)
        else:
            self._close(x)  # type: ignore[arg-type]

    def _handlers(self) -> tuple[dict[str, list[ClausePlan]], dict[str, list[tuple[Any, Any]]]]:
        """Per event type: condition clauses, then (method, argument) pairs to call in order."""
        pre: dict[str, list[ClausePlan]] = {}
        post: dict[str, list[tuple[Any, Any]]] = {}
        for t, spec in self.plan.by_type.items():
            if spec.conditions:
                pre[t] = spec.conditions
            calls: list[tuple[Any, Any]] = []
            if spec.votes:
                calls.append((self._votes, spec.votes))
            if spec.prohibitions:
                calls.append((self._prohibitions, t))
            if spec.permissions:
                calls.append((self._permissions, spec.permissions))
            calls.extend(
                (self._fast_trigger(plan) if plan.fast else self._on_event, plan)
                for plan in spec.triggers
            )
            if calls:
                post[t] = calls
        return pre, post

    def apply_all(self, events: list[Event], start: int, stop: int) -> None:
        """Apply ``events[start:stop]`` (sorted, after what was applied); ``pos`` counts them."""
        pre, post = self._handlers()
        actor_of = {t: a or "" for t, a in self.plan.actor_of.items()}
        heap = self.heap
        opened = self.open
        expire = self._expire
        ev = None
        for ev in islice(events, start, stop):
            at = ev.at
            while heap and heap[0][0] < at:  # deadlines before the event, in due order
                x = heappop(heap)[2]
                status = x.status
                if status is PENDING or status is OPEN:
                    expire(x)
            t = ev.type
            if pre and t in pre:
                self._conditions(ev, pre[t])
            by_actor = opened.get(t)
            if by_actor:
                actor = ev.fields.get(actor_of.get(t, ""), MISSING)
                items = by_actor.get(actor)
                if items:
                    self._fulfil(ev, actor, items)
            calls = post.get(t)
            if calls is not None:
                for call, arg in calls:
                    call(ev, arg)
        if ev is not None:
            self.last_at = ev.at
            self.last_id = ev.id
            if self.clock is None or ev.at > self.clock:
                self.clock = ev.at
        self.pos += stop - start

    # ------------------------------------------------------------ arising

    def _not_arisen(self, at: datetime | None, plan: ClausePlan, event: str, why: str) -> None:
        self.not_arisen.append((at, plan.index, plan.id, event, why))

    def _on_event(self, ev: Event, plan: ClausePlan) -> None:
        """A trigger event for ``plan``: check the pattern, then let the clause arise."""
        fields = ev.fields
        test = plan.trigger_test
        if test is not None and not test(fields):
            self._missed(ev, plan)
            return
        binding = plan.binding_name
        bindings = {binding: (fields, ev.at, ev.id)} if binding else {}
        self._fire(plan, bindings, ev.id, ev.at, ev.id, fields)

    def _missed(self, ev: Event, plan: ClausePlan) -> None:
        """Record a carve-out that kept ``ev`` from triggering ``plan``, if it was one."""
        if plan.has_carve_outs and plan.trigger and plan.trigger.pattern:
            why = self.plan.matcher.mismatch(plan.trigger.pattern, ev.fields, {}, plan.id)
            if why is not None:
                self._not_arisen(ev.at, plan, ev.id, why)

    def _fast_trigger(self, plan: ClausePlan) -> Any:
        """The trigger handler of an `each` obligation with a fixed-length deadline, no guard.

        The same as :meth:`_on_event` followed by :meth:`_arise`, with everything that does
        not change between events bound once: this is the monitor's hot path.
        """
        test = plan.trigger_test
        binding = plan.binding_name
        static_obligors = plan.static_obligors
        obligor_field = plan.obligor_field
        obligor_cache = plan.obligor_cache
        static_action = plan.static_action
        action_field = plan.action_field
        action_cache = plan.action_cache
        value = plan.beneficiary
        ref_field = value.field if type(value) is Ref and value.binding == binding else None
        fixed_beneficiary = plan.beneficiary_text if type(value) is not Ref else None
        delta = plan.delta
        clause_prefix = plan.prefix
        action_type = plan.action_type
        arisen = self.arisen
        heap = self.heap
        opened = self.open
        slow = self._on_event
        fixed = timezone

        def on_trigger(ev: Event, _: Any) -> None:
            fields = ev.fields
            if test is not None and not test(fields):
                self._missed(ev, plan)
                return
            if self.status is not IN_FORCE:
                slow(ev, plan)
                return
            obligors = static_obligors
            if obligors is None:
                key = fields.get(obligor_field, MISSING) if obligor_field else MISSING
                obligors = obligor_cache.get(key) if obligor_field else None
            test_a = static_action
            if test_a is None and action_field:
                test_a = action_cache.get(fields.get(action_field, MISSING))
            if ref_field is not None:
                beneficiary = fields.get(ref_field)
                if type(beneficiary) is not str:
                    obligors = None
            elif value is not None and fixed_beneficiary is None:
                obligors = None  # a reference to another binding: take the general path
            else:
                beneficiary = fixed_beneficiary
            if not obligors or test_a is None:
                slow(ev, plan)
                return
            at = ev.at
            # elapsed time: wall-time addition is exact only for a fixed offset (add_elapsed)
            due = at + delta if type(at.tzinfo) is fixed else add_elapsed(at, delta)  # type: ignore
            prefix = clause_prefix + ev.id + "/"
            group = Group(prefix, plan, obligors, beneficiary, ev.id, at, fields, due, test_a,
                          {binding: (fields, at, ev.id)} if binding else {})
            arisen.append(group)
            self.n_instances += len(obligors)
            by_actor = opened.get(action_type)
            if by_actor is None:
                by_actor = opened[action_type] = {}
            for party in obligors:
                entries = by_actor.get(party)
                if entries is None:
                    by_actor[party] = {prefix: group}
                else:
                    entries[prefix] = group
            self.seq += 1
            heappush(heap, (due, self.seq, group))

        return on_trigger

    def _fire(
        self,
        plan: ClausePlan,
        bindings: Bindings,
        trigger_id: str | None,
        at: datetime | None,
        key: str,
        trigger_fields: Mapping[str, Any],
    ) -> None:
        """A trigger of ``plan`` happened: arise unless the treaty's status or the guard says no."""
        if not plan.standalone and self.status is not IN_FORCE:
            self._not_arisen(at, plan, trigger_id or key, self._reason_not_in_force())
            return
        trigger = plan.trigger
        guard = trigger.guard if trigger is not None else None
        if guard is not None and not self.plan.matcher.guard(guard, bindings):
            why = f"the guard `if {render_guard(guard)}` does not hold"
            self._not_arisen(at, plan, trigger_id or key, why)
            return
        self._arise(plan, bindings, trigger_id, at, key, trigger_fields)

    def _anchor(self, plan: ClausePlan, bindings: Bindings, at: datetime | None) -> datetime | None:
        """When the deadline of ``plan`` starts: the trigger, or the event bound to ``of NAME``."""
        deadline = plan.deadline
        if deadline is None or deadline.anchor is None or deadline.anchor == plan.binding:
            return at
        bound = bindings.get(deadline.anchor)
        return bound[1] if bound is not None and bound[1] is not None else at

    def _arise(
        self,
        plan: ClausePlan,
        bindings: Bindings,
        trigger_id: str | None,
        at: datetime | None,
        key: str,
        trigger_fields: Mapping[str, Any],
    ) -> None:
        """Create the instances of ``plan``: obligations, a prohibition period or a decision."""
        kind = plan.kind
        matcher = self.plan.matcher
        obligors = plan.static_obligors
        if obligors is None and plan.obligors is not None:
            among = plan.obligors
            obligors = cached(plan.obligor_cache, ref_key(plan.obligor_refs, bindings),
                              lambda: matcher.obligors(among, bindings))
        if not obligors:
            who = "no voter left" if kind is ClauseKind.DECISION else "no obligor left"
            why = f"{who}: every {plan.obligors.among.name if plan.obligors else '?'} is excepted"
            if plan.obligors is not None and plan.obligors.exceptions:
                why += f" ({matcher.exceptions_text(plan.obligors, bindings)})"
            self._not_arisen(at, plan, trigger_id or key, why)
            return
        if kind is ClauseKind.PROHIBITION:
            deadline = plan.deadline
            end = None
            if deadline is not None:
                end = due_at(deadline, self._anchor(plan, bindings, at), self.plan.calendars)
            # one verdict event may settle several instances (an `each` obligation): each
            # starts its own period, named after the instance as in docs/semantics.md §3.6
            verdict = plan.trigger is not None and plan.trigger.kind in VERDICTS
            self._activate(plan, bindings, at, end, key if verdict else trigger_id or key,
                           frozenset(obligors), trigger_id)
            return
        if kind is ClauseKind.DECISION:
            self._open_decision(plan, bindings, trigger_id, at, key, trigger_fields, obligors)
            return
        if plan.delta is not None and at is not None:
            due: datetime | None = add_elapsed(at, plan.delta)
        else:
            assert plan.deadline is not None
            due = due_at(plan.deadline, self._anchor(plan, bindings, at), self.plan.calendars)
        if due is None:
            self._not_arisen(at, plan, trigger_id or key, "the deadline has no anchor time")
            return
        test = plan.static_action
        if test is None and plan.action is not None:
            action = plan.action
            test = cached(plan.action_cache, ref_key(plan.action_refs, bindings),
                          lambda: matcher.pattern(action, bindings))
        beneficiary = None
        value = plan.beneficiary
        if value is not None:
            if type(value) is Ref:
                bound = bindings.get(value.binding)
                got = bound[0].get(value.field, MISSING) if bound is not None else MISSING
                beneficiary = got if type(got) is str else fmt_value(got)
            elif type(value) is Const:
                beneficiary = fmt_value(value.value)
            else:
                beneficiary = value.name  # type: ignore[union-attr]
        assert plan.obligors is not None
        prefix = f"{plan.id}/{key}/"
        action_type = plan.action.event if plan.action is not None else ""
        record: Group | Item
        if plan.obligors.quantifier is Quantifier.EACH:
            record = Group(prefix, plan, obligors, beneficiary, trigger_id, at, trigger_fields,
                           due, test, bindings)
            self.n_instances += len(obligors)
            index_key = prefix
        else:
            k = 1 if plan.obligors.quantifier is Quantifier.ANY else plan.obligors.k
            tag = "any" if k == 1 and plan.obligors.quantifier is Quantifier.ANY else f"{k}-of"
            record = Item(prefix + tag, plan, plan.label, obligors, k, beneficiary, trigger_id,
                          at, trigger_fields, due, test, bindings)
            record.acted = {}
            self.n_instances += 1
            index_key = record.id
        self.arisen.append(record)
        self._index(action_type, obligors, index_key, record)
        self.seq += 1
        heappush(self.heap, (due, self.seq, record))

    # ------------------------------------------------------------ open obligations

    def _index(
        self, action_type: str, parties: Iterable[str], key: str, record: Group | Item
    ) -> None:
        """Let events of ``action_type`` by ``parties`` find ``record`` (under ``key``).

        The fast trigger path (:meth:`_fast_trigger`) inlines the same loop.
        """
        by_actor = self.open.get(action_type)
        if by_actor is None:
            by_actor = self.open[action_type] = {}
        for party in parties:
            entries = by_actor.get(party)
            if entries is None:
                by_actor[party] = {key: record}
            else:
                entries[key] = record

    def _unindex(self, record: Group | Item, parties: Iterable[str], key: str) -> None:
        """The inverse of :meth:`_index`, for ``parties`` that no longer owe ``record``."""
        action = record.plan.action
        by_actor = self.open.get(action.event if action is not None else "")
        if by_actor is None:
            return
        for party in parties:
            entries = by_actor.get(party)
            if entries is not None:
                entries.pop(key, None)
                if not entries:
                    del by_actor[party]

    def _settle(
        self, item: Item, status: ObligationStatus, at: datetime | None, by: str | None
    ) -> None:
        """Give a collective instance its verdict; it is no longer open."""
        item.status = status
        item.settled_at, item.settled_by = at, by
        self._unindex(item, item.members, item.id)

    def _settle_group(
        self, group: Group, status: ObligationStatus, at: datetime | None, by: str | None
    ) -> list[str]:
        """Give every obligor of ``group`` still pending this verdict; returns them."""
        outcome = group.outcome
        rest = [p for p in group.obligors if p not in outcome]
        for party in rest:
            group.settle(party, status, at, by)
        self._unindex(group, rest, group.key)
        return rest

    # ------------------------------------------------------------ obligations

    def _fulfil(self, ev: Event, actor: str, items: dict[str, Any]) -> None:
        """``ev`` fulfils those of ``items`` (what ``actor`` owes of its type) it matches."""
        fields = ev.fields
        verdict = (FULFILLED, ev.at, ev.id)
        last_test: Any = MISSING
        matched = False
        done = []
        for item in list(items.values()):
            # many open instances share one matcher: test the event once per matcher
            test = item.test
            if test is not last_test:
                last_test = test
                matched = test is None or test(fields)
            if not matched:
                continue
            if type(item) is Group:
                item.outcome[actor] = verdict
                n_open = item.n_open - 1
                item.n_open = n_open
                if not n_open:
                    item.status = None
                done.append(item.key)
                if item.plan.on_fulfilled:
                    self._verdict(TriggerKind.FULFILLED, item.item(actor), ev.at,
                                  item.trigger_fields)
                continue
            if item.acted is not None:
                item.acted[actor] = ev.id
                del items[item.id]
                if len(item.acted) < item.k:
                    continue
            self._settle(item, FULFILLED, ev.at, ev.id)
            if item.plan.on_fulfilled:
                self._verdict(TriggerKind.FULFILLED, item, ev.at, item.trigger_fields)
        if len(done) < len(items):
            for key in done:
                del items[key]
        else:  # everything this actor owed of this kind is met
            by_actor = self.open.get(ev.type)
            if by_actor is not None and by_actor.get(actor) is items:
                del by_actor[actor]

    def _violate_group(self, group: Group) -> None:
        """The due time of ``group`` passed: its pending obligors are in breach."""
        due = group.due_at
        late = self._settle_group(group, VIOLATED, due, None)
        if group.plan.on_violated:
            for party in late:
                self._verdict(TriggerKind.VIOLATED, group.item(party), due, group.trigger_fields)

    def _violate(self, item: Item) -> None:
        """The due time of a collective instance passed without enough members acting."""
        self._settle(item, VIOLATED, item.due_at, None)
        if item.plan.on_violated:
            self._verdict(TriggerKind.VIOLATED, item, item.due_at, item.trigger_fields)

    def _verdict(
        self, kind: TriggerKind, item: Item, at: datetime | None, cause: Mapping[str, Any]
    ) -> None:
        """Fire the clauses that wait for this verdict on ``item``'s clause."""
        deps = self.plan.on_verdict.get((kind, item.plan.id))
        if not deps:
            return
        fields = dict(cause)
        fields["obligor"] = item.obligor
        fields["beneficiary"] = item.beneficiary
        cause_id = item.settled_by if item.kind == "prohibition" else item.trigger_id
        for dep in deps:
            bindings = dict(item.bindings)
            if dep.binding:
                bindings[dep.binding] = (fields, at, cause_id)
            self._fire(dep, bindings, cause_id, at, item.id, fields)

