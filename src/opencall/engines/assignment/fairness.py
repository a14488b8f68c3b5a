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
    BoolArray,
    FloatArray,
    IntArray,
    _Checked,
    _finish,
    assign_max_affinity,
    check_problem,
)

_EPS = 1e-9


def _state(pairs: IntArray, c: _Checked) -> tuple[BoolArray, FloatArray, IntArray]:
    chosen = np.zeros(c.affinity.shape, dtype=np.bool_)
    chosen[pairs[:, 0], pairs[:, 1]] = True
    sums = np.where(chosen, c.affinity, 0.0).sum(axis=0)
    loads = chosen.sum(axis=1).astype(np.int64)
    return chosen, sums, loads


def _raise_worst(c: _Checked, chosen: BoolArray, sums: FloatArray, loads: IntArray, budget: int) -> int:
    """Improve the worst idea by single moves or pairwise swaps; returns moves made."""
    a, allowed = c.affinity, c.allowed
    moves = 0
    while moves < budget:
        worst = int(np.argmin(sums))
        floor = float(sums[worst])
        panel = np.flatnonzero(chosen[:, worst])
        if panel.size == 0:
            return moves
        best_gain, best_move = _EPS, None
        # Move: judge j leaves the worst idea, judge n (spare load, eligible) joins it.
        spare = allowed[:, worst] & ~chosen[:, worst] & (loads < c.hi)
        if spare.any():
            cand = np.flatnonzero(spare)
            best_new = cand[np.argmax(a[cand, worst])]
            for j in panel:
                if loads[j] <= c.lo[j]:
                    continue
                gain = a[best_new, worst] - a[j, worst]
                if gain > best_gain:
                    best_gain, best_move = gain, ("move", int(j), int(best_new), -1)
        # Swap: j (on worst) <-> n (on idea i), if both stay eligible and i stays above floor.
        for j in panel:
            others = np.flatnonzero(allowed[:, worst] & ~chosen[:, worst])
            if others.size == 0:
                continue
            sub = chosen[others] & allowed[j][None, :] & ~chosen[j][None, :]
            sub[:, worst] = False
            rows, ideas = np.nonzero(sub)
            if rows.size == 0:
                continue
            newcomers = others[rows]
            new_worst = floor - a[j, worst] + a[newcomers, worst]
            new_other = sums[ideas] - a[newcomers, ideas] + a[j, ideas]
            gain = np.minimum(new_worst, new_other) - floor
            pick = int(np.argmax(gain))
            if gain[pick] > best_gain:
                best_gain = float(gain[pick])
                best_move = ("swap", int(j), int(newcomers[pick]), int(ideas[pick]))
        if best_move is None:
            return moves
        kind, mover, n, i = best_move
        if kind == "move":
            chosen[mover, worst], chosen[n, worst] = False, True
            loads[mover] -= 1
            loads[n] += 1
            sums[worst] += a[n, worst] - a[mover, worst]
        else:
            chosen[mover, worst], chosen[n, worst] = False, True
            chosen[n, i], chosen[mover, i] = False, True
            sums[worst] += a[n, worst] - a[mover, worst]
            sums[i] += a[mover, i] - a[n, i]
        moves += 1
    return moves


def _polish_total(c: _Checked, chosen: BoolArray, sums: FloatArray, loads: IntArray, floor: float, budget: int) -> int:
    """Raise total affinity by moves and swaps that keep every idea >= ``floor``."""
    a, allowed = c.affinity, c.allowed
    moves = 0
    for idea in range(a.shape[1]):
        while moves < budget:
            panel = np.flatnonzero(chosen[:, idea])
            best_gain, best_move = _EPS, None
            spare = allowed[:, idea] & ~chosen[:, idea] & (loads < c.hi)
            if spare.any():
                cand = np.flatnonzero(spare)
                n = int(cand[np.argmax(a[cand, idea])])
                for j in panel:
                    gain = a[n, idea] - a[j, idea]
                    if loads[j] > c.lo[j] and gain > best_gain and sums[idea] + gain >= floor - _EPS:
                        best_gain, best_move = gain, ("move", int(j), n, -1)
            for j in panel:
                others = np.flatnonzero(allowed[:, idea] & ~chosen[:, idea])
                if others.size == 0:
                    continue
                sub = chosen[others] & allowed[j][None, :] & ~chosen[j][None, :]
                sub[:, idea] = False
                rows, ideas = np.nonzero(sub)
                if rows.size == 0:
                    continue
                newcomers = others[rows]
                d_here = a[newcomers, idea] - a[j, idea]
                d_there = a[j, ideas] - a[newcomers, ideas]
                ok = (sums[idea] + d_here >= floor - _EPS) & (sums[ideas] + d_there >= floor - _EPS)
                gain = np.where(ok, d_here + d_there, -np.inf)
                pick = int(np.argmax(gain))
                if gain[pick] > best_gain:
                    best_gain = float(gain[pick])
                    best_move = ("swap", int(j), int(newcomers[pick]), int(ideas[pick]))
            if best_move is None:
                break
            kind, mover, n, i = best_move
            chosen[mover, idea], chosen[n, idea] = False, True
            sums[idea] += a[n, idea] - a[mover, idea]
            if kind == "move":
                loads[mover] -= 1
                loads[n] += 1
            else:
                chosen[n, i], chosen[mover, i] = False, True
                sums[i] += a[mover, i] - a[n, i]
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
    chosen, sums, loads = _state(best.pairs, c)
    used = _raise_worst(c, chosen, sums, loads, max_moves)
    floor = float(sums.min())
    _polish_total(c, chosen, sums, loads, floor, max_moves - used)
    judges, ideas = np.nonzero(chosen)
    return _finish(
        c,
        judges.astype(np.int64),
        ideas.astype(np.int64),
        "maxmin",
        float(max(bound, floor)),
    )
