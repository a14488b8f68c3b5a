"""Adaptive choice of the next pair of ideas to show a voter.

Method
------
Active learning for Bradley–Terry in the spirit of Crowd-BT's active selection (Chen et al.,
WSDM 2013) and of expected-information-gain pair selection (Glickman & Jensen, "Adaptive paired
comparison design", J. Stat. Plan. Inference 2005), simplified so it runs in O(candidates) per
request at any number of ideas:

* Under the Laplace approximation the difference ``d = s_i - s_j`` has variance
  ``v = se_i^2 + se_j^2`` (minus twice their covariance when the fit has it); one more vote
  with ``p = sigma(d)`` shrinks it to ``v / (1 + v p (1 - p))``.  Without the covariance the
  *gain* of a pair is that reduction, ``v^2 p(1-p) / (1 + v p(1-p))`` (large when the two ideas
  are close and both uncertain); with it (small problems), the weighted A-optimal gain, the
  rank-one drop of every idea's weighted posterior variance.
* The gain is weighted by how much the pair matters for the top of the ranking: with ``c`` the
  score halfway between the k-th and (k+1)-th idea, ``P(i in top k) ~ Phi((s_i - c) / se_i)`` and
  an idea's weight is ``floor + P(1 - P)`` scaled to the maximum of ``P(1 - P)`` (ideas on the
  border are the uncertain part of the top; ``top_k=None`` weights every idea equally, for a good
  full ranking).
* Whole-ranking mode (``top_k=None`` with the full covariance, fits of up to ``dense_limit``
  ideas): every unseen pair is scored by the expected drop of the number of mis-ordered pairs
  ``sum_{i<j} Phi(-|m_i - m_j| / sqrt(V_ij))`` (what Kendall's tau counts), linearised in the
  variances ``V_ij`` it shrinks (``misorder_matrix``; O(n^3) per fit, O(n^2) per request).  The
  vote's information uses the voter's estimated reliability (Crowd-BT) when given, and
  ``SelectionContext.with_vote`` folds votes not yet fitted into the covariance (rank one).
  In the noisy simulated world of ``bench/ranking`` it pays to mix in uniform pairs
  (``explore``): purely local designs pin the ideas' relative positions poorly.
* Coverage comes first: an idea whose number of votes is below ``catch_up`` times the median
  (or below ``min_votes``) is always in the next pair, least-seen first, so every idea is seen and
  ideas added mid-vote catch up.
* Candidate pairs: anchors are drawn (seeded) with probability proportional to weight x variance;
  each anchor is paired with its score-order neighbours and a few random ideas; the best candidate
  the voter has not already been shown wins.  Never the same unordered pair twice to one voter.

Complexity: O(n log n) to sort scores (callers can reuse a ``SelectionContext`` across requests),
then O(anchors x (window + random)) per pair.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from .pairwise import PairwiseRanking

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class SelectionContext:
    """What the selector knows: current scores, their standard errors and vote counts.

    Build it with ``build`` or ``from_ranking``; ``with_counts`` refreshes the vote counts
    between fits without re-sorting.

    ``active`` marks ideas that may be shown (withdrawn or hidden ideas are False).  Ideas added
    after the last fit get score 0 (the prior mean) and a large standard error.
    """

    scores: FloatArray
    std_errors: FloatArray
    votes_per_idea: IntArray
    active: BoolArray
    order: IntArray
    rank: IntArray
    weight: FloatArray
    covariance: FloatArray | None = None
    pair_weight: FloatArray | None = None
    misorder: FloatArray | None = None

    @classmethod
    def build(
        cls,
        scores: FloatArray,
        std_errors: FloatArray,
        votes_per_idea: IntArray,
        *,
        active: BoolArray | None = None,
        top_k: int | None = 10,
        floor: float = 0.1,
        covariance: FloatArray | None = None,
    ) -> SelectionContext:
        """Precompute score order and top-k relevance weights.

        With the full ``covariance`` and ``top_k=None`` the context also holds what ``next_pair``
        needs to pick the pair that most reduces the expected number of mis-ordered pairs over
        the whole ranking (``misorder_matrix``).
        """
        n = scores.shape[0]
        if std_errors.shape != (n,) or votes_per_idea.shape != (n,):
            raise ValueError("scores, std_errors and votes_per_idea must have the same length")
        act = np.ones(n, dtype=np.bool_) if active is None else active.astype(np.bool_)
        if act.shape != (n,):
            raise ValueError("active must have one flag per idea")
        if np.count_nonzero(act) < 2:
            raise ValueError("need at least two active ideas")
        if floor < 0:
            raise ValueError("floor must be >= 0")
        idx = np.flatnonzero(act)
        order = idx[np.lexsort((idx, -scores[idx]))].astype(np.int64)
        rank = np.full(n, -1, dtype=np.int64)
        rank[order] = np.arange(order.shape[0])
        weight = np.zeros(n)
        if top_k is None or top_k >= order.shape[0]:
            weight[act] = 1.0
        else:
            if top_k < 1:
                raise ValueError("top_k must be >= 1")
            cut = 0.5 * (scores[order[top_k - 1]] + scores[order[top_k]])
            p_top = ndtr((scores[idx] - cut) / np.maximum(std_errors[idx], 1e-9))
            border = p_top * (1.0 - p_top)
            weight[idx] = floor + border / max(float(border.max()), 1e-12)
        pair_weight = misorder = None
        if covariance is not None and (top_k is None or top_k >= order.shape[0]):
            if covariance.shape != (n, n):
                raise ValueError("covariance must be n x n")
            pair_weight, misorder = misorder_matrix(scores.astype(np.float64), covariance, act)
        return cls(
            scores=scores.astype(np.float64),
            std_errors=std_errors.astype(np.float64),
            votes_per_idea=votes_per_idea.astype(np.int64),
            active=act,
            order=order,
            rank=rank,
            weight=weight,
            covariance=covariance,
            pair_weight=pair_weight,
            misorder=misorder,
        )

    def with_counts(self, votes_per_idea: IntArray) -> SelectionContext:
        """The same context with updated vote counts (between two fits)."""
        if votes_per_idea.shape != self.votes_per_idea.shape:
            raise ValueError("votes_per_idea must keep its length")
        return SelectionContext(
            self.scores,
            self.std_errors,
            votes_per_idea.astype(np.int64),
            self.active,
            self.order,
            self.rank,
            self.weight,
            self.covariance,
            self.pair_weight,
            self.misorder,
        )

    def with_vote(self, i: int, j: int, reliability: float | None = None) -> SelectionContext:
        """The context after one more vote on ``(i, j)`` that the last fit has not seen.

        Under the Laplace approximation a vote shrinks the covariance by a rank-one term that
        does not depend on its outcome, so votes cast since the last fit (or pairs handed out
        and not yet answered) are accounted for and the next request goes elsewhere.  Without
        a covariance only the counts change.
        """
        counts = self.votes_per_idea.copy()
        counts[i] += 1
        counts[j] += 1
        cov, se, mis = self.covariance, self.std_errors, self.misorder
        if cov is not None:
            info = float(vote_information(np.asarray(self.scores[i] - self.scores[j]), reliability))
            x = cov[:, i] - cov[:, j]
            c = info / (1.0 + info * max(float(x[i] - x[j]), 1e-12))
            if mis is not None and self.pair_weight is not None:
                # M = S L S with S -> S - c x x^T and L (the pair weights) held until the next fit.
                w = self.pair_weight
                lx = w.sum(axis=1) * x - w @ x
                y = cov @ lx
                mis = mis - c * (np.outer(x, y) + np.outer(y, x)) + (c * c * float(x @ lx)) * np.outer(x, x)
            cov = cov - c * np.outer(x, x)
            se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        return SelectionContext(
            self.scores, se, counts, self.active, self.order, self.rank, self.weight, cov, self.pair_weight, mis
        )

    @classmethod
    def from_ranking(
        cls,
        ranking: PairwiseRanking,
        votes_per_idea: IntArray,
        *,
        active: BoolArray | None = None,
        top_k: int | None = 10,
        floor: float = 0.1,
        new_idea_sd: float | None = None,
    ) -> SelectionContext:
        """Context from a fit; ideas beyond the fit's size are new (prior mean, prior sd)."""
        n = votes_per_idea.shape[0]
        m = ranking.scores.shape[0]
        if n < m:
            raise ValueError("votes_per_idea is shorter than the fitted ranking")
        sd = ranking.prior_sd if new_idea_sd is None else new_idea_sd
        scores = np.concatenate([ranking.scores, np.zeros(n - m)])
        se = np.concatenate([ranking.std_errors, np.full(n - m, sd)])
        cov = ranking.covariance
        if cov is not None and n > m:
            grown = np.zeros((n, n))
            grown[:m, :m] = cov
            grown[np.arange(m, n), np.arange(m, n)] = sd**2
            cov = grown
        return cls.build(scores, se, votes_per_idea, active=active, top_k=top_k, floor=floor, covariance=cov)


