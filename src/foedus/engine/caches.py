"""What an executor remembers of the plan's rules: results per distinct reference value.

Stage: owned by an executor (``engine.state``), shared by every copy of its state. The
rules of ``engine.plan`` are pure, so a result computed once for the values a clause's
references take (``attack.aggressor = RU``) holds for every later trigger with the same
values. Each cache starts over past ``LIMIT`` values, so a log with many distinct values
does not grow it without bound.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from foedus.engine.matching import Bindings, Test
from foedus.engine.plan import ActionPlan, ObligorsPlan, ref_key

__all__ = ["LIMIT", "Caches"]

LIMIT = 4096
T = TypeVar("T")


class Caches:
    """Obligor sets and action tests, per clause part and per value of its references."""

    __slots__ = ("actions", "obligors")

    def __init__(self) -> None:
        self.obligors: dict[int, dict[Any, tuple[str, ...]]] = {}
        self.actions: dict[int, dict[Any, Test]] = {}

    def obligors_of(self, part: ObligorsPlan, bindings: Bindings) -> tuple[str, ...]:
        """``part.resolve(bindings)``, remembered per value of its references."""
        if part.static is not None:
            return part.static
        return _remembered(self.obligors.setdefault(id(part), {}),
                           ref_key(part.refs, bindings), part.resolve, bindings)

    def action_of(self, part: ActionPlan, bindings: Bindings) -> Test:
        """``part.test(bindings)``, remembered per value of its references."""
        if part.static is not None:
            return part.static
        return _remembered(self.actions.setdefault(id(part), {}),
                           ref_key(part.refs, bindings), part.test, bindings)


def _remembered(cache: dict[Any, T], key: Any, rule: Callable[[Bindings], T],
                bindings: Bindings) -> T:
    """``rule(bindings)``, looked up in ``cache`` under ``key`` first."""
    try:
        got = cache.get(key)
    except TypeError:  # a value that cannot be a key
        return rule(bindings)
    if got is None:
        got = rule(bindings)
        if len(cache) >= LIMIT:
            cache.clear()
        cache[key] = got
    return got
