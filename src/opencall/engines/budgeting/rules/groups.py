"""Voter groups as bitmasks, and when to use them: the plain-Python representation behind Equal
Shares and Phragmén on small approval profiles.

Voters who are alike for a rule (same remaining budget, same load) form a group; a group is an int
whose bit v is set when voter v belongs to it. Each project keeps how many of its supporters sit in
each group; when a funded project moves some voters to another group, those counts follow. The
rules themselves (prices, loads, ties, exact comparisons) are decided once in each rule's module;
this is only a second way to hold the same numbers, cheaper than NumPy calls on small inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from opencall.engines.budgeting.model import Election, IntArray

# Measured crossovers (bench/budgeting, Pabulib files): up to this many ballot entries, or up to this
# many projects, the bitmask representation beats the NumPy one for the rule.
_BITMASKS_UP_TO = {
    "equal-shares": (2_500, 12),  # few rounds, few budget groups
    "phragmen": (3_000, 50),  # a round costs about (projects x voter groups) big-integer operations
}


def bitmasks_pay_off(rule: str, entries: int, projects: int) -> bool:
    """Whether ``rule`` ("equal-shares" or "phragmen") runs faster on bitmask voter groups than on
    NumPy columns for a profile with ``entries`` ballot entries over ``projects`` projects."""
    max_entries, max_projects = _BITMASKS_UP_TO[rule]
    return entries <= max_entries or projects <= max_projects


def bitmasks(m: int, n: int, projects: IntArray, voters: IntArray) -> list[int]:
    """For each of ``m`` projects, the set of its voters (``voters[i]`` supports ``projects[i]``)
    as the bits of a Python int."""
    incidence = np.zeros((m, n), dtype=np.bool_)
    incidence[projects, voters] = True
    rows = np.packbits(incidence, axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in rows]


def approval_bitmasks(election: Election) -> tuple[list[int], list[int]]:
    """Supporters per project (counts, bitmasks) straight from the voter-major ballots."""
    m, n = election.num_projects, election.num_voters
    voters = np.repeat(np.arange(n, dtype=np.int64), np.diff(election.indptr))
    sizes: list[int] = np.bincount(election.indices, minlength=m).tolist()
    return sizes, bitmasks(m, n, election.indices, voters)


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
