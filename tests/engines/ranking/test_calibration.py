from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
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
    assert cal.severity[1] - cal.severity[0] == pytest.approx(2.0, abs=0.05)
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


def _simulated_rubric(seed: int) -> tuple[JudgeScores, np.ndarray, np.ndarray, np.ndarray]:
    """Ideas with correlated quality on 3 criteria, judges with per-criterion biases, 4 judges per idea."""
    rng = np.random.default_rng(seed)
    n_ideas, n_judges, k = 150, 60, 3
    corr = np.array([[1.0, 0.7, 0.5], [0.7, 1.0, 0.6], [0.5, 0.6, 1.0]])
    quality = rng.multivariate_normal(np.zeros(k), corr, n_ideas) * np.array([1.0, 2.0, 0.5])
    bias = rng.multivariate_normal(np.zeros(k), 0.5 * corr, n_judges) * np.array([1.0, 2.0, 0.5])
    idea = np.repeat(np.arange(n_ideas), 4)
    judge = np.concatenate([rng.choice(n_judges, 4, replace=False) for _ in range(n_ideas)])
    table = 5.0 + quality[idea] + bias[judge] + rng.normal(0, 1.0, (idea.shape[0], k)) * np.array([0.8, 1.5, 0.4])
    table[rng.random(table.shape) < 0.05] = np.nan  # a few criteria left unscored
    data = JudgeScores.from_rubric(idea, judge, table, n_judges=n_judges)
    return data, quality, bias, table


def _plain_total(data: JudgeScores) -> np.ndarray:
    """Sum over criteria of each idea's plain mean score on that criterion."""
    cell = data.idea * data.n_criteria + data.criteria
    size = data.n_ideas * data.n_criteria
    mean = np.bincount(cell, data.score, size) / np.bincount(cell, minlength=size)
    return mean.reshape(data.n_ideas, data.n_criteria).sum(axis=1)


def test_per_criterion_biases_and_qualities_are_recovered_on_simulated_rubrics() -> None:
    data, quality, bias, _ = _simulated_rubric(3)
    cal = calibrate_judges(data)
    truth = quality.sum(axis=1)
    for c in range(3):
        assert np.corrcoef(cal.criterion_severity[:, c], bias[:, c])[0, 1] > 0.8
    plain = _plain_total(data)
    rho = spearmanr(cal.score, truth).statistic
    assert rho > spearmanr(plain, truth).statistic + 0.02
    # The posterior sd is honest: about 95% of the true totals fall within two of it (up to the level).
    err = (cal.score - cal.mean) - (truth - truth.mean())
    assert 0.85 < np.mean(np.abs(err) < 2.0 * cal.std) < 0.995
    assert cal.criterion_noise_sd == pytest.approx([0.8, 1.5, 0.4], rel=0.2)


def test_the_rubric_model_beats_the_total_only_model_when_criteria_differ() -> None:
    data, quality, _, _ = _simulated_rubric(4)
    weight = data.weights
    totals_by_review: dict[tuple[int, int], float] = {}
    for i, j, c, s in zip(data.idea, data.judge, data.criterion, data.score, strict=True):  # type: ignore[arg-type]
        totals_by_review[(int(i), int(j))] = totals_by_review.get((int(i), int(j)), 0.0) + weight[c] * s
    keys = list(totals_by_review)
    totals = JudgeScores.from_lists([i for i, _ in keys], [j for _, j in keys], list(totals_by_review.values()))
    truth = quality.sum(axis=1)
    rho_rubric = spearmanr(calibrate_judges(data).score, truth).statistic
    rho_total = spearmanr(calibrate_judges(totals).score, truth).statistic
    assert rho_rubric > rho_total


def test_the_fit_is_deterministic_for_a_seed() -> None:
    data, *_ = _simulated_rubric(5)
    a = calibrate_judges(data, draws=200, burn_in=50, seed=7)
    b = calibrate_judges(data, draws=200, burn_in=50, seed=7)
    c = calibrate_judges(data, draws=200, burn_in=50, seed=8)
    np.testing.assert_array_equal(a.score, b.score)
    np.testing.assert_array_equal(a.std, b.std)
    assert not np.array_equal(a.score, c.score)
    assert spearmanr(a.score, c.score).statistic > 0.98  # Monte Carlo noise is small


