"""Sequential Phragmén for participatory budgeting (approval ballots).

Method: Phragmén's sequential rule as generalised to costs by Los, Christoff, Grossi, "Proportional
Budget Allocations: Towards a Systematization" (IJCAI 2022); semantics of pabutools
``sequential_phragmen``: funding project c spreads its cost over its supporters so that all of them
end at the same load ``(sum of their loads + cost_c) / supporters_c``; each round funds the project
with the smallest such load (ties: smallest id) and the rule stops as soon as that project no
longer fits in the budget. A voter's load is always the load of the last round that funded one of
her projects, so exact loads are rebuilt from the per-round loads when floats cannot separate a tie.

The rule is written once (:func:`_run`); voters' loads are held in one of two ways that answer the
same questions: :class:`_ArrayLoads` (NumPy over project columns; a round is one weighted bincount,
O(R * E) for R rounds over E ballot entries) and :class:`_BitLoads` (voters grouped by the round
whose load they carry, as bitmasks; a round costs about projects x groups big-integer operations),
faster on small profiles (:func:`~opencall.engines.budgeting.rules.groups.bitmasks_pay_off`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import numpy as np

from opencall.engines.budgeting.columns import Columns, project_columns
from opencall.engines.budgeting.model import Election
from opencall.engines.budgeting.rules.groups import approval_bitmasks, bitmasks_pay_off, shift_counts

_REL_TOL = 1e-9  # loads closer than this (relative) are compared again exactly
_INF = float("inf")


@dataclass
class PhragmenResult:
    selected: list[int]
    loads: list[float]  # load after each funded round
    stopped_by: int | None  # project whose turn came but did not fit
    stop_round: int


class _Loads(Protocol):
    """Voters' loads held one way or another; the rule asks them only these questions."""

    def track(self, projects: list[int]) -> None:
        """Only ``projects`` will be asked about (the others cannot fit the budget)."""

    def load_sums(self, remaining: list[int]) -> list[float]:
        """For each project in ``remaining``, the sum of its supporters' current loads."""

    def counts(self, c: int) -> dict[int, int]:
        """``c``'s supporters per round whose load they carry (-1: no load yet)."""

    def fund(self, c: int, load: float | None, here: int) -> None:
        """``c`` is funded in round ``here``: its supporters now carry ``load`` (None: it has none)."""


