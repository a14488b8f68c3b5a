"""Calibration of judges' scores: severity and scale per judge, shrunk for judges with few scores.

Method
------
Linear mixed model for rubric totals (the additive "reviewer bias" model of peer assessment,
Piech et al., "Tuned models of peer assessment in MOOCs", EDM 2013, model PG1, here solved
exactly rather than by Gibbs sampling; scale term as in Paul, "Bias in peer review", and
Roos, Rothe & Scheuermann, "How to calibrate the scores of biased reviewers", IJCAI 2011):

    score(idea i, judge j) = mu + a_j * theta_i + b_j + noise,     noise ~ N(0, sigma^2)
    theta_i ~ N(0, tau^2),  b_j ~ N(0, beta^2),  a_j ~ N(1, alpha^2)

``b_j`` is the judge's severity (negative: harsh), ``a_j`` their scale (below 1: compresses the
range).  Given the scales, the posterior of ``(mu, theta, b)`` is Gaussian and is computed
exactly by a sparse linear solve; a judge who scored few ideas keeps ``b_j`` near 0 and ``a_j``
near 1 (shrinkage through the priors).  The variance components ``tau^2, beta^2, sigma^2``
are estimated by EM (empirical Bayes, Dempster, Laird & Rubin 1977) unless given; the scales
by a ridge update between EM steps.  Calibrated scores are ``mu + theta_i`` with posterior
standard deviations.

Complexity: one sparse factorisation of an (ideas + judges) system per EM step, O(scores)
for everything else; exact posterior variances use a dense inverse up to ``dense_limit``
unknowns and the diagonal approximation above it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import splu

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class JudgeScores:
    """One row per (idea, judge) score, e.g. a weighted rubric total."""

    idea: IntArray
    judge: IntArray
    score: FloatArray
    n_ideas: int
    n_judges: int

    def __post_init__(self) -> None:
        m = self.idea.shape[0]
        if self.idea.ndim != 1 or self.judge.shape != (m,) or self.score.shape != (m,):
            raise ValueError("idea, judge and score must be one-dimensional of equal length")
        if m == 0:
            raise ValueError("need at least one score")
        if self.idea.min() < 0 or self.idea.max() >= self.n_ideas:
            raise ValueError("idea index out of range")
        if self.judge.min() < 0 or self.judge.max() >= self.n_judges:
            raise ValueError("judge index out of range")
        if not np.all(np.isfinite(self.score)):
            raise ValueError("scores must be finite")

    @classmethod
    def from_lists(
        cls,
        idea: list[int] | IntArray,
        judge: list[int] | IntArray,
        score: list[float] | FloatArray,
        *,
        n_ideas: int | None = None,
        n_judges: int | None = None,
    ) -> JudgeScores:
        i = np.asarray(idea, dtype=np.int64)
        j = np.asarray(judge, dtype=np.int64)
        s = np.asarray(score, dtype=np.float64)
        n_ideas = int(i.max(initial=-1)) + 1 if n_ideas is None else n_ideas
        n_judges = int(j.max(initial=-1)) + 1 if n_judges is None else n_judges
        return cls(i, j, s, n_ideas, n_judges)


@dataclass(frozen=True, eq=False)
class CalibratedScores:
    """Calibrated idea scores on the judges' scale, with the fitted judge model."""

    score: FloatArray
    std: FloatArray
    severity: FloatArray
    scale: FloatArray
    mean: float
    idea_sd: float
    severity_sd: float
    noise_sd: float
    iterations: int

    def order(self) -> IntArray:
        """Ideas from best to worst (ties broken by index)."""
        idx = np.arange(self.score.shape[0])
        return np.lexsort((idx, -self.score)).astype(np.int64)


