from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau

from opencall.engines.ranking import PairwiseVotes, fit_bradley_terry, fit_crowd_bt

FLAT = 1e4  # prior sd so wide the MAP is the maximum-likelihood estimate to ~1e-8


def test_two_ideas_three_to_one_gives_log_odds_of_three() -> None:
    votes = PairwiseVotes.from_lists([0, 0, 0, 1], [1, 1, 1, 0], [1, 1, 1, 1])
    fit = fit_bradley_terry(votes, prior_sd=FLAT)
    assert fit.scores[0] - fit.scores[1] == pytest.approx(math.log(3.0), abs=1e-6)
    assert fit.scores.sum() == pytest.approx(0.0, abs=1e-9)
    assert fit.win_probability(0, 1) == pytest.approx(0.75, abs=1e-6)
    assert fit.tie_parameter == 0.0
    assert fit.exact_se and fit.covariance is not None
    # Var(s0 - s1) = 1 / (N p (1 - p)) = 1 / (4 * 3/4 * 1/4) = 4/3 under a flat prior.
    diff_var = fit.covariance[0, 0] + fit.covariance[1, 1] - 2 * fit.covariance[0, 1]
    assert diff_var == pytest.approx(4.0 / 3.0, rel=1e-6)


def test_davidson_ties_match_the_closed_form() -> None:
    # Two wins for 0, one for 1, one "can't decide": the multinomial MLE has P(0)=1/2,
    # P(1)=1/4, P(tie)=1/4, so e^d = 2 and nu = e^(-d/2) = 1/sqrt(2).
    votes = PairwiseVotes.from_lists([0, 0, 1, 0], [1, 1, 0, 1], [1, 1, 1, 0.5])
    fit = fit_bradley_terry(votes, prior_sd=FLAT, tol=1e-12)
    assert fit.scores[0] - fit.scores[1] == pytest.approx(math.log(2.0), abs=1e-5)
    assert fit.tie_parameter == pytest.approx(1.0 / math.sqrt(2.0), abs=1e-5)


def test_a_perfect_cycle_gives_equal_scores() -> None:
    votes = PairwiseVotes.from_winners(np.array([0, 1, 2]), np.array([1, 2, 0]))
    fit = fit_bradley_terry(votes, prior_sd=1.0)
    np.testing.assert_allclose(fit.scores, [0.0, 0.0, 0.0], atol=1e-12)
    assert fit.std_errors[0] == pytest.approx(fit.std_errors[2], rel=1e-12)


def test_unbeaten_idea_stays_finite_and_unvoted_idea_keeps_the_prior() -> None:
    votes = PairwiseVotes.from_lists([0, 0], [1, 1], [1, 1], n_ideas=3)
    fit = fit_bradley_terry(votes, prior_sd=1.0)
    assert np.all(np.isfinite(fit.scores))
    assert fit.scores[0] > 0 > fit.scores[1]
    assert fit.scores[2] == pytest.approx(0.0, abs=1e-12)
    assert fit.std_errors[2] == pytest.approx(1.0, rel=1e-9)
    lo, hi = fit.interval(0.95)
    assert lo[2] == pytest.approx(-1.959963984540054, rel=1e-6)
    assert hi[2] == pytest.approx(1.959963984540054, rel=1e-6)


def test_diagonal_errors_used_above_the_dense_limit() -> None:
    votes = PairwiseVotes.from_lists([0, 1, 2], [1, 2, 0], [1, 1, 0])
    dense = fit_bradley_terry(votes, prior_sd=1.0)
    sparse = fit_bradley_terry(votes, prior_sd=1.0, dense_limit=2)
    np.testing.assert_allclose(dense.scores, sparse.scores, atol=1e-9)
    assert not sparse.exact_se and sparse.covariance is None
    # 1/H_ii never exceeds the exact marginal variance.
    assert np.all(sparse.std_errors <= dense.std_errors + 1e-12)


