from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencall.engines.ranking import (
    PairwiseVotes,
    SelectionContext,
    fit_bradley_terry,
    misorder_gain,
    next_pair,
    pair_gain,
    uniform_pair,
    vote_information,
)
from opencall.engines.ranking.selection import misorder_matrix


def _context(n: int, counts: list[int], top_k: int | None = 2) -> SelectionContext:
    scores = np.linspace(2.0, -2.0, n)
    return SelectionContext.build(scores, np.full(n, 0.5), np.asarray(counts, dtype=np.int64), top_k=top_k)


def test_a_voter_never_sees_the_same_pair_twice_and_gets_all_pairs_then_none() -> None:
    ctx = _context(5, [10] * 5)
    seen: set[tuple[int, int]] = set()
    for step in range(10):
        pair = next_pair(ctx, seen, seed=step)
        assert pair is not None and pair not in seen and pair[0] < pair[1]
        seen.add(pair)
    assert len(seen) == 10
    assert next_pair(ctx, seen, seed=99) is None


def test_a_new_idea_catches_up_first() -> None:
    ctx = _context(6, [20, 20, 20, 20, 20, 0])
    for seed in range(5):
        pair = next_pair(ctx, set(), seed=seed)
        assert pair is not None and 5 in pair


def test_ideas_added_after_the_fit_enter_with_the_prior() -> None:
    votes = PairwiseVotes.from_lists([0, 1, 2, 0], [1, 2, 0, 2], [1, 1, 0, 1])
    fit = fit_bradley_terry(votes, prior_sd=1.0)
    counts = np.array([3, 3, 2, 0], dtype=np.int64)
    ctx = SelectionContext.from_ranking(fit, counts, top_k=None)
    assert ctx.scores[3] == 0.0
    assert ctx.std_errors[3] == pytest.approx(1.0)
    assert ctx.covariance is not None and ctx.covariance[3, 3] == pytest.approx(1.0)
    pair = next_pair(ctx, set(), seed=1)
    assert pair is not None and 3 in pair


def test_close_uncertain_pairs_gain_most() -> None:
    ctx = SelectionContext.build(np.array([0.0, 0.1, 3.0]), np.array([1.0, 1.0, 1.0]), np.array([5, 5, 5]), top_k=None)
    g = pair_gain(ctx, np.array([0, 0]), np.array([1, 2]))
    # v = 2, p(1-p) at d=0.1 and d=3; gain = v^2 info / (1 + v info) * (w_i + w_j)
    for k, d in enumerate((-0.1, -3.0)):
        p = 1.0 / (1.0 + np.exp(-d))
        info = p * (1 - p)
        assert g[k] == pytest.approx(4.0 * info / (1.0 + 2.0 * info) * 2.0, rel=1e-12)
    assert g[0] > g[1]


def test_top_weights_peak_at_the_border_of_the_top() -> None:
    ctx = _context(9, [5] * 9, top_k=4)
    # Scores run 2 .. -2 in steps of 0.5; the cut sits between ideas 3 and 4.
    assert ctx.weight[3] == pytest.approx(ctx.weight[4])
    assert ctx.weight[3] == pytest.approx(1.1)
    assert ctx.weight[0] < ctx.weight[3] and ctx.weight[8] < ctx.weight[4]


def test_inactive_ideas_are_never_shown() -> None:
    active = np.array([True, False, True, True])
    ctx = SelectionContext.build(np.zeros(4), np.ones(4), np.array([0, 0, 0, 0]), active=active, top_k=None)
    seen: set[tuple[int, int]] = set()
    while (pair := next_pair(ctx, seen, seed=len(seen))) is not None:
        assert 1 not in pair
        seen.add(pair)
    assert seen == {(0, 2), (0, 3), (2, 3)}
    assert uniform_pair(4, seen, seed=0, active=active) is None


