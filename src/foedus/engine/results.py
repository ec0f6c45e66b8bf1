"""From a run's records to a :class:`RunResult`, with an :class:`Explanation` for every entry.

Stage: after the executors (a :class:`~foedus.engine.state.RunState` as of one instant);
before the report and the interfaces, which only render these values. Nothing is built
before it is read: :class:`LazyTuple` holds the records, each
:class:`~foedus.engine.model.ObligationInstance` reads its record when asked, and an
explanation's text is formatted only when the explanation is read. Times are shown in the
treaty's zone, whatever zone the events were written in.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, tzinfo
from enum import Enum
from typing import Any, Protocol, TypeVar, overload

from foedus.engine.decisions import votes_needed
from foedus.engine.event_explain import explain_event
from foedus.engine.matching import (
    Bindings,
    fmt_time,
    pattern_fields,
    render_pattern,
    render_step,
)
from foedus.engine.model import (
    FIELDS,
    TIME_FIELDS,
    DecisionInstance,
    DecisionStatus,
    EventExplanation,
    Explanation,
    NonArising,
    ObligationInstance,
    ObligationStatus,
    ProhibitionStatus,
    Row,
    RunResult,
)
from foedus.engine.plan import (
    ClausePlan,
    ConditionPlan,
    ObligationPlan,
    Plan,
    ProhibitionPlan,
    ref_key,
)
from foedus.engine.records import (
    CollectiveRecord,
    DecisionRecord,
    EachRecord,
    Period,
    Record,
    RecordStore,
    Violation,
    verdict_states,
)
from foedus.engine.records import NonArising as NonArisingRecord
from foedus.engine.state import RunState
from foedus.engine.status import cause_text
from foedus.events.model import Event, micros
from foedus.language.model import ClauseKind, RuleKind

__all__ = ["LazyTuple", "build_result", "clause_explanation", "explain", "explain_event_id",
           "fmt_time", "late_text"]

T = TypeVar("T")

PENDING = ObligationStatus.PENDING
FULFILLED = ObligationStatus.FULFILLED
VIOLATED = ObligationStatus.VIOLATED
DISCHARGED = ObligationStatus.DISCHARGED


class HasBindings(Protocol):
    """What an action is rendered under: a record, or a trigger of the columnar executor."""

    @property
    def bindings(self) -> Bindings: ...


class View:
    """What the instances of one result share: the zone, the as-of time, rendered actions."""

    __slots__ = ("action_data", "actions", "as_of", "breaches", "late", "plan", "tz")

    def __init__(self, plan: Plan, as_of: datetime, breaches: dict[str, int],
                 late: dict[str, tuple[datetime, str]] | None = None) -> None:
        self.plan = plan
        self.tz: tzinfo = plan.tz
        self.as_of = as_of
        self.breaches = breaches
        self.late = late or {}  # instance id -> (time, event) of its late performance
        self.actions: dict[Any, str] = {}
        self.action_data: dict[Any, str] = {}

    def time(self, at: datetime | None) -> datetime | None:
        return at.astimezone(self.tz) if at is not None else None

    def text(self, at: datetime | None) -> str:
        return fmt_time(at, self.tz)

    def action_json(self, plan: ObligationPlan | ProhibitionPlan, record: HasBindings) -> str:
        """The action of ``plan`` as JSON text (``matching.pattern_fields``), shared too."""
        action = plan.action
        try:
            key = (plan.index, ref_key(action.refs, record.bindings))
            got = self.action_data.get(key)
        except TypeError:  # a value that cannot be a key
            return _json_text(pattern_fields(action.pattern, record.bindings))
        if got is None:
            got = self.action_data[key] = _json_text(pattern_fields(action.pattern,
                                                                    record.bindings))
        return got

    def action(self, plan: ObligationPlan | ProhibitionPlan, record: HasBindings) -> str:
        """The rendered action of ``plan`` under the record's bindings (shared by groups)."""
        action = plan.action
        try:
            key = (plan.index, ref_key(action.refs, record.bindings))
            got = self.actions.get(key)
        except TypeError:  # a value that cannot be a key: render it here
            return render_pattern(action.pattern, record.bindings)
        if got is None:
            got = self.actions[key] = render_pattern(action.pattern, record.bindings)
        return got


