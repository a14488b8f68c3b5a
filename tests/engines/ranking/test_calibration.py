from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from opencall.engines.ranking import JudgeScores, calibrate_judges


def test_a_lenient_judge_is_corrected_in_a_balanced_design() -> None:
    truth = [1.0, 2.0, 3.5, 4.0, 6.0]
    rows = [(i, 0, t) for i, t in enumerate(truth)] + [(i, 1, t + 2.0) for i, t in enumerate(truth)]
    rows += [(i, 2, t + 0.1 * (-1) ** i) for i, t in enumerate(truth)]
    data = JudgeScores.from_lists(*map(list, zip(*rows, strict=True)))
    cal = calibrate_judges(data, severity_sd=100.0)
    assert cal.order().tolist() == [4, 3, 2, 1, 0]
    assert cal.severity[1] - cal.severity[0] == pytest.approx(2.0, abs=1e-3)
    assert cal.scale.tolist() == [1.0, 1.0, 1.0]
    assert np.all(cal.std > 0)


def test_a_judge_with_one_score_is_shrunk_more_than_one_with_many() -> None:
    rng = np.random.default_rng(0)
    idea, judge, score = [], [], []
    quality = rng.normal(0, 1, 40)
    for i in range(40):
        for j in (0, 1, 2):
            idea.append(i)
            judge.append(j)
            score.append(quality[i] + rng.normal(0, 1.0))
        idea.append(i)
        judge.append(3)  # harsh judge who scored everything
        score.append(quality[i] - 1.5 + rng.normal(0, 1.0))
    idea.append(0)
    judge.append(4)  # equally harsh judge with a single score
    score.append(quality[0] - 1.5)
    cal = calibrate_judges(JudgeScores.from_lists(idea, judge, score))
    # Severities are relative to the typical judge (mu absorbs the common level).
    fair = cal.severity[:3].mean()
    assert cal.severity[3] - fair == pytest.approx(-1.5, abs=0.4)
    assert cal.severity[3] - fair < cal.severity[4] - fair < 0


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.floats(0, 10)),
        min_size=4,
        max_size=30,
    ),
    st.floats(-50, 50),
)
def test_shifting_every_score_shifts_the_calibrated_scores(rows: list[tuple[int, int, float]], shift: float) -> None:
    idea, judge, score = (list(c) for c in zip(*rows, strict=True))
    # A fixed number of EM steps: equivariance holds step by step, not only at convergence.
    base = calibrate_judges(JudgeScores.from_lists(idea, judge, score, n_ideas=6, n_judges=4), max_iter=25)
    moved = calibrate_judges(
        JudgeScores.from_lists(idea, judge, [s + shift for s in score], n_ideas=6, n_judges=4), max_iter=25
    )
    np.testing.assert_allclose(moved.score, base.score + shift, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(moved.severity, base.severity, atol=1e-4)


def test_bad_scores_are_rejected() -> None:
    with pytest.raises(ValueError, match="judge index"):
        JudgeScores.from_lists([0], [2], [1.0], n_judges=2)
    with pytest.raises(ValueError, match="finite"):
        JudgeScores.from_lists([0], [0], [float("inf")])


@pytest.mark.slow  # about 15 s alone, far more on a busy machine (EM over 550 unknowns)
def test_peer_grading_calibration_beats_the_plain_mean(
    peer_grading: tuple[JudgeScores, np.ndarray],
) -> None:
    data, tutor = peer_grading
    plain = np.bincount(data.idea, data.score, data.n_ideas) / np.bincount(data.idea)
    cal = calibrate_judges(data)
    rho_plain = spearmanr(plain, tutor).statistic
    rho = spearmanr(cal.score, tutor).statistic
    assert rho_plain == pytest.approx(0.624, abs=5e-4)  # data README
    # Measured 0.655; the target of 0.68 is not reached (see bench/ranking/README.md).
    assert rho > 0.65
