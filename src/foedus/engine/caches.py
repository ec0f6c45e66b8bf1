"""What an executor remembers of the plan's rules: results per distinct reference value.

Stage: owned by an executor (``engine.state``), shared by every copy of its state. The
rules of ``engine.plan`` are pure, so a result computed once for the values a clause's
references take (``attack.aggressor = RU``) holds for every later trigger with the same
values. Each cache starts over past ``LIMIT`` values, so a log with many distinct values
does not grow it without bound.
"""

from __future__ import annotations

from typing import Any

from foedus.engine.matching import Bindings, Test
from foedus.engine.plan import ActionPlan, ObligorsPlan, ref_key

__all__ = ["LIMIT", "Caches"]

LIMIT = 4096


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
        cache = self.obligors.setdefault(id(part), {})
        key = ref_key(part.refs, bindings)
        try:
            got = cache.get(key)
        except TypeError:  # a value that cannot be a key
            return part.resolve(bindings)
        if got is None:
            got = part.resolve(bindings)
            if len(cache) >= LIMIT:
                cache.clear()
            cache[key] = got
        return got

    def action_of(self, part: ActionPlan, bindings: Bindings) -> Test:
        """``part.test(bindings)``, remembered per value of its references."""
        if part.static is not None:
            return part.static
        cache = self.actions.setdefault(id(part), {})
        key = ref_key(part.refs, bindings)
        try:
            got = cache.get(key)
        except TypeError:
            return part.test(bindings)
        if got is None:
            got = part.test(bindings)
            if len(cache) >= LIMIT:
                cache.clear()
            cache[key] = got
        return got
