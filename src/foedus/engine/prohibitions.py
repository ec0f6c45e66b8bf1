"""Prohibitions and permissions: when they apply, which acts violate or use them.

Stage: part of the run state (``engine.state``); the rules are in ``docs/semantics.md``
§6. A prohibition applies in periods (from the start, or from each trigger until its
deadline, within its window); every forbidden act inside a period is one violation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from foedus.engine.caches import Caches
from foedus.engine.matching import MISSING, Bindings
from foedus.engine.plan import PermissionPlan, ProhibitionPlan, beneficiary
from foedus.engine.records import NonArising, Period, RecordStore, Violation
from foedus.events.model import Event

__all__ = ["Prohibitions"]

ViolationFn = Callable[[Violation], None]
WhyOff = Callable[[str], str]  # why a clause does not apply now


class Prohibitions:
    """The periods in which prohibitions apply, the acts that break them, permissions used."""

    __slots__ = ("caches", "periods", "store", "violated")

    def __init__(self, store: RecordStore, caches: Caches, violated: ViolationFn) -> None:
        self.store = store
        self.caches = caches
        self.violated = violated
        self.periods: dict[str, dict[str, Period]] = {}  # action type -> key -> period

    def clone(self, store: RecordStore, violated: ViolationFn) -> Prohibitions:
        new = Prohibitions(store, self.caches, violated)
        new.periods = {t: dict(d) for t, d in self.periods.items()}
        return new

    def activate(
        self,
        plan: ProhibitionPlan,
        bindings: Bindings,
        at: datetime | None,
        end: datetime | None,
        key: str,
        members: tuple[str, ...],
        trigger_id: str | None,
    ) -> None:
        """Start a period of ``plan`` with id ``<clause>/<key>``; ``key`` "all" is untriggered.
        It is found by the events of each type the action lists."""
        test = plan.action.static or self.caches.action_of(plan.action, bindings)
        period = Period(plan, f"{plan.clause.id}/{key}", frozenset(members),
                        later(plan.window.start_at, at), earlier(plan.window.end_at, end),
                        test, trigger_id, at, bindings)
        for event in plan.action.events:
            self.periods.setdefault(event, {})[period.key] = period
        self.store.arisen.append(period)
        self.store.n_periods += 1

    def check(self, ev: Event, in_force: bool, off: set[str], why_off: WhyOff) -> None:
        """``ev`` violates every period it falls in whose parties include its actor.

        ``off`` holds the clauses a condition of their own keeps from applying now: an act
        they would forbid is noted as a non-arising, with ``why_off(clause)`` as reason.

        Inside overlapping periods of one clause an act is one violation, recorded against
        the oldest period; the others are breached all the same (none is respected).
        """
        periods = self.periods.get(ev.type)
        if not periods:
            return
        at, fields, kind = ev.at, ev.fields, ev.type
        store = self.store
        violated: set[str] = set()
        for period in list(periods.values()):
            plan = period.plan
            if not (in_force or plan.standalone) or not period.covers(at):
                continue
            actor = fields.get(plan.action.actors[kind] or "", MISSING)
            if actor not in period.members or not period.test(fields):
                continue
            if off and plan.clause.id in off:
                if plan.clause.id not in violated:
                    violated.add(plan.clause.id)
                    store.not_arisen.append(NonArising(at, plan.index, plan.clause.id, ev.id,
                                                       why_off(plan.clause.id)))
                continue
            store.breaches[period.key] = store.breaches.get(period.key, 0) + 1
            if plan.clause.id in violated:
                continue
            violated.add(plan.clause.id)
            owed = beneficiary(plan.beneficiary, period.bindings)
            violation = Violation(period, actor, ev.id, kind, at, fields, owed)
            store.arisen.append(violation)
            store.n_instances += 1
            self.violated(violation)

    def exercise(self, ev: Event, plans: tuple[PermissionPlan, ...], in_force: bool,
                 off: set[str]) -> None:
        """Record ``ev`` under each permission it uses (none that ``off`` names)."""
        at, fields, kind = ev.at, ev.fields, ev.type
        for plan in plans:
            if not (in_force or plan.standalone) or (off and plan.clause.id in off):
                continue
            window = plan.window
            if (window.start_at is not None and at < window.start_at) or (
                    window.end_at is not None and at > window.end_at):
                continue
            actor = fields.get(plan.action.actors[kind] or "", MISSING)
            members = plan.obligors.static
            if members is not None and actor not in members:
                continue
            test = plan.action.static
            if test is not None and not test(fields):
                continue
            self.store.permissions[plan.clause.id].append(ev.id)


def later(a: datetime | None, b: datetime | None) -> datetime | None:
    """The later of two optional instants (None is no bound)."""
    if a is None:
        return b
    return a if b is None else max(a, b)


def earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    """The earlier of two optional instants (None is no bound)."""
    if a is None:
        return b
    return a if b is None else min(a, b)
