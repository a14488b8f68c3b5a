"""The loss of Stelmakh et al. reproduces their published figures; our affinity beats TPMS."""

from __future__ import annotations

import json

import numpy as np
import pytest

from opencall.engines.assignment.affinity import text_affinity
from opencall.engines.assignment.evaluation import expertise_ranking_loss

from .goldstandard import read_expertise, read_profiles
from .shared_data import assignment_data

PUBLISHED = {
    "specter_mfr": 0.238,
    "specter": 0.272,
    "tpms": 0.281,
    "acl": 0.295,
    "elmo": 0.337,
    "constant": 0.5,
}


@pytest.mark.parametrize(("method", "published"), sorted(PUBLISHED.items()))
def test_our_loss_reproduces_published_losses(method: str, published: float) -> None:
    root = assignment_data() / "goldstandard"
    predictions = json.loads((root / "predictions" / f"{method}_d_20_1_ta.json").read_text(encoding="utf-8"))
    loss = expertise_ranking_loss(predictions, read_expertise(root))
    assert round(loss, 3) == published


def _our_loss(dataset: str) -> float:
    root = assignment_data() / "goldstandard"
    profiles, papers = read_profiles(root / "evaluation_datasets" / dataset)
    reviewers, paper_ids = sorted(profiles), sorted(papers)
    sims = text_affinity([profiles[r] for r in reviewers], [papers[p] for p in paper_ids])
    predicted = {r: {p: float(sims[a, b]) for b, p in enumerate(paper_ids)} for a, r in enumerate(reviewers)}
    return expertise_ranking_loss(predicted, read_expertise(root))


def test_text_affinity_beats_tpms_on_the_first_profile_sample() -> None:
    assert round(_our_loss("d_20_1"), 4) == 0.2549
    assert _our_loss("d_20_1") < PUBLISHED["tpms"]


@pytest.mark.slow
def test_text_affinity_over_all_ten_profile_samples() -> None:
    losses = [_our_loss(f"d_20_{i}") for i in range(1, 11)]
    assert round(float(np.mean(losses)), 4) == 0.2563
    assert max(losses) < PUBLISHED["tpms"]
