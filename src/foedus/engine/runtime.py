"""The monitor's state machine: events and deadlines in time order, verdicts out.

Stage: after ``engine.plan`` (the compiled treaty); before ``engine.results``, which
turns this state into a :class:`~foedus.engine.model.RunResult`. ``engine.monitor``
owns the event log, the checkpoints and the order of application.

One :class:`Runtime` is the state after applying a sorted prefix of the log and every
deadline strictly before ``clock``. It never looks at events out of order: the monitor
guarantees that. Open items live in small indexes (open obligations by action type and
actor, open decisions by clause, a heap of deadlines), settled ones in append-only lists,
so :meth:`Runtime.clone` copies what is open and only shallow-copies the rest.

Processing one event at time t:

1. deadlines due strictly before t are settled, in due order (verdict triggers fire);
2. condition clauses advance (the treaty may enter into force, be suspended, resume or
   terminate: the change takes effect at this event);
3. open obligations whose action the event matches are fulfilled; votes are counted;
   prohibitions and permissions are checked;
4. clauses triggered by the event arise.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from heapq import heappop, heappush
from itertools import islice
from typing import Any

from foedus.engine.deadlines import due_at
from foedus.engine.matching import MISSING, Bindings, Test, fmt_time, fmt_value, render_guard
from foedus.engine.model import (
    DecisionStatus,
    Event,
    ObligationStatus,
    ProhibitionStatus,
    TreatyStatus,
)
from foedus.engine.plan import ClausePlan, Plan
from foedus.language.model import (
    ClauseKind,
    ConditionEffect,
    Const,
    Quantifier,
    Ref,
    RuleKind,
    TriggerKind,
)

__all__ = ["Activation", "DecisionItem", "Group", "Item", "Runtime"]

PENDING = ObligationStatus.PENDING
FULFILLED = ObligationStatus.FULFILLED
VIOLATED = ObligationStatus.VIOLATED
DISCHARGED = ObligationStatus.DISCHARGED
OPEN = DecisionStatus.OPEN
IN_FORCE = TreatyStatus.IN_FORCE
CHOICES = ("yes", "no", "abstain")


class Item:
    """An obligation instance, or a prohibition violation (settled at birth)."""

    __slots__ = (
        "acted",
        "beneficiary",
        "bindings",
        "due_at",
        "id",
        "k",
        "kind",
        "members",
        "obligor",
        "plan",
        "settled_at",
        "settled_by",
        "status",
        "test",
        "trigger_at",
        "trigger_fields",
        "trigger_id",
    )

    def __init__(
        self,
        id: str,
        plan: ClausePlan,
        obligor: str,
        members: tuple[str, ...],
        k: int,
        beneficiary: str | None,
        trigger_id: str | None,
        trigger_at: datetime | None,
        trigger_fields: Mapping[str, Any],
        due: datetime | None,
        test: Test | None,
        bindings: Bindings,
    ) -> None:
        self.id = id
        self.plan = plan
        self.kind = "obligation"
        self.obligor = obligor
        self.members = members
        self.k = k
        self.acted: dict[str, str] | None = None
        self.beneficiary = beneficiary
        self.trigger_id = trigger_id
        self.trigger_at = trigger_at
        self.trigger_fields = trigger_fields
        self.due_at = due
        self.status: ObligationStatus | ProhibitionStatus = PENDING
        self.settled_at: datetime | None = None
        self.settled_by: str | None = None
        self.test = test
        self.bindings = bindings

    def copy(self) -> Item:
        new = Item.__new__(Item)
        for name in Item.__slots__:
            setattr(new, name, getattr(self, name))
        if self.acted is not None:
            new.acted = dict(self.acted)
        return new


class Group:
    """The instances of an `each` obligation that arose together: one record, one per obligor.

    ``outcome`` holds the verdict of every settled obligor as ``(status, at, event id)``;
    the others are pending. :meth:`item` gives the per-obligor view.
    """

    __slots__ = (
        "beneficiary",
        "bindings",
        "due_at",
        "key",
        "n_open",
        "obligors",
        "outcome",
        "plan",
        "status",
        "test",
        "trigger_at",
        "trigger_fields",
        "trigger_id",
    )

    def __init__(
        self,
        key: str,
        plan: ClausePlan,
        obligors: tuple[str, ...],
        beneficiary: str | None,
        trigger_id: str | None,
        trigger_at: datetime | None,
        trigger_fields: Mapping[str, Any],
        due: datetime,
        test: Test | None,
        bindings: Bindings,
    ) -> None:
        self.key = key
        self.plan = plan
        self.obligors = obligors
        self.beneficiary = beneficiary
        self.trigger_id = trigger_id
        self.trigger_at = trigger_at
        self.trigger_fields = trigger_fields
        self.due_at = due
        self.test = test
        self.bindings = bindings
        self.outcome: dict[str, tuple[ObligationStatus, datetime | None, str | None]] = {}
        self.n_open = len(obligors)
        self.status: ObligationStatus | None = PENDING  # None once every obligor is settled

    def copy(self) -> Group:
        new = Group.__new__(Group)
        for name in Group.__slots__:
            setattr(new, name, getattr(self, name))
        new.outcome = dict(self.outcome)
        return new

    def settle(self, party: str, status: ObligationStatus, at: datetime | None,
               by: str | None) -> None:
        self.outcome[party] = (status, at, by)
        self.n_open -= 1
        if self.n_open == 0:
            self.status = None

    def item(self, party: str) -> Item:
        """The obligation instance of one obligor."""
        item = Item(self.key + party, self.plan, party, (party,), 1, self.beneficiary,
                    self.trigger_id, self.trigger_at, self.trigger_fields, self.due_at,
                    self.test, self.bindings)
        got = self.outcome.get(party)
        if got is not None:
            item.status, item.settled_at, item.settled_by = got
        return item


class DecisionItem:
    """An open or resolved collective decision."""

    __slots__ = (
        "bindings",
        "closes_at",
        "id",
        "plan",
        "resolved_at",
        "resolved_by",
        "status",
        "tally",
        "trigger_at",
        "trigger_fields",
        "trigger_id",
        "vote_ids",
        "voter_set",
        "voters",
    )

    def copy(self) -> DecisionItem:
        new = DecisionItem.__new__(DecisionItem)
        for name in DecisionItem.__slots__:
            setattr(new, name, getattr(self, name))
        new.tally = dict(self.tally)
        new.vote_ids = list(self.vote_ids)
        return new


class Activation:
    """A period in which a prohibition applies to a set of obligors (immutable)."""

    __slots__ = ("bindings", "end_at", "key", "members", "plan", "start_at", "status", "test",
                 "trigger_at", "trigger_id")

    def __init__(
        self,
        plan: ClausePlan,
        key: str,
        members: frozenset[str],
        start_at: datetime | None,
        end_at: datetime | None,
        test: Test | None,
        trigger_id: str | None,
        bindings: Bindings,
        trigger_at: datetime | None = None,
    ) -> None:
        self.trigger_at = trigger_at
        self.status = None  # never pending: copies share it
        self.plan = plan
        self.key = key
        self.members = members
        self.start_at = start_at
        self.end_at = end_at
        self.test = test
        self.trigger_id = trigger_id
        self.bindings = bindings


def _ref_key(refs: tuple[Ref, ...], bindings: Bindings) -> Any:
    """The values ``refs`` take under ``bindings``: a cache key for what depends on them."""
    if len(refs) == 1:
        ref = refs[0]
        bound = bindings.get(ref.binding)
        return bound[0].get(ref.field, MISSING) if bound is not None else MISSING
    out = []
    for ref in refs:
        bound = bindings.get(ref.binding)
        out.append(bound[0].get(ref.field, MISSING) if bound is not None else MISSING)
    return tuple(out)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


class Runtime:
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

    # ------------------------------------------------------------ treaty status

    def _reason_not_in_force(self) -> str:
        if self.status is TreatyStatus.NOT_IN_FORCE:
            return "treaty not in force yet"
        since = f" since {fmt_time(self.status_at)}" if self.status_at else ""
        if self.status is TreatyStatus.SUSPENDED:
            return f"treaty suspended{since} (event {self.status_event})"
        return f"treaty terminated{since} (event {self.status_event})"

    def _conditions(self, ev: Event, plans: list[ClausePlan]) -> None:
        status = self.status
        for plan in plans:
            effect = plan.effect
            if effect is ConditionEffect.ENTRY_INTO_FORCE:
                live = status is TreatyStatus.NOT_IN_FORCE
            elif effect is ConditionEffect.SUSPENSION:
                live = status is IN_FORCE
            elif effect is ConditionEffect.RESUMPTION:
                live = status is TreatyStatus.SUSPENDED
            else:
                live = status is IN_FORCE or status is TreatyStatus.SUSPENDED
            state = self.cond[plan.id]
            if not live or state[0] >= len(plan.steps):
                continue
            step = state[0]
            patterns = plan.steps[step]
            for j, p in enumerate(patterns):
                if j not in state[1] and p.event == ev.type and plan.step_tests[step][j](ev.fields):
                    state[1].add(j)
                    break
            if len(state[1]) == len(patterns):
                state[0] += 1
                state[1] = set()
                if state[0] == len(plan.steps):
                    state[2], state[3] = ev.at, ev.id
                    self._condition_met(plan, ev)
                    status = self.status

    def _condition_met(self, plan: ClausePlan, ev: Event) -> None:
        effect = plan.effect
        if effect is ConditionEffect.ENTRY_INTO_FORCE:
            entries = [p for p in self.plan.condition_plans
                       if p.effect is ConditionEffect.ENTRY_INTO_FORCE]
            if all(self.cond[p.id][0] >= len(p.steps) for p in entries):
                self._set_status(IN_FORCE, ev)
                self.entered_at, self.entry_event = ev.at, ev.id
                self._arise_on_entry(ev.at, ev.id)
            return
        if effect is ConditionEffect.TERMINATION:
            self._set_status(TreatyStatus.TERMINATED, ev)
            self._terminate(ev)
            return
        # suspension and resumption may alternate: reset both for the next round
        for other in self.plan.condition_plans:
            if other.effect in (ConditionEffect.SUSPENSION, ConditionEffect.RESUMPTION):
                self.cond[other.id] = [0, set(), self.cond[other.id][2], self.cond[other.id][3]]
        self._set_status(
            TreatyStatus.SUSPENDED if effect is ConditionEffect.SUSPENSION else IN_FORCE, ev
        )

    def _set_status(self, status: TreatyStatus, ev: Event) -> None:
        self.status, self.status_at, self.status_event = status, ev.at, ev.id

    def _first_open(self) -> int:
        """Index in ``arisen`` of the oldest record that may still be pending."""
        arisen = self.arisen
        first = self.first_open
        while first < len(arisen) and arisen[first].status is not PENDING:
            first += 1
        self.first_open = first
        return first

    def _terminate(self, ev: Event) -> None:
        for item in self.arisen[self._first_open():]:
            if item.status is not PENDING or item.plan.standalone:
                continue
            if type(item) is Group:
                action = item.plan.action
                by_actor = self.open.get(action.event if action is not None else "", {})
                for party in [p for p in item.obligors if p not in item.outcome]:
                    item.settle(party, DISCHARGED, ev.at, ev.id)
                    entries = by_actor.get(party)
                    if entries is not None:
                        entries.pop(item.key, None)
                        if not entries:
                            del by_actor[party]
                continue
            assert isinstance(item, Item)
            item.status = DISCHARGED
            item.settled_at, item.settled_by = ev.at, ev.id
            self._settle(item)
        for opened in list(self.dec_open.values()):
            for dec in list(opened.values()):
                if not dec.plan.standalone:
                    self._resolve(dec, DecisionStatus.LAPSED, ev.at, ev.id)

    def _arise_on_entry(self, at: datetime | None, event_id: str | None) -> None:
        for plan in self.plan.on_entry:
            self._arise(plan, {}, event_id, at, "in-force", {})

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
            due = at + delta  # type: ignore[operator]
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
        kind = plan.kind
        matcher = self.plan.matcher
        obligors = plan.static_obligors
        if obligors is None and plan.obligors is not None:
            key_o = _ref_key(plan.obligor_refs, bindings)
            obligors = plan.obligor_cache.get(key_o)
            if obligors is None:
                obligors = matcher.obligors(plan.obligors, bindings)
                if len(plan.obligor_cache) > 4096:
                    plan.obligor_cache.clear()
                plan.obligor_cache[key_o] = obligors
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
            self._activate(plan, bindings, at, end, trigger_id or key, frozenset(obligors))
            return
        if kind is ClauseKind.DECISION:
            self._open_decision(plan, bindings, trigger_id, at, key, trigger_fields, obligors)
            return
        if plan.delta is not None and at is not None:
            due: datetime | None = at + plan.delta
        else:
            assert plan.deadline is not None
            due = due_at(plan.deadline, self._anchor(plan, bindings, at), self.plan.calendars)
        if due is None:
            self._not_arisen(at, plan, trigger_id or key, "the deadline has no anchor time")
            return
        test = plan.static_action
        if test is None and plan.action is not None:
            key_a = _ref_key(plan.action_refs, bindings)
            test = plan.action_cache.get(key_a)
            if test is None:
                test = matcher.pattern(plan.action, bindings)
                if len(plan.action_cache) > 4096:
                    plan.action_cache.clear()
                plan.action_cache[key_a] = test
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
        if plan.obligors.quantifier is Quantifier.EACH:
            group = Group(prefix, plan, obligors, beneficiary, trigger_id, at, trigger_fields,
                          due, test, bindings)
            self.arisen.append(group)
            self.n_instances += len(obligors)
            by_actor = self.open.get(action_type)
            if by_actor is None:
                by_actor = self.open[action_type] = {}
            for party in obligors:
                entries = by_actor.get(party)
                if entries is None:
                    by_actor[party] = {prefix: group}
                else:
                    entries[prefix] = group
            self.seq += 1
            heappush(self.heap, (due, self.seq, group))
        else:
            k = 1 if plan.obligors.quantifier is Quantifier.ANY else plan.obligors.k
            tag = "any" if k == 1 and plan.obligors.quantifier is Quantifier.ANY else f"{k}-of"
            item = Item(prefix + tag, plan, plan.label, obligors, k, beneficiary, trigger_id,
                        at, trigger_fields, due, test, bindings)
            item.acted = {}
            self.arisen.append(item)
            self.n_instances += 1
            self._register(item, action_type)
            self.seq += 1
            heappush(self.heap, (due, self.seq, item))

    def _register(self, item: Item, action_type: str) -> None:
        by_actor = self.open.get(action_type)
        if by_actor is None:
            by_actor = self.open[action_type] = {}
        for member in item.members:
            items = by_actor.get(member)
            if items is None:
                by_actor[member] = {item.id: item}
            else:
                items[item.id] = item

    def _unregister(self, item: Item) -> None:
        action = item.plan.action
        by_actor = self.open.get(action.event if action is not None else "")
        if by_actor is None:
            return
        for member in item.members:
            items = by_actor.get(member)
            if items is not None:
                items.pop(item.id, None)
                if not items:
                    del by_actor[member]

    def _settle(self, item: Item) -> None:
        self._unregister(item)

    # ------------------------------------------------------------ obligations

    def _fulfil(self, ev: Event, actor: str, items: dict[str, Any]) -> None:
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
            item.status = FULFILLED
            item.settled_at, item.settled_by = ev.at, ev.id
            self._settle(item)
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
        due = group.due_at
        outcome = group.outcome
        action = group.plan.action
        by_actor = self.open.get(action.event if action is not None else "", {})
        late = [p for p in group.obligors if p not in outcome]
        for party in late:
            group.settle(party, VIOLATED, due, None)
            entries = by_actor.get(party)
            if entries is not None:
                entries.pop(group.key, None)
                if not entries:
                    del by_actor[party]
        if group.plan.on_violated:
            for party in late:
                self._verdict(TriggerKind.VIOLATED, group.item(party), due, group.trigger_fields)

    def _violate(self, item: Item) -> None:
        item.status = VIOLATED
        item.settled_at = item.due_at
        self._settle(item)
        if item.plan.on_violated:
            self._verdict(TriggerKind.VIOLATED, item, item.due_at, item.trigger_fields)

    def _verdict(
        self, kind: TriggerKind, item: Item, at: datetime | None, cause: Mapping[str, Any]
    ) -> None:
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

    # ------------------------------------------------------------ prohibitions and permissions

    def _activate(
        self,
        plan: ClausePlan,
        bindings: Bindings,
        at: datetime | None,
        end: datetime | None,
        key: str | None,
        members: frozenset[str] | None = None,
    ) -> None:
        if members is None:
            members = frozenset(plan.static_obligors or ())
        test = plan.static_action
        if test is None and plan.action is not None:
            test = self.plan.matcher.pattern(plan.action, bindings)
        start = _later(plan.window.start_at, at)
        stop = _earlier(plan.window.end_at, end)
        act = Activation(plan, f"{plan.id}/{key}", members, start, stop, test,
                         None if key == "all" else key, bindings, at)
        event = plan.action.event if plan.action is not None else ""
        self.activations.setdefault(event, {})[act.key] = act
        self.arisen.append(act)
        self.n_activations += 1

    def _prohibitions(self, ev: Event, event_type: str) -> None:
        acts = self.activations.get(event_type)
        if not acts:
            return
        at = ev.at
        fields = ev.fields
        in_force = self.status is IN_FORCE
        for act in list(acts.values()):
            plan = act.plan
            if not (in_force or plan.standalone):
                continue
            if act.start_at is not None and at < act.start_at:
                continue
            if act.end_at is not None and at > act.end_at:
                continue
            actor = fields.get(plan.actor_field or "", MISSING)
            if actor not in act.members or (act.test is not None and not act.test(fields)):
                continue
            beneficiary = None
            if plan.beneficiary is not None:
                got = self.plan.matcher.resolve(plan.beneficiary, act.bindings)
                beneficiary = (
                    plan.beneficiary.name if isinstance(got, frozenset) else fmt_value(got)
                )
            item = Item(f"{plan.id}/{ev.id}/{actor}", plan, actor, (actor,), 1, beneficiary,
                        act.trigger_id, act.trigger_at,
                        fields, None, act.test, act.bindings)
            item.kind = "prohibition"
            item.status = ProhibitionStatus.VIOLATED
            item.settled_at, item.settled_by = at, ev.id
            self.arisen.append(item)
            self.n_instances += 1
            self.breaches[act.key] = self.breaches.get(act.key, 0) + 1
            if plan.on_violated:
                self._verdict(TriggerKind.VIOLATED, item, at, fields)

    def _permissions(self, ev: Event, plans: list[ClausePlan]) -> None:
        in_force = self.status is IN_FORCE
        for plan in plans:
            if not (in_force or plan.standalone):
                continue
            window = plan.window
            if window.start_at is not None and ev.at < window.start_at:
                continue
            if window.end_at is not None and ev.at > window.end_at:
                continue
            actor = ev.fields.get(plan.actor_field or "", MISSING)
            if plan.static_obligors is not None and actor not in plan.static_obligors:
                continue
            if plan.static_action is not None and not plan.static_action(ev.fields):
                continue
            self.permissions[plan.id].append(ev.id)

    # ------------------------------------------------------------ decisions

    def _open_decision(
        self,
        plan: ClausePlan,
        bindings: Bindings,
        trigger_id: str | None,
        at: datetime | None,
        key: str,
        trigger_fields: Mapping[str, Any],
        voters: tuple[str, ...],
    ) -> None:
        assert plan.deadline is not None
        closes = due_at(plan.deadline, self._anchor(plan, bindings, at), self.plan.calendars)
        if closes is None or at is None:
            self._not_arisen(at, plan, trigger_id or key, "the decision has no time to decide")
            return
        dec = DecisionItem()
        dec.id = f"{plan.id}/{key}"
        dec.plan = plan
        dec.trigger_id = trigger_id
        dec.trigger_at = at
        dec.trigger_fields = trigger_fields
        dec.closes_at = closes
        dec.voters = voters
        dec.voter_set = frozenset(voters)
        dec.tally = {}
        dec.vote_ids = []
        dec.status = OPEN
        dec.resolved_at = None
        dec.resolved_by = None
        dec.bindings = bindings
        self.dec_open.setdefault(plan.id, {})[dec.id] = dec
        self.decisions.append(dec)
        self.seq += 1
        heappush(self.heap, (closes, self.seq, dec))

    def _votes(self, ev: Event, plans: list[ClausePlan]) -> None:
        fields = ev.fields
        decision = fields.get("decision")
        for plan in plans:
            if decision != plan.id:
                continue
            opened = self.dec_open.get(plan.id)
            if not opened:
                continue
            dec = next(iter(opened.values()))
            voter = fields.get(plan.actor_field or "by")
            choice = fields.get("choice")
            if voter not in dec.voter_set or voter in dec.tally or choice not in CHOICES:
                continue
            dec.tally[voter] = str(choice)
            dec.vote_ids.append(ev.id)
            outcome = self._outcome(dec)
            if outcome is not None:
                self._resolve(dec, outcome, ev.at, ev.id)

    @staticmethod
    def _outcome(dec: DecisionItem) -> DecisionStatus | None:
        rule = dec.plan.rule
        assert rule is not None
        n = len(dec.voters)
        values = list(dec.tally.values())
        yes = values.count("yes")
        no = values.count("no")
        silent = n - len(values)
        kind = rule.kind
        if kind is RuleKind.CONSENSUS:
            if no:
                return DecisionStatus.REJECTED
            return DecisionStatus.ADOPTED if silent == 0 else None
        if kind is RuleKind.UNANIMITY:
            need = n
        elif kind is RuleKind.MAJORITY:
            need = n // 2 + 1
        elif kind is RuleKind.QUALIFIED:
            need = -(-n * rule.num // rule.den) if rule.den else n
        else:
            need = rule.k
        if yes >= need:
            return DecisionStatus.ADOPTED
        if yes + silent < need:
            return DecisionStatus.REJECTED
        return None

    def _close(self, dec: DecisionItem) -> None:
        """The time to decide has passed without a result."""
        assert dec.plan.rule is not None
        if dec.plan.rule.kind is RuleKind.CONSENSUS:
            self._resolve(dec, DecisionStatus.ADOPTED, dec.closes_at, None)
        else:
            self._resolve(dec, DecisionStatus.LAPSED, dec.closes_at, None)

    def _resolve(
        self, dec: DecisionItem, outcome: DecisionStatus, at: datetime, by: str | None
    ) -> None:
        dec.status = outcome
        dec.resolved_at, dec.resolved_by = at, by
        opened = self.dec_open[dec.plan.id]
        del opened[dec.id]
        if not opened:
            del self.dec_open[dec.plan.id]
        cid = dec.plan.id
        on_verdict = self.plan.on_verdict
        fired = {DecisionStatus.ADOPTED: TriggerKind.ADOPTED,
                 DecisionStatus.REJECTED: TriggerKind.REJECTED}.get(outcome)
        for kind in (TriggerKind.ADOPTED, TriggerKind.REJECTED):
            for dep in on_verdict.get((kind, cid), ()):
                if kind is fired:
                    bindings = dict(dec.bindings)
                    if dep.binding:
                        bindings[dep.binding] = (dec.trigger_fields, dec.trigger_at,
                                                 dec.trigger_id)
                    self._fire(dep, bindings, dec.trigger_id, at, dec.id, dec.trigger_fields)
                else:
                    why = f"decision {dec.id} was {outcome.value} at {fmt_time(at)}"
                    self._not_arisen(at, dep, dec.trigger_id or dec.id, why)
