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

import itertools
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
    scores: FloatArray,
    costs: tuple[Fraction, ...],
    budget: Fraction,
    ranks: IntArray,
    *,
    per_cost: bool = False,
    skip: bool = True,
    threshold: float | None = None,
    initial: tuple[int, ...] = (),
    exact_scores: tuple[Fraction, ...] | None = None,
) -> tuple[list[int], list[GreedyStep]]:
    """Funded projects (``initial`` first) and the step taken for every other project."""
    m = len(costs)
    chosen = set(initial)
    if exact_scores is None:
        exact_scores = tuple(Fraction(float(x)) for x in scores)

    def key(c: int) -> tuple[Fraction | float, int]:
        s = exact_scores[c]
        if per_cost:
            if costs[c] > 0:
                density: Fraction | float = s / costs[c]
            else:
                density = float("inf") if s > 0 else 0.0
        else:
            density = s
        return (-density, int(ranks[c]))

    order = _float_order([c for c in range(m) if c not in chosen], scores, costs, ranks, per_cost)
    if order is None:
        order = sorted((c for c in range(m) if c not in chosen), key=key)
    remaining = budget - sum((costs[c] for c in initial), Fraction(0))
    selected = list(initial)
    steps: list[GreedyStep] = []
    stopped = False
    for c in order:
        score = float(scores[c])
        if threshold is not None and score < threshold:
            steps.append(GreedyStep(c, score, False, remaining, "below-threshold"))
            continue
        if stopped:
            steps.append(GreedyStep(c, score, False, remaining, "after-stop"))
            continue
        if costs[c] <= remaining:
            steps.append(GreedyStep(c, score, True, remaining, "funded"))
            selected.append(c)
            remaining -= costs[c]
        else:
            steps.append(GreedyStep(c, score, False, remaining, "does-not-fit"))
            if not skip:
                stopped = True
    return selected, steps


def _float_order(
    candidates: list[int],
    scores: FloatArray,
    costs: tuple[Fraction, ...],
    ranks: IntArray,
    per_cost: bool,
) -> list[int] | None:
    """The greedy order from float densities, or None when two are too close for floats to tell."""
    dens = []
    for c in candidates:
        s = float(scores[c])
        if per_cost:
            cost = costs[c]
            d = (s / float(cost)) if cost > 0 else (float("inf") if s > 0 else 0.0)
        else:
            d = s
        dens.append((-d, int(ranks[c]), c))
    dens.sort()
    for (a, _, _), (b, _, _) in itertools.pairwise(dens):
        if a != b and abs(a - b) <= 1e-9 * max(abs(a), abs(b)):
            return None
        if a == b and per_cost and a not in (float("-inf"), 0.0):
            return None  # equal floats may hide different fractions
    return [c for _, _, c in dens]


def scores_from_points(points: FloatArray, indices: IntArray, m: int) -> FloatArray:
    totals: FloatArray = np.bincount(indices, weights=points, minlength=m).astype(np.float64)
    return totals
