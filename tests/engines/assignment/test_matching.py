from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencall.engines.assignment import (
    AssignmentProblem,
    InfeasibleAssignmentError,
    assign_max_affinity,
    check_problem,
    lagrangian_bound,
    matching,
)

from .reference_lp import lp_optimum


def test_small_problem_has_the_known_optimum() -> None:
    # 3 judges x 2 ideas, 2 judges each, at most 1 idea per judge is impossible (4 > 3),
    # so each judge takes up to 2; judge 0 conflicts with idea 1.
    affinity = np.array([[0.9, 0.8], [0.5, 0.1], [0.2, 0.7]])
    conflicts = np.array([[False, True], [False, False], [False, False]])
    result = assign_max_affinity(
        AssignmentProblem(affinity=affinity, load_max=2, judges_per_idea=2, conflicts=conflicts)
    )
    assert result.pairs.tolist() == [[0, 0], [1, 0], [1, 1], [2, 1]]
    assert result.total_affinity == pytest.approx(0.9 + 0.5 + 0.1 + 0.7, abs=1e-12)
    assert result.idea_affinity.tolist() == pytest.approx([1.4, 0.8], abs=1e-12)
    assert result.loads.tolist() == [1, 2, 1]
    assert result.judges_for(1) == (1, 2)
    assert result.gap < 1e-9
    assert result.worst_idea_affinity == pytest.approx(0.8, abs=1e-12)


def test_minimum_load_forces_a_worse_but_feasible_assignment() -> None:
    affinity = np.array([[1.0, 1.0], [0.0, 0.0]])
    result = assign_max_affinity(AssignmentProblem(affinity=affinity, load_max=2, load_min=1, judges_per_idea=1))
    assert result.loads.tolist() == [1, 1]
    assert result.total_affinity == pytest.approx(1.0, abs=1e-12)


def test_pruning_width_does_not_change_the_optimum() -> None:
    rng = np.random.default_rng(7)
    affinity = rng.random((40, 120))
    problem = AssignmentProblem(affinity=affinity, load_max=12, load_min=6, judges_per_idea=3)
    narrow = assign_max_affinity(problem, candidates_per_idea=1)
    wide = assign_max_affinity(problem, candidates_per_idea=40)
    reference = lp_optimum(
        affinity,
        np.ones_like(affinity, dtype=np.bool_),
        np.full(120, 3),
        np.full(40, 6),
        np.full(40, 12),
    )
    assert reference is not None
    assert narrow.total_affinity == pytest.approx(reference, abs=1e-6)
    assert wide.total_affinity == pytest.approx(reference, abs=1e-6)
    assert narrow.bound == pytest.approx(reference, abs=1e-6)


def test_any_prices_give_a_valid_upper_bound() -> None:
    rng = np.random.default_rng(3)
    affinity = rng.random((6, 9))
    problem = AssignmentProblem(affinity=affinity, load_max=4, judges_per_idea=2)
    best = assign_max_affinity(problem).total_affinity
    checked = check_problem(problem)
    for _ in range(20):
        assert lagrangian_bound(checked, rng.normal(size=9)) >= best - 1e-9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"conflicts": np.array([[True, False], [False, False]]), "judges_per_idea": 2},
            "idea 0 needs 2 judges but only 1 have no conflict with it",
        ),
        ({"load_max": 1, "judges_per_idea": 2}, "4 reviews are needed but the judges can take"),
        (
            {"load_min": 2, "load_max": 2, "judges_per_idea": 1},
            "minimum loads add up to 4 reviews but only 2 are needed",
        ),
        (
            {"load_min": 2, "conflicts": np.array([[True, False], [False, False]])},
            "judge 0 must review at least 2 ideas but only 1",
        ),
    ],
)
def test_infeasible_problems_say_why(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"affinity": np.ones((2, 2)), "load_max": 2, "judges_per_idea": 1}
    args.update(kwargs)
    with pytest.raises(InfeasibleAssignmentError, match=message):
        assign_max_affinity(AssignmentProblem(**args))  # type: ignore[arg-type]


def test_hall_violation_is_reported() -> None:
    # Ideas 0 and 1 can only be reviewed by judge 0, who takes at most 1 idea; the counts
    # alone look fine (3 reviews needed, 3 possible), only the flow finds the bottleneck.
    conflicts = np.array([[False, False, True], [True, True, False], [True, True, False]])
    problem = AssignmentProblem(
        affinity=np.ones((3, 3)),
        load_max=np.array([1, 3, 3]),
        judges_per_idea=1,
        conflicts=conflicts,
    )
    with pytest.raises(InfeasibleAssignmentError, match="some group of ideas has too few"):
        assign_max_affinity(problem)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"affinity": np.ones(3)}, "2-D"),
        ({"affinity": np.array([[np.nan]])}, "finite"),
        ({"conflicts": np.zeros((3, 3), dtype=bool)}, "conflicts has shape"),
        ({"judges_per_idea": np.array([1, 2, 3])}, "length 2"),
        ({"load_max": -1}, "must not be negative"),
        ({"load_max": 1.5}, "whole numbers"),
        ({"load_min": 3, "load_max": 2}, "load_min 3 exceeds load_max 2"),
    ],
)
def test_malformed_input_is_rejected(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"affinity": np.ones((2, 2)), "load_max": 2, "judges_per_idea": 1}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        assign_max_affinity(AssignmentProblem(**args))  # type: ignore[arg-type]