def vote_information(d: FloatArray, reliability: float | None = None) -> FloatArray:
    """Fisher information about ``d = s_i - s_j`` in one vote (Crowd-BT voter model).

    A voter who is honest with probability ``eta`` reports ``i`` with probability
    ``P = eta sigma(d) + (1 - eta) sigma(-d)``; the information is ``P'(d)^2 / (P (1 - P))``,
    i.e. ``(2 eta - 1)^2 p^2 (1 - p)^2 / (P (1 - P))``, and ``p (1 - p)`` for a fully reliable
    voter (``reliability=None``).
    """
    p = 1.0 / (1.0 + np.exp(-d))
    if reliability is None:
        return np.asarray(p * (1.0 - p), dtype=np.float64)
    eta = float(np.clip(reliability, 0.0, 1.0))
    big = eta * p + (1.0 - eta) * (1.0 - p)
    slope = (2.0 * eta - 1.0) * p * (1.0 - p)
    return np.asarray(slope * slope / np.maximum(big * (1.0 - big), 1e-12), dtype=np.float64)


def misorder_matrix(
    scores: FloatArray, covariance: FloatArray, active: BoolArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """Pair weights ``W`` and the matrix ``M = S L_W S`` of the whole-ranking criterion.

    Under the posterior ``N(m, S)`` ideas ``i`` and ``j`` are mis-ordered with probability
    ``Phi(-|m_i - m_j| / sqrt(V_ij))``, ``V_ij = S_ii + S_jj - 2 S_ij``; the expected number of
    mis-ordered pairs is what Kendall's tau counts.  A vote on ``(a, b)`` lowers every ``V_ij``
    by ``c (x_i - x_j)^2`` with ``x = S (e_a - e_b)`` and ``c = info / (1 + info V_ab)``.  The
    sensitivity of a pair's mis-ordering to its spread is taken as
    ``W_ij = phi(z_ij) / V_ij`` (``z_ij = |m_i - m_j| / sqrt(V_ij)``; pairs already well
    separated weigh nothing, undecided pairs most), so the expected reduction is
    ``c sum_{i<j} W_ij (x_i - x_j)^2 = c u^T M u`` with ``u = e_a - e_b`` and ``L_W`` the
    weighted Laplacian: every candidate pair's value comes from ``M`` in O(1).
    Cost O(n^3) once per fit.
    """
    n = scores.shape[0]
    var = np.diag(covariance)
    v = np.maximum(var[:, None] + var[None, :] - 2.0 * covariance, 1e-12)
    z = np.abs(scores[:, None] - scores[None, :]) / np.sqrt(v)
    w = np.exp(-0.5 * z * z) / (np.sqrt(2.0 * np.pi) * v)
    w[np.diag_indices(n)] = 0.0
    if active is not None:
        w[~active, :] = 0.0
        w[:, ~active] = 0.0
    lap_s = w.sum(axis=1)[:, None] * covariance - w @ covariance
    return w, np.asarray(covariance @ lap_s, dtype=np.float64)


def misorder_gain(ctx: SelectionContext, i: IntArray, j: IntArray, reliability: float | None = None) -> FloatArray:
    """Expected reduction of the number of mis-ordered pairs from one vote on each ``(i, j)``
    (needs a context built with the covariance and ``top_k=None``)."""
    if ctx.misorder is None or ctx.covariance is None:
        raise ValueError("the context has no whole-ranking matrix (needs covariance and top_k=None)")
    m, cov = ctx.misorder, ctx.covariance
    info = vote_information(ctx.scores[i] - ctx.scores[j], reliability)
    v = np.maximum(cov[i, i] + cov[j, j] - 2.0 * cov[i, j], 1e-12)
    quad = m[i, i] + m[j, j] - 2.0 * m[i, j]
    return np.asarray(info * quad / (1.0 + info * v), dtype=np.float64)


def pair_gain(ctx: SelectionContext, i: IntArray, j: IntArray) -> FloatArray:
    """Expected weighted reduction of posterior variance from one more vote on ``(i, j)``.

    With the full covariance ``S`` (small problems) this is the weighted A-optimal criterion
    ``info * sum_k w_k (S_ki - S_kj)^2 / (1 + info * v)``: the vote's effect on every idea's
    variance, so pairs that link weakly connected parts of the vote graph score high.  Without
    it, the reduction of the variance of ``s_i - s_j`` itself, weighted by ``w_i + w_j``.
    """
    d = ctx.scores[i] - ctx.scores[j]
    p = 1.0 / (1.0 + np.exp(-d))
    info = p * (1.0 - p)
    v = ctx.std_errors[i] ** 2 + ctx.std_errors[j] ** 2
    if ctx.covariance is not None:
        cov = ctx.covariance
        v = np.maximum(v - 2.0 * cov[i, j], 1e-12)
        diff = cov[:, i] - cov[:, j]
        spread = ctx.weight @ (diff * diff)
        return np.asarray(info * spread / (1.0 + info * v), dtype=np.float64)
    gain = v * v * info / (1.0 + v * info)
    return np.asarray(gain * (ctx.weight[i] + ctx.weight[j]), dtype=np.float64)


def _key(i: int, j: int) -> tuple[int, int]:
    return (i, j) if i < j else (j, i)


def next_pair(
    ctx: SelectionContext,
    seen: Collection[tuple[int, int]],
    *,
    seed: int,
    anchors: int = 32,
    window: int = 4,
    random_partners: int = 12,
    catch_up: float = 0.5,
    min_votes: int = 3,
    explore: float = 0.0,
    reliability: float | None = None,
) -> tuple[int, int] | None:
    """The next pair ``(i, j)`` (``i < j``) for a voter who has already seen the pairs ``seen``.

    ``seen`` holds unordered pairs as ``(min, max)`` tuples.  Returns None only when the voter
    has seen every pair of active ideas.  With probability ``explore`` (after coverage) the pair
    is uniformly random instead, which keeps the vote graph well mixed.  ``reliability`` is the
    voter's estimated probability of answering honestly (Crowd-BT), used by the whole-ranking
    criterion to value the vote.

    When the context holds the whole-ranking matrix (full covariance, ``top_k=None``) every
    unseen pair is scored by ``misorder_gain`` (O(n^2) per request) instead of the sampled
    candidates; the coverage rule is the same.
    """
    rng = np.random.default_rng(seed)
    order = ctx.order
    n_active = order.shape[0]
    if len(seen) >= n_active * (n_active - 1) // 2:
        return None
    rank = ctx.rank
    counts = ctx.votes_per_idea[order]
    threshold = max(float(min_votes), catch_up * float(np.median(counts)))
    behind = order[counts < threshold]
    if behind.shape[0] > 0:
        # Least-seen first; ties broken at random so simultaneous voters spread out.
        ties = rng.random(size=(behind.shape[0],))
        picks = behind[np.lexsort((ties, ctx.votes_per_idea[behind]))][:anchors]
        priority = np.arange(picks.shape[0])
        if ctx.misorder is not None:
            found = _best_misorder_pair(ctx, picks[:1], seen, rng, reliability)
            return found if found is not None else _best_misorder_pair(ctx, order, seen, rng, reliability)
    elif explore > 0.0 and rng.random() < explore:
        return uniform_pair(ctx.scores.shape[0], seen, seed=seed + 1, active=ctx.active)
    elif ctx.misorder is not None:
        return _best_misorder_pair(ctx, order, seen, rng, reliability)
    else:
        w = ctx.weight[order] * ctx.std_errors[order] ** 2
        total = float(w.sum())
        probs = w / total if total > 0 else np.full(n_active, 1.0 / n_active)
        k = min(anchors, int(np.count_nonzero(probs)) or n_active)
        picks = rng.choice(order, size=k, replace=False, p=probs if total > 0 else None)
        priority = np.zeros(picks.shape[0], dtype=np.int64)
    # Candidates: each anchor with its score-order neighbours and a few random ideas.
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])
    near = rank[picks][:, None] + offsets[None, :]
    near = np.clip(near, 0, n_active - 1)
    far = rng.integers(0, n_active, size=(picks.shape[0], random_partners))
    partner = order[np.concatenate([near, far], axis=1)]
    anchor = np.broadcast_to(picks[:, None], partner.shape)
    prio = np.broadcast_to(priority[:, None], partner.shape).ravel()
    a_flat, p_flat = anchor.ravel(), partner.ravel()
    ok = a_flat != p_flat
    a_flat, p_flat, prio = a_flat[ok], p_flat[ok], prio[ok]
    gain = pair_gain(ctx, a_flat, p_flat)
    for idx in np.lexsort((-gain, prio)):
        pair = _key(int(a_flat[idx]), int(p_flat[idx]))
        if pair not in seen:
            return pair
    # Everything near the sampled anchors was seen: scan for any unseen pair, seeded order.
    for i in rng.permutation(order):
        for j in rng.permutation(order):
            if i != j and _key(int(i), int(j)) not in seen:
                return _key(int(i), int(j))
    return None


