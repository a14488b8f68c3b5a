from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencall.engines.ranking import (
    PairwiseVotes,
    SelectionContext,
    fit_bradley_terry,
    next_pair,
    pair_gain,
    uniform_pair,
)


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
