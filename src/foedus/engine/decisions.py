"""Collective decisions: opening, votes, rules, time limits, outcomes.

Stage: part of the run state (``engine.state``); the rules are in ``docs/semantics.md``
§5. A decision resolves at the vote that makes its outcome certain, or when its time to
decide ends; the state then fires, or records as not arisen, the clauses gated on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from foedus.engine.clock import Clock
from foedus.engine.matching import Bindings
from foedus.engine.model import DecisionStatus
from foedus.engine.plan import DecisionPlan
from foedus.engine.records import DecisionRecord, RecordStore
from foedus.events.model import Event
from foedus.language.model import Rule, RuleKind

__all__ = ["CHOICES", "Decisions", "outcome", "votes_needed"]

CHOICES = ("yes", "no", "abstain")
OutcomeFn = Callable[[DecisionRecord], None]


def votes_needed(rule: Rule, n: int) -> int:
    """How many yes votes of ``n`` voters adopt a decision under ``rule`` (not consensus).

    >>> two_thirds = Rule(RuleKind.QUALIFIED, num=2, den=3)
    >>> votes_needed(Rule(RuleKind.MAJORITY), 5), votes_needed(two_thirds, 5)
    (3, 4)
    """
    kind = rule.kind
    if kind is RuleKind.UNANIMITY:
        return n
    if kind is RuleKind.MAJORITY:
        return n // 2 + 1
    if kind is RuleKind.QUALIFIED:
        return -(-n * rule.num // rule.den) if rule.den else n  # the ceiling of n * num / den
    return rule.k


def outcome(rule: Rule, n: int, tally: Mapping[str, str]) -> DecisionStatus | None:
    """The result the votes so far make certain (table in docs/semantics.md §5), or None.

    >>> outcome(Rule(RuleKind.MAJORITY), 5, {"US": "no", "GB": "abstain", "FR": "no"})
    <DecisionStatus.REJECTED: 'rejected'>
    """
    values = list(tally.values())
    yes, no = values.count("yes"), values.count("no")
    silent = n - len(values)
    if rule.kind is RuleKind.CONSENSUS:
        if no:
            return DecisionStatus.REJECTED
        return DecisionStatus.ADOPTED if silent == 0 else None
    need = votes_needed(rule, n)
    if yes >= need:
        return DecisionStatus.ADOPTED
    if yes + silent < need:
        return DecisionStatus.REJECTED
    return None


class Decisions:
    """The decisions of a run: open ones by clause, oldest first."""

    __slots__ = ("clock", "open", "resolved", "store")

    def __init__(self, store: RecordStore, clock: Clock, resolved: OutcomeFn) -> None:
        self.store = store
        self.clock = clock
        self.resolved = resolved
        self.open: dict[str, dict[str, DecisionRecord]] = {}  # clause -> id -> decision

    def clone(self, store: RecordStore, clock: Clock, resolved: OutcomeFn,
              memo: dict[int, Any]) -> Decisions:
        new = Decisions(store, clock, resolved)
        new.open = {c: {k: memo[id(d)] for k, d in opened.items()}
                    for c, opened in self.open.items()}
        return new

    def open_decision(
        self,
        plan: DecisionPlan,
        voters: tuple[str, ...],
        bindings: Bindings,
        trigger_id: str | None,
        trigger_type: str | None,
        at: datetime | None,
        key: str,
        fields: Mapping[str, Any],
    ) -> str | None:
        """Open a decision with its voters and time to decide; or say why none opened."""
        closes = plan.deadline.due(at, bindings)
        if closes is None or at is None:
            return "the decision has no time to decide"
        dec = DecisionRecord(plan, f"{plan.clause.id}/{key}", voters, trigger_id, trigger_type,
                             at, fields, closes, bindings)
        self.open.setdefault(plan.clause.id, {})[dec.id] = dec
        self.store.decisions.append(dec)
        self.clock.schedule(closes, dec)
        return None

    def vote(self, ev: Event, plans: tuple[DecisionPlan, ...]) -> None:
        """Count ``ev`` as a vote on the oldest open instance of the decision it names.

        Only a voter's first vote counts; votes by others and unknown choices are ignored.
        """
        fields = ev.fields
        named = fields.get("decision")
        for plan in plans:
            if named != plan.clause.id:
                continue
            opened = self.open.get(plan.clause.id)
            if not opened:
                continue
            dec = next(iter(opened.values()))
            voter = fields.get(plan.voter_field)
            choice = fields.get("choice")
            if voter not in dec.voter_set or voter in dec.tally or choice not in CHOICES:
                continue
            dec.tally[str(voter)] = str(choice)
            dec.vote_ids.append(ev.id)
            result = outcome(plan.rule, len(dec.voters), dec.tally)
            if result is not None:
                self.resolve(dec, result, ev.at, ev.id)

    def close(self, dec: DecisionRecord) -> None:
        """The time to decide has passed without a result: consensus adopts, others lapse."""
        result = (DecisionStatus.ADOPTED if dec.plan.rule.kind is RuleKind.CONSENSUS
                  else DecisionStatus.LAPSED)
        self.resolve(dec, result, dec.closes_at, None)

    def lapse_all(self, at: datetime, by: str, clause: str | None = None) -> None:
        """The treaty terminated: open decisions of non-standalone clauses lapse. With
        ``clause``, that clause terminated: its open decisions lapse."""
        for opened in list(self.open.values()):
            for dec in list(opened.values()):
                if clause is not None and dec.plan.clause.id != clause:
                    continue
                if clause is not None or not dec.plan.standalone:
                    self.resolve(dec, DecisionStatus.LAPSED, at, by)

    def resolve(self, dec: DecisionRecord, result: DecisionStatus, at: datetime,
                by: str | None) -> None:
        dec.state = result
        dec.resolved_at, dec.resolved_by = at, by
        opened = self.open[dec.plan.clause.id]
        del opened[dec.id]
        if not opened:
            del self.open[dec.plan.clause.id]
        self.resolved(dec)