def _json_text(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _explanation(plan: ClausePlan, reason: str, events: tuple[str, ...]) -> Explanation:
    clause = plan.clause
    return Explanation(clause.id, clause.title, clause.quotes, reason, events)


def late_text(delta: timedelta) -> str:
    """How late an act was, in words: the two largest units.

    >>> late_text(timedelta(minutes=31))
    '31 min'
    >>> late_text(timedelta(days=2, hours=3, minutes=5))
    '2 days 3 h'
    >>> late_text(timedelta(microseconds=1))
    '1 µs'
    """
    seconds, micro = divmod(delta // timedelta(microseconds=1), 1_000_000)
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    parts = [f"{days} day{'s' if days != 1 else ''}" if days else "",
             f"{hrs} h" if hrs else "", f"{mins} min" if mins else "", f"{secs} s" if secs else ""]
    shown = [p for p in parts if p][:2]
    return " ".join(shown) if shown else f"{micro} µs"


def _performed(view: View, instance: str, due_at: datetime) -> tuple[str, tuple[str, ...]]:
    """What the explanation of a violated instance adds when it was performed late."""
    got = view.late.get(instance)
    if got is None:
        return "", ()
    at, by = got
    return (f" It was performed {late_text(at - due_at)} late by {by} at {view.text(at)}.",
            (by,))


def _origin(view: View, plan: ClausePlan, trigger_id: str | None,
            trigger_at: datetime | None, trigger_type: str | None) -> str:
    """How an instance arose, for its explanation."""
    trigger = plan.trigger
    if trigger_id is None:
        return "arose at the start" if trigger_at is None else "arose"
    when = view.text(trigger_at)
    if trigger is None or trigger.pattern is None:
        if trigger is not None and trigger.source is not None:
            return (f"arose when clause {trigger.source} was {trigger.kind.value} at {when} "
                    f"(from event {trigger_id})")
        return f"arose when the treaty entered into force at {when} (event {trigger_id})"
    return f"arose from {trigger_type or trigger.pattern.event} {trigger_id} at {when}"


# ---------------------------------------------------------------- sources of instances


class EachSource:
    """The instances of an `each` record, one per obligor."""

    __slots__ = ("record", "tz", "view")

    def __init__(self, record: EachRecord, view: View) -> None:
        self.record = record
        self.view = view
        self.tz = view.tz

    def instance_id(self, party: str | None) -> str:
        return self.record.key + str(party)

    def state(self, party: str | None) -> ObligationStatus:
        got = self.record.outcome.get(party)  # type: ignore[arg-type]
        return PENDING if got is None else got[0]

    def fields(self, party: str | None) -> Row:
        r, view = self.record, self.view
        got = r.outcome.get(str(party))
        state, at, by = (PENDING, None, None) if got is None else got
        iid = r.key + str(party)
        done = view.late.get(iid) if state is VIOLATED else None
        return (iid, r.plan.clause.id, "obligation", party,
                view.action(r.plan, r), view.action_json(r.plan, r), r.beneficiary,
                r.trigger_id, r.trigger_at, r.due_at, state, at, by,
                *(done or (None, None)))

    def explain(self, party: str | None) -> Explanation:
        r, view = self.record, self.view
        action = view.action(r.plan, r)
        head = (f"It {_origin(view, r.plan, r.trigger_id, r.trigger_at, r.trigger_type)}; "
                f"due {view.text(r.due_at)}; ")
        base = (r.trigger_id,) if r.trigger_id else ()
        got = r.outcome.get(str(party))
        if got is None:
            return _explanation(r.plan, f"{head}no {action} by {party} yet.", base)
        state, at, by = got
        if state is FULFILLED:
            reason = f"{head}fulfilled by {by} at {view.text(at)}: {action} by {party}."
            return _explanation(r.plan, reason, (*base, str(by)))
        if state is VIOLATED:
            late, by_event = _performed(view, r.key + str(party), r.due_at)
            return _explanation(r.plan, f"{head}no {action} by {party} by then.{late}",
                                (*base, *by_event))
        reason = (f"{head}discharged when the treaty terminated at {view.text(at)} "
                  f"(event {by}).")
        return _explanation(r.plan, reason, (*base, str(by)))


class CollectiveSource:
    """The one instance of an `any of` / `at least k of` record."""

    __slots__ = ("record", "tz", "view")

    def __init__(self, record: CollectiveRecord, view: View) -> None:
        self.record = record
        self.view = view
        self.tz = view.tz

    def instance_id(self, party: str | None) -> str:
        return self.record.id

    def state(self, party: str | None) -> ObligationStatus:
        verdict = self.record.verdict
        return PENDING if verdict is None else verdict[0]

    def fields(self, party: str | None) -> Row:
        r, view = self.record, self.view
        state, at, by = (PENDING, None, None) if r.verdict is None else r.verdict
        done = view.late.get(r.id) if state is VIOLATED else None
        return (r.id, r.plan.clause.id, "obligation", r.label, view.action(r.plan, r),
                view.action_json(r.plan, r), r.beneficiary, r.trigger_id, r.trigger_at,
                r.due_at, state, at, by, *(done or (None, None)))

    def explain(self, party: str | None) -> Explanation:
        r, view = self.record, self.view
        action = view.action(r.plan, r)
        head = (f"It {_origin(view, r.plan, r.trigger_id, r.trigger_at, r.trigger_type)}; "
                f"due {view.text(r.due_at)}; ")
        events: list[str] = [r.trigger_id] if r.trigger_id else []
        state, at, by = (PENDING, None, None) if r.verdict is None else r.verdict
        if state is FULFILLED:
            who = ", ".join(f"{p} ({e})" for p, e in r.acted.items())
            among = r.plan.obligors.spec.among.name
            reason = (f"{head}fulfilled when {len(r.acted)} of {among} did {action}: {who}.")
            events.extend(r.acted.values())
        elif state is VIOLATED:
            partial = f" (only {len(r.acted)} of {r.k} acted)" if r.k > 1 else ""
            late, by_event = _performed(view, r.id, r.due_at)
            reason = f"{head}no {action} by {r.label} by then{partial}.{late}"
            events.extend(r.acted.values())
            events.extend(by_event)
        elif state is DISCHARGED:
            reason = (f"{head}discharged when the treaty terminated at {view.text(at)} "
                      f"(event {by}).")
            events.append(str(by))
        else:
            reason = f"{head}no {action} by {r.label} yet."
        return _explanation(r.plan, reason, tuple(events))


class ViolationSource:
    """An act a prohibition forbade."""

    __slots__ = ("record", "tz", "view")

    def __init__(self, record: Violation, view: View) -> None:
        self.record = record
        self.view = view
        self.tz = view.tz

    def instance_id(self, party: str | None) -> str:
        return self.record.id

    def state(self, party: str | None) -> ProhibitionStatus:
        return ProhibitionStatus.VIOLATED

    def fields(self, party: str | None) -> Row:
        r, view = self.record, self.view
        period = r.period
        return (r.id, r.plan.clause.id, "prohibition", r.actor, view.action(r.plan, period),
                view.action_json(r.plan, period), r.beneficiary, period.trigger_id,
                period.trigger_at, None, ProhibitionStatus.VIOLATED, r.at, r.event_id, None,
                None)

    def explain(self, party: str | None) -> Explanation:
        r, view = self.record, self.view
        action = view.action(r.plan, r.period)
        if r.plan.action.pattern.alternatives:  # what the act was, of the types listed
            action = render_pattern(r.plan.action.pattern, r.period.bindings, r.event_type)
        reason = (f"{r.actor} did {action} (event {r.event_id} at {view.text(r.at)}) "
                  "while the prohibition applied.")
        events = tuple(e for e in (r.period.trigger_id, r.event_id) if e)
        return _explanation(r.plan, reason, events)


class RespectedSource:
    """A period in which a prohibition applied and nobody broke it (so far)."""

    __slots__ = ("record", "tz", "view")

    def __init__(self, record: Period, view: View) -> None:
        self.record = record
        self.view = view
        self.tz = view.tz

    def instance_id(self, party: str | None) -> str:
        return self.record.key

    def state(self, party: str | None) -> ProhibitionStatus:
        return ProhibitionStatus.RESPECTED

    def fields(self, party: str | None) -> Row:
        r, view = self.record, self.view
        closed = r.end_at is not None and view.as_of > r.end_at
        return (r.key, r.plan.clause.id, "prohibition", r.plan.obligors.label,
                view.action(r.plan, r), view.action_json(r.plan, r), None, r.trigger_id,
                r.trigger_at, r.end_at, ProhibitionStatus.RESPECTED,
                r.end_at if closed else None, None, None, None)

    def explain(self, party: str | None) -> Explanation:
        r, view = self.record, self.view
        action = view.action(r.plan, r)
        members = ", ".join(sorted(r.members)) or "nobody"
        scope = []
        if r.start_at is not None:
            scope.append(f"from {view.text(r.start_at)}")
        if r.end_at is not None:
            scope.append(f"until {view.text(r.end_at)}")
        when = " ".join(scope) or "while the treaty is in force"
        reason = f"No {action} by {members} {when}, as of {view.text(view.as_of)}."
        return _explanation(r.plan, reason, (r.trigger_id,) if r.trigger_id else ())


def instances(records: list[Record], view: View) -> tuple[ObligationInstance, ...]:
    out: list[ObligationInstance] = []
    append = out.append
    breaches = view.breaches
    for x in records:
        if type(x) is EachRecord:
            source = EachSource(x, view)
            for party in x.obligors:
                append(ObligationInstance(source, party))
        elif type(x) is CollectiveRecord:
            append(ObligationInstance(CollectiveSource(x, view)))
        elif type(x) is Violation:
            append(ObligationInstance(ViolationSource(x, view)))
        elif not breaches.get(x.key):
            append(ObligationInstance(RespectedSource(x, view)))
    return tuple(out)


# ---------------------------------------------------------------- decisions and the rest


def _rule_text(dec: DecisionRecord) -> str:
    rule = dec.plan.rule
    n = len(dec.voters)
    if rule.kind is RuleKind.UNANIMITY:
        return f"unanimity (all {n} must vote yes)"
    if rule.kind is RuleKind.MAJORITY:
        return f"majority ({votes_needed(rule, n)} of {n} yes)"
    if rule.kind is RuleKind.QUALIFIED:
        return f"{rule.num}/{rule.den} majority ({votes_needed(rule, n)} of {n} yes)"
    if rule.kind is RuleKind.AT_LEAST:
        return f"at least {rule.k} yes of {n}"
    return "consensus (adopted unless a voter objects)"


def _decision(dec: DecisionRecord, view: View) -> DecisionInstance:
    plan = dec.plan
    tally = ", ".join(f"{v} {c}" for v, c in dec.tally.items()) or "no votes"
    base = (f"It {_origin(view, plan, dec.trigger_id, dec.trigger_at, dec.trigger_type)}; voters "
            f"{', '.join(dec.voters)}; rule {_rule_text(dec)}; time to decide until "
            f"{view.text(dec.closes_at)}; votes: {tally}.")
    if dec.state is DecisionStatus.OPEN:
        reason = base + " Still open."
    elif dec.resolved_by is not None:
        reason = base + (f" {dec.state.value.capitalize()} at {view.text(dec.resolved_at)} "
                         f"(event {dec.resolved_by}).")
    elif dec.state is DecisionStatus.ADOPTED:
        reason = base + " Adopted when the time to decide ended with no objection."
    else:
        reason = base + " Lapsed: the time to decide ended without a result."
    events = tuple(e for e in (dec.trigger_id, *dec.vote_ids) if e)
    opened = view.time(dec.trigger_at)
    closes = view.time(dec.closes_at)
    assert opened is not None and closes is not None
    return DecisionInstance(
        id=dec.id,
        clause=plan.id,
        trigger_event=dec.trigger_id or "",
        opened_at=opened,
        closes_at=closes,
        voters=dec.voters,
        state=dec.state,
        tally=dict(sorted(dec.tally.items())),
        resolved_at=view.time(dec.resolved_at),
        explanation=_explanation(plan, reason, events),
    )


def _condition_text(state: RunState, plan: ConditionPlan, view: View) -> str:
    progress = state.status.progress[plan.id]
    total = len(plan.steps)
    done_at, done_by = progress.met_at, progress.met_by
    cause = cause_text(done_by or "", progress.met_how)
    if done_at is not None and progress.step >= total:
        return f"met at {view.text(done_at)} ({cause})"
    if progress.step >= total:
        return "met"
    waiting = [render_step(p) for j, p in enumerate(plan.steps[progress.step])
               if j not in progress.matched]
    prefix = f"met at {view.text(done_at)} ({cause}); again: " if done_at else ""
    return f"{prefix}step {progress.step + 1} of {total}: waiting for {' and '.join(waiting)}"


def _not_arisen(records: list[NonArisingRecord]) -> tuple[NonArising, ...]:
    return tuple(NonArising(r.clause, r.event, r.reason) for r in records)


class LazyTuple(Sequence[T]):
    """A tuple whose items are built on first access: the compact result store.

    Its length is known without building the items. It compares equal to a tuple, or to
    another :class:`LazyTuple`, with the same items.

    >>> LazyTuple(lambda: (1, 2), 2) == (1, 2)
    True
    """

    __slots__ = ("_build", "_built", "_size")

    def __init__(self, build: Callable[[], tuple[T, ...]], size: int) -> None:
        self._build: Callable[[], tuple[T, ...]] | None = build
        self._built: tuple[T, ...] | None = None
        self._size = size

    def materialize(self) -> tuple[T, ...]:
        """Every item, as a tuple.

        The cyclic collector is paused while the items are built: they make no cycles,
        and it would otherwise rescan the growing result every few hundred allocations.
        """
        if self._built is None:
            assert self._build is not None
            enabled = gc.isenabled()
            gc.disable()
            try:
                self._built = self._build()
            finally:
                if enabled:
                    gc.enable()
            self._build = None  # drop the records it was built from
        return self._built

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[T, ...]: ...

    def __getitem__(self, index: int | slice) -> Any:
        return self.materialize()[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self.materialize())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyTuple):
            return self.materialize() == other.materialize()
        if isinstance(other, tuple):
            return self.materialize() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.materialize())


