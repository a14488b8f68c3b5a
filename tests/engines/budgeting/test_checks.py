from __future__ import annotations

from fractions import Fraction

import pytest

from opencall.engines.budgeting.checks import (
    TooLargeError,
    Violation,
    ejr_up_to_one,
    is_priceable,
    pjr,
    verify_price_system,
)
from opencall.engines.budgeting.model import election_from_ballots
from opencall.engines.budgeting.registry import run_rule

# 4 voters, budget 4, unit costs: voters 0-1 approve a, b; voters 2-3 approve c, d.
# Each pair is cohesive for its two projects and deserves both.
TWO_GROUPS = election_from_ballots([1, 1, 1, 1], 4, [[0, 1], [0, 1], [2, 3], [2, 3]], project_ids=list("abcd"))


def test_ejr_up_to_one_finds_the_neglected_group() -> None:
    assert ejr_up_to_one(TWO_GROUPS, [2, 3]) == Violation(projects=("a",), voters=("0", "1"))
    assert ejr_up_to_one(TWO_GROUPS, [0, 2]) == Violation(projects=("a", "b"), voters=("0", "1"))
    assert ejr_up_to_one(TWO_GROUPS, [0, 1, 2, 3]) is None


def test_pjr() -> None:
    assert pjr(TWO_GROUPS, [0, 2]) == Violation(projects=("a", "b"), voters=("0", "1"))
    assert pjr(TWO_GROUPS, [0, 1, 2, 3]) is None


def test_equal_shares_outcome_passes_the_checks() -> None:
    out = run_rule(TWO_GROUPS, "mes-cost")
    assert out.selected_ids == ("a", "b", "c", "d")
    assert ejr_up_to_one(TWO_GROUPS, out.selected, "cost") is None
    assert pjr(TWO_GROUPS, out.selected, "cost") is None
    assert is_priceable(TWO_GROUPS, out.selected)


def test_priceability() -> None:
    assert is_priceable(TWO_GROUPS, [0, 1, 2, 3])
    assert is_priceable(TWO_GROUPS, [])
    # voters 0 and 1 need a budget of 1 each, which leaves 2 > cost(c) with voters 2 and 3
    assert not is_priceable(TWO_GROUPS, [0, 1])


def test_verify_price_system_reports_each_problem() -> None:
    payments = {(0, 0): Fraction(1), (1, 0): Fraction(0), (2, 0): Fraction(1)}
    problems = verify_price_system(TWO_GROUPS, [0], Fraction(1, 2), payments)
    assert problems == [
        "voter 2 pays for project 0 without supporting it",
        "voter 0 pays 1 > budget 1/2",
        "voter 2 pays 1 > budget 1/2",
        "project 0 collects 2 of 1",
    ]


def test_exponential_checks_refuse_large_instances() -> None:
    e = election_from_ballots([1] * 13, 3, [[0]])
    with pytest.raises(TooLargeError, match="13 projects"):
        ejr_up_to_one(e, [0])
