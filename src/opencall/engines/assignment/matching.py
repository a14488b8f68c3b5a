"""Judge-to-idea assignment maximising total affinity, with a certified optimality gap.

Method: the assignment is a b-matching with lower and upper degree bounds, solved exactly as a
min-cost flow (source -> judge with its load window, judge -> idea with capacity 1 and cost
-affinity, idea -> sink with demand k), as in Taylor, "On the optimal assignment of conference
papers to reviewers" (UPenn TR MS-CIS-08-30, 2008) and Charlin & Zemel's TPMS matcher. Flow
is computed with OR-Tools' cost-scaling ``SimpleMinCostFlow`` on integer costs
(affinity x scale, rounded).

Speed-up with a proof: the flow is first solved on candidate arcs only (each idea's best
judges and each judge's best ideas). If that pruned network cannot meet demand, a maximum
flow shows which ideas and judges fall short and only their candidate lists are widened.
Node potentials of the optimal flow are then recovered by Bellman-Ford on its residual graph
and every pruned arc is priced; arcs with a negative reduced cost (the most negative few per
idea) are added back and the flow re-solved (column generation), so the final flow is
optimal for the whole problem. The same potentials, divided by the scale, are fed to the Lagrangian
dual of the LP relaxation (idea-demand constraints relaxed, each judge solved by sorting),
which gives an upper bound on the LP optimum computed on the original float affinities: the
reported ``gap`` is that bound minus the achieved total, so exactness is checked, not assumed.

Conflicts of interest are hard: conflicting pairs get no arc at all.

Complexity: cost-scaling min-cost flow is O(n^2 m log(nC)) worst case, near-linear in m in
practice; with pruning m ~ (n_ideas x L + n_judges x M). The pricing and the bound are
O(n_judges x n_ideas) vectorised. The affinity matrix is dense (n_judges x n_ideas floats).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

Objective = Literal["total", "maxmin"]


class InfeasibleAssignmentError(ValueError):
    """No assignment satisfies the demands, the load limits and the conflicts."""


@dataclass(frozen=True, kw_only=True)
class AssignmentProblem:
    """Judges x ideas affinities with the constraints of one review round.

    ``affinity[j, i]`` is judge ``j``'s affinity for idea ``i``. ``judges_per_idea`` (k),
    ``load_min`` and ``load_max`` are scalars or per-idea / per-judge integer arrays.
    ``conflicts[j, i]`` True forbids the pair (see ``conflicts.conflict_mask``).
    """

    affinity: FloatArray
    load_max: int | IntArray
    judges_per_idea: int | IntArray = 3
    load_min: int | IntArray = 0
    conflicts: BoolArray | None = None

    @property
    def n_judges(self) -> int:
        return int(np.shape(self.affinity)[0])

    @property
    def n_ideas(self) -> int:
        return int(np.shape(self.affinity)[1])


@dataclass(frozen=True, kw_only=True)
class Assignment:
    """An assignment and how good it provably is.

    ``pairs`` holds one row ``(judge, idea)`` per assigned review, sorted by idea then judge.
    ``bound`` is an upper bound on the best achievable value of ``objective`` (for "total":
    the LP-relaxation optimum via a dual certificate; for "maxmin": the worst-served idea's
    affinity in the best assignment, from the MILP/LP dual bound), so ``gap`` >= 0 measures
    how far from optimal the result can at most be.
    """

    pairs: IntArray
    idea_affinity: FloatArray
    loads: IntArray
    total_affinity: float
    objective: Objective
    bound: float

    @property
    def worst_idea_affinity(self) -> float:
        """Sum of affinities of the worst-served idea (0.0 when there are no ideas)."""
        return float(self.idea_affinity.min()) if self.idea_affinity.size else 0.0

    @property
    def value(self) -> float:
        """The optimised objective's value."""
        return self.total_affinity if self.objective == "total" else self.worst_idea_affinity

    @property
    def gap(self) -> float:
        """Absolute optimality gap: ``bound - value``, never negative."""
        return max(0.0, self.bound - self.value)

    @property
    def relative_gap(self) -> float:
        return self.gap / max(abs(self.bound), 1e-12)

    def judges_for(self, idea: int) -> tuple[int, ...]:
        return tuple(int(j) for j in self.pairs[self.pairs[:, 1] == idea, 0])

    def matrix(self, n_judges: int, n_ideas: int) -> BoolArray:
        out = np.zeros((n_judges, n_ideas), dtype=np.bool_)
        out[self.pairs[:, 0], self.pairs[:, 1]] = True
        return out


