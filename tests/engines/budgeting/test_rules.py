"""Hand-worked examples: every expected outcome below was computed on paper."""

from __future__ import annotations

from fractions import Fraction

import pytest

from opencall.engines.budgeting.columns import project_columns
from opencall.engines.budgeting.model import election_from_ballots
from opencall.engines.budgeting.registry import RuleError, run_rule
from opencall.engines.budgeting.rules.equal_shares import equal_shares

# budget 10; a (6) 5 votes, b (5) 4 votes, c (4) 3 votes, d (1) 1 vote
GREEDY = election_from_ballots(
    [6, 5, 4, 1],
    10,
    [[0, 1, 2, 3], [0, 1, 2], [0, 1, 2], [0, 1], [0]],
    project_ids=["a", "b", "c", "d"],
)

# 10 voters with 1 each: x (6) and y (4) by voters 0-5, z (4) by voters 6-9
SPLIT = election_from_ballots(
    [6, 4, 4],
    10,
    [[0, 1]] * 6 + [[2]] * 4,
    project_ids=["x", "y", "z"],
)

# 3 voters with 3 each: p (4) by voters 0 and 1, q (4) by voter 2 -- q needs Add1U
ADD1U = election_from_ballots([4, 4], 9, [[0], [0], [1]], project_ids=["p", "q"])


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("greedy", ("a", "c")),
        ("greedy-no-skip", ("a",)),
        ("greedy-cost", ("d", "a")),
    ],
)
def test_greedy_variants(rule: str, expected: tuple[str, ...]) -> None:
    assert run_rule(GREEDY, rule).selected_ids == expected


def test_greedy_threshold_reads_meta() -> None:
    e = election_from_ballots([6, 5, 4, 1], 10, [[0, 1, 2, 3], [0, 1, 2], [0, 1, 2], [0, 1], [0]])
    with pytest.raises(RuleError, match="min_project_score_threshold"):
        run_rule(e, "greedy-threshold")
    object.__setattr__(e, "meta", (*e.meta, ("min_project_score_threshold", "4")))
    assert run_rule(e, "greedy-threshold").selected_ids == ("0",)


def test_greedy_funds_unvoted_projects_last_like_pabutools() -> None:
    e = election_from_ballots([5, 2, 1], 8, [[0], [0]])
    assert run_rule(e, "greedy").selected_ids == ("0", "1", "2")


def test_equal_shares_cost_utilities_breaks_exact_tie_by_id() -> None:
    # x and y both cost 1/6 per unit of utility; x wins on id, which exhausts voters 0-5
    out = run_rule(SPLIT, "mes-cost")
    assert out.selected_ids == ("x", "z")
    explained = {e.project_id: e for e in out.explanations}
    assert explained["y"].funded is False
    assert explained["y"].round == 2
    assert explained["y"].shortfall == 4.0
    assert explained["x"].payments == (("6 voters paid 1", 1.0),)


def test_equal_shares_approval_utilities() -> None:
    # y costs 2/3 per supporter, x then finds only 6 * 1/3 = 2 of its 6
    out = run_rule(SPLIT, "mes-approval")
    assert out.selected_ids == ("y", "z")
    explained = {e.project_id: e for e in out.explanations}
    assert explained["x"].shortfall == pytest.approx(4.0)


def test_equal_shares_exact_prices() -> None:
    cols = project_columns(SPLIT, "approval")
    result = equal_shares(cols, SPLIT.budget, SPLIT.name_ranks())
    assert result.exact_rhos() == [Fraction(2, 3), Fraction(1)]
    payments = result.exact_payments(cols)
    assert payments[(0, 1)] == Fraction(2, 3)
    assert payments[(9, 2)] == Fraction(1)


def test_add1u_raises_budgets_until_exhaustive() -> None:
    assert run_rule(ADD1U, "mes-cost").selected_ids == ("p",)
    cols = project_columns(ADD1U, "cost")
    result = equal_shares(cols, ADD1U.budget, ADD1U.name_ranks(), increment=Fraction(1))
    assert [ADD1U.projects[c].project_id for c in result.selected] == ["p", "q"]
    assert result.runs == 2
    assert result.budget_per_voter == 4
    assert run_rule(ADD1U, "mes-add1u").selected_ids == ("p", "q")
    assert run_rule(ADD1U, "mes").selected_ids == ("p", "q")
    assert run_rule(ADD1U, "mes-greedy").selected_ids == ("p", "q")


def test_add1u_keeps_last_outcome_that_did_not_overspend() -> None:
    # 2 voters, budget 2: a (2) by voter 0, b (1.5) by voter 1. Run 1 (1 each) funds nothing;
    # run 2 (2 each) funds both for 3.5 > 2, so the empty run-1 outcome stands.
    e = election_from_ballots([2, Fraction(3, 2)], 2, [[0], [1]])
    cols = project_columns(e, "cost")
    result = equal_shares(cols, e.budget, e.name_ranks(), increment=Fraction(1))
    assert result.selected == []
    assert result.runs == 2


def test_phragmen_and_maximin_support() -> None:
    assert run_rule(SPLIT, "phragmen").selected_ids == ("y", "z")
    assert run_rule(SPLIT, "maximin-support").selected_ids == ("y", "z")


def test_phragmen_stops_at_first_misfit() -> None:
    # loads: a 3/3 = 1, b 1/1 = 1 (tie, a first by id), then b, then c (10) does not fit
    e = election_from_ballots([3, 1, 10], 5, [[0, 2], [0], [0], [1]], project_ids=["a", "b", "c"])
    assert run_rule(e, "phragmen").selected_ids == ("a", "b")


def test_rules_needing_approval_ballots_refuse_cumulative() -> None:
    e = election_from_ballots([1, 1], 1, [{0: Fraction(2)}], vote_type="cumulative")
    with pytest.raises(RuleError, match="needs approval ballots"):
        run_rule(e, "phragmen")
    with pytest.raises(RuleError, match="unknown rule"):
        run_rule(e, "borda")


def test_every_project_is_explained() -> None:
    for rule in ("greedy", "greedy-cost", "mes", "mes-approval", "phragmen", "maximin-support"):
        out = run_rule(GREEDY, rule)
        assert [e.project_id for e in out.explanations] == ["a", "b", "c", "d"]
        assert {e.project_id for e in out.explanations if e.funded} == set(out.selected_ids)


def test_equal_shares_explanation_keeps_groups_of_the_same_size_apart() -> None:
    # 4 voters with 2.5 each. Round 1: y (2) by voters 0-1, 1 each. Round 2: x (7) by everyone:
    # voters 0-1 give their last 1.5, voters 2-3 pay 2 each -- two groups of two voters
    e = election_from_ballots([7, 2], 10, [[0, 1], [0, 1], [0], [0]], project_ids=["x", "y"])
    out = run_rule(e, "mes-approval")
    assert out.selected_ids == ("y", "x")
    payments = out.explanations[0].as_dict()["payments"]
    assert isinstance(payments, dict)
    assert sorted(payments.values()) == [1.5, 2.0]
    assert sorted(payments) == ["2 voters paid 1.5", "2 voters paid 2"]
