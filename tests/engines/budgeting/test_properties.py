"""Invariants on random small elections (hypothesis), and agreement with pabutools on them."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opencall.engines.budgeting.checks import ejr_up_to_one, verify_price_system
from opencall.engines.budgeting.columns import project_columns
from opencall.engines.budgeting.model import Election, election_from_ballots
from opencall.engines.budgeting.registry import RULES, run_rule
from opencall.engines.budgeting.rules.equal_shares import equal_shares

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pulp")

APPROVAL_RULES = sorted(r for r in RULES if r != "greedy-threshold")


@st.composite
def elections(draw: st.DrawFn, max_projects: int = 6, max_voters: int = 9) -> Election:
    m = draw(st.integers(1, max_projects))
    costs = draw(st.lists(st.integers(1, 12), min_size=m, max_size=m))
    budget = draw(st.integers(1, 30))
    ballots = draw(st.lists(st.lists(st.integers(0, m - 1), max_size=m, unique=True), min_size=1, max_size=max_voters))
    return election_from_ballots(costs, budget, ballots)


def _reversed_voters(e: Election) -> Election:
    ballots = [[p for p, _ in e.ballot(v)] for v in range(e.num_voters)][::-1]
    return election_from_ballots([p.cost for p in e.projects], e.budget, ballots)


FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(elections())
def test_never_over_budget_and_deterministic(e: Election) -> None:
    for rule in APPROVAL_RULES:
        out = run_rule(e, rule)
        assert len(set(out.selected)) == len(out.selected)
        assert sum(e.projects[c].cost for c in out.selected) <= e.budget
        assert run_rule(e, rule).selected == out.selected
        # anonymity: the order of the ballots does not matter
        assert sorted(run_rule(_reversed_voters(e), rule).selected) == sorted(out.selected)


@FAST
@given(elections(), st.sampled_from(["cost", "approval"]))
def test_equal_shares_outcome_is_priceable(e: Election, utility: str) -> None:
    cols = project_columns(e, "cost" if utility == "cost" else "approval")
    result = equal_shares(cols, e.budget, e.name_ranks())
    payments = result.exact_payments(cols)
    assert verify_price_system(e, result.selected, e.budget / e.num_voters, payments) == []


@FAST
@given(elections(max_projects=5, max_voters=7))
def test_equal_shares_satisfies_ejr_up_to_one(e: Election) -> None:
    assert ejr_up_to_one(e, run_rule(e, "mes-cost").selected, "cost") is None
    assert ejr_up_to_one(e, run_rule(e, "mes-approval").selected, "approval") is None


@st.composite
def tie_prone_elections(draw: st.DrawFn) -> Election:
    """Few distinct costs and budgets that split evenly: exact ties and exactly affordable projects."""
    m = draw(st.integers(1, 7))
    costs = draw(st.lists(st.sampled_from([2, 3, 4, 6]), min_size=m, max_size=m))
    n = draw(st.integers(1, 12))
    budget = draw(st.sampled_from([6, 12, 24])) * n // draw(st.sampled_from([1, 2, 3]))
    ballots = draw(st.lists(st.lists(st.integers(0, m - 1), max_size=m, unique=True), min_size=n, max_size=n))
    return election_from_ballots(costs, max(budget, 1), ballots)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(elections(max_projects=8, max_voters=14), tie_prone_elections()), st.sampled_from(["cost", "approval"])
)
def test_bitmask_groups_match_the_array_groups(e: Election, utility: str) -> None:
    """The two ways of holding Equal Shares' budget groups give the same exact passes."""
    import numpy as np

    from opencall.engines.budgeting.rules import equal_shares as mes

    cols = project_columns(e, "cost" if utility == "cost" else "approval")
    ranks = e.name_rank_list()
    eligible, _ = mes.eligible_projects(cols)
    sizes, cost_f = np.diff(cols.ptr).tolist(), cols.costs_float.tolist()
    for b in (e.budget / e.num_voters, e.budget / e.num_voters + 1):
        bits = mes._BitGroups(mes._Ballots.from_columns(cols), b, eligible)
        arrays = mes._ArrayGroups(cols, b, mes._overlap(cols, eligible))
        small = mes._run_pass(bits, eligible, sizes, cost_f, ranks, b)
        large = mes._run_pass(arrays, eligible, sizes, cost_f, ranks, b)
        assert small.selected == large.selected
        assert small.exact_rhos() == large.exact_rhos()
        assert small.dropped_round == large.dropped_round
        assert small.exact_payments(cols) == large.exact_payments(cols)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(elections(max_projects=8, max_voters=14), tie_prone_elections()))
def test_bitmask_phragmen_matches_the_array_one(e: Election) -> None:
    from opencall.engines.budgeting.rules.phragmen import phragmen_of

    small, large = phragmen_of(e, groups="bits"), phragmen_of(e, groups="arrays")
    assert (small.selected, small.stopped_by, small.stop_round) == (large.selected, large.stopped_by, large.stop_round)
    assert small.loads == pytest.approx(large.loads)


pabutools = pytest.importorskip("pabutools")


def _to_pabutools(e: Election):  # type: ignore[no-untyped-def]
    from pabutools.election import ApprovalBallot, ApprovalProfile, Instance, Project
    from pabutools.fractions import frac

    inst = Instance(budget_limit=frac(e.budget.numerator, e.budget.denominator))
    projects = [Project(p.project_id, frac(p.cost.numerator, p.cost.denominator)) for p in e.projects]
    for p in projects:
        inst.add(p)
    profile = ApprovalProfile([ApprovalBallot([projects[c] for c, _ in e.ballot(v)]) for v in range(e.num_voters)])
    return inst, profile


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections())
def test_same_outcome_as_pabutools_on_random_elections(e: Election) -> None:
    _compare(e, with_maximin=False)


# pabutools solves one CBC linear program per candidate and round here: few examples
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(max_projects=5, max_voters=6))
def test_same_maximin_support_as_pabutools(e: Election) -> None:
    _compare(e, with_maximin=True)


def _compare(e: Election, *, with_maximin: bool) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench" / "budgeting"))
    from reference import reference_rules  # type: ignore[import-not-found]

    inst, profile = _to_pabutools(e)
    for rule, fn in reference_rules("approval").items():
        if (rule == "maximin-support") != with_maximin:
            continue
        theirs = sorted(str(p.name) for p in fn(inst, profile))
        assert sorted(run_rule(e, rule).selected_ids) == theirs, rule


def test_fraction_costs_survive() -> None:
    e = election_from_ballots([Fraction(1, 3), Fraction(2, 3)], 1, [[0, 1], [1]])
    # 1/2 each: "1" costs 1/3 per voter, which leaves voter 0 with 1/6 < 1/3 for "0"
    assert run_rule(e, "mes-cost").selected_ids == ("1",)
    assert run_rule(e, "mes-greedy").selected_ids == ("1", "0")
