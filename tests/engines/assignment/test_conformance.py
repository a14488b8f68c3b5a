"""Real affinity data: the flow's total equals SciPy/HiGHS's LP optimum, conflicts untouched."""

from __future__ import annotations

import numpy as np
import pytest

from opencall.engines.assignment import AssignmentProblem, assign_max_affinity

from .reference_lp import lp_optimum
from .shared_data import assignment_data


def test_midl_matrix_reaches_the_lp_optimum() -> None:
    midl = assignment_data() / "iesl_fair_matching" / "data" / "midl"
    scores = np.load(midl / "scores.npy")
    k = np.load(midl / "covs.npy")
    lo = np.load(midl / "loads-lb.npy")
    hi = np.load(midl / "loads.npy")
    assert scores.shape == (177, 118)
    result = assign_max_affinity(AssignmentProblem(affinity=scores, load_max=hi, load_min=lo, judges_per_idea=k))
    reference = lp_optimum(scores, np.ones_like(scores, dtype=np.bool_), k, lo, hi)
    assert reference == pytest.approx(150.04312514055266, abs=1e-8)
    assert result.total_affinity == pytest.approx(reference, abs=1e-8)
    assert result.gap < 1e-8
    assert result.loads.tolist() == [2] * 177  # min loads add up to exactly 3 x 118
    assert np.bincount(result.pairs[:, 1], minlength=118).tolist() == [3] * 118


@pytest.mark.parametrize(("name", "optimum"), [("preflib1", 124.75), ("preflib2", 141.5)])
def test_preflib_bids_with_conflicts_reach_the_lp_optimum(name: str, optimum: float) -> None:
    data = np.load(assignment_data() / "preflib_bids" / f"{name}.npz")
    affinity = data["similarity_matrix"].astype(np.float64)
    conflicts = data["mask_matrix"].astype(np.bool_)  # 1 = no bid at all = conflict
    n_judges, n_ideas = affinity.shape
    load_max = int(np.ceil(3 * n_ideas / n_judges)) + 1
    result = assign_max_affinity(
        AssignmentProblem(affinity=affinity, load_max=load_max, judges_per_idea=3, conflicts=conflicts)
    )
    reference = lp_optimum(affinity, ~conflicts, np.full(n_ideas, 3), np.zeros(n_judges), np.full(n_judges, load_max))
    assert reference == pytest.approx(optimum, abs=1e-9)
    assert result.total_affinity == pytest.approx(optimum, abs=1e-9)
    assert not result.matrix(n_judges, n_ideas)[conflicts].any()
    assert int(conflicts.sum()) > 0
    assert result.loads.max() <= load_max