@dataclass(frozen=True)
class _Checked:
    """A validated problem as plain arrays."""

    affinity: FloatArray
    allowed: BoolArray
    k: IntArray
    lo: IntArray
    hi: IntArray


def _int_vector(value: int | IntArray, size: int, name: str) -> IntArray:
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = np.full(size, arr)
    if arr.shape != (size,):
        raise ValueError(f"{name} must be a scalar or have length {size}, got shape {arr.shape}")
    if arr.size and not np.all(np.equal(np.mod(arr, 1), 0)):
        raise ValueError(f"{name} must hold whole numbers")
    out = arr.astype(np.int64)
    if out.size and out.min() < 0:
        raise ValueError(f"{name} must not be negative")
    return out


def check_problem(problem: AssignmentProblem) -> _Checked:
    """Validate shapes and values and the simple necessary conditions for feasibility.

    Raises ``ValueError`` for malformed input and ``InfeasibleAssignmentError`` (a subclass)
    with a message naming the first violated condition.
    """
    affinity = np.asarray(problem.affinity, dtype=np.float64)
    if affinity.ndim != 2:
        raise ValueError(f"affinity must be a 2-D judges x ideas array, got {affinity.ndim}-D")
    if not np.all(np.isfinite(affinity)):
        raise ValueError("affinity must be finite (no NaN or infinity)")
    n_judges, n_ideas = affinity.shape
    if problem.conflicts is None:
        allowed = np.ones((n_judges, n_ideas), dtype=np.bool_)
    else:
        conflicts = np.asarray(problem.conflicts)
        if conflicts.shape != affinity.shape:
            raise ValueError(f"conflicts has shape {conflicts.shape}, affinity has shape {affinity.shape}")
        allowed = ~conflicts.astype(np.bool_)
    k = _int_vector(problem.judges_per_idea, n_ideas, "judges_per_idea")
    lo = _int_vector(problem.load_min, n_judges, "load_min")
    hi = _int_vector(problem.load_max, n_judges, "load_max")
    bad = np.flatnonzero(lo > hi)
    if bad.size:
        j = int(bad[0])
        raise ValueError(f"judge {j}: load_min {lo[j]} exceeds load_max {hi[j]}")

    per_idea = allowed.sum(axis=0)
    short = np.flatnonzero(per_idea < k)
    if short.size:
        i = int(short[0])
        raise InfeasibleAssignmentError(
            f"idea {i} needs {k[i]} judges but only {per_idea[i]} have no conflict with it"
            f" ({short.size} idea(s) in this situation)"
        )
    per_judge = allowed.sum(axis=1)
    starved = np.flatnonzero(per_judge < lo)
    if starved.size:
        j = int(starved[0])
        raise InfeasibleAssignmentError(
            f"judge {j} must review at least {lo[j]} ideas but only {per_judge[j]} have no conflict with them"
        )
    capped = np.minimum(hi, per_judge)
    if int(capped.sum()) < int(k.sum()):
        raise InfeasibleAssignmentError(
            f"{int(k.sum())} reviews are needed but the judges can take at most"
            f" {int(capped.sum())} within their load limits"
        )
    if int(lo.sum()) > int(k.sum()):
        raise InfeasibleAssignmentError(
            f"judges' minimum loads add up to {int(lo.sum())} reviews but only {int(k.sum())} are needed"
        )
    return _Checked(affinity=affinity, allowed=allowed, k=k, lo=lo, hi=hi)


def _cost_scale(max_abs: float, n_nodes: int, n_units: int) -> float:
    # OR-Tools multiplies unit costs by (n_nodes + 1) during cost scaling and sums cost x flow;
    # keep both inside int64 with room to spare, and never exceed 2**40 (enough precision).
    budget = min(2.0**60 / ((n_nodes + 1) * max(n_units, 1) * 8), 2.0**40)
    return budget / max_abs if max_abs > 0 else 1.0


class _Shortfall(NamedTuple):
    """Where a pruned flow could not meet demand: ideas short of judges, judges short of load."""

    ideas: BoolArray
    judges: BoolArray


