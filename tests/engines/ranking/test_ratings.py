from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencall.engines.ranking import aggregate_likes, aggregate_stars


def test_two_five_star_votes_do_not_beat_two_hundred_averaging_four_point_six() -> None:
    rng = np.random.default_rng(3)
    idea: list[int] = [0, 0]
    stars: list[float] = [5.0, 5.0]
    many = [5.0] * 120 + [4.0] * 80  # mean 4.6
    idea += [1] * len(many)
    stars += many
    for other in range(2, 12):  # a spread of other ideas to learn the prior from
        k = 30
        idea += [other] * k
        stars += rng.integers(1, 6, size=k).astype(float).tolist()
    out = aggregate_stars(np.array(idea), np.array(stars), 12)
    assert out.mean[1] == pytest.approx((out.prior_strength * out.prior_mean + 920.0) / (out.prior_strength + 200))
    assert out.mean[1] > out.mean[0]
    assert out.order()[0] == 1
    assert out.std[0] > out.std[1]
    assert out.count.tolist()[:2] == [2, 200]


def test_fixed_prior_strength_is_a_bayesian_average() -> None:
    out = aggregate_stars(np.array([0, 0, 1, 1, 1, 1]), np.array([5.0, 5, 4, 4, 4, 4]), 3, prior_strength=2)
    mu = 26.0 / 6.0
    assert out.prior_mean == pytest.approx(mu)
    assert out.mean.tolist() == pytest.approx([(2 * mu + 10) / 4, (2 * mu + 16) / 6, mu])
    # Within-idea variance is 0 here, floored at 1e-9.
    assert out.std[2] == pytest.approx(np.sqrt(1e-9 / 2))


def test_bad_ratings_are_rejected() -> None:
    with pytest.raises(ValueError, match="out of range"):
        aggregate_stars(np.array([3]), np.array([4.0]), 2)
    with pytest.raises(ValueError, match="finite"):
        aggregate_stars(np.array([0]), np.array([np.nan]), 2)
    with pytest.raises(ValueError, match="between 0 and views"):
        aggregate_likes(np.array([3]), np.array([2]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(1, 5)), min_size=2, max_size=60),
)
def test_shrunk_mean_lies_between_the_idea_mean_and_the_global_mean(
    rows: list[tuple[int, int]],
) -> None:
    idea = np.array([r[0] for r in rows])
    stars = np.array([float(r[1]) for r in rows])
    out = aggregate_stars(idea, stars, 5)
    mu = stars.mean()
    for i in range(5):
        mine = stars[idea == i]
        if mine.size == 0:
            assert out.mean[i] == pytest.approx(mu)
            continue
        lo, hi = sorted((mine.mean(), mu))
        assert lo - 1e-9 <= out.mean[i] <= hi + 1e-9


def test_likes_are_rates_over_views_shrunk_to_the_overall_rate() -> None:
    likes = np.array([1, 50, 5, 30, 0])
    views = np.array([1, 100, 100, 100, 0])
    out = aggregate_likes(likes, views)
    assert out.prior_mean == pytest.approx(86 / 301)
    a = out.prior_mean * out.prior_strength
    b = (1 - out.prior_mean) * out.prior_strength
    assert out.mean.tolist() == pytest.approx(((likes + a) / (views + a + b)).tolist())
    assert out.mean[4] == pytest.approx(out.prior_mean)  # never seen: the overall rate
    assert out.mean[1] > out.mean[0]  # 1 of 1 does not beat 50 of 100
