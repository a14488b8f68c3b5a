"""The combined ranking of a review round: calibrated judge scores and the crowd, weighted by the organiser.

Each submitted review becomes one number, the weighted rubric total on a 0–100 scale. Judges differ in
severity, so the scores are calibrated criterion by criterion (`engines.ranking.calibration`: a Bayesian
model of each judge's severity on each criterion, shrunk for judges with few reviews). The crowd's view is
the Bradley–Terry (or Crowd-BT, see `crowd.uses_crowd_bt`) score from pairwise votes. Both are standardised
over the round's ideas and mixed with the round's crowd weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from opencall.engines.ranking.calibration import JudgeScores, calibrate_judges
from opencall.ideas.models import Idea
from opencall.review.crowd import crowd_ranking
from opencall.review.models import Review, ReviewRound
from opencall.review.queries import reviews_of, round_ideas


@dataclass(frozen=True)
class RankedEntry:
    idea: Idea
    reviews: int
    raw_mean: float | None  # plain mean of the weighted totals
    calibrated: float | None  # severity-corrected, same 0–100 scale
    calibrated_sd: float | None
    crowd: float | None  # Bradley–Terry (or Crowd-BT) log-strength
    combined: float | None
    recommendations: dict[str, int]


def review_total(review: Review, criteria: list[tuple[int, int, int, int]]) -> float:
    """Weighted rubric total on 0–100 from a review's scores; criteria as (id, weight, min, max)."""
    weight_sum = sum(w for _, w, _, _ in criteria)
    total = 0.0
    for cid, weight, lo, hi in criteria:
        value = review.scores.get(str(cid))
        if value is None:
            continue
        total += weight * (float(value) - lo) / (hi - lo)
    return 100.0 * total / weight_sum


def _z(values: np.ndarray) -> np.ndarray:
    sd = float(values.std())
    return (values - values.mean()) / sd if sd > 1e-12 else np.zeros_like(values)


def combined_ranking(rnd: ReviewRound) -> list[RankedEntry]:
    ideas = list(round_ideas(rnd))
    index = {idea.pk: n for n, idea in enumerate(ideas)}
    criteria = [(c.pk, c.weight, c.scale_min, c.scale_max) for c in rnd.rubric.criteria.all()]
    reviews = [r for r in reviews_of(rnd) if r.assignment.idea_id in index]
    judges = {jid: n for n, jid in enumerate(sorted({r.assignment.judge_id for r in reviews}))}
    totals = np.array([review_total(r, criteria) for r in reviews], dtype=np.float64)
    n = len(ideas)
    counts = np.zeros(n, dtype=np.int64)
    raw = np.full(n, np.nan)
    calibrated = np.full(n, np.nan)
    calibrated_sd = np.full(n, np.nan)
    recs: list[dict[str, int]] = [{} for _ in ideas]
    if reviews:
        rows = np.array([index[r.assignment.idea_id] for r in reviews], dtype=np.int64)
        np.add.at(counts, rows, 1)
        sums = np.bincount(rows, weights=totals, minlength=n)
        raw = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        # Calibrated per criterion (each on 0–100, weighted as in review_total), so the total is on the
        # same 0–100 scale; a criterion left unscored is missing, not zero.
        def on_100(r: Review, cid: int, lo: int, hi: int) -> float:
            v = r.scores.get(str(cid))
            return np.nan if v is None else 100.0 * (float(v) - lo) / (hi - lo)

        table = np.array([[on_100(r, cid, lo, hi) for cid, _, lo, hi in criteria] for r in reviews],
                         dtype=np.float64).reshape(len(reviews), len(criteria))
        if np.isfinite(table).any():
            weight_sum = sum(w for _, w, _, _ in criteria)
            fit = calibrate_judges(JudgeScores.from_rubric(
                rows, [judges[r.assignment.judge_id] for r in reviews], table, n_ideas=n, n_judges=len(judges),
                weight=[w / weight_sum for _, w, _, _ in criteria]))
            calibrated = np.where(counts > 0, fit.score, np.nan)
            calibrated_sd = np.where(counts > 0, fit.std, np.nan)
        for r in reviews:
            if r.recommendation:
                bucket = recs[index[r.assignment.idea_id]]
                bucket[r.recommendation] = bucket.get(r.recommendation, 0) + 1
    crowd = crowd_ranking(rnd.challenge, ideas)
    crowd_scores = np.full(n, np.nan)
    if crowd.ranking is not None:
        for entry in crowd.ideas:
            crowd_scores[index[entry.idea.pk]] = entry.score
    reviewed = counts > 0
    combined = np.full(n, np.nan)
    if reviewed.any():
        judge_z = _z(calibrated[reviewed])
        weight = rnd.crowd_weight / 100.0 if crowd.ranking is not None else 0.0
        crowd_z = _z(crowd_scores[reviewed]) if weight else np.zeros_like(judge_z)
        combined[reviewed] = (1.0 - weight) * judge_z + weight * crowd_z

    def _f(x: float) -> float | None:
        return None if np.isnan(x) else round(float(x), 3)

    entries = [RankedEntry(ideas[i], int(counts[i]), _f(raw[i]), _f(calibrated[i]), _f(calibrated_sd[i]),
                           _f(crowd_scores[i]), _f(combined[i]), recs[i]) for i in range(n)]
    return sorted(entries, key=lambda e: (e.combined is None, -(e.combined or 0.0), e.idea.pk))
