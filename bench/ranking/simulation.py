"""Votes-to-accuracy simulation: adaptive pair selection against uniform random pairs.

Protocol (a model fitted to the real reading-level data drives the simulation):
1. Fit Crowd-BT to all real votes.  Idea qualities are drawn from N(0, sigma^2) with sigma the
   fitted (empirical-Bayes) spread of the scores; voter reliabilities are resampled from the
   fitted reliabilities; voters arrive with probability proportional to how many votes they
   really cast.  Same number of ideas as the data.
2. A simulated vote by voter k on (i, j) goes to the truly better idea with probability
   eta_k sigma(|q_i - q_j|) + (1 - eta_k) sigma(-|q_i - q_j|).
3. Uniform arm: each vote is a uniformly random pair the voter has not seen.  Adaptive arms:
   ``next_pair`` from the current fit, refitted (warm-started) after every batch of votes; the
   votes of a batch enter the selector's covariance at once (``SelectionContext.with_vote``),
   valued with the voter's reliability estimated by the last fit.  The top arm targets the
   top k (diagonal gain); the ranking arm targets the whole ranking (expected number of
   mis-ordered pairs, full covariance) and gives a share ``explore`` of votes to uniform pairs.
   All arms fit with the same estimator (Crowd-BT) at the same checkpoints.
   At each checkpoint the fit's EM runs to convergence (between checkpoints the adaptive arms
   take 30 warm-started EM steps per refit).
4. Report the Kendall tau to the true qualities the uniform arm reaches with the full budget,
   the first checkpoint at which the adaptive arm reaches it, and their ratio; and the same
   for precision of the top k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import kendalltau

from opencall.engines.ranking.pairwise import (
    PairwiseRanking,
    PairwiseVotes,
    fit_bradley_terry,
    fit_crowd_bt,
)
from opencall.engines.ranking.selection import SelectionContext, next_pair, uniform_pair


@dataclass(frozen=True)
class World:
    quality: NDArray[np.float64]
    reliability: NDArray[np.float64]
    activity: NDArray[np.float64]


def fitted_world(votes: PairwiseVotes, fit: PairwiseRanking, *, n_voters: int, seed: int) -> World:
    """Draw a simulated population from the fitted model."""
    rng = np.random.default_rng(seed)
    assert fit.voter_reliability is not None
    quality = rng.normal(0.0, fit.prior_sd, votes.n_ideas)
    counts = np.bincount(votes.voter, minlength=votes.n_voters).astype(np.float64)
    pick = rng.choice(votes.n_voters, size=n_voters, replace=True)
    return World(
        quality=quality,
        reliability=fit.voter_reliability[pick],
        activity=counts[pick] / counts[pick].sum(),
    )


def _vote(world: World, voter: int, i: int, j: int, rng: np.random.Generator) -> float:
    d = world.quality[i] - world.quality[j]
    p = 1.0 / (1.0 + np.exp(-d))
    eta = world.reliability[voter]
    p_first = eta * p + (1.0 - eta) * (1.0 - p)
    return 1.0 if rng.random() < p_first else 0.0


def _metrics(world: World, scores: NDArray[np.float64], top_k: int) -> tuple[float, float]:
    tau = float(kendalltau(scores, world.quality).statistic)
    true_top = set(np.argsort(-world.quality)[:top_k].tolist())
    est_top = set(np.argsort(-scores)[:top_k].tolist())
    return tau, len(true_top & est_top) / top_k


def run_arm(
    world: World,
    *,
    adaptive: bool,
    budget: int,
    batch: int,
    checkpoints: list[int],
    top_k: int | None,
    metric_k: int,
    seed: int,
    exact_cov: bool = True,
    model: str = "crowd-bt",
    selection: dict[str, float] | None = None,
    use_reliability: bool = True,
) -> dict[int, tuple[float, float]]:
    """Play one arm; returns {votes: (tau, top-k precision)} at each checkpoint."""
    rng = np.random.default_rng(seed)
    n = world.quality.shape[0]
    n_voters = world.reliability.shape[0]
    first: list[int] = []
    second: list[int] = []
    outcome: list[float] = []
    voter: list[int] = []
    seen: list[set[tuple[int, int]]] = [set() for _ in range(n_voters)]
    counts = np.zeros(n, dtype=np.int64)
    fit: PairwiseRanking | None = None
    out: dict[int, tuple[float, float]] = {}
    marks = sorted(set(checkpoints))
    step = 0
    while len(first) < budget:
        ctx = None
        if adaptive and fit is not None:
            ctx = SelectionContext.from_ranking(fit, counts, top_k=top_k)
        elif adaptive:
            ctx = SelectionContext.build(np.zeros(n), np.ones(n), counts, top_k=None)
        eta = fit.voter_reliability if (fit is not None and use_reliability) else None
        for _ in range(min(batch, budget - len(first))):
            k = int(rng.choice(n_voters, p=world.activity))
            step += 1
            rel = None if eta is None else float(eta[k])
            if ctx is not None:
                pair = next_pair(
                    ctx,
                    seen[k],
                    seed=seed * 1_000_003 + step,
                    reliability=rel,
                    **(selection or {}),  # type: ignore[arg-type]
                )
            else:
                pair = uniform_pair(n, seen[k], seed=seed * 1_000_003 + step)
            if pair is None:
                continue
            i, j = pair
            seen[k].add(pair)
            counts[i] += 1
            counts[j] += 1
            if ctx is not None:
                # The vote counts (coverage) and, with a covariance, its variance reduction.
                ctx = ctx.with_vote(i, j, rel)
            first.append(i)
            second.append(j)
            outcome.append(_vote(world, k, i, j, rng))
            voter.append(k)
        v = len(first)
        need_fit = adaptive or (marks and v >= marks[0])
        if need_fit:
            votes = PairwiseVotes.from_lists(first, second, outcome, voter, n_ideas=n, n_voters=n_voters)
            dense_limit = n if (adaptive and exact_cov) else 0
            if model == "bt":
                fit = fit_bradley_terry(votes, initial=fit, dense_limit=dense_limit)
            else:
                # Between checkpoints a few warm-started EM steps suffice for selection; at a
                # checkpoint EM runs to convergence so the figures do not depend on the path.
                at_mark = bool(marks) and v >= marks[0]
                fit = fit_crowd_bt(
                    votes,
                    initial=fit,
                    dense_limit=dense_limit,
                    max_em_iter=300 if at_mark else (30 if fit else 100),
                )
        while marks and v >= marks[0]:
            assert fit is not None
            out[marks.pop(0)] = _metrics(world, fit.scores, metric_k)
    return out


def information_ratio(world: World, *, samples: int = 100_000, seed: int = 0) -> tuple[float, float]:
    """Mean Fisher information about the score difference of one vote on a uniformly random
    pair, and on a pair of exactly equal ideas (the most a vote can teach), over voters drawn by
    activity with their reliabilities (Monte Carlo, seeded)."""
    rng = np.random.default_rng(seed)
    n = world.quality.shape[0]
    k = rng.choice(world.reliability.shape[0], size=samples, p=world.activity)
    i = rng.integers(0, n, samples)
    j = (i + rng.integers(1, n, samples)) % n
    eta = world.reliability[k]
    d = world.quality[i] - world.quality[j]
    p = 1.0 / (1.0 + np.exp(-d))
    big = eta * p + (1.0 - eta) * (1.0 - p)
    uniform = (2.0 * eta - 1.0) ** 2 * (p * (1.0 - p)) ** 2 / (big * (1.0 - big))
    # d = 0: p = P = 1/2, so the information is (2 eta - 1)^2 / 4.
    tied = (2.0 * eta - 1.0) ** 2 / 4.0
    return float(uniform.mean()), float(tied.mean())


def votes_to_reach(curve: dict[int, tuple[float, float]], target: float, which: int) -> int | None:
    for v in sorted(curve):
        if curve[v][which] >= target:
            return v
    return None