def _best_misorder_pair(
    ctx: SelectionContext,
    rows: IntArray,
    seen: Collection[tuple[int, int]],
    rng: np.random.Generator,
    reliability: float | None,
) -> tuple[int, int] | None:
    """The unseen pair with one idea in ``rows`` and the largest ``misorder_gain`` (computed
    as a block of the gain matrix: no per-pair gathers)."""
    m, cov = ctx.misorder, ctx.covariance
    assert m is not None and cov is not None
    dm, dc = np.diag(m), np.diag(cov)
    quad = dm[rows][:, None] + dm[None, :] - 2.0 * m[rows, :]
    v = np.maximum(dc[rows][:, None] + dc[None, :] - 2.0 * cov[rows, :], 1e-12)
    info = vote_information(ctx.scores[rows][:, None] - ctx.scores[None, :], reliability)
    gain = info * quad / (1.0 + info * v)
    gain[np.arange(rows.shape[0]), rows] = -np.inf
    gain[:, ~ctx.active] = -np.inf
    # A tiny seeded jitter breaks exact ties (e.g. before the first vote) at random.
    flat = (gain * (1.0 + 1e-9 * rng.random(gain.shape))).ravel()
    n = cov.shape[0]
    k = min(64, flat.shape[0])
    best = np.argpartition(-flat, k - 1)[:k]
    for idxs in (best[np.argsort(-flat[best])], np.argsort(-flat)):
        for idx in idxs:
            if not np.isfinite(flat[idx]):
                return None
            pair = _key(int(rows[idx // n]), int(idx % n))
            if pair not in seen:
                return pair
    return None


def uniform_pair(
    n_ideas: int,
    seen: Collection[tuple[int, int]],
    *,
    seed: int,
    active: BoolArray | None = None,
) -> tuple[int, int] | None:
    """A uniformly random unseen pair: the classic wiki-survey baseline."""
    rng = np.random.default_rng(seed)
    idx = np.arange(n_ideas) if active is None else np.flatnonzero(active)
    m = idx.shape[0]
    if m < 2 or len(seen) >= m * (m - 1) // 2:
        return None
    for _ in range(64):
        a, b = rng.choice(m, size=2, replace=False)
        pair = _key(int(idx[a]), int(idx[b]))
        if pair not in seen:
            return pair
    for i in rng.permutation(idx):
        for j in rng.permutation(idx):
            if i != j and _key(int(i), int(j)) not in seen:
                return _key(int(i), int(j))
    return None