def test_no_ideas_gives_an_empty_assignment() -> None:
    result = assign_max_affinity(AssignmentProblem(affinity=np.zeros((3, 0)), load_max=2))
    assert result.pairs.shape == (0, 2)
    assert result.total_affinity == 0.0
    assert result.loads.tolist() == [0, 0, 0]


@st.composite
def problems(draw: st.DrawFn) -> tuple[AssignmentProblem, np.ndarray]:
    n_judges = draw(st.integers(1, 7))
    n_ideas = draw(st.integers(1, 7))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # Coarse values make ties common, which is where flow solvers tend to slip.
    affinity = rng.integers(-4, 9, size=(n_judges, n_ideas)) / 4.0
    conflicts = rng.random((n_judges, n_ideas)) < draw(st.sampled_from([0.0, 0.2, 0.5]))
    k = rng.integers(0, min(3, n_judges) + 1, size=n_ideas)
    lo = rng.integers(0, 3, size=n_judges)
    hi = lo + rng.integers(0, 4, size=n_judges)
    problem = AssignmentProblem(affinity=affinity, load_max=hi, load_min=lo, judges_per_idea=k, conflicts=conflicts)
    return problem, affinity


@settings(max_examples=300, deadline=None)
@given(problems())
def test_assignment_respects_every_constraint_and_is_lp_optimal(
    case: tuple[AssignmentProblem, np.ndarray],
) -> None:
    problem, affinity = case
    assert problem.conflicts is not None
    k = np.asarray(problem.judges_per_idea)
    lo = np.asarray(problem.load_min)
    hi = np.asarray(problem.load_max)
    reference = lp_optimum(affinity, ~problem.conflicts, k, lo, hi)
    if reference is None:
        with pytest.raises(InfeasibleAssignmentError):
            assign_max_affinity(problem, candidates_per_idea=1)
        return
    result = assign_max_affinity(problem, candidates_per_idea=1)
    chosen = result.matrix(problem.n_judges, problem.n_ideas)
    assert not (chosen & problem.conflicts).any()
    assert len({(int(j), int(i)) for j, i in result.pairs}) == len(result.pairs)
    assert chosen.sum(axis=0).tolist() == k.tolist()
    assert np.all(chosen.sum(axis=1) >= lo)
    assert np.all(chosen.sum(axis=1) <= hi)
    assert result.loads.tolist() == chosen.sum(axis=1).tolist()
    assert result.total_affinity == pytest.approx(reference, abs=1e-7)
    assert result.total_affinity == pytest.approx(float(affinity[chosen].sum()), abs=1e-9)
    assert result.bound == pytest.approx(reference, abs=1e-6)
    assert result.gap <= 1e-6


def test_everyone_wanting_the_same_stars_forces_widening_yet_stays_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # All ideas rank judges alike and all judges rank ideas alike, so each idea's few best
    # judges are the same stars and each judge's best ideas the same few: the first pruned
    # flow is short of capacity and must be widened, then priced back to the optimum.
    rng = np.random.default_rng(11)
    quality, appeal = rng.random(60), rng.random(240)
    affinity = quality[:, None] + appeal[None, :] + rng.random((60, 240)) * 0.01
    conflicts = rng.random((60, 240)) < 0.05
    outcomes: list[bool] = []
    solve = matching._solve_flow

    def spy(*args: object) -> object:
        out = solve(*args)  # type: ignore[arg-type]
        outcomes.append(isinstance(out, matching._Shortfall))
        return out

    monkeypatch.setattr(matching, "_solve_flow", spy)
    problem = AssignmentProblem(affinity=affinity, load_max=16, load_min=8, judges_per_idea=3, conflicts=conflicts)
    result = assign_max_affinity(problem, candidates_per_idea=3)
    reference = lp_optimum(affinity, ~conflicts, np.full(240, 3), np.full(60, 8), np.full(60, 16))
    assert outcomes[0] is True  # the first pruned flow fell short
    assert outcomes[-1] is False
    assert reference is not None
    assert result.total_affinity == pytest.approx(reference, abs=1e-7)
    assert result.gap < 1e-6
    assert not result.matrix(60, 240)[conflicts].any()
    assert result.loads.min() >= 8
    assert result.loads.max() <= 16
