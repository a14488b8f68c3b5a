"""Greedy participatory-budgeting rules as cities run them.

Method: the standard "greedy by votes" rule of municipal PB (see Faliszewski et al.,
"Participatory Budgeting: Data, Tools and Analysis", IJCAI 2023, and the ``rule`` field of
Pabulib): rank projects by score -- votes, or votes per unit of cost -- and fund them in that
order while they fit. Variants found in Pabulib META: ``greedy`` (skip projects that do not fit),
``greedy-no-skip`` (stop at the first one that does not fit), ``greedy-threshold`` (only projects
whose score reaches ``min_project_score_threshold``). Matches pabutools
``greedy_utilitarian_welfare`` (``Cost_Sat`` for votes, ``Cardinality_Sat`` for votes per cost):
ties are broken by project id, and projects nobody voted for are still funded last when they fit.
Complexity O(m log m) after the O(E) score count.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from opencall.engines.budgeting.model import FloatArray, IntArray


@dataclass(frozen=True)
class GreedyStep:
    project: int
    score: float
    funded: bool
    remaining_before: Fraction
    why: str  # "funded", "does-not-fit", "below-threshold", "after-stop", "already-funded"


def greedy(
    scores: FloatArray | list[float],
    costs: tuple[Fraction, ...],
    budget: Fraction,
    ranks: IntArray | list[int],
    *,
    per_cost: bool = False,
    skip: bool = True,
    threshold: float | None = None,
    initial: tuple[int, ...] = (),
    exact_scores: Sequence[Fraction] | Sequence[int] | None = None,
    record: bool = True,
) -> tuple[list[int], list[GreedyStep]]:
    """Funded projects (``initial`` first) and, with ``record``, the step taken for every other
    project (``record=False`` returns no steps: recounts need only the outcome).

    Money is handled as integers on the common denominator of the budget and the costs, so the
    budget left is tracked exactly without Fraction arithmetic on every project."""
    m = len(costs)
    score_list = scores.tolist() if isinstance(scores, np.ndarray) else list(scores)
    rank_list = ranks.tolist() if isinstance(ranks, np.ndarray) else list(ranks)
    exact: Sequence[Fraction] | Sequence[int]
    exact = exact_scores if exact_scores is not None else [Fraction(x) for x in score_list]
    ratios = [c.as_integer_ratio() for c in costs]
    scale = math.lcm(budget.denominator, *(d for _, d in ratios))
    units = [num * (scale // den) for num, den in ratios]
    chosen = set(initial)
    candidates = [c for c in range(m) if c not in chosen] if chosen else list(range(m))
    # whole-number scores sort exactly as floats: only densities need the exact check
    check = per_cost or not all(type(x) is int for x in exact)
    order = _order(candidates, score_list, exact, units, rank_list, per_cost, check)
    remaining = budget.numerator * (scale // budget.denominator) - sum(units[c] for c in initial)
    selected = list(initial)
    steps: list[GreedyStep] = []
    stopped = False
    for c in order:
        score = score_list[c]
        if threshold is not None and score < threshold:
            if record:
                steps.append(GreedyStep(c, score, False, Fraction(remaining, scale), "below-threshold"))
            continue
        if stopped:
            if record:
                steps.append(GreedyStep(c, score, False, Fraction(remaining, scale), "after-stop"))
            continue
        if units[c] <= remaining:
            if record:
                steps.append(GreedyStep(c, score, True, Fraction(remaining, scale), "funded"))
            selected.append(c)
            remaining -= units[c]
        else:
            if record:
                steps.append(GreedyStep(c, score, False, Fraction(remaining, scale), "does-not-fit"))
            if not skip:
                stopped = True
    return selected, steps


def _order(
    candidates: list[int],
    scores: list[float],
    exact: Sequence[Fraction] | Sequence[int],
    units: list[int],
    ranks: list[int],
    per_cost: bool,
    check: bool = True,
) -> list[int]:
    """Candidates by score (or score per unit of cost) descending, ties by rank.

    Sorted on floats; neighbours whose floats are within 1e-9 of each other are then compared
    exactly (as fractions), and only if floats got one pair wrong is the whole order recomputed
    exactly. Whole-number scores without costs (``check=False``) sort exactly as floats."""
    inf = float("inf")
    dens: list[tuple[float, int, int]] = []
    for c in candidates:
        s = scores[c]
        if per_cost:
            u = units[c]
            d = s / u if u > 0 else (inf if s > 0 else 0.0)
        else:
            d = s
        dens.append((-d, ranks[c], c))
    dens.sort()
    if not check:
        return [c for _, _, c in dens]

    def density(c: int) -> Fraction | float:
        s = exact[c]
        if not per_cost:
            return s
        u = units[c]
        return Fraction(s) / u if u > 0 else (inf if s > 0 else 0.0)

    def before(a: int, b: int) -> bool:
        """Exactly: a comes before b."""
        da, db = density(a), density(b)
        return da > db or (da == db and ranks[a] < ranks[b])

    for (x, _, a), (y, _, b) in itertools.pairwise(dens):
        # keys ascend (x <= y), so max(-x, y) is the larger of |x| and |y|
        if y - x <= 1e-9 * max(-x, y) and not before(a, b):

            def compare(a: int, b: int) -> int:
                return -1 if before(a, b) else 1

            return sorted(candidates, key=functools.cmp_to_key(compare))
    return [c for _, _, c in dens]


def scores_from_points(points: FloatArray, indices: IntArray, m: int) -> FloatArray:
    totals: FloatArray = np.bincount(indices, weights=points, minlength=m).astype(np.float64)
    return totals