def test_learned_scales_find_a_judge_who_compresses_the_range() -> None:
    rng = np.random.default_rng(1)
    quality = rng.normal(0, 2, 60)
    idea = np.repeat(np.arange(60), 4)
    judge = np.tile(np.arange(4), 60)
    spread = np.array([1.0, 1.0, 1.0, 0.3])[judge]
    score = 10.0 + spread * quality[idea] + rng.normal(0, 0.3, idea.shape[0])
    cal = calibrate_judges(JudgeScores.from_lists(idea, judge, score), scale_sd=None)
    assert cal.scale[3] == pytest.approx(0.3 * cal.scale[:3].mean(), abs=0.1)
    assert np.all(np.abs(cal.scale[:3] - cal.scale[:3].mean()) < 0.1)


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 1), st.integers(0, 40).map(lambda v: v / 4)),
        min_size=4,
        max_size=30,
    ),
    st.floats(-50, 50),
    st.floats(0.1, 10),
)
# Every criterion constant on its own (found by Hypothesis): the fit must still scale with the scores.
@example(rows=[(0, 0, 0, 0.0), (0, 0, 0, 0.0), (0, 0, 0, 0.0), (0, 0, 1, 0.25)], shift=0.0, factor=0.5)
def test_shifting_or_rescaling_the_scores_moves_the_calibrated_scores_alike(
    rows: list[tuple[int, int, int, float]], shift: float, factor: float
) -> None:
    idea, judge, crit, score = (list(c) for c in zip(*rows, strict=True))
    s = np.array(score)
    # With no variation at all there is no scale to be equivariant to (the fit falls back to 1).
    assume(np.ptp(s) > 0)

    def fit(values: np.ndarray) -> np.ndarray:
        data = JudgeScores.from_lists(idea, judge, values, n_ideas=6, n_judges=4, criterion=crit, n_criteria=2)
        return calibrate_judges(data, draws=30, burn_in=10).score

    base = fit(s)
    # Every criterion somebody scored moves by `shift`; a criterion nobody scored adds nothing.
    scored = len(set(crit))
    np.testing.assert_allclose(fit(s + shift), base + scored * shift, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(fit(s * factor), base * factor, rtol=1e-5, atol=1e-4)


def test_a_rubric_table_becomes_one_row_per_scored_criterion() -> None:
    data = JudgeScores.from_rubric([0, 1], [0, 0], [[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], weight=[1.0, 2.0, 1.0])
    assert data.n_criteria == 3 and data.n_ideas == 2 and data.n_judges == 1
    assert data.criterion is not None
    assert data.criterion.tolist() == [0, 2, 0, 1, 2]
    assert data.score.tolist() == [1.0, 3.0, 4.0, 5.0, 6.0]
    cal = calibrate_judges(data, draws=100, burn_in=20)
    assert cal.score.shape == (2,) and cal.criterion_severity.shape == (1, 3)
    assert cal.score[1] > cal.score[0]


def test_bad_scores_are_rejected() -> None:
    with pytest.raises(ValueError, match="judge index"):
        JudgeScores.from_lists([0], [2], [1.0], n_judges=2)
    with pytest.raises(ValueError, match="finite"):
        JudgeScores.from_lists([0], [0], [float("inf")])
    with pytest.raises(ValueError, match="criterion index"):
        JudgeScores.from_lists([0, 1], [0, 0], [1.0, 2.0], criterion=[0, 2], n_criteria=2)
    with pytest.raises(ValueError, match="weight"):
        JudgeScores.from_lists([0], [0], [1.0], criterion=[0], weight=[1.0, float("nan")])
    with pytest.raises(ValueError, match="several criteria"):
        JudgeScores.from_lists([0], [0], [1.0], n_criteria=2)
    with pytest.raises(ValueError, match="draw"):
        calibrate_judges(JudgeScores.from_lists([0], [0], [1.0]), draws=0)


@pytest.mark.slow  # a few seconds: 1,300 Gibbs sweeps over 3,700 item scores
def test_peer_grading_rubric_calibration_reaches_the_issue_target(
    peer_grading: tuple[JudgeScores, np.ndarray],
    peer_grading_rubric: tuple[JudgeScores, np.ndarray],
) -> None:
    data, tutor = peer_grading
    rubric, _ = peer_grading_rubric
    plain = np.bincount(data.idea, data.score, data.n_ideas) / np.bincount(data.idea)
    assert spearmanr(plain, tutor).statistic == pytest.approx(0.624, abs=5e-4)  # data README
    # The rubric model's scores are on the scale of the totals.
    np.testing.assert_allclose(rubric.score.sum(), data.score.sum())
    cal = calibrate_judges(rubric)
    assert cal.mean == pytest.approx(float(data.score.mean()), abs=0.3)
    # Measured 0.689 (seeds 0-2: 0.689, 0.689, 0.689); totals alone give 0.651.
    assert spearmanr(cal.score, tutor).statistic >= 0.68
    assert spearmanr(calibrate_judges(data).score, tutor).statistic > 0.64
