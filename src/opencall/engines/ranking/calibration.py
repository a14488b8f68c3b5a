"""Calibration of judges' scores: per-criterion severity (and optional scale) per judge, shrunk for
judges with few scores, fitted jointly with the ideas' qualities by a Gibbs sampler.

Model
-----
A multivariate linear mixed model of rubric scores, the additive reviewer-bias model of peer
assessment (Piech et al., "Tuned models of peer assessment in MOOCs", EDM 2013, model PG1) taken
to the rubric's criteria. For the score of idea ``i`` by judge ``j`` on criterion ``k``::

    y_ijk = mu_k + a_j * theta_ik + b_jk + e_ijk,        e_ijk ~ N(0, sigma_k^2)
    theta_i ~ N_K(0, T),   b_j ~ N_K(0, B),   a_j ~ N(1, alpha^2)

``theta_i`` is the idea's quality on each criterion, ``b_j`` the judge's severity on each criterion
(negative: harsh) and ``a_j`` the judge's scale (below 1: compresses the range; fixed at 1 unless
asked for). The full covariances ``T`` and ``B`` let the criteria borrow strength from each other:
an idea that is strong on one criterion tends to be strong on the others, and a lenient judge is
lenient throughout. A single overall score per review is the case ``K = 1``. A judge who scored few
ideas has a posterior ``b_j`` close to 0 (shrinkage through the prior, by as much as the data
warrant). The calibrated score of an idea is ``sum_k w_k (mu_k + theta_ik)``, the rubric total the
typical judge would give it, with the rubric's weights ``w``.

Inference and priors
--------------------
Fully Bayesian: the variance components get weakly informative conjugate priors worth about two
observations each, centred on each criterion's own spread of scores (so the fit is invariant to
shifting or rescaling a criterion): ``T ~ InvWishart(K + 2, 0.4 S)``, ``B ~ InvWishart(K + 2, 0.2 S)``,
``sigma_k^2 ~ InvGamma(1, 0.4 s_k^2)`` with ``S = diag(s_k^2)`` the per-criterion variances, a flat
prior on ``mu``, and for estimated scales ``alpha^2 ~ InvGamma(1, 0.01)``. Nothing is tuned to any
reference ranking. A blocked Gibbs sampler (Gelfand & Smith 1990) alternates the K-dimensional
Gaussian conditionals of every ``theta_i`` and every ``b_j`` (batched K x K Cholesky), the scales,
``mu``, and the conjugate draws of the variances. The reported score and its standard deviation are
Rao-Blackwellised (averages of the conditional means and variances over the kept sweeps), which
removes most Monte Carlo noise; a fixed ``seed`` makes the result deterministic.

Complexity: O(scores * K + (ideas + judges) * K^3) per sweep, O(ideas + judges) memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

# Prior centres as fractions of each criterion's variance of scores, and prior weight in observations.
_IDEA_SHARE, _JUDGE_SHARE, _NOISE_SHARE = 0.4, 0.2, 0.4
_SCALE_PRIOR_SHAPE, _SCALE_PRIOR_RATE = 1.0, 0.01
_MEAN_PRIOR_PRECISION = 1e-4  # criterion means: N(0, 100^2) spreads, flat in practice


@dataclass(frozen=True, eq=False)
class JudgeScores:
    """One row per score: an (idea, judge) rubric total, or one criterion of it when ``criterion`` is given.

    ``criterion[r]`` is the rubric criterion (0 .. ``n_criteria`` - 1) that row ``r`` scores, and
    ``weight`` the criteria's weights in an idea's total (default 1 each). A review may leave a
    criterion out; the model fills it in from the others.
    """

    idea: IntArray
    judge: IntArray
    score: FloatArray
    n_ideas: int
    n_judges: int
    criterion: IntArray | None = None
    n_criteria: int = 1
    weight: FloatArray | None = None

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
        if self.n_criteria < 1:
            raise ValueError("need at least one criterion")
        if self.criterion is None:
            if self.n_criteria != 1:
                raise ValueError("several criteria need a criterion for every score")
        elif self.criterion.shape != (m,) or self.criterion.min() < 0 or self.criterion.max() >= self.n_criteria:
            raise ValueError("criterion index out of range")
        if self.weight is not None and (
            self.weight.shape != (self.n_criteria,) or not np.all(np.isfinite(self.weight))
        ):
            raise ValueError("weight needs one finite value per criterion")

    @property
    def criteria(self) -> IntArray:
        """The criterion of every row (all 0 for overall scores)."""
        if self.criterion is None:
            return np.zeros(self.idea.shape[0], dtype=np.int64)
        return self.criterion

    @property
    def weights(self) -> FloatArray:
        return np.ones(self.n_criteria) if self.weight is None else self.weight

    @classmethod
    def from_lists(
        cls,
        idea: list[int] | IntArray,
        judge: list[int] | IntArray,
        score: list[float] | FloatArray,
        *,
        n_ideas: int | None = None,
        n_judges: int | None = None,
        criterion: list[int] | IntArray | None = None,
        n_criteria: int | None = None,
        weight: list[float] | FloatArray | None = None,
    ) -> JudgeScores:
        i = np.asarray(idea, dtype=np.int64)
        j = np.asarray(judge, dtype=np.int64)
        s = np.asarray(score, dtype=np.float64)
        c = None if criterion is None else np.asarray(criterion, dtype=np.int64)
        w = None if weight is None else np.asarray(weight, dtype=np.float64)
        n_ideas = int(i.max(initial=-1)) + 1 if n_ideas is None else n_ideas
        n_judges = int(j.max(initial=-1)) + 1 if n_judges is None else n_judges
        if n_criteria is None:
            n_criteria = w.shape[0] if w is not None else (1 if c is None else int(c.max(initial=0)) + 1)
        return cls(i, j, s, n_ideas, n_judges, c, n_criteria, w)

    @classmethod
    def from_rubric(
        cls,
        idea: list[int] | IntArray,
        judge: list[int] | IntArray,
        scores: list[list[float]] | FloatArray,
        *,
        n_ideas: int | None = None,
        n_judges: int | None = None,
        weight: list[float] | FloatArray | None = None,
    ) -> JudgeScores:
        """One row per review with one column per criterion; NaN marks a criterion left unscored."""
        table = np.asarray(scores, dtype=np.float64)
        i = np.asarray(idea, dtype=np.int64)
        if table.ndim != 2 or table.shape[0] != i.shape[0]:
            raise ValueError("scores must be a table with one row per review")
        seen = ~np.isnan(table)
        rows, crit = np.nonzero(seen)
        return cls.from_lists(
            i[rows],
            np.asarray(judge, dtype=np.int64)[rows],
            table[seen],
            n_ideas=int(i.max(initial=-1)) + 1 if n_ideas is None else n_ideas,
            n_judges=n_judges,
            criterion=crit,
            n_criteria=table.shape[1],
            weight=weight,
        )


@dataclass(frozen=True, eq=False)
class CalibratedScores:
    """Calibrated idea totals on the judges' scale, with posterior means of the judge model.

    ``severity`` is each judge's weighted severity on the total, ``criterion_severity`` the same per
    criterion; ``idea_sd``, ``severity_sd`` and ``noise_sd`` are the posterior-mean spreads of a
    weighted total (the quality of ideas, the severity of judges, one review's noise).
    """

    score: FloatArray
    std: FloatArray
    severity: FloatArray
    scale: FloatArray
    mean: float
    idea_sd: float
    severity_sd: float
    noise_sd: float
    iterations: int
    criterion_severity: FloatArray
    criterion_noise_sd: FloatArray

    def order(self) -> IntArray:
        """Ideas from best to worst (ties broken by index)."""
        idx = np.arange(self.score.shape[0])
        return np.lexsort((idx, -self.score)).astype(np.int64)


def _inverse(matrix: FloatArray) -> FloatArray:
    return np.asarray(np.linalg.inv(matrix), dtype=np.float64)


def _inv_wishart(rng: np.random.Generator, dof: float, scale: FloatArray) -> FloatArray:
    """One draw from InvWishart(dof, scale): the inverse of a Wishart(dof, scale^-1) draw (Bartlett)."""
    k = scale.shape[0]
    chol = np.linalg.cholesky(np.linalg.inv(scale))
    bart = np.tril(rng.standard_normal((k, k)), -1)
    bart[np.diag_indices(k)] = np.sqrt(rng.chisquare(dof - np.arange(k)))
    factor = chol @ bart
    return np.asarray(np.linalg.inv(factor @ factor.T), dtype=np.float64)


def _group_draw(
    rng: np.random.Generator,
    group: IntArray,
    n: int,
    crit: IntArray,
    k: int,
    precision: FloatArray,
    weighted: FloatArray,
    prior_precision: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Draw every group's K-vector from its Gaussian conditional: each row adds ``precision`` to the
    diagonal of its group's precision and ``weighted`` (precision times its target) to the linear
    term; the prior is N(0, prior_precision^-1). Also return the conditional means and covariances."""
    prec = np.zeros((n, k, k))
    np.add.at(prec, (group, crit, crit), precision)
    prec += prior_precision
    lin = np.zeros((n, k))
    np.add.at(lin, (group, crit), weighted)
    chol = np.linalg.cholesky(prec)
    inv_chol = np.linalg.inv(chol)  # batched K x K: cheap, and gives the covariances directly
    cov = np.swapaxes(inv_chol, 1, 2) @ inv_chol
    mean = (cov @ lin[..., None])[..., 0]
    noise = (np.swapaxes(inv_chol, 1, 2) @ rng.standard_normal((n, k, 1)))[..., 0]
    return mean + noise, mean, cov


def calibrate_judges(
    data: JudgeScores,
    *,
    severity_sd: float | None = None,
    scale_sd: float | None = 0.0,
    draws: int = 1000,
    burn_in: int = 300,
    seed: int = 0,
) -> CalibratedScores:
    """Fit per-criterion severity (and, if ``scale_sd`` > 0, scale) per judge; return calibrated totals.

    ``severity_sd=None`` learns the judges' severity covariance from the data (the full-Bayes
    default); a number fixes every criterion's severity prior to N(0, severity_sd^2) instead.
    ``scale_sd`` is the prior sd of the judges' scales around 1 (0 disables scales, ``None`` learns
    it). ``draws`` Gibbs sweeps are kept after ``burn_in``; ``seed`` makes the run reproducible.
    """
    if draws < 1 or burn_in < 0:
        raise ValueError("need at least one kept draw and a non-negative burn-in")
    # Criteria nobody scored carry no information and add nothing to the totals: fit the others.
    used = np.flatnonzero(np.bincount(data.criteria, minlength=data.n_criteria) > 0)
    k = used.shape[0]
    remap = np.zeros(data.n_criteria, dtype=np.int64)
    remap[used] = np.arange(k)
    crit = remap[data.criteria]
    r, j = data.idea, data.judge
    n_i, n_j = data.n_ideas, data.n_judges
    weight = data.weights[used]
    # Standardise each criterion: the priors are stated in units of its own spread, which makes the
    # fit equivariant to shifting or rescaling any criterion. A criterion on which every score is
    # the same borrows the others' spread; when every criterion is constant, the spread of all the
    # scores together (which a common shift leaves alone and a rescaling scales), else 1.
    count_k = np.bincount(crit, minlength=k).astype(np.float64)
    offset = np.bincount(crit, data.score, k) / count_k
    spread = np.sqrt(np.bincount(crit, (data.score - offset[crit]) ** 2, k) / count_k)
    varies = spread > 1e-9 * (1.0 + np.abs(offset))
    pooled = float(np.std(data.score)) if data.score.size else 0.0
    if varies.any():
        fallback = float(np.sqrt(np.mean(spread[varies] ** 2)))
    elif pooled > 1e-9 * (1.0 + float(np.abs(data.score).max(initial=0.0))):
        fallback = pooled
    else:
        fallback = 1.0
    spread = np.where(varies, spread, fallback)
    y = (data.score - offset[crit]) / spread[crit]

    rng = np.random.default_rng(seed)
    dof = k + 2.0
    idea_prior = _IDEA_SHARE * np.eye(k)
    judge_prior = _JUDGE_SHARE * np.eye(k)
    idea_cov = idea_prior.copy()
    fixed_severity = None if severity_sd is None else np.diag((max(severity_sd, 1e-9) / spread) ** 2)
    judge_cov = judge_prior.copy() if fixed_severity is None else fixed_severity
    noise_var = np.full(k, _NOISE_SHARE)
    use_scale = scale_sd is None or scale_sd > 0.0
    scale_var = 0.01 if scale_sd is None else max(scale_sd, 1e-9) ** 2
    mu = np.zeros(k)
    theta = np.zeros((n_i, k))
    sev = np.zeros((n_j, k))
    scale = np.ones(n_j)
    seen_i = np.bincount(r, minlength=n_i) > 0
    seen_j = np.bincount(j, minlength=n_j) > 0

    # Accumulators on the standardised scale: the total's weights there are w_k * spread_k.
    w_std = weight * spread
    sum_score = np.zeros(n_i)
    sum_score_sq = np.zeros(n_i)
    sum_cond_var = np.zeros(n_i)
    sum_sev = np.zeros((n_j, k))
    sum_scale = np.zeros(n_j)
    sum_idea_var = sum_judge_var = sum_noise_tot = 0.0
    sum_noise = np.zeros(k)
    sum_mu = np.zeros(k)
    for sweep in range(burn_in + draws):
        prec = 1.0 / noise_var[crit]
        a = scale[j]
        theta, theta_mean, theta_cov = _group_draw(
            rng, r, n_i, crit, k, prec * a * a, prec * a * (y - mu[crit] - sev[j, crit]), _inverse(idea_cov)
        )
        t = theta[r, crit]
        sev, sev_mean, _ = _group_draw(rng, j, n_j, crit, k, prec, prec * (y - mu[crit] - a * t), _inverse(judge_cov))
        if use_scale:
            resid = y - mu[crit] - sev[j, crit]
            s_prec = np.bincount(j, prec * t * t, n_j) + 1.0 / scale_var
            s_lin = np.bincount(j, prec * t * resid, n_j) + 1.0 / scale_var
            scale = s_lin / s_prec + rng.standard_normal(n_j) / np.sqrt(s_prec)
            if scale_sd is None:
                dev = float(np.sum((scale[seen_j] - 1.0) ** 2))
                shape = _SCALE_PRIOR_SHAPE + 0.5 * float(seen_j.sum())
                scale_var = (_SCALE_PRIOR_RATE + 0.5 * dev) / rng.gamma(shape)
            a = scale[j]
        resid = y - a * t - sev[j, crit]
        m_prec = np.bincount(crit, prec, k) + _MEAN_PRIOR_PRECISION
        mu = np.bincount(crit, prec * resid, k) / m_prec + rng.standard_normal(k) / np.sqrt(m_prec)
        resid -= mu[crit]
        noise_var = (_NOISE_SHARE + 0.5 * np.bincount(crit, resid * resid, k)) / rng.gamma(1.0 + 0.5 * count_k)
        th, sv = theta[seen_i], sev[seen_j]
        idea_cov = _inv_wishart(rng, dof + th.shape[0], idea_prior + th.T @ th)
        if severity_sd is None:
            judge_cov = _inv_wishart(rng, dof + sv.shape[0], judge_prior + sv.T @ sv)
        if sweep < burn_in:
            continue
        # Rao-Blackwellised: the conditional mean and variance of each idea's total given the rest.
        total = (mu + theta_mean) @ w_std
        sum_score += total
        sum_score_sq += total * total
        sum_cond_var += np.einsum("k,ikl,l->i", w_std, theta_cov, w_std)
        sum_sev += sev_mean
        sum_mu += mu
        sum_scale += scale
        sum_idea_var += float(w_std @ idea_cov @ w_std)
        sum_judge_var += float(w_std @ judge_cov @ w_std)
        sum_noise_tot += float(np.sum(w_std**2 * noise_var))
        sum_noise += noise_var
    mean_score = sum_score / draws
    var = sum_cond_var / draws + np.maximum(sum_score_sq / draws - mean_score**2, 0.0)
    base = float(weight @ offset)
    crit_sev = np.zeros((n_j, data.n_criteria))
    crit_sev[:, used] = sum_sev / draws * spread
    crit_noise = np.full(data.n_criteria, np.nan)
    crit_noise[used] = np.sqrt(sum_noise / draws) * spread
    return CalibratedScores(
        score=base + mean_score,
        std=np.sqrt(var),
        severity=crit_sev @ data.weights,
        scale=sum_scale / draws,
        mean=base + float(sum_mu @ w_std) / draws,
        idea_sd=float(np.sqrt(sum_idea_var / draws)),
        severity_sd=float(np.sqrt(sum_judge_var / draws)),
        noise_sd=float(np.sqrt(sum_noise_tot / draws)),
        iterations=burn_in + draws,
        criterion_severity=crit_sev,
        criterion_noise_sd=crit_noise,
    )