def _posterior(
    data: JudgeScores,
    scale: FloatArray,
    noise_var: float,
    idea_var: float,
    severity_var: float,
    dense_limit: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Posterior mean and marginal variances of (mu, theta, b), and per-score fit variance."""
    r, j, y = data.idea, data.judge, data.score
    m, n_i, n_j = y.shape[0], data.n_ideas, data.n_judges
    size = 1 + n_i + n_j
    rows = np.repeat(np.arange(m), 3)
    cols = np.stack([np.zeros(m, dtype=np.int64), 1 + r, 1 + n_i + j], axis=1).ravel()
    vals = np.stack([np.ones(m), scale[j], np.ones(m)], axis=1).ravel()
    x = sp.csr_matrix((vals, (rows, cols)), shape=(m, size))
    prior = np.concatenate([[1e-8], np.full(n_i, 1.0 / idea_var), np.full(n_j, 1.0 / severity_var)])
    a = (x.T @ x) / noise_var + sp.diags(prior)
    rhs = x.T @ y / noise_var
    if size <= dense_limit:
        cov = np.linalg.inv(a.toarray())
        mean = cov @ rhs
        var = np.diag(cov).copy()
        # Var(mu + a_j theta_i + b_j) from the few covariance entries each score touches.
        ci, cj, aj = 1 + r, 1 + n_i + j, scale[j]
        fit_var = (
            cov[0, 0]
            + aj * aj * cov[ci, ci]
            + cov[cj, cj]
            + 2.0 * aj * cov[0, ci]
            + 2.0 * cov[0, cj]
            + 2.0 * aj * cov[ci, cj]
        )
    else:
        mean = splu(a.tocsc()).solve(rhs)
        var = 1.0 / a.diagonal()
        fit_var = np.asarray((x.multiply(x)) @ var).ravel()
    return mean, var, fit_var


def calibrate_judges(
    data: JudgeScores,
    *,
    severity_sd: float | None = None,
    scale_sd: float | None = 0.0,
    max_iter: int = 200,
    tol: float = 1e-4,
    dense_limit: int = 1500,
) -> CalibratedScores:
    """Fit severity (and, if ``scale_sd`` > 0, scale) per judge and return calibrated scores.

    ``severity_sd=None`` estimates the spread of judge severities from the data (EM);
    ``scale_sd`` is the prior sd of judges' scales around 1 (0 disables scales, ``None``
    estimates it).
    """
    # Work on centred scores: the model is shift-equivariant, and this keeps the nearly flat
    # prior on mu from costing precision in the solve.
    offset = float(data.score.mean())
    data = JudgeScores(data.idea, data.judge, data.score - offset, data.n_ideas, data.n_judges)
    y = data.score
    total_var = float(y.var()) if y.shape[0] > 1 else 1.0
    total_var = max(total_var, 1e-6)
    noise_var = idea_var = total_var / 2.0
    sev_var = total_var / 4.0 if severity_sd is None else max(severity_sd**2, 1e-12)
    use_scale = scale_sd is None or scale_sd > 0.0
    scale_var = 0.01 if scale_sd is None else max(scale_sd**2, 1e-12)
    scale = np.ones(data.n_judges)
    r, j = data.idea, data.judge
    n_i = data.n_ideas
    iterations = 0
    for step in range(1, max_iter + 1):
        iterations = step
        mean, var, fit_var = _posterior(data, scale, noise_var, idea_var, sev_var, dense_limit)
        mu, theta, sev = mean[0], mean[1 : 1 + n_i], mean[1 + n_i :]
        theta_var, sev_var_post = var[1 : 1 + n_i], var[1 + n_i :]
        if use_scale:
            # Ridge regression of each judge's (score - mu - b_j) on theta, towards scale 1.
            z = y - mu - sev[j]
            num = np.bincount(j, theta[r] * z, data.n_judges) / noise_var + 1.0 / scale_var
            den = np.bincount(j, theta[r] ** 2 + theta_var[r], data.n_judges) / noise_var + 1.0 / scale_var
            new_scale = num / den
            if scale_sd is None:
                scale_var = max(float(np.mean((new_scale - 1.0) ** 2)), 1e-6)
        else:
            new_scale = scale
        resid = y - mu - scale[j] * theta[r] - sev[j]
        new_noise = max(float(np.mean(resid**2 + fit_var)), 1e-9)
        new_idea = max(float(np.mean(theta**2 + theta_var)), 1e-9)
        new_sev = sev_var
        if severity_sd is None:
            new_sev = max(float(np.mean(sev**2 + sev_var_post)), 1e-9)
        change = max(
            abs(new_noise - noise_var) / noise_var,
            abs(new_idea - idea_var) / idea_var,
            abs(new_sev - sev_var) / sev_var,
            float(np.max(np.abs(new_scale - scale), initial=0.0)),
        )
        noise_var, idea_var, sev_var, scale = new_noise, new_idea, new_sev, new_scale
        if change < tol:
            break
    mean, var, _ = _posterior(data, scale, noise_var, idea_var, sev_var, dense_limit)
    theta = mean[1 : 1 + n_i]
    return CalibratedScores(
        score=offset + mean[0] + theta,
        std=np.sqrt(var[1 : 1 + n_i]),
        severity=mean[1 + n_i :],
        scale=scale,
        mean=offset + float(mean[0]),
        idea_sd=float(np.sqrt(idea_var)),
        severity_sd=float(np.sqrt(sev_var)),
        noise_sd=float(np.sqrt(noise_var)),
        iterations=iterations,
    )
