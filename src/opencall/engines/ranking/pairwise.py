"""Bradley–Terry ranking from pairwise votes, with "can't decide" and noisy voters.

Method
------
* Strengths follow the Bradley–Terry model (Bradley & Terry, Biometrika 1952) on a log scale:
  ``P(i beats j) = sigma(s_i - s_j)``.  A "can't decide" vote is a tie in Davidson's extension
  (Davidson, JASA 1970): with ``d = s_i - s_j`` the three outcomes have probabilities
  ``e^{d/2} / Z``, ``e^{-d/2} / Z`` and ``nu / Z`` with ``Z = e^{d/2} + e^{-d/2} + nu``; the tie
  parameter ``nu`` is fitted (it is 0 when nobody ever ties).
* Scores are the maximum a posteriori estimate under a Gaussian prior ``s ~ N(0, prior_sd^2)``
  which makes the fit exist for every vote graph (an idea that always wins, or that has no
  votes).  ``prior_sd=None`` estimates the prior variance by empirical Bayes (EM on the
  Laplace approximation).
* The optimiser is damped Newton.  Votes are first collapsed into one row per unordered pair;
  gradient and Hessian-vector products are ``np.bincount`` scatters over those rows, so one
  Newton step costs O(pairs) per conjugate-gradient iteration and memory is O(pairs + ideas).
  Each Newton system is solved by Jacobi-preconditioned conjugate gradients, never formed.
* Standard errors come from the Laplace approximation: the inverse Hessian of the negative log
  posterior.  Exact (dense inverse) up to ``dense_limit`` ideas, above it the diagonal
  approximation ``1 / H_ii`` (slightly narrow on sparse vote graphs; documented on the result).
* The noisy-voter variant is Crowd-BT (Chen, Bennett, Collins-Thompson, Horvitz, "Pairwise
  ranking aggregation in a crowdsourced setting", WSDM 2013): voter ``k`` reports the truth with
  probability ``eta_k`` and the opposite otherwise, so
  ``P(k says i beats j) = eta_k sigma(d) + (1 - eta_k) sigma(-d)``.  We fit it by EM: the E-step
  gives the posterior probability that each vote is honest, the M-step is a weighted
  Bradley–Terry fit (warm-started, a few Newton steps) and a Beta-prior MAP update of every
  ``eta_k``, which shrinks voters with few votes towards the prior mean.

Complexity: O(V log V) to collapse V votes into P pairs, then O(P) per Newton/CG iteration
(exact standard errors: one O(n^3) inverse for n <= dense_limit ideas).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.linalg import LinearOperator, cg

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

_Z95 = 1.959963984540054


@dataclass(frozen=True, eq=False)
class PairwiseVotes:
    """Votes between ideas ``0..n_ideas-1`` cast by voters ``0..n_voters-1``.

    ``first`` and ``second`` are the two ideas shown; ``outcome`` is 1 when ``first`` won,
    0 when ``second`` won and 0.5 for "can't decide".  Skips are simply not votes.
    """

    first: IntArray
    second: IntArray
    outcome: FloatArray
    voter: IntArray
    n_ideas: int
    n_voters: int

    def __post_init__(self) -> None:
        n = self.first.shape[0]
        for name in ("second", "outcome", "voter"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have the same length as first ({n})")
        if self.first.ndim != 1:
            raise ValueError("votes must be one-dimensional arrays")
        if n and (min(self.first.min(), self.second.min()) < 0):
            raise ValueError("idea indices must be >= 0")
        if n and max(self.first.max(), self.second.max()) >= self.n_ideas:
            raise ValueError("idea index out of range")
        if n and (self.voter.min() < 0 or self.voter.max() >= self.n_voters):
            raise ValueError("voter index out of range")
        if np.any(self.first == self.second):
            raise ValueError("an idea cannot be compared with itself")
        if not np.all(np.isin(self.outcome, (0.0, 0.5, 1.0))):
            raise ValueError("outcome must be 1 (first wins), 0 (second wins) or 0.5 (tie)")

    @classmethod
    def from_lists(
        cls,
        first: list[int] | IntArray,
        second: list[int] | IntArray,
        outcome: list[float] | FloatArray,
        voter: list[int] | IntArray | None = None,
        *,
        n_ideas: int | None = None,
        n_voters: int | None = None,
    ) -> PairwiseVotes:
        """Build from plain sequences; sizes default to the largest index + 1."""
        f = np.asarray(first, dtype=np.int64)
        s = np.asarray(second, dtype=np.int64)
        o = np.asarray(outcome, dtype=np.float64)
        v = np.zeros_like(f) if voter is None else np.asarray(voter, dtype=np.int64)
        if n_ideas is None:
            n_ideas = int(max(f.max(initial=-1), s.max(initial=-1))) + 1
        if n_voters is None:
            n_voters = int(v.max(initial=-1)) + 1
        return cls(f, s, o, v, n_ideas, n_voters)

    @classmethod
    def from_winners(
        cls,
        winner: IntArray,
        loser: IntArray,
        voter: IntArray | None = None,
        *,
        n_ideas: int | None = None,
        n_voters: int | None = None,
    ) -> PairwiseVotes:
        """Build from decisive votes only (each row: winner beat loser)."""
        w = np.asarray(winner, dtype=np.int64)
        return cls.from_lists(w, loser, np.ones(w.shape[0]), voter, n_ideas=n_ideas, n_voters=n_voters)


@dataclass(frozen=True, eq=False)
class PairwiseRanking:
    """Fitted log-strengths with standard errors (Laplace approximation).

    ``exact_se`` is False when the diagonal approximation was used (large problems); when it
    is True ``covariance`` holds the full posterior covariance of the scores.
    ``voter_reliability`` is set by the noisy-voter fit: probability each voter is honest.
    """

    scores: FloatArray
    std_errors: FloatArray
    tie_parameter: float
    prior_sd: float
    iterations: int
    converged: bool
    exact_se: bool
    voter_reliability: FloatArray | None = field(default=None)
    covariance: FloatArray | None = field(default=None)

    def interval(self, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
        """Symmetric normal confidence interval for each score."""
        from scipy.stats import norm

        if not 0.0 < level < 1.0:
            raise ValueError("level must be in (0, 1)")
        z = float(norm.ppf(0.5 + level / 2.0))
        return self.scores - z * self.std_errors, self.scores + z * self.std_errors

    def order(self) -> IntArray:
        """Idea indices from strongest to weakest (ties broken by index)."""
        return np.lexsort((np.arange(self.scores.shape[0]), -self.scores)).astype(np.int64)

    def win_probability(self, i: int, j: int) -> float:
        """Model probability that idea ``i`` beats idea ``j`` in a decisive vote."""
        return float(1.0 / (1.0 + np.exp(self.scores[j] - self.scores[i])))


@dataclass(frozen=True, eq=False)
class _Pairs:
    """Votes collapsed to unordered pairs ``a < b`` with (possibly fractional) counts."""

    a: IntArray
    b: IntArray
    wins_a: FloatArray
    wins_b: FloatArray
    ties: FloatArray
    n: int


@dataclass(frozen=True, eq=False)
class _PairIndex:
    """Which unordered pair (row) each vote belongs to, and whether the vote's first idea is
    the pair's lower index; computed once per vote set (one sort) and reused by EM."""

    a: IntArray
    b: IntArray
    row: IntArray
    first_is_a: BoolArray
    n: int