def _solve_flow(edge_j: IntArray, edge_i: IntArray, cost: IntArray, c: _Checked) -> BoolArray | _Shortfall:
    """Min-cost flow on the given judge->idea arcs: the assigned-arc mask, or the shortfall."""
    n_judges, n_ideas = c.affinity.shape
    judge_node = 1 + np.arange(n_judges, dtype=np.int64)
    tails = np.concatenate([np.zeros(n_judges, dtype=np.int64), 1 + edge_j])
    heads = np.concatenate([judge_node, 1 + n_judges + edge_i])
    caps = np.concatenate([c.hi - c.lo, np.ones(edge_j.size, dtype=np.int64)])
    costs = np.concatenate([np.zeros(n_judges, dtype=np.int64), -cost])
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.concatenate([[int(c.k.sum() - c.lo.sum())], c.lo, -c.k]).astype(np.int64)
    solver.set_nodes_supplies(np.arange(1 + n_judges + n_ideas, dtype=np.int64), supplies)
    status = solver.solve()
    arcs = np.arange(n_judges, n_judges + edge_j.size, dtype=np.int64)
    if status == solver.OPTIMAL:
        return np.asarray(solver.flows(arcs), dtype=np.int64) > 0
    if status != solver.INFEASIBLE:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    # Find who is short in a maximum flow, so that only their candidate lists are widened.
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"max-flow diagnosis failed with status {status}")
    used = np.asarray(solver.flows(arcs), dtype=np.int64)
    got = np.bincount(edge_i, weights=used, minlength=n_ideas)
    gave = np.bincount(edge_j, weights=used, minlength=n_judges)
    return _Shortfall(ideas=got < c.k, judges=gave < c.lo)


def _potentials(
    edge_j: IntArray,
    edge_i: IntArray,
    cost: IntArray,
    assigned: BoolArray,
    c: _Checked,
    max_rounds: int,
) -> tuple[IntArray, IntArray] | None:
    """Shortest-path distances (judges, ideas) in the residual graph of an optimal flow.

    Distances are shifted so that the source's is 0.

    Vectorised Bellman-Ford from a virtual root joined to every node. For every residual arc
    the reduced cost is then >= 0; None when it has not settled within ``max_rounds``.
    """
    n_judges, n_ideas = c.affinity.shape
    loads = np.bincount(edge_j[assigned], minlength=n_judges)
    grow = loads < c.hi  # residual source -> judge, cost 0
    shrink = loads > c.lo  # residual judge -> source, cost 0
    free = ~assigned
    fj, fi, fc = edge_j[free], edge_i[free], cost[free]
    order = np.argsort(fi, kind="stable")
    fj, fi, fc = fj[order], fi[order], fc[order]
    starts = np.flatnonzero(np.concatenate([[True], fi[1:] != fi[:-1]])) if fi.size else fi
    heads_i = fi[starts] if fi.size else fi
    aj, ai, ac = edge_j[assigned], edge_i[assigned], cost[assigned]
    dist_j = np.zeros(n_judges, dtype=np.int64)
    dist_i = np.zeros(n_ideas, dtype=np.int64)
    dist_s = 0
    for _ in range(max_rounds):
        new_i = dist_i.copy()
        if fi.size:
            best = np.minimum.reduceat(dist_j[fj] - fc, starts)
            new_i[heads_i] = np.minimum(new_i[heads_i], best)
        new_j = dist_j.copy()
        np.minimum.at(new_j, aj, new_i[ai] + ac)
        new_j[grow] = np.minimum(new_j[grow], dist_s)
        new_s = min(dist_s, int(new_j[shrink].min())) if shrink.any() else dist_s
        if new_s == dist_s and np.array_equal(new_i, dist_i) and np.array_equal(new_j, dist_j):
            return dist_j - dist_s, dist_i - dist_s
        dist_i, dist_j, dist_s = new_i, new_j, new_s
    return None


def lagrangian_bound(c: _Checked, prices: FloatArray) -> float:
    """Upper bound on the LP relaxation's optimum from idea prices (any prices are valid).

    Relaxing "idea i gets k_i judges" with multiplier ``prices[i]`` leaves one problem per
    judge: take between load_min and load_max allowed ideas maximising sum(a - price), solved
    by sorting. Weak duality makes the result >= the LP (and integer) optimum; with optimal
    prices it equals the LP optimum.
    """
    n_judges, n_ideas = c.affinity.shape
    if n_judges == 0 or n_ideas == 0:
        return float(c.k @ prices) if n_ideas else 0.0
    reduced = np.where(c.allowed, c.affinity - prices[None, :], -np.inf)
    depth = int(min(int(c.hi.max()), n_ideas))
    if depth == 0:
        return float(c.k @ prices)
    if depth < n_ideas:
        reduced = -np.partition(-reduced, depth - 1, axis=1)[:, :depth]
    top = -np.sort(-reduced, axis=1)[:, :depth]
    rank = np.arange(depth)[None, :]
    take = (rank < c.lo[:, None]) | ((rank < c.hi[:, None]) & (top > 0))
    return float(c.k @ prices) + float(np.where(take, top, 0.0).sum())


