"""Walks up a hierarchy given as ``name -> parent`` (territories within territories,
clauses triggered by other clauses' verdicts), in time linear in its size however long its
chains: depths below the top, and the rings that have no top.

Stage: used by ``symbols`` and ``triggers``; pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["depths", "rings"]


def depths(parents: Mapping[str, str | None]) -> dict[str, int | None]:
    """For each name, how many ancestors it has (0 at the top), or None when the walk up
    enters a ring. A parent that is not a name itself counts as a top.

    >>> sorted(depths({"a": None, "b": "a", "c": "b", "x": "y", "y": "x"}).items())
    [('a', 0), ('b', 1), ('c', 2), ('x', None), ('y', None)]
    """
    out: dict[str, int | None] = {}
    for start in parents:
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = start
        while current is not None and current in parents and current not in out \
                and current not in on_path:
            path.append(current)
            on_path.add(current)
            current = parents[current]
        base: int | None
        if current is None or current not in parents:
            base = -1
        elif current in out:
            base = out[current]
        else:
            base = None  # back on the path: a ring
        for name in reversed(path):
            base = None if base is None else base + 1
            out[name] = base
    return out


def rings(parents: Mapping[str, str | None]) -> list[list[str]]:
    """The rings, each once, from its member that comes first in ``parents``, in the order
    the walk up from it meets them.

    >>> rings({"a": "b", "b": "c", "c": "b", "d": "d"})
    [['b', 'c'], ['d']]
    """
    order = {name: i for i, name in enumerate(parents)}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found: list[list[str]] = []
    for start in parents:
        path: list[str] = []
        current: str | None = start
        while current is not None and current in parents and current not in state:
            state[current] = 1
            path.append(current)
            current = parents[current]
        if current is not None and state.get(current) == 1:
            ring = path[path.index(current):]
            first = min(ring, key=order.__getitem__)
            at = ring.index(first)
            found.append(ring[at:] + ring[:at])
        for name in path:
            state[name] = 2
    found.sort(key=lambda ring: order[ring[0]])
    return found