def once(build: Callable[[], T]) -> Callable[[], T]:
    """``build``, called at most once."""
    done: list[T] = []

    def get() -> T:
        if not done:
            done.append(build())
        return done[0]

    return get


def records_table(records: list[Record], view: View) -> Any:
    """``RunResult.table`` straight from the records (see :func:`records_blocks`)."""
    import pyarrow as pa

    blocks = list(records_blocks(records, view))
    return pa.concat_tables(blocks) if blocks else _verdict_block([[] for _ in FIELDS])


def records_blocks(records: list[Record], view: View, size: int = 65_536) -> Iterator[Any]:
    """The verdict columns, about ``size`` verdicts at a time, straight from the records:
    what obligors of one record share is read once. The same rows as ``verdict_table`` of
    the instances (a test checks)."""
    columns: list[list[Any]] = [[] for _ in FIELDS]
    (ids, clauses, kinds, obligors, actions, action_data, owed, triggers, triggered, dues,
     states, settled, settlers, performed, performers) = columns
    breaches, late = view.breaches, view.late
    for x in records:
        if len(ids) >= size:
            yield _verdict_block(columns)
            for column in columns:
                column.clear()
        if type(x) is EachRecord:
            n = len(x.obligors)
            ids.extend(x.key + p for p in x.obligors)
            obligors.extend(x.obligors)
            for p in x.obligors:
                got = x.outcome.get(p)
                if got is None:
                    states.append("pending")
                    settled.append(None)
                    settlers.append(None)
                else:
                    states.append(got[0].value)
                    settled.append(got[1])
                    settlers.append(got[2])
                done = late.get(x.key + p) if late and got is not None and \
                    got[0] is VIOLATED else None
                performed.append(done[0] if done else None)
                performers.append(done[1] if done else None)
            clauses.extend([x.plan.clause.id] * n)
            kinds.extend(["obligation"] * n)
            actions.extend([view.action(x.plan, x)] * n)
            action_data.extend([view.action_json(x.plan, x)] * n)
            owed.extend([x.beneficiary] * n)
            triggers.extend([x.trigger_id] * n)
            triggered.extend([x.trigger_at] * n)
            dues.extend([x.due_at] * n)
            continue
        if type(x) is Period and breaches.get(x.key):
            continue
        source = (CollectiveSource(x, view) if type(x) is CollectiveRecord
                  else ViolationSource(x, view) if type(x) is Violation
                  else RespectedSource(x, view))
        for column, value in zip(columns, source.fields(None), strict=True):
            column.append(value.value if isinstance(value, Enum) else value)
    if ids:
        yield _verdict_block(columns)