class _TopLists:
    """Each row's best columns, best first, sorted lazily to the depth asked for."""

    def __init__(self, scores: FloatArray) -> None:
        self._scores = np.ascontiguousarray(scores)
        self._order = np.zeros((scores.shape[0], 0), dtype=np.int64)

    def top(self, depth: int) -> IntArray:
        n_rows, n_cols = self._scores.shape
        depth = min(depth, n_cols)
        if depth > self._order.shape[1]:
            want = min(n_cols, max(depth, 2 * self._order.shape[1]))
            if want < n_cols:
                part = np.argpartition(-self._scores, want - 1, axis=1)[:, :want]
            else:
                part = np.tile(np.arange(n_cols, dtype=np.int64), (n_rows, 1))
            values = np.take_along_axis(self._scores, part, axis=1)
            rank = np.argsort(-values, axis=1, kind="stable")
            self._order = np.take_along_axis(part, rank, axis=1).astype(np.int64)
        return self._order[:, :depth]


def _candidates(
    c: _Checked,
    by_idea: _TopLists,
    by_judge: _TopLists,
    idea_width: IntArray,
    judge_width: IntArray,
) -> BoolArray:
    """Each idea's ``idea_width[i]`` best allowed judges and each judge's best ideas."""
    keep = np.zeros(c.affinity.shape, dtype=np.bool_)
    for lists, width, ideas_are_rows in ((by_idea, idea_width, True), (by_judge, judge_width, False)):
        if width.size == 0 or int(width.max()) <= 0:
            continue
        top = lists.top(int(width.max()))
        rows, pos = np.nonzero(np.arange(top.shape[1])[None, :] < width[:, None])
        if ideas_are_rows:
            keep[top[rows, pos], rows] = True
        else:
            keep[rows, top[rows, pos]] = True
    return keep & c.allowed


def _most_violated(violated: BoolArray, gain: IntArray, per_idea: int) -> BoolArray:
    """Violated arcs, at most ``per_idea`` per idea (those of largest reduced gain).

    Adding every violated arc can multiply the flow's size for little benefit; the next
    pricing round brings back any that are still needed.
    """
    counts = violated.sum(axis=0)
    crowded = np.flatnonzero(counts > per_idea)
    if crowded.size == 0:
        return violated
    out = violated.copy()
    sub = np.where(violated[:, crowded], gain[:, crowded], np.iinfo(np.int64).min).T
    best = np.argpartition(sub, -per_idea, axis=1)[:, -per_idea:]
    out[:, crowded] = False
    out[best, crowded[:, None]] = True
    return out


def _finish(c: _Checked, edge_j: IntArray, edge_i: IntArray, objective: Objective, bound: float) -> Assignment:
    order = np.lexsort((edge_j, edge_i))
    pairs = np.stack([edge_j[order], edge_i[order]], axis=1).astype(np.int64)
    n_judges, n_ideas = c.affinity.shape
    values = c.affinity[pairs[:, 0], pairs[:, 1]]
    idea_affinity = np.bincount(pairs[:, 1], weights=values, minlength=n_ideas)
    loads = np.bincount(pairs[:, 0], minlength=n_judges).astype(np.int64)
    return Assignment(
        pairs=pairs.reshape(-1, 2),
        idea_affinity=idea_affinity.astype(np.float64),
        loads=loads,
        total_affinity=float(values.sum()),
        objective=objective,
        bound=bound,
    )


