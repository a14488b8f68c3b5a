"""Star ratings and likes aggregated with Bayesian shrinkage.

Method
------
* Star ratings: normal–normal hierarchical model (the "Bayesian average" of IMDb-style charts,
  with its prior strength estimated rather than guessed).  Idea ``i`` has true mean ``m_i ~
  N(mu, tau^2)``; each rating is ``m_i`` plus noise of variance ``sigma^2``.  ``mu``, ``tau^2``
  and ``sigma^2`` are estimated by the method of moments (one-way random-effects ANOVA,
  Searle, Casella & McCulloch, "Variance Components", 1992, ch. 3); the posterior mean is
  ``(k mu + sum of ratings) / (k + n_i)`` with ``k = sigma^2 / tau^2`` pseudo-ratings, and the
  posterior sd is ``sigma / sqrt(k + n_i)``.  Two 5-star ratings therefore count as two votes
  next to ``k`` votes at the global mean, and do not beat 200 ratings averaging 4.6.
* Likes: beta–binomial model over exposures (views), so that ideas seen more often do not win
  by exposure alone.  ``rate_i ~ Beta(a, b)`` with ``a, b`` from the method of moments on the
  observed like rates (Kleinman, "Proportions with extraneous variance", JASA 1973); the
  posterior mean is ``(likes + a) / (views + a + b)``.

Complexity: O(ratings + ideas).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class ShrunkScores:
    """Posterior mean and standard deviation per idea, with the fitted hyper-parameters.

    ``prior_strength`` is the number of pseudo-observations at ``prior_mean`` each idea starts
    with.
    """

    mean: FloatArray
    std: FloatArray
    count: IntArray
    prior_mean: float
    prior_strength: float

    def order(self) -> IntArray:
        """Ideas from best to worst by posterior mean (ties broken by index)."""
        idx = np.arange(self.mean.shape[0])
        return np.lexsort((idx, -self.mean)).astype(np.int64)


def aggregate_stars(
    idea: IntArray,
    stars: FloatArray,
    n_ideas: int,
    *,
    prior_strength: float | None = None,
) -> ShrunkScores:
    """Shrunk mean rating per idea.  ``prior_strength=None`` estimates it from the data."""
    idea = np.asarray(idea, dtype=np.int64)
    stars = np.asarray(stars, dtype=np.float64)
    if idea.shape != stars.shape or idea.ndim != 1:
        raise ValueError("idea and stars must be one-dimensional and of equal length")
    if idea.shape[0] == 0:
        raise ValueError("need at least one rating")
    if idea.min() < 0 or idea.max() >= n_ideas:
        raise ValueError("idea index out of range")
    if not np.all(np.isfinite(stars)):
        raise ValueError("ratings must be finite")
    if prior_strength is not None and prior_strength < 0:
        raise ValueError("prior_strength must be >= 0")
    n = np.bincount(idea, minlength=n_ideas)
    total = np.bincount(idea, stars, n_ideas)
    mu = float(stars.mean())
    rated = n > 0
    item_mean = np.where(rated, total / np.maximum(n, 1), mu)
    # Within-idea variance (pooled) and between-idea variance by one-way ANOVA moments.
    resid = stars - item_mean[idea]
    df_within = int(idea.shape[0] - np.count_nonzero(rated))
    sigma2 = float(resid @ resid) / df_within if df_within > 0 else float(stars.var())
    sigma2 = max(sigma2, 1e-9)
    if prior_strength is None:
        g = int(np.count_nonzero(rated))
        big_n = float(n.sum())
        if g > 1:
            ms_between = float(n[rated] @ (item_mean[rated] - mu) ** 2) / (g - 1)
            n0 = (big_n - float(n[rated] @ n[rated]) / big_n) / (g - 1)
            tau2 = (ms_between - sigma2) / n0
        else:
            tau2 = 0.0
        # No detectable spread between ideas: shrink strongly but keep counts meaningful.
        k = sigma2 / tau2 if tau2 > 1e-12 else float(big_n)
    else:
        k = float(prior_strength)
    mean = (k * mu + total) / (k + n)
    std = np.sqrt(sigma2 / np.maximum(k + n, 1e-12))
    return ShrunkScores(mean, std, n.astype(np.int64), mu, k)


def aggregate_likes(likes: IntArray, views: IntArray) -> ShrunkScores:
    """Shrunk like rate per idea from likes and exposures (views) per idea."""
    likes_f = np.asarray(likes, dtype=np.float64)
    views_f = np.asarray(views, dtype=np.float64)
    if likes_f.shape != views_f.shape or likes_f.ndim != 1 or likes_f.shape[0] == 0:
        raise ValueError("likes and views must be non-empty one-dimensional arrays of equal length")
    if np.any(likes_f < 0) or np.any(likes_f > views_f):
        raise ValueError("likes must be between 0 and views")
    seen = views_f > 0
    if not np.any(seen):
        raise ValueError("no idea has been viewed")
    rate = likes_f[seen] / views_f[seen]
    p = float(likes_f.sum() / views_f.sum())
    # Method of moments for the beta's concentration a + b, views-weighted (Kleinman 1973).
    w = views_f[seen]
    s2 = float(w @ (rate - p) ** 2) / float(w.sum())
    binom = p * (1.0 - p) * float(np.mean(1.0 / w))
    spread = s2 - binom
    # Without detectable extra-binomial spread, shrink as if the prior had seen every view.
    conc = max(p * (1.0 - p) / spread - 1.0, 1e-6) if spread > 1e-12 and 0.0 < p < 1.0 else float(views_f.sum())
    a, b = p * conc, (1.0 - p) * conc
    mean = (likes_f + a) / (views_f + a + b)
    var = mean * (1.0 - mean) / (views_f + a + b + 1.0)
    return ShrunkScores(mean, np.sqrt(var), likes_f.astype(np.int64), p, conc)