def _verdict_block(columns: list[list[Any]]) -> Any:
    import pyarrow as pa

    utc = pa.timestamp("us", tz="UTC")
    return pa.table({
        name: pa.array(_micros(values), pa.int64()).cast(utc) if name in TIME_FIELDS
        else pa.array(values, pa.string())
        for name, values in zip(FIELDS, columns, strict=True)
    })


def _micros(times: list[datetime | None]) -> list[int | None]:
    """Microseconds since the epoch (pyarrow converts aware datetimes several times slower)."""
    return [None if t is None else micros(t) for t in times]


def build_result(state: RunState, as_of: datetime) -> RunResult:
    """The result of ``state`` (a private copy, advanced to ``as_of``).

    Entries come in the order they arose, which depends only on the sorted events: the
    trigger time, then the event id, then the clause order, then the obligor order.
    """
    plan = state.plan
    store: RecordStore = state.store
    view = View(plan, as_of, store.breaches, store.late)
    obligations = LazyTuple(lambda: instances(store.arisen, view), store.size())

    def explainer(ev: Event) -> EventExplanation:
        return explain_event(plan, store, state.status, result, ev)

    result = RunResult(
        treaty=plan.name,
        as_of=as_of.astimezone(view.tz),
        treaty_status=state.status.status,
        obligations=obligations,
        decisions=tuple(_decision(d, view) for d in store.decisions),
        not_arisen=LazyTuple(lambda: _not_arisen(store.not_arisen), len(store.not_arisen)),
        conditions={p.id: _condition_text(state, p, view) for p in plan.conditions},
        permissions={k: tuple(v) for k, v in sorted(store.permissions.items())},
        zone=plan.zone,
        columns=once(lambda: records_table(store.arisen, view)),
        blocks=lambda: records_blocks(store.arisen, view),
        counter=lambda: record_counts(store),
        event_explainer=explainer,
    )
    return result