def _pair_index(votes: PairwiseVotes) -> _PairIndex:
    n = votes.n_ideas
    first_is_a = votes.first < votes.second
    lo = np.where(first_is_a, votes.first, votes.second)
    hi = np.where(first_is_a, votes.second, votes.first)
    uniq, row = np.unique(lo * np.int64(n) + hi, return_inverse=True)
    return _PairIndex(
        a=(uniq // n).astype(np.int64),
        b=(uniq % n).astype(np.int64),
        row=row.astype(np.int64).ravel(),
        first_is_a=first_is_a,
        n=n,
    )


def _pairs_from_votes(votes: PairwiseVotes, index: _PairIndex, weight_first: FloatArray | None = None) -> _Pairs:
    """Per-pair counts; ``weight_first`` overrides the first idea's share of a decisive vote
    (EM weights)."""
    decisive = votes.outcome != 0.5
    share = votes.outcome if weight_first is None else weight_first
    wins_first = np.where(decisive, share, 0.0)
    wins_second = np.where(decisive, 1.0 - share, 0.0)
    ties = (~decisive).astype(np.float64)
    m = index.a.shape[0]
    wins_a = np.where(index.first_is_a, wins_first, wins_second)
    wins_b = np.where(index.first_is_a, wins_second, wins_first)
    return _Pairs(
        a=index.a,
        b=index.b,
        wins_a=np.bincount(index.row, wins_a, m).astype(np.float64),
        wins_b=np.bincount(index.row, wins_b, m).astype(np.float64),
        ties=np.bincount(index.row, ties, m).astype(np.float64),
        n=index.n,
    )


def _outcome_probs(d: FloatArray, nu: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Davidson probabilities of (a wins, b wins, tie) for score differences ``d = s_a - s_b``."""
    # Divide through by e^{|d|/2} so nothing overflows.
    h = 0.5 * np.abs(d)
    big = np.ones_like(d)
    small = np.exp(-2.0 * h)
    tie = nu * np.exp(-h)
    z = big + small + tie
    pos = d >= 0
    pa = np.where(pos, big, small) / z
    pb = np.where(pos, small, big) / z
    return pa, pb, tie / z


def _scaled_terms(d: FloatArray, nu: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``|d|``, ``e = exp(-|d|/2)`` and ``z = 1 + e^2 + nu e``: the three Davidson weights divided
    by ``e^{|d|/2}`` (the larger of a win and a loss becomes 1, so nothing overflows)."""
    ad = np.abs(d)
    e = np.exp(-0.5 * ad)
    z = 1.0 + e * e
    if nu > 0.0:
        z += nu * e
    return ad, e, z


def _neg_log_post(s: FloatArray, pairs: _Pairs, nu: float, prec: float) -> float:
    d = s[pairs.a] - s[pairs.b]
    ad, _, z = _scaled_terms(d, nu)
    log_z = np.log(z)
    # log P(a wins) = -log z - max(-d, 0), log P(b wins) = -log z - max(d, 0),
    # log P(tie) = log nu - |d| / 2 - log z.
    ll = -(pairs.wins_a @ (log_z + np.maximum(-d, 0.0))) - pairs.wins_b @ (log_z + np.maximum(d, 0.0))
    if nu > 0.0:
        ll += pairs.ties @ (np.log(nu) - 0.5 * ad - log_z)
    return float(-ll + 0.5 * prec * (s @ s))


def _grad_hess_weights(s: FloatArray, pairs: _Pairs, nu: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-pair derivative of the negative log-likelihood in ``d`` and its curvature."""
    d = s[pairs.a] - s[pairs.b]
    _, e, z = _scaled_terms(d, nu)
    small = e * e
    diff = np.sign(d) * (1.0 - small) / z  # P(a wins) - P(b wins)
    total = pairs.wins_a + pairs.wins_b + pairs.ties
    g = 0.5 * (total * diff - (pairs.wins_a - pairs.wins_b))
    h = 0.25 * total * ((1.0 + small) / z - diff * diff)
    return d, g, h


def _scatter(pairs: _Pairs, per_pair: FloatArray) -> FloatArray:
    n = pairs.n
    return (np.bincount(pairs.a, per_pair, n) - np.bincount(pairs.b, per_pair, n)).astype(np.float64)


def _dense_hessian(pairs: _Pairs, h: FloatArray, prec: float) -> FloatArray:
    n = pairs.n
    hess = np.zeros((n, n))
    np.add.at(hess, (pairs.a, pairs.b), -h)
    hess += hess.T
    hess[np.diag_indices(n)] = np.bincount(pairs.a, h, n) + np.bincount(pairs.b, h, n) + prec
    return hess


def _newton(
    pairs: _Pairs,
    s0: FloatArray,
    nu: float,
    prec: float,
    *,
    max_iter: int,
    tol: float,
    cg_rtol: float = 1e-6,
) -> tuple[FloatArray, int, bool]:
    """Damped Newton on the (convex) negative log posterior for fixed ``nu`` and ``prec``."""
    s = s0.copy()
    n = pairs.n
    f = _neg_log_post(s, pairs, nu, prec)
    for it in range(1, max_iter + 1):
        _, g, h = _grad_hess_weights(s, pairs, nu)
        grad = _scatter(pairs, g) + prec * s
        if float(np.max(np.abs(grad), initial=0.0)) < tol:
            return s, it - 1, True
        diag = np.bincount(pairs.a, h, n) + np.bincount(pairs.b, h, n) + prec

        def hv(v: FloatArray, h: FloatArray = h) -> FloatArray:
            return _scatter(pairs, h * (v[pairs.a] - v[pairs.b])) + prec * v

        op = LinearOperator((n, n), matvec=hv, dtype=np.float64)
        pre = LinearOperator((n, n), matvec=lambda v, dg=diag: v / dg, dtype=np.float64)
        step, _ = cg(op, grad, rtol=cg_rtol, maxiter=300, M=pre)
        t = 1.0
        slope = float(grad @ step)
        if slope <= 1e-13 * max(1.0, abs(f)):
            # The predicted decrease (half the Newton decrement) is below the rounding of f:
            # a line search could not tell better from worse, so take the step and stop.
            return s - step, it, True
        while True:
            cand = s - t * step
            fc = _neg_log_post(cand, pairs, nu, prec)
            if fc <= f - 1e-4 * t * slope or t < 1e-8:
                break
            t *= 0.5
        s, f_old, f = cand, f, fc
        if abs(f_old - f) <= 1e-12 * max(1.0, abs(f)) and t >= 1.0:
            return s, it, True
    return s, max_iter, False


def _update_nu(s: FloatArray, pairs: _Pairs, nu: float) -> float:
    """One fixed-point step of the tie parameter's likelihood equation."""
    total_ties = float(pairs.ties.sum())
    if total_ties == 0.0:
        return 0.0
    nu = max(nu, 1e-3)
    d = s[pairs.a] - s[pairs.b]
    _, _, pt = _outcome_probs(d, nu)
    total = pairs.wins_a + pairs.wins_b + pairs.ties
    # d/dnu loglik = T/nu - sum N * pt / nu  ->  nu_new = nu * T / sum(N * pt)
    return float(nu * total_ties / float(total @ pt))


def _std_errors(
    s: FloatArray, pairs: _Pairs, nu: float, prec: float, dense: bool
) -> tuple[FloatArray, FloatArray | None]:
    """Laplace standard errors, and the full covariance when ``dense``."""
    _, _, h = _grad_hess_weights(s, pairs, nu)
    if dense:
        cov: FloatArray = np.asarray(np.linalg.inv(_dense_hessian(pairs, h, prec)), dtype=np.float64)
        se: FloatArray = np.sqrt(np.clip(np.diag(cov), 0.0, None)).astype(np.float64)
        return se, cov
    diag = np.bincount(pairs.a, h, pairs.n) + np.bincount(pairs.b, h, pairs.n) + prec
    return np.asarray(1.0 / np.sqrt(diag), dtype=np.float64), None


def _update_hyper(s: FloatArray, pairs: _Pairs, nu: float, var: float, estimate_var: bool) -> tuple[float, float]:
    """One EM step for the tie parameter and (if estimated) the prior variance."""
    nu = _update_nu(s, pairs, nu)
    if estimate_var:
        # The diagonal approximation keeps this step O(pairs) at any size.
        se, _ = _std_errors(s, pairs, nu, 1.0 / var, dense=False)
        var = max(float(np.mean(s**2 + se**2)), 1e-4)
    return nu, var


def _fit_pairs(
    pairs: _Pairs,
    s0: FloatArray,
    nu0: float,
    var0: float,
    *,
    estimate_var: bool,
    max_iter: int,
    tol: float,
    outer: int,
) -> tuple[FloatArray, float, float, int, bool]:
    """Alternate Newton in ``s`` with updates of ``nu`` and (if estimated) the prior variance.

    While the hyper-parameters move, each round takes two Newton steps only (generalised EM);
    once they settle, Newton runs to convergence.
    """
    var = var0
    s, nu = s0, nu0
    total_it = 0
    converged = False
    for round_ in range(outer):
        last = round_ == outer - 1
        s_prev, nu_prev, var_prev = s, nu, var
        steps = max_iter if last else min(2, max_iter)
        s, it, converged = _newton(pairs, s, nu, 1.0 / var, max_iter=steps, tol=tol)
        total_it += it
        if last:
            break
        nu, var = _update_hyper(s, pairs, nu, var, estimate_var)
        moved = max(
            float(np.max(np.abs(s - s_prev), initial=0.0)),
            abs(nu - nu_prev),
            abs(var - var_prev) / var_prev,
        )
        if moved < 1e-6:
            s, it, converged = _newton(pairs, s, nu, 1.0 / var, max_iter=max_iter, tol=tol)
            total_it += it
            break
    return s, nu, var, total_it, converged


def _warm(initial: PairwiseRanking, n: int, nu0: float, prior_sd: float | None) -> tuple[FloatArray, float, float]:
    m = min(n, initial.scores.shape[0])
    s0 = np.zeros(n)
    s0[:m] = initial.scores[:m]
    nu = initial.tie_parameter if nu0 > 0 and initial.tie_parameter > 0 else nu0
    var = initial.prior_sd**2 if prior_sd is None else prior_sd**2
    return s0, nu, var


def fit_bradley_terry(
    votes: PairwiseVotes,
    *,
    prior_sd: float | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
    dense_limit: int = 2000,
    outer_iter: int = 50,
    initial: PairwiseRanking | None = None,
) -> PairwiseRanking:
    """MAP Bradley–Terry (Davidson ties) scores with Laplace standard errors.

    ``prior_sd`` is the Gaussian prior's standard deviation on log-strengths (``None``:
    estimated by empirical Bayes).  ``initial`` warm-starts from an earlier fit (ideas added
    since start at 0).
    """
    if prior_sd is not None and prior_sd <= 0:
        raise ValueError("prior_sd must be positive")
    n = votes.n_ideas
    pairs = _pairs_from_votes(votes, _pair_index(votes))
    dense = n <= dense_limit
    nu0 = 0.5 if pairs.ties.sum() > 0 else 0.0
    var0 = 1.0 if prior_sd is None else prior_sd**2
    s0 = np.zeros(n)
    if initial is not None:
        s0, nu0, var0 = _warm(initial, n, nu0, prior_sd)
    s, nu, var, it, conv = _fit_pairs(
        pairs,
        s0,
        nu0,
        var0,
        estimate_var=prior_sd is None,
        max_iter=max_iter,
        tol=tol,
        outer=outer_iter if (prior_sd is None or nu0 > 0) else 1,
    )
    se, cov = _std_errors(s, pairs, nu, 1.0 / var, dense)
    return PairwiseRanking(s, se, nu, float(np.sqrt(var)), it, conv, dense, None, cov)


def fit_crowd_bt(
    votes: PairwiseVotes,
    *,
    prior_sd: float | None = None,
    reliability_prior: tuple[float, float] = (4.0, 2.0),
    max_em_iter: int = 100,
    tol: float = 1e-5,
    dense_limit: int = 2000,
    newton_per_em: int = 3,
    initial: PairwiseRanking | None = None,
) -> PairwiseRanking:
    """Crowd-BT: Bradley–Terry scores jointly with each voter's probability of being honest.

    ``reliability_prior`` is the Beta(a, b) prior on every voter's reliability.  The default
    Beta(4, 2) (mean 2/3) says most voters are mostly honest, which also rules out the mirror
    solution (all scores negated, all voters contrary) that a symmetric prior makes equally
    likely; a voter with two votes stays near the prior while 100 votes against the consensus
    push a voter towards 0 (their votes then count reversed).  EM starts from the plain
    Bradley-Terry fit (``initial``, an earlier
    Crowd-BT fit, warm-starts instead, voters beyond it starting at the prior mean).  Ties
    carry no information about reliability.
    """
    a0, b0 = reliability_prior
    if a0 <= 0 or b0 <= 0:
        raise ValueError("reliability_prior must be positive")
    n = votes.n_ideas
    dense = n <= dense_limit
    decisive = votes.outcome != 0.5
    # Orient each decisive vote as (winner, loser) for the E-step.
    won_first = votes.outcome == 1.0
    w_idx = np.where(won_first, votes.first, votes.second)
    l_idx = np.where(won_first, votes.second, votes.first)
    n_decisive = np.bincount(votes.voter[decisive], minlength=votes.n_voters).astype(np.float64)
    eta = np.full(votes.n_voters, a0 / (a0 + b0))
    index = _pair_index(votes)
    if initial is None:
        # Start from plain Bradley-Terry: from all-equal scores EM sits at the symmetric point.
        start = fit_bradley_terry(votes, prior_sd=prior_sd, dense_limit=0)
        s, nu, var = start.scores, start.tie_parameter, start.prior_sd**2
    else:
        has_ties = bool(np.any(votes.outcome == 0.5))
        s, nu, var = _warm(initial, n, 0.5 if has_ties else 0.0, prior_sd)
        if initial.voter_reliability is not None:
            m = min(votes.n_voters, initial.voter_reliability.shape[0])
            eta[:m] = initial.voter_reliability[:m]
    total_it = 0
    converged = False
    for _ in range(max_em_iter):
        d = s[w_idx] - s[l_idx]
        p_true = 1.0 / (1.0 + np.exp(-d))
        e = eta[votes.voter]
        honest = e * p_true / (e * p_true + (1.0 - e) * (1.0 - p_true))
        honest = np.where(decisive, honest, 1.0)
        share_first = np.where(won_first, honest, 1.0 - honest)
        pairs = _pairs_from_votes(votes, index, share_first)
        s_old, eta_old = s, eta
        s, nu, var, it, converged = _fit_pairs(
            pairs,
            s,
            nu,
            var,
            estimate_var=prior_sd is None,
            max_iter=newton_per_em,
            tol=1e-8,
            outer=1,
        )
        total_it += it
        nu, var = _update_hyper(s, pairs, nu, var, prior_sd is None)
        honest_sum = np.bincount(votes.voter[decisive], honest[decisive], minlength=votes.n_voters)
        eta = (honest_sum + a0 - 1.0) / (n_decisive + a0 + b0 - 2.0)
        eta = np.clip(eta, 1e-4, 1.0 - 1e-4)
        moved = max(
            float(np.max(np.abs(s - s_old), initial=0.0)),
            float(np.max(np.abs(eta - eta_old), initial=0.0)),
        )
        if moved < tol:
            converged = True
            break
    else:
        converged = False
    se, cov = _std_errors(s, pairs, nu, 1.0 / var, dense)
    return PairwiseRanking(s, se, nu, float(np.sqrt(var)), total_it, converged, dense, eta, cov)