def test_the_same_seed_gives_the_same_pair() -> None:
    ctx = _context(30, [7] * 30)
    assert next_pair(ctx, set(), seed=4) == next_pair(ctx, set(), seed=4)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 12),
    data=st.data(),
    top_k=st.one_of(st.none(), st.integers(1, 3)),
    explore=st.sampled_from([0.0, 0.5]),
)
def test_pairs_are_always_fresh_valid_and_exhaust_exactly(
    n: int, data: st.DataObject, top_k: int | None, explore: float
) -> None:
    scores = np.asarray(data.draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    se = np.asarray(data.draw(st.lists(st.floats(0.05, 2), min_size=n, max_size=n)))
    counts = np.asarray(data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n)))
    ctx = SelectionContext.build(scores, se, counts, top_k=top_k if top_k and top_k < n else None)
    seen: set[tuple[int, int]] = set()
    for step in range(n * (n - 1) // 2):
        pair = next_pair(ctx, seen, seed=step, explore=explore)
        assert pair is not None
        i, j = pair
        assert 0 <= i < j < n and pair not in seen
        seen.add(pair)
    assert next_pair(ctx, seen, seed=0) is None


def _random_posterior(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    precision = a @ a.T / n + np.eye(n)
    return rng.normal(0.0, 1.0, n), np.linalg.inv(precision)


def test_vote_information_follows_the_noisy_voter_model() -> None:
    d = np.array([-2.0, 0.0, 0.7])
    p = 1.0 / (1.0 + np.exp(-d))
    assert vote_information(d) == pytest.approx(p * (1 - p))
    assert vote_information(d, 1.0) == pytest.approx(p * (1 - p))
    assert vote_information(d, 0.5) == pytest.approx(np.zeros(3))
    # A contrary voter is as informative as an honest one (their votes count reversed).
    assert vote_information(d, 0.2) == pytest.approx(vote_information(d, 0.8))
    # Numerical derivative of P(first wins) for eta = 0.8.
    eta, h = 0.8, 1e-6

    def big(x: np.ndarray) -> np.ndarray:
        q = 1.0 / (1.0 + np.exp(-x))
        return eta * q + (1 - eta) * (1 - q)

    slope = (big(d + h) - big(d - h)) / (2 * h)
    assert vote_information(d, eta) == pytest.approx(slope**2 / (big(d) * (1 - big(d))), rel=1e-5)


def test_misorder_gain_is_the_weighted_drop_of_every_pair_variance() -> None:
    n = 7
    scores, cov = _random_posterior(n, 3)
    ctx = SelectionContext.build(scores, np.sqrt(np.diag(cov)), np.full(n, 5), top_k=None, covariance=cov)
    w, _ = misorder_matrix(scores, cov)
    var = np.diag(cov)
    v_all = var[:, None] + var[None, :] - 2 * cov
    for a, b, eta in ((0, 1, None), (2, 5, 0.8), (6, 3, 0.6)):
        info = float(vote_information(np.asarray(scores[a] - scores[b]), eta))
        u = np.zeros(n)
        u[a], u[b] = 1.0, -1.0
        after = np.linalg.inv(np.linalg.inv(cov) + info * np.outer(u, u))
        v_after = np.diag(after)[:, None] + np.diag(after)[None, :] - 2 * after
        expected = 0.5 * float(np.sum(w * (v_all - v_after)))
        got = float(misorder_gain(ctx, np.array([a]), np.array([b]), eta)[0])
        assert got == pytest.approx(expected, rel=1e-8)


def test_with_vote_is_the_rank_one_posterior_update() -> None:
    n = 6
    scores, cov = _random_posterior(n, 5)
    ctx = SelectionContext.build(scores, np.sqrt(np.diag(cov)), np.zeros(n, dtype=np.int64), top_k=None, covariance=cov)
    after = ctx.with_vote(1, 4, 0.9)
    info = float(vote_information(np.asarray(scores[1] - scores[4]), 0.9))
    u = np.zeros(n)
    u[1], u[4] = 1.0, -1.0
    expected = np.linalg.inv(np.linalg.inv(cov) + info * np.outer(u, u))
    assert after.covariance is not None and after.covariance == pytest.approx(expected, abs=1e-10)
    assert after.std_errors == pytest.approx(np.sqrt(np.diag(expected)))
    assert after.votes_per_idea.tolist() == [0, 1, 0, 0, 1, 0]
    # The criterion's matrix follows with the pair weights of the last fit: M = S' L S'.
    w = ctx.pair_weight
    assert w is not None and after.misorder is not None
    lap = np.diag(w.sum(axis=1)) - w
    assert after.misorder == pytest.approx(expected @ lap @ expected, abs=1e-10)


def test_whole_ranking_mode_picks_the_best_unseen_pair_and_exhausts() -> None:
    n = 6
    scores, cov = _random_posterior(n, 11)
    ctx = SelectionContext.build(scores, np.sqrt(np.diag(cov)), np.full(n, 9), top_k=None, covariance=cov)
    i, j = np.triu_indices(n, 1)
    gains = misorder_gain(ctx, i, j, 0.75)
    ranked = [(int(i[k]), int(j[k])) for k in np.argsort(-gains)]
    seen: set[tuple[int, int]] = set()
    for step in range(len(ranked)):
        pair = next_pair(ctx, seen, seed=step, reliability=0.75)
        assert pair == ranked[step]
        seen.add(pair)
    assert next_pair(ctx, seen, seed=0, reliability=0.75) is None


def test_whole_ranking_mode_still_lets_new_ideas_catch_up() -> None:
    n = 8
    scores, cov = _random_posterior(n, 2)
    counts = np.array([30, 30, 30, 30, 30, 30, 30, 1])
    ctx = SelectionContext.build(scores, np.sqrt(np.diag(cov)), counts, top_k=None, covariance=cov)
    assert ctx.misorder is not None
    seen: set[tuple[int, int]] = set()
    for step in range(n - 1):
        pair = next_pair(ctx, seen, seed=step)
        assert pair is not None and 7 in pair
        seen.add(pair)
    # Once the newcomer has met everyone this voter could pair it with, others come next.
    pair = next_pair(ctx, seen, seed=99)
    assert pair is not None and 7 not in pair


def test_whole_ranking_mode_prefers_linking_separate_groups() -> None:
    # Two groups, each well compared inside, never against each other: the order across the
    # groups is the uncertain part, so the best pair joins them.
    votes = PairwiseVotes.from_lists(
        [0, 0, 1, 3, 3, 4] * 4, [1, 2, 2, 4, 5, 5] * 4, [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0] * 2
    )
    fit = fit_bradley_terry(votes, prior_sd=1.0)
    ctx = SelectionContext.from_ranking(fit, np.full(6, 8, dtype=np.int64), top_k=None)
    pair = next_pair(ctx, set(), seed=0)
    assert pair is not None and (pair[0] < 3) != (pair[1] < 3)