def test_crowd_bt_finds_a_contrary_voter_and_ignores_them() -> None:
    order = [0, 1, 2, 3, 4]  # idea 0 best
    first: list[int] = []
    second: list[int] = []
    outcome: list[float] = []
    voter: list[int] = []
    pairs = [(a, b) for a in order for b in order if a < b]
    # Voters 0-3 tell the truth on every pair; voter 4 always says the opposite, three times.
    for a, b in pairs:
        for who, result, times in ((0, 1.0, 1), (1, 1.0, 1), (2, 1.0, 1), (3, 1.0, 1), (4, 0.0, 3)):
            first += [a] * times
            second += [b] * times
            outcome += [result] * times
            voter += [who] * times
    votes = PairwiseVotes.from_lists(first, second, outcome, voter)
    plain = fit_bradley_terry(votes, prior_sd=2.0)
    crowd = fit_crowd_bt(votes, prior_sd=2.0)
    assert crowd.voter_reliability is not None
    assert crowd.voter_reliability[4] < 0.2
    assert np.all(crowd.voter_reliability[:4] > 0.8)
    assert crowd.order().tolist() == order
    assert plain.order().tolist() == order
    # Plain BT is pulled towards a tie by the contrary voter; Crowd-BT reverses their votes.
    spread = crowd.scores[0] - crowd.scores[4]
    assert spread > 2.0 * (plain.scores[0] - plain.scores[4])


@pytest.mark.parametrize(
    ("first", "second", "outcome", "message"),
    [
        ([0], [0], [1.0], "itself"),
        ([0], [5], [1.0], "out of range"),
        ([0], [1], [0.7], "outcome"),
        ([-1], [1], [1.0], ">= 0"),
    ],
)
def test_bad_votes_are_rejected(first: list[int], second: list[int], outcome: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PairwiseVotes.from_lists(first, second, outcome, n_ideas=3)


vote_lists = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from([0.0, 0.5, 1.0]), st.integers(0, 3)).filter(
        lambda v: v[0] != v[1]
    ),
    min_size=1,
    max_size=40,
)


def _votes(rows: list[tuple[int, int, float, int]]) -> PairwiseVotes:
    f, s, o, v = zip(*rows, strict=True)
    return PairwiseVotes.from_lists(list(f), list(s), list(o), list(v), n_ideas=6, n_voters=4)


