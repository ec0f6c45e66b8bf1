"""Foedus against reelay on bounded response: the same attacks are found violated.

The clause is "each attack obliges consultation within 72 hours". 200 seeded random
traces on an hourly grid are run through Foedus and through reelay's discrete-time
monitor for the past-time MTL formula (DESIGN.md §8)::

    once[72:72]{attack} and historically[0:72](not {consult})

which holds at step t exactly when an attack happened at t - 72 and no consultation
happened in [t - 72, t]. Each step where it holds names one violated attack. How the
two semantics line up (inclusive bounds, the end of the trace) is in
docs/semantics-differential.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import reelay

from foedus import Event, Monitor, Treaty, check_source

DEADLINE_HOURS = 72
START = datetime(2022, 3, 29, tzinfo=UTC)
TRACES = 200

TREATY = """\
treaty bounded_response "Each attack obliges consultation within 72 hours"

party UA "Ukraine", RU "Russia", G "Guarantor"

event attack(aggressor: party actor, victim: party)
event consult(by: party actor, with: party)

clause respond "72 hours"
  quote "each attack obliges consultation within 72 h"
  when attack() as a
  G must consult(with: UA) within 72 hours of a
"""


@dataclass(frozen=True)
class Trace:
    """Which hours have an attack and which a consultation; the trace ends at hour ``length-1``."""

    length: int
    attacks: frozenset[int]
    consults: frozenset[int]

    def events(self) -> list[Event]:
        # At one hour the attack sorts before the consultation ("a" < "c"), so a
        # consultation in the same hour answers it, as the closed bound in reelay does.
        out = [
            Event(
                f"a{h:05d}",
                START + timedelta(hours=h),
                "attack",
                {"aggressor": "RU", "victim": "UA"},
            )
            for h in sorted(self.attacks)
        ]
        out += [
            Event(f"c{h:05d}", START + timedelta(hours=h), "consult", {"by": "G", "with": "UA"})
            for h in sorted(self.consults)
        ]
        return out

    @property
    def as_of(self) -> datetime:
        # reelay's output at the last step has seen every event of that hour; Foedus
        # counts a deadline as passed only strictly after it, so read it just after.
        return START + timedelta(hours=self.length - 1, minutes=30)


def random_trace(rng: random.Random) -> Trace:
    length = rng.randint(1, 600)
    p_attack = rng.choice([0.005, 0.02, 0.08])
    p_consult = rng.choice([0.002, 0.01, 0.03, 0.1])
    attacks = frozenset(h for h in range(length) if rng.random() < p_attack)
    consults = frozenset(h for h in range(length) if rng.random() < p_consult)
    return Trace(length, attacks, consults)


def traces() -> list[Trace]:
    rng = random.Random(20220329)
    out = [random_trace(rng) for _ in range(TRACES - 4)]
    # Pinned edge cases: consultation exactly at the deadline, in the attack's hour,
    # one hour late, and an attack whose deadline is exactly the end of the trace.
    out.append(Trace(100, frozenset({0}), frozenset({72})))
    out.append(Trace(100, frozenset({5}), frozenset({5})))
    out.append(Trace(100, frozenset({0}), frozenset({73})))
    out.append(Trace(73, frozenset({0}), frozenset()))
    return out


def reelay_violations(trace: Trace) -> set[str]:
    """Attack ids whose deadline passed unanswered, by reelay's discrete-time monitor."""
    d = DEADLINE_HOURS
    monitor = reelay.discrete_timed_monitor(
        pattern=f"once[{d}:{d}]{{attack}} and historically[0:{d}](not {{consult}})"
    )
    violated: set[str] = set()
    value = False
    for hour in range(trace.length):
        out = monitor.update({"attack": hour in trace.attacks, "consult": hour in trace.consults})
        if "value" in out:  # the discrete monitor reports only changes
            value = bool(out["value"])
        if value:
            violated.add(f"a{hour - d:05d}")
    return violated


def oracle_violations(trace: Trace) -> set[str]:
    """The same verdicts by a direct reading of the clause, to check the reelay harness."""
    d = DEADLINE_HOURS
    return {
        f"a{h:05d}"
        for h in trace.attacks
        if h + d <= trace.length - 1 and not any(h <= c <= h + d for c in trace.consults)
    }


def foedus_violations(trace: Trace, treaty: Treaty) -> set[str]:
    monitor = Monitor(treaty)
    monitor.feed_many(trace.events())
    result = monitor.status(trace.as_of)
    return {o.trigger_event for o in result.obligations if str(o.state) == "violated"}


@pytest.fixture(scope="module")
def treaty() -> Treaty:
    checked = check_source(TREATY, "bounded_response.foedus")
    assert checked.treaty is not None, checked.diagnostics
    return checked.treaty


def test_reelay_harness_agrees_with_a_direct_reading() -> None:
    """reelay's verdicts equal a direct reading of the clause on every trace."""
    for trace in traces():
        assert reelay_violations(trace) == oracle_violations(trace), trace


def test_foedus_violations_equal_reelay(treaty: Treaty) -> None:
    """On 200 seeded traces Foedus marks exactly the attacks reelay finds unanswered."""
    total = 0
    for trace in traces():
        expected = reelay_violations(trace)
        assert foedus_violations(trace, treaty) == expected, trace
        total += len(expected)
    assert total > 100  # the traces do exercise violations
