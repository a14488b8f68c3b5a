"""Threshold choice and average precision: exact examples and brute-force properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencall.engines.similarity import Threshold, average_precision, choose_threshold, f1_at, labels_from_scores


def test_choose_threshold_on_a_small_example() -> None:
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.2]
    labels = [1, 1, 0, 1, 0, 0]
    # cuts: 0.9 -> F1 2/4; 0.8 -> 4/5; 0.7 -> 4/6; 0.6 -> 6/7 (tp 3, fp 1); 0.5 -> 6/8; 0.2 -> 6/9
    best = choose_threshold(scores, labels)
    assert best == Threshold(value=pytest.approx(0.55), f1=pytest.approx(6 / 7), precision=0.75, recall=1.0)
    assert f1_at(scores, labels, best.value) == pytest.approx(6 / 7)


def test_ties_share_a_side_of_the_threshold() -> None:
    best = choose_threshold([0.5, 0.5, 0.5, 0.1], [1, 0, 1, 0])
    assert best.value == pytest.approx(0.3)  # the three tied pairs are flagged together
    assert best.f1 == pytest.approx(0.8)


def test_average_precision_small_examples() -> None:
    assert average_precision([0.9, 0.8, 0.7], [1, 1, 0]) == 1.0
    # ranks: + - + -> precision at the positives 1 and 2/3, recall steps 1/2 each
    assert average_precision([0.9, 0.8, 0.7], [1, 0, 1]) == pytest.approx((1 + 2 / 3) / 2)
    # a tie of a positive and a negative counts as one step: precision 1/2 over the whole recall
    assert average_precision([0.5, 0.5], [1, 0]) == pytest.approx(0.5)


def test_labels_from_graded_scores() -> None:
    assert labels_from_scores([4.5, 4.49, 5.0, 1.0], 4.5).tolist() == [True, False, True, False]


@pytest.mark.parametrize(
    ("scores", "labels", "message"),
    [
        ([], [], "at least one"),
        ([0.1, 0.2], [1], "equal length"),
        ([0.1, 0.2], [0, 0], "positive"),
        ([0.1, 0.2], [1, 2], "0/1"),
        ([float("nan"), 0.2], [1, 0], "finite"),
    ],
)
def test_bad_input(scores: list[float], labels: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        choose_threshold(scores, labels)


labelled = st.lists(st.tuples(st.integers(0, 10).map(lambda x: x / 10), st.booleans()), min_size=1, max_size=30).filter(
    lambda pairs: any(y for _, y in pairs)
)


@settings(max_examples=200, deadline=None)
@given(labelled)
def test_chosen_threshold_is_at_least_as_good_as_any_cut(pairs: list[tuple[float, bool]]) -> None:
    scores = np.array([s for s, _ in pairs])
    labels = np.array([y for _, y in pairs])
    best = choose_threshold(scores, labels)
    brute = max(f1_at(scores, labels, t) for t in [*scores, 2.0])
    assert best.f1 == pytest.approx(brute)
    assert f1_at(scores, labels, best.value) == pytest.approx(best.f1)


@settings(max_examples=200, deadline=None)
@given(labelled)
def test_average_precision_matches_its_definition(pairs: list[tuple[float, bool]]) -> None:
    scores = np.array([s for s, _ in pairs])
    labels = np.array([y for _, y in pairs])
    # sum over distinct thresholds t (descending) of (recall(t) - recall(previous)) * precision(t)
    total, previous = 0.0, 0.0
    for t in sorted(set(scores.tolist()), reverse=True):
        flagged = scores >= t
        recall = (flagged & labels).sum() / labels.sum()
        total += (recall - previous) * (flagged & labels).sum() / flagged.sum()
        previous = recall
    assert average_precision(scores, labels) == pytest.approx(total)
    assert 0.0 < average_precision(scores, labels) <= 1.0