@settings(max_examples=40, deadline=None)
@given(vote_lists, st.permutations(list(range(6))))
def test_relabelling_ideas_permutes_the_scores(rows: list[tuple[int, int, float, int]], perm: list[int]) -> None:
    base = fit_bradley_terry(_votes(rows), prior_sd=1.5)
    moved = fit_bradley_terry(_votes([(perm[a], perm[b], o, v) for a, b, o, v in rows]), prior_sd=1.5)
    np.testing.assert_allclose(moved.scores[perm], base.scores, atol=1e-6)
    np.testing.assert_allclose(moved.std_errors[perm], base.std_errors, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(vote_lists)
def test_presentation_order_does_not_matter_and_scores_are_centred(
    rows: list[tuple[int, int, float, int]],
) -> None:
    fit = fit_bradley_terry(_votes(rows), prior_sd=1.5)
    swapped = fit_bradley_terry(_votes([(b, a, 1.0 - o, v) for a, b, o, v in rows]), prior_sd=1.5)
    np.testing.assert_allclose(fit.scores, swapped.scores, atol=1e-6)
    # The zero-mean prior and the antisymmetric likelihood put the scores' sum at exactly 0.
    assert abs(fit.scores.sum()) < 1e-6
    assert np.all(fit.std_errors > 0) and np.all(fit.std_errors <= 1.5 + 1e-9)


@settings(max_examples=25, deadline=None)
@given(vote_lists)
def test_crowd_bt_reliabilities_are_probabilities(rows: list[tuple[int, int, float, int]]) -> None:
    fit = fit_crowd_bt(_votes(rows), prior_sd=1.5)
    assert fit.voter_reliability is not None
    assert np.all((fit.voter_reliability > 0) & (fit.voter_reliability < 1))
    assert np.all(np.isfinite(fit.scores))


def test_readinglevel_crowd_bt_beats_noisy_bt(readinglevel: tuple[PairwiseVotes, np.ndarray]) -> None:
    votes, truth = readinglevel
    crowd = fit_crowd_bt(votes)
    plain = fit_bradley_terry(votes)
    tau_crowd = kendalltau(crowd.scores, truth).statistic
    tau_plain = kendalltau(plain.scores, truth).statistic
    assert tau_crowd >= 0.347  # crowd-kit NoisyBT, all votes (data README)
    assert tau_plain >= 0.332  # choix BT (opt), data README
    assert tau_crowd > tau_plain


def test_the_fit_converges_on_a_large_vote_set() -> None:
    # 200k votes: the objective is ~1e5, so near the optimum its decrease falls below rounding;
    # the solver must recognise that instead of halving its step until it gives up.
    rng = np.random.default_rng(3)
    n, m = 5000, 200_000
    quality = rng.normal(0.0, 1.0, n)
    first = rng.integers(0, n, m)
    second = (first + rng.integers(1, n, m)) % n
    p = 1.0 / (1.0 + np.exp(quality[second] - quality[first]))
    u = rng.random(m)
    outcome = np.where(u < 0.05, 0.5, (u < p).astype(float))
    fit = fit_bradley_terry(PairwiseVotes.from_lists(first, second, outcome), dense_limit=0)
    assert fit.converged and fit.iterations < 60
    assert float(np.corrcoef(fit.scores, quality)[0, 1]) > 0.9


def test_log_likelihood_matches_the_davidson_probabilities() -> None:
    from opencall.engines.ranking.pairwise import _grad_hess_weights, _neg_log_post, _outcome_probs, _Pairs

    rng = np.random.default_rng(0)
    n = 6
    a = np.array([0, 0, 1, 2, 3, 4], dtype=np.int64)
    b = np.array([1, 2, 3, 4, 5, 5], dtype=np.int64)
    pairs = _Pairs(a, b, rng.integers(0, 4, 6).astype(float), rng.integers(0, 4, 6).astype(float),
                   rng.integers(0, 3, 6).astype(float), n)  # fmt: skip
    with_ties = pairs
    for nu in (0.0, 0.4):
        # nu = 0 only happens when nobody tied.
        pairs = with_ties if nu > 0 else _Pairs(a, b, with_ties.wins_a, with_ties.wins_b, np.zeros(6), n)
        s = np.array([30.0, -1.0, 0.5, 0.0, -40.0, 2.0])
        d = s[a] - s[b]
        pa, pb, pt = _outcome_probs(d, nu)
        with np.errstate(divide="ignore"):
            terms = pairs.wins_a * np.log(pa) + pairs.wins_b * np.log(pb)
            if nu > 0:
                terms += pairs.ties * np.log(pt)
        expected = -float(np.sum(np.where(np.isfinite(terms), terms, 0.0))) + 0.5 * 0.3 * float(s @ s)
        finite = np.isfinite(pairs.wins_a * np.log(pa) + pairs.wins_b * np.log(pb))
        if finite.all():
            assert _neg_log_post(s, pairs, nu, 0.3) == pytest.approx(expected, rel=1e-12)
        # Derivatives by finite differences of the objective along d.
        _, g, h = _grad_hess_weights(s, pairs, nu)
        eps = 1e-5
        for k in range(6):
            bump = np.zeros(n)
            bump[a[k]] = eps
            one = _Pairs(a[k : k + 1], b[k : k + 1], pairs.wins_a[k : k + 1], pairs.wins_b[k : k + 1],
                         pairs.ties[k : k + 1], n)  # fmt: skip
            f_plus = _neg_log_post(s + bump, one, nu, 0.0)
            f_minus = _neg_log_post(s - bump, one, nu, 0.0)
            assert g[k] == pytest.approx((f_plus - f_minus) / (2 * eps), rel=1e-5, abs=1e-7)
            g_plus = _grad_hess_weights(s + bump, one, nu)[1][0]
            g_minus = _grad_hess_weights(s - bump, one, nu)[1][0]
            assert h[k] == pytest.approx((g_plus - g_minus) / (2 * eps), rel=1e-5, abs=1e-9)
