from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from opencall.engines.assignment import (
    AssignmentProblem,
    InfeasibleAssignmentError,
    assign,
    assign_fair,
    assign_max_affinity,
)

from .shared_data import assignment_data


def exact_max_min(problem: AssignmentProblem) -> float:
    """Reference: the best worst-idea affinity by a MILP (SciPy/HiGHS), for tiny problems."""
    a = np.asarray(problem.affinity, dtype=float)
    n_judges, n_ideas = a.shape
    allowed = np.ones_like(a, dtype=bool) if problem.conflicts is None else ~problem.conflicts
    jj, ii = np.nonzero(allowed)
    m, cols = jj.size, np.arange(jj.size)
    per_idea = sparse.csr_matrix((np.ones(m), (ii, cols)), shape=(n_ideas, m))
    per_judge = sparse.csr_matrix((np.ones(m), (jj, cols)), shape=(n_judges, m))
    sums = sparse.csr_matrix((-a[jj, ii], (ii, cols)), shape=(n_ideas, m))
    t_col = sparse.csr_matrix(np.ones((n_ideas, 1)))
    matrix = sparse.vstack(
        [
            sparse.hstack([per_idea, sparse.csr_matrix((n_ideas, 1))]),
            sparse.hstack([per_judge, sparse.csr_matrix((n_judges, 1))]),
            sparse.hstack([sums, t_col]),
        ]
    )
    k = np.broadcast_to(problem.judges_per_idea, n_ideas)
    lo = np.broadcast_to(problem.load_min, n_judges)
    hi = np.broadcast_to(problem.load_max, n_judges)
    lower = np.concatenate([k, lo, np.full(n_ideas, -np.inf)])
    upper = np.concatenate([k, hi, np.zeros(n_ideas)])
    objective = np.zeros(m + 1)
    objective[-1] = -1.0
    result = milp(
        objective,
        constraints=LinearConstraint(matrix, lower, upper),
        integrality=np.concatenate([np.ones(m), [0]]),
        bounds=Bounds(np.concatenate([np.zeros(m), [-np.inf]]), np.concatenate([np.ones(m), [np.inf]])),
    )
    assert result.status == 0, result.message
    return float(-result.fun)


def test_fairness_trades_total_for_the_worst_idea() -> None:
    affinity = np.array([[4.5, 2.0], [3.0, 0.0], [0.0, 1.0]])
    problem = AssignmentProblem(affinity=affinity, load_max=1, judges_per_idea=1)
    greedy = assign_max_affinity(problem)
    assert greedy.pairs.tolist() == [[0, 0], [2, 1]]
    assert (greedy.total_affinity, greedy.worst_idea_affinity) == (5.5, 1.0)
    fair = assign(problem, fair=True)
    assert fair.pairs.tolist() == [[1, 0], [0, 1]]
    assert (fair.total_affinity, fair.worst_idea_affinity) == (5.0, 2.0)
    assert fair.objective == "maxmin"
    assert fair.value == 2.0
    assert fair.bound >= 2.0


def test_fairness_keeps_the_total_when_it_costs_nothing() -> None:
    # Both ideas' best judges are distinct: max-total is already max-min.
    affinity = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])
    fair = assign_fair(AssignmentProblem(affinity=affinity, load_max=1, judges_per_idea=1))
    assert fair.pairs.tolist() == [[0, 0], [1, 1]]
    assert fair.total_affinity == pytest.approx(1.7)


def test_infeasible_fair_problem_raises() -> None:
    with pytest.raises(InfeasibleAssignmentError, match="reviews are needed"):
        assign_fair(AssignmentProblem(affinity=np.ones((2, 3)), load_max=1, judges_per_idea=1))
    with pytest.raises(ValueError, match="rounds"):
        assign_fair(AssignmentProblem(affinity=np.ones((2, 2)), load_max=1), rounds=0)


@st.composite
def feasible_problems(draw: st.DrawFn) -> AssignmentProblem:
    n_judges = draw(st.integers(2, 6))
    n_ideas = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = int(rng.integers(1, min(3, n_judges) + 1))
    conflicts = rng.random((n_judges, n_ideas)) < 0.2
    conflicts[:, conflicts.sum(axis=0) > n_judges - k] = False
    hi = int(np.ceil(k * n_ideas / n_judges)) + int(rng.integers(0, 2))
    affinity = rng.integers(-2, 9, size=(n_judges, n_ideas)) / 4.0
    return AssignmentProblem(affinity=affinity, load_max=hi, judges_per_idea=k, conflicts=conflicts)


@settings(max_examples=60, deadline=None)
@given(feasible_problems())
def test_fair_assignment_is_valid_and_brackets_the_optimum(problem: AssignmentProblem) -> None:
    try:
        greedy = assign_max_affinity(problem)
    except InfeasibleAssignmentError:
        with pytest.raises(InfeasibleAssignmentError):
            assign_fair(problem, rounds=5)
        return
    fair = assign_fair(problem, rounds=5)
    assert problem.conflicts is not None
    chosen = fair.matrix(problem.n_judges, problem.n_ideas)
    assert not (chosen & problem.conflicts).any()
    assert chosen.sum(axis=0).tolist() == [problem.judges_per_idea] * problem.n_ideas
    assert chosen.sum(axis=1).max() <= problem.load_max
    assert fair.worst_idea_affinity >= greedy.worst_idea_affinity - 1e-12
    best = exact_max_min(problem)
    assert fair.worst_idea_affinity <= best + 1e-9
    assert fair.bound >= best - 1e-7


def test_midl_fairness_lifts_the_worst_paper() -> None:
    midl = assignment_data() / "iesl_fair_matching" / "data" / "midl"
    problem = AssignmentProblem(
        affinity=np.load(midl / "scores.npy"),
        load_max=np.load(midl / "loads.npy"),
        load_min=np.load(midl / "loads-lb.npy"),
        judges_per_idea=np.load(midl / "covs.npy"),
    )
    greedy = assign_max_affinity(problem)
    fair = assign_fair(problem)
    assert greedy.worst_idea_affinity == 0.0
    assert round(fair.worst_idea_affinity, 4) == 0.9306
    # LP relaxation of max-min (SciPy/HiGHS, bench/assignment) is 0.9448: the bound is close.
    assert 0.9448 <= fair.bound < 0.95
    assert fair.total_affinity > 0.9 * greedy.total_affinity
