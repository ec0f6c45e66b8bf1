"""Collective decisions: opening, votes, rules, time limits and the clauses they gate.

Stage: part of ``engine.runtime`` (a mixin of :class:`~foedus.engine.runtime.Runtime`);
the rules are in ``docs/semantics.md`` §5.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from heapq import heappush
from typing import Any

from foedus.engine.deadlines import due_at
from foedus.engine.matching import Bindings, fmt_time
from foedus.engine.model import DecisionStatus
from foedus.engine.plan import ClausePlan
from foedus.engine.records import CHOICES, OPEN, DecisionItem
from foedus.events.model import Event
from foedus.language.model import Rule, RuleKind, TriggerKind

__all__ = ["Decisions", "votes_needed"]


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


class Decisions:
    """Decisions open, count votes and resolve (works on the state of ``Runtime``)."""

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
        """Open a decision instance with its voters and time to decide."""
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
        """Count ``ev`` as a vote on the oldest open instance of each decision it names."""
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
        """The result the votes so far make certain (table in docs/semantics.md §5), or None."""
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
        need = votes_needed(rule, n)
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
        """Settle ``dec`` and fire, or record as not arisen, the clauses gated on it."""
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
