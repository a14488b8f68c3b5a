"""Sequential Phragmén for participatory budgeting (approval ballots).

Method: Phragmén's sequential rule as generalised to costs by Los, Christoff, Grossi, "Proportional
Budget Allocations: Towards a Systematization" (IJCAI 2022); semantics of pabutools
``sequential_phragmen``: funding project c spreads its cost over its supporters so that all of them
end at the same load ``(sum of their loads + cost_c) / supporters_c``; each round funds the project
with the smallest such load (ties: smallest id) and the rule stops as soon as that project no
longer fits in the budget. A voter's load is always the load of the last round that funded one of
her projects, so exact loads are rebuilt from the per-round loads when floats cannot separate a tie.
Complexity O(R * E) for R rounds over E ballot entries (one weighted bincount per round).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from opencall.engines.budgeting.columns import Columns
from opencall.engines.budgeting.model import IntArray
from opencall.engines.budgeting.rules.groups import shift_counts

_REL_TOL = 1e-9


@dataclass
class PhragmenResult:
    selected: list[int]
    loads: list[float]  # load after each funded round
    stopped_by: int | None  # project whose turn came but did not fit
    stop_round: int


def sequential_phragmen(
    cols: Columns, budget: Fraction, ranks: IntArray, *, initial: tuple[int, ...] = ()
) -> PhragmenResult:
    m = len(cols.costs)
    n = cols.num_voters
    score = np.diff(cols.ptr)  # supporters per project
    entry_project = np.repeat(np.arange(m, dtype=np.int64), score)
    last_round = np.full(n, -1, dtype=np.int64)  # round whose load a voter carries, -1 = 0
    round_loads: list[float] = []
    # exact loads are rebuilt only when floats cannot separate a tie: per round, how many of
    # the funded project's supporters came from each earlier round
    round_counts: list[tuple[list[int], int] | None] = []
    exact_memo: dict[int, Fraction] = {}
    load_f = np.zeros(n, dtype=np.float64)
    # money as integers on a common denominator: exact, and cheap to compare every round
    scale = math.lcm(budget.denominator, *(c.denominator for c in cols.costs))
    units = [c.numerator * (scale // c.denominator) for c in cols.costs]
    limit = budget.numerator * (scale // budget.denominator)
    spent = sum(units[c] for c in initial)
    taken = set(initial)
    remaining = [c for c in range(m) if c not in taken and units[c] <= limit]
    selected = list(initial)
    costs_f = cols.costs_float
    supporters_f = score.astype(np.float64)

    def exact_round_load(r: int) -> Fraction:
        got = exact_memo.get(r)
        if got is None:
            record = round_counts[r]
            assert record is not None  # nobody carries the load of an unsupported round
            counts, c = record
            total = sum((k * exact_round_load(q) for q, k in enumerate(counts[1:]) if k), Fraction(0))
            got = (total + cols.costs[c]) / int(score[c])
            exact_memo[r] = got
        return got

    def exact_new_load(c: int) -> Fraction:
        sup = cols.supporters(c)
        counts = np.bincount(last_round[sup] + 1, minlength=len(round_loads) + 1).tolist()
        total = sum((k * exact_round_load(q) for q, k in enumerate(counts[1:]) if k), Fraction(0))
        return (total + cols.costs[c]) / int(score[c])

    while remaining:
        sums = np.bincount(entry_project, weights=load_f[cols.voters], minlength=m)
        rem = np.asarray(remaining, dtype=np.int64)
        den = supporters_f[rem]
        # a project nobody supports gets load inf (never the smallest unless all are)
        new = np.full(len(rem), np.inf)
        np.divide(sums[rem] + costs_f[rem], den, out=new, where=den > 0)
        best = float(new.min())
        if best == np.inf:
            tied = [int(c) for c in rem]
            best_load = np.inf
        else:
            near = rem[new <= best * (1 + _REL_TOL)]
            if len(near) > 1:
                exact = {int(c): exact_new_load(int(c)) for c in near}
                low = min(exact.values())
                tied = [c for c, v in exact.items() if v == low]
                best_load = float(low)
            else:
                tied = [int(near[0])]
                best_load = best
        tied.sort(key=lambda c: int(ranks[c]))
        if any(spent + units[c] > limit for c in tied):
            return PhragmenResult(selected, round_loads, tied[0], len(round_loads))
        chosen = tied[0]
        selected.append(chosen)
        spent += units[chosen]
        remaining.remove(chosen)
        if best_load != np.inf:
            sup = cols.supporters(chosen)
            counts = np.bincount(last_round[sup] + 1, minlength=len(round_loads) + 1).tolist()
            round_counts.append((counts, chosen))
            last_round[sup] = len(round_loads)
            load_f[sup] = best_load
            round_loads.append(best_load)
        else:
            round_counts.append(None)
            round_loads.append(round_loads[-1] if round_loads else 0.0)
    return PhragmenResult(selected, round_loads, None, len(round_loads))


SMALL_ENTRIES = 3_000  # up to this many ballot entries, or
SMALL_PROJECTS = 50  # up to this many projects, :func:`small_phragmen` is the faster (measured)


def use_small(entries: int, projects: int) -> bool:
    """Whether :func:`small_phragmen` beats :func:`sequential_phragmen`: its rounds cost about
    (projects x voter groups) big-integer operations, against NumPy passes over every entry."""
    return entries <= SMALL_ENTRIES or projects <= SMALL_PROJECTS


def small_phragmen(
    n: int, sizes: list[int], masks: list[int], costs: tuple[Fraction, ...], budget: Fraction, ranks: list[int]
) -> PhragmenResult:
    """:func:`sequential_phragmen` in plain Python for small profiles (no NumPy call per round).

    Voters carry the load of the last round that funded one of their projects, so they fall in
    one group per round (bitmasks over voters; -1 is the initial load 0). Each remaining project
    keeps how many of its supporters every group holds; funding a project moves its supporters
    to the new round's group, updated with one AND and popcount per (project, group). Floats
    decide unless two loads are within ``_REL_TOL``; then exact loads are rebuilt from the
    per-round counts, as in :func:`sequential_phragmen`.
    """
    m = len(costs)
    scale = math.lcm(budget.denominator, *(c.denominator for c in costs))
    units = [c.numerator * (scale // c.denominator) for c in costs]
    limit = budget.numerator * (scale // budget.denominator)
    cost_f = [num / den for num, den in (c.as_integer_ratio() for c in costs)]
    remaining = [c for c in range(m) if units[c] <= limit]
    held: dict[int, dict[int, int]] = {c: ({-1: sizes[c]} if sizes[c] else {}) for c in remaining}
    group_mask: dict[int, int] = {-1: (1 << n) - 1}
    group_load: dict[int, float] = {-1: 0.0}
    round_loads: list[float] = []
    records: list[tuple[dict[int, int], int] | None] = []
    memo: dict[int, Fraction] = {}
    selected: list[int] = []
    spent = 0
    inf = float("inf")

    def exact_round_load(r: int) -> Fraction:
        got = memo.get(r)
        if got is None:
            record = records[r]
            assert record is not None  # nobody carries the load of an unsupported round
            got = exact_load(*record)
            memo[r] = got
        return got

    def exact_load(counts: dict[int, int], c: int) -> Fraction:
        total = sum((k * exact_round_load(r) for r, k in counts.items() if r >= 0), Fraction(0))
        return (total + costs[c]) / sizes[c]

    while remaining:
        new: dict[int, float] = {}
        best = inf
        for c in remaining:
            s = sizes[c]
            if not s:
                new[c] = inf
                continue
            total = 0.0
            for r, k in held[c].items():
                total += k * group_load[r]
            value = (total + cost_f[c]) / s
            new[c] = value
            if value < best:
                best = value
        if best == inf:
            tied = list(remaining)
            best_load = inf
        else:
            cap = best * (1 + _REL_TOL)
            near = [c for c in remaining if new[c] <= cap]
            if len(near) > 1:
                exact = {c: exact_load(held[c], c) for c in near}
                low = min(exact.values())
                tied = [c for c, v in exact.items() if v == low]
                best_load = float(low)
            else:
                tied = near
                best_load = best
        tied.sort(key=ranks.__getitem__)
        if any(spent + units[c] > limit for c in tied):
            return PhragmenResult(selected, round_loads, tied[0], len(round_loads))
        w = tied[0]
        selected.append(w)
        spent += units[w]
        remaining.remove(w)
        classes = held.pop(w)
        if best_load == inf:
            records.append(None)
            round_loads.append(round_loads[-1] if round_loads else 0.0)
            continue
        here = len(round_loads)
        records.append((classes, w))
        paying = masks[w]
        moves = []
        for r in classes:
            moved = group_mask[r] & paying
            group_mask[r] ^= moved
            moves.append((r, moved, here))
        group_mask[here] = paying
        group_load[here] = best_load
        for d in remaining:
            shift_counts(held[d], masks[d], moves)
        round_loads.append(best_load)
    return PhragmenResult(selected, round_loads, None, len(round_loads))