def record_counts(store: RecordStore) -> dict[str, dict[str, int]]:
    """``RunResult.counts`` from the records, building no instance (with those a run that
    keeps counts only has already counted and dropped)."""
    out = {k: dict(v) for k, v in store.forgotten.items()}
    for x in store.arisen:
        for clause, state, n in verdict_states(x, store.breaches):
            per = out.setdefault(clause, {})
            per[state] = per.get(state, 0) + n
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def clause_explanation(plan: ClausePlan, result: RunResult) -> Explanation:
    """Why a clause produced what it did: its instances, and every trigger that did not count."""
    mine = [o for o in result.obligations if o.clause == plan.id]
    decisions = [d for d in result.decisions if d.clause == plan.id]
    missed = [n for n in result.not_arisen if n.clause == plan.id]
    parts = []
    if mine or decisions:
        parts.append(f"{len(mine) + len(decisions)} instance(s) arose or were recorded.")
    for n in missed:
        parts.append(f"Event {n.event} did not count: {n.reason}.")
    if not parts:
        if plan.kind is ClauseKind.CONDITION:
            parts.append(f"Condition: {result.conditions.get(plan.id, '')}.")
        elif plan.trigger is not None and plan.trigger.pattern is not None:
            parts.append(f"No {' or '.join(plan.trigger.events)} event matched "
                         f"{render_pattern(plan.trigger.pattern)}.")
        else:
            parts.append("Nothing arose from this clause.")
    return _explanation(plan, " ".join(parts), tuple(n.event for n in missed))



def explain(plan: Plan, result: RunResult, item_id: str) -> Explanation | None:
    """The explanation of an obligation, prohibition or decision instance, or of a clause."""
    for o in result.obligations:
        if o.id == item_id:
            return o.explanation
    for d in result.decisions:
        if d.id == item_id:
            return d.explanation
    clause = plan.by_id.get(item_id)
    return clause_explanation(clause, result) if clause is not None else None


def explain_event_id(result: RunResult, events: Iterable[Event], event_id: str
                     ) -> EventExplanation | None:
    """What the event ``event_id`` of ``events`` did in ``result``; None when no event has
    that id (or the result cannot say, being built without its records)."""
    if result.event_explainer is None:
        return None
    for ev in events:
        if ev.id == event_id:
            return result.event_explainer(ev)
    return None