def _run(
    loads: _Loads, sizes: list[int], costs: tuple[Fraction, ...], budget: Fraction, ranks: list[int], initial: tuple[int, ...] = ()
) -> PhragmenResult:
    """Sequential Phragmén over ``loads``; ``initial`` projects count as already funded."""
    m = len(costs)
    # money as integers on a common denominator: exact, and cheap to compare every round
    scale = math.lcm(budget.denominator, *(c.denominator for c in costs))
    units = [c.numerator * (scale // c.denominator) for c in costs]
    limit = budget.numerator * (scale // budget.denominator)
    cost_f = [num / den for num, den in (c.as_integer_ratio() for c in costs)]
    spent = sum(units[c] for c in initial)
    taken = set(initial)
    remaining = [c for c in range(m) if c not in taken and units[c] <= limit]
    loads.track(remaining)
    selected = list(initial)
    round_loads: list[float] = []
    # exact loads are rebuilt only when floats cannot separate a tie: per round, how many of the
    # funded project's supporters came from each earlier round
    records: list[tuple[dict[int, int], int] | None] = []
    memo: dict[int, Fraction] = {}

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
        # the load funding c would put on its supporters; inf when nobody supports it (never the
        # smallest unless all are)
        new = [
            (total + cost_f[c]) / sizes[c] if sizes[c] else _INF
            for c, total in zip(remaining, loads.load_sums(remaining), strict=True)
        ]
        best = min(new)
        if best == _INF:
            tied = list(remaining)
            best_load = _INF
        else:
            cap = best * (1 + _REL_TOL)
            near = [c for c, value in zip(remaining, new, strict=True) if value <= cap]
            if len(near) > 1:
                exact = {c: exact_load(loads.counts(c), c) for c in near}
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
        if best_load == _INF:
            loads.fund(w, None, len(round_loads))
            records.append(None)
            round_loads.append(round_loads[-1] if round_loads else 0.0)
            continue
        records.append((loads.counts(w), w))
        loads.fund(w, best_load, len(round_loads))
        round_loads.append(best_load)
    return PhragmenResult(selected, round_loads, None, len(round_loads))


class _ArrayLoads:
    """Loads over project columns: ``last_round[v]`` is the round whose load voter v carries."""

    def __init__(self, cols: Columns) -> None:
        m, n = len(cols.costs), cols.num_voters
        self.cols = cols
        self.entry_project = np.repeat(np.arange(m, dtype=np.int64), np.diff(cols.ptr))
        self.last_round = np.full(n, -1, dtype=np.int64)
        self.load = np.zeros(n, dtype=np.float64)
        self.rounds = 0

    def track(self, projects: list[int]) -> None:
        pass  # every round sums over all entries anyway

    def load_sums(self, remaining: list[int]) -> list[float]:
        sums = np.bincount(self.entry_project, weights=self.load[self.cols.voters], minlength=len(self.cols.costs))
        out: list[float] = sums[remaining].tolist()
        return out

    def counts(self, c: int) -> dict[int, int]:
        sup = self.cols.supporters(c)
        per_round: list[int] = np.bincount(self.last_round[sup] + 1, minlength=self.rounds + 1).tolist()
        return {r - 1: k for r, k in enumerate(per_round) if k}

    def fund(self, c: int, load: float | None, here: int) -> None:
        self.rounds = here + 1
        if load is not None:
            sup = self.cols.supporters(c)
            self.last_round[sup] = here
            self.load[sup] = load


class _BitLoads:
    """Loads by groups of voters (bitmasks) who carry the load of the same round (-1: none yet).
    Each remaining project keeps how many of its supporters every group holds; funding a project
    moves its supporters to the new round's group, with one AND and popcount per (project, group)."""

    def __init__(self, n: int, sizes: list[int], masks: list[int]) -> None:
        self.sizes = sizes
        self.masks = masks
        self.held: dict[int, dict[int, int]] = {}
        self.group_mask: dict[int, int] = {-1: (1 << n) - 1}
        self.group_load: dict[int, float] = {-1: 0.0}

    def track(self, projects: list[int]) -> None:
        self.held = {c: ({-1: self.sizes[c]} if self.sizes[c] else {}) for c in projects}

    def load_sums(self, remaining: list[int]) -> list[float]:
        out = []
        group_load = self.group_load
        for c in remaining:
            total = 0.0
            for r, k in self.held[c].items():
                total += k * group_load[r]
            out.append(total)
        return out

    def counts(self, c: int) -> dict[int, int]:
        return self.held[c]

    def fund(self, c: int, load: float | None, here: int) -> None:
        classes = self.held.pop(c)
        if load is None:
            return
        paying = self.masks[c]
        moves = []
        for r in classes:
            moved = self.group_mask[r] & paying
            self.group_mask[r] ^= moved
            moves.append((r, moved, here))
        self.group_mask[here] = paying
        self.group_load[here] = load
        for d, held in self.held.items():
            shift_counts(held, self.masks[d], moves)


def sequential_phragmen(cols: Columns, budget: Fraction, ranks: list[int], *, initial: tuple[int, ...] = ()) -> PhragmenResult:
    """Sequential Phragmén over the project columns (``cols``: approval utilities)."""
    sizes: list[int] = np.diff(cols.ptr).tolist()
    return _run(_ArrayLoads(cols), sizes, cols.costs, budget, ranks, initial)


def phragmen_of(election: Election, *, groups: str | None = None) -> PhragmenResult:
    """Sequential Phragmén of an approval ``election``; ``groups`` ("bits" or "arrays") forces how
    loads are held (default: the faster for its size)."""
    if groups is None:
        groups = "bits" if bitmasks_pay_off("phragmen", len(election.indices), election.num_projects) else "arrays"
    costs = tuple(p.cost for p in election.projects)
    ranks = election.name_rank_list()
    if groups == "bits":
        sizes, masks = approval_bitmasks(election)
        return _run(_BitLoads(election.num_voters, sizes, masks), sizes, costs, election.budget, ranks)
    return sequential_phragmen(project_columns(election, "approval"), election.budget, ranks)