def assign_max_affinity(
    problem: AssignmentProblem,
    *,
    candidates_per_idea: int | None = None,
    max_pricing_rounds: int = 30,
) -> Assignment:
    """The assignment of greatest total affinity, with its LP-certified gap.

    ``candidates_per_idea`` sets the pruning width (default ``max(3k, k + 10)``); it changes
    speed only, never the optimum, because pruned arcs are priced and added back.
    """
    c = check_problem(problem)
    n_judges, n_ideas = c.affinity.shape
    kmax = int(c.k.max()) if n_ideas else 0
    if n_ideas == 0 or (kmax == 0 and int(c.lo.max(initial=0)) == 0):
        empty = np.zeros(0, dtype=np.int64)
        return _finish(c, empty, empty, "total", 0.0)
    n_units = int(c.k.sum())
    max_abs = float(np.abs(c.affinity[c.allowed]).max(initial=0.0))
    scale = _cost_scale(max_abs, 2 + n_judges + n_ideas, n_units)
    full_cost = np.rint(c.affinity * scale).astype(np.int64)

    width = candidates_per_idea if candidates_per_idea is not None else max(3 * kmax, kmax + 10)
    masked = np.where(c.allowed, c.affinity, -np.inf)
    by_idea, by_judge = _TopLists(masked.T), _TopLists(masked)
    idea_width = np.full(n_ideas, max(width, 1), dtype=np.int64)
    judge_width = np.maximum(c.lo, 1) + c.hi
    keep = _candidates(c, by_idea, by_judge, idea_width, judge_width)
    max_rounds = 4 * (n_judges + n_ideas) + 8
    n_allowed = int(c.allowed.sum())
    pricing_rounds = 0
    while pricing_rounds < max_pricing_rounds:
        edge_j, edge_i = np.nonzero(keep)
        edge_j, edge_i = edge_j.astype(np.int64), edge_i.astype(np.int64)
        cost = full_cost[edge_j, edge_i]
        assigned = _solve_flow(edge_j, edge_i, cost, c)
        if isinstance(assigned, _Shortfall):
            if edge_j.size == n_allowed:
                raise InfeasibleAssignmentError(
                    "no assignment gives every idea its judges within the load limits without"
                    " a conflict: some group of ideas has too few eligible judges between them"
                )
            # Pruning cut off every feasible assignment: widen the lists of those left short
            # (of everyone if no one is), at worst up to every arc.
            short_i, short_j = assigned.ideas, assigned.judges
            if not short_i.any() and not short_j.any():
                short_i, short_j = ~short_i, ~short_j
            idea_width[short_i] = np.minimum(2 * idea_width[short_i], n_judges)
            judge_width[short_j] = np.minimum(2 * judge_width[short_j], n_ideas)
            wider = keep | _candidates(c, by_idea, by_judge, idea_width, judge_width)
            if int(wider.sum()) == int(keep.sum()):
                idea_width = np.minimum(2 * idea_width, n_judges)
                judge_width = np.minimum(2 * judge_width, n_ideas)
                wider = keep | _candidates(c, by_idea, by_judge, idea_width, judge_width)
                if int(wider.sum()) == int(keep.sum()):
                    wider = c.allowed.copy()
            keep = wider
            continue
        pricing_rounds += 1
        dist = _potentials(edge_j, edge_i, cost, assigned, c, max_rounds)
        if dist is None:
            break
        dist_j, dist_i = dist
        # Reduced cost of a pruned arc j -> i is dist_j - dist_i - cost; negative means it would
        # improve the flow, so it must come back in.
        gain = full_cost - (dist_j[:, None] - dist_i[None, :])
        violated = c.allowed & ~keep & (gain > 0)
        if not violated.any():
            bound = lagrangian_bound(c, -dist_i.astype(np.float64) / scale)
            return _finish(c, edge_j[assigned], edge_i[assigned], "total", bound)
        keep |= _most_violated(violated, gain, width)
    # Fallback without pruning (rarely reached): exact flow, bound from whatever prices we have.
    edge_j, edge_i = np.nonzero(c.allowed)
    edge_j, edge_i = edge_j.astype(np.int64), edge_i.astype(np.int64)
    cost = full_cost[edge_j, edge_i]
    assigned = _solve_flow(edge_j, edge_i, cost, c)
    if isinstance(assigned, _Shortfall):
        raise InfeasibleAssignmentError(
            "no assignment gives every idea its judges within the load limits without"
            " a conflict: some group of ideas has too few eligible judges between them"
        )
    dist = _potentials(edge_j, edge_i, cost, assigned, c, max_rounds)
    prices = -dist[1].astype(np.float64) / scale if dist is not None else np.zeros(n_ideas, dtype=np.float64)
    return _finish(c, edge_j[assigned], edge_i[assigned], "total", lagrangian_bound(c, prices))
