"""Fair assignment: the worst-served idea first, then total affinity.

Objective (as in FairIR/FairFlow, Kobren, Saha, McCallum, "Paper Matching with Local
Fairness Constraints", KDD 2019): maximise T = min over ideas of the idea's summed affinity
to its judges, under the same demands, load windows and hard conflicts as ``matching``.
The integer problem is NP-hard (Garg et al., "Assigning papers to referees", Algorithmica
2010), so this is a certified heuristic:

1. Lagrangian dual / multiplicative weights. For idea weights w on the simplex, the best
   assignment for costs w_i x a_ij is a min-cost flow, and its LP-certified value is an
   upper bound on T (min_i S_i <= sum_i w_i S_i). Weights of well-served ideas are
   decreased multiplicatively (Arora, Hazan, Kale 2012); the least bound over the rounds is
   reported as ``bound``, and it converges to the LP relaxation's max-min value.
2. Every round's flow is a feasible assignment; the best (by worst idea, then total) is kept.
3. Local search raises the worst idea: move one of its judges to a judge with spare load,
   or swap judges with another idea, while no other idea falls to the current minimum.
4. Polishing: swaps and moves that raise total affinity while every idea stays at or above
   the minimum reached.

``gap = bound - worst_idea_affinity`` includes the LP's integrality gap, so a small gap
proves near-optimality; a larger one may be slack in the bound.

Complexity: ``rounds`` min-cost flows (see ``matching``), then local search moves costing
O(k x total reviews) each.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from opencall.engines.assignment.matching import (
    Assignment,
    AssignmentProblem,
    IntArray,
    _Checked,
    _finish,
    assign_max_affinity,
    check_problem,
)

_EPS = 1e-9


class _Search:
    """Mutable assignment state for local search; the review pairs are kept as arrays."""

    def __init__(self, c: _Checked, pairs: IntArray) -> None:
        self.c = c
        self.pj = pairs[:, 0].copy()
        self.pi = pairs[:, 1].copy()
        self.chosen = np.zeros(c.affinity.shape, dtype=np.bool_)
        self.chosen[self.pj, self.pi] = True
        self.sums = np.bincount(self.pi, weights=c.affinity[self.pj, self.pi], minlength=c.affinity.shape[1])
        self.loads = np.bincount(self.pj, minlength=c.affinity.shape[0]).astype(np.int64)

    def best_newcomer(self, idea: int) -> int | None:
        """The eligible judge with spare load and the highest affinity for ``idea``."""
        c = self.c
        spare = np.flatnonzero(c.allowed[:, idea] & ~self.chosen[:, idea] & (self.loads < c.hi))
        return int(spare[np.argmax(c.affinity[spare, idea])]) if spare.size else None

    def swap_partners(self, idea: int, judge: int) -> IntArray:
        """Indices of pairs (n, i) that can trade places with (judge, idea)."""
        c, pj, pi = self.c, self.pj, self.pi
        ok = (pi != idea) & c.allowed[pj, idea] & ~self.chosen[pj, idea]
        ok &= c.allowed[judge, pi] & ~self.chosen[judge, pi]
        return np.flatnonzero(ok)

    def _replace(self, judge: int, idea: int, newcomer: int) -> None:
        at = int(np.flatnonzero((self.pj == judge) & (self.pi == idea))[0])
        self.pj[at] = newcomer
        self.chosen[judge, idea], self.chosen[newcomer, idea] = False, True
        self.sums[idea] += self.c.affinity[newcomer, idea] - self.c.affinity[judge, idea]

    def move(self, idea: int, judge: int, newcomer: int) -> None:
        self._replace(judge, idea, newcomer)
        self.loads[judge] -= 1
        self.loads[newcomer] += 1

    def swap(self, idea: int, judge: int, pair: int) -> None:
        newcomer, other = int(self.pj[pair]), int(self.pi[pair])
        self._replace(judge, idea, newcomer)
        self._replace(newcomer, other, judge)

    def panel(self, idea: int) -> IntArray:
        judges: IntArray = self.pj[self.pi == idea]
        return judges


def _raise_worst(s: _Search, budget: int) -> int:
    """Improve the worst idea by single moves or pairwise swaps; returns moves made."""
    a, lo = s.c.affinity, s.c.lo
    moves = 0
    while moves < budget:
        worst = int(np.argmin(s.sums))
        floor = float(s.sums[worst])
        best_gain, best = _EPS, None
        newcomer = s.best_newcomer(worst)
        for judge in (int(j) for j in s.panel(worst)):
            if newcomer is not None and s.loads[judge] > lo[judge]:
                gain = float(a[newcomer, worst] - a[judge, worst])
                if gain > best_gain:
                    best_gain, best = gain, ("move", judge, newcomer)
            partners = s.swap_partners(worst, judge)
            if partners.size == 0:
                continue
            n, i = s.pj[partners], s.pi[partners]
            here = floor - a[judge, worst] + a[n, worst]
            there = s.sums[i] - a[n, i] + a[judge, i]
            gains = np.minimum(here, there) - floor
            pick = int(np.argmax(gains))
            if gains[pick] > best_gain:
                best_gain, best = float(gains[pick]), ("swap", judge, int(partners[pick]))
        if best is None:
            return moves
        kind, judge, other = best
        if kind == "move":
            s.move(worst, judge, other)
        else:
            s.swap(worst, judge, other)
        moves += 1
    return moves


def _polish_total(s: _Search, floor: float, budget: int) -> int:
    """Raise total affinity by moves and swaps that keep every idea >= ``floor``."""
    a, lo = s.c.affinity, s.c.lo
    moves = 0
    for idea in range(a.shape[1]):
        while moves < budget:
            best_gain, best = _EPS, None
            newcomer = s.best_newcomer(idea)
            for judge in (int(j) for j in s.panel(idea)):
                if newcomer is not None and s.loads[judge] > lo[judge]:
                    gain = float(a[newcomer, idea] - a[judge, idea])
                    if gain > best_gain and s.sums[idea] + gain >= floor - _EPS:
                        best_gain, best = gain, ("move", judge, newcomer)
                partners = s.swap_partners(idea, judge)
                if partners.size == 0:
                    continue
                n, i = s.pj[partners], s.pi[partners]
                d_here = a[n, idea] - a[judge, idea]
                d_there = a[judge, i] - a[n, i]
                ok = (s.sums[idea] + d_here >= floor - _EPS) & (s.sums[i] + d_there >= floor - _EPS)
                gains = np.where(ok, d_here + d_there, -np.inf)
                pick = int(np.argmax(gains))
                if gains[pick] > best_gain:
                    best_gain, best = float(gains[pick]), ("swap", judge, int(partners[pick]))
            if best is None:
                break
            kind, judge, other = best
            if kind == "move":
                s.move(idea, judge, other)
            else:
                s.swap(idea, judge, other)
            moves += 1
    return moves


def assign_fair(
    problem: AssignmentProblem,
    *,
    rounds: int = 30,
    step_size: float = 50.0,
    max_moves: int = 20_000,
) -> Assignment:
    """An assignment maximising the worst-served idea's affinity first, then the total.

    The result's ``objective`` is "maxmin"; ``bound`` is a certified upper bound on the best
    achievable worst-idea affinity. ``step_size`` is the multiplicative-weights rate, in units
    of (affinity range x k), divided by sqrt(round). Raises ``InfeasibleAssignmentError`` like
    ``assign_max_affinity``.
    """
    if rounds < 1:
        raise ValueError("rounds must be >= 1")
    c = check_problem(problem)
    n_ideas = c.affinity.shape[1]
    if n_ideas == 0 or not c.k.any():
        base = assign_max_affinity(problem)
        return replace(base, objective="maxmin", bound=base.worst_idea_affinity)

    def key(result: Assignment) -> tuple[float, float]:
        return (round(result.worst_idea_affinity, 9), round(result.total_affinity, 9))

    best: Assignment | None = None
    weights = np.full(n_ideas, 1.0 / n_ideas)
    spread = float(np.ptp(c.affinity[c.allowed])) * float(c.k.max()) or 1.0
    bound = np.inf
    for step in range(rounds):
        weighted = AssignmentProblem(
            affinity=c.affinity * weights[None, :],
            load_max=c.hi,
            load_min=c.lo,
            judges_per_idea=c.k,
            conflicts=~c.allowed,
        )
        flow = assign_max_affinity(weighted)
        bound = min(bound, flow.bound)  # weights sum to 1: bound on min_i S_i
        candidate = _finish(c, flow.pairs[:, 0], flow.pairs[:, 1], "total", 0.0)
        if best is None or key(candidate) > key(best):
            best = candidate
        sums = candidate.idea_affinity
        rate = step_size / np.sqrt(step + 1.0)
        weights = weights * np.exp(-rate * (sums - sums.min()) / spread)
        weights /= weights.sum()

    assert best is not None  # rounds >= 1
    search = _Search(c, best.pairs)
    used = _raise_worst(search, max_moves)
    floor = float(search.sums.min())
    _polish_total(search, floor, max_moves - used)
    return _finish(c, search.pj, search.pi, "maxmin", float(max(bound, floor)))
