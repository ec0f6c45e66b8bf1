"""Records of a run: obligation instances, each-groups, decisions, prohibition periods.

Stage: created and settled by ``engine.runtime`` (and its parts ``engine.conditions``,
``engine.prohibitions``, ``engine.decisions``); read by ``engine.results``. Mutable while
open, never changed once settled, so copies of the state share settled records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from foedus.engine.matching import MISSING, Bindings, Test
from foedus.engine.model import DecisionStatus, ObligationStatus, ProhibitionStatus, TreatyStatus
from foedus.engine.plan import ClausePlan
from foedus.language.model import Ref

__all__ = [
    "Activation",
    "DecisionItem",
    "Group",
    "Item",
    "cached",
    "earlier",
    "later",
    "ref_key",
]

PENDING = ObligationStatus.PENDING
FULFILLED = ObligationStatus.FULFILLED
VIOLATED = ObligationStatus.VIOLATED
DISCHARGED = ObligationStatus.DISCHARGED
OPEN = DecisionStatus.OPEN
IN_FORCE = TreatyStatus.IN_FORCE
CHOICES = ("yes", "no", "abstain")
# distinct reference values whose matchers and obligor sets a clause keeps (see ``cached``)
CACHE_LIMIT = 4096

T = TypeVar("T")


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


def cached(cache: dict[Any, T], key: Any, build: Callable[[], T]) -> T:
    """``cache[key]``, from ``build()`` on a miss.

    The caches of a clause plan map reference values to what depends on them (matchers,
    obligor sets). Past ``CACHE_LIMIT`` values the cache starts over, so a log with many
    distinct values does not grow it without bound.

    >>> cache = {}
    >>> cached(cache, "RU", lambda: ("US", "GB")), cache
    (('US', 'GB'), {'RU': ('US', 'GB')})
    """
    got = cache.get(key)
    if got is None:
        got = build()
        if len(cache) > CACHE_LIMIT:
            cache.clear()
        cache[key] = got
    return got


def ref_key(refs: tuple[Ref, ...], bindings: Bindings) -> Any:
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


def later(a: datetime | None, b: datetime | None) -> datetime | None:
    """The later of two optional instants (None is no bound)."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    """The earlier of two optional instants (None is no bound)."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


