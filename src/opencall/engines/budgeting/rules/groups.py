"""Voter groups as bitmasks, shared by the plain-Python Equal Shares and Phragmén passes.

Voters who are alike for a rule (same remaining budget, same load) form a group; a group is an int
whose bit v is set when voter v belongs to it. Each project keeps how many of its supporters sit in
each group; when a funded project moves some voters to another group, those counts follow.
"""

from __future__ import annotations

from collections.abc import Sequence


def shift_counts(counts: dict[int, int], support: int, moves: Sequence[tuple[int, int, int | None]]) -> None:
    """Update one project's supporters per group (`counts`; `support`: its supporters' bitmask)
    after `moves`: (group, voters that left it as a bitmask, group they joined, or None when that
    group is not counted)."""
    for source, moved, target in moves:
        had = counts.get(source)
        if had is None:
            continue
        k = (support & moved).bit_count()
        if not k:
            continue
        if k == had:
            del counts[source]
        else:
            counts[source] = had - k
        if target is not None:
            counts[target] = counts.get(target, 0) + k
