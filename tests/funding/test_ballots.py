"""Budget ballots and allocations through the funding actions."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opencall.core.errors import InvalidInput, PermissionDenied, PhaseClosed
from opencall.funding.actions import cast_ballot, configure_funding, publish_allocation, recount, run_allocation
from opencall.funding.adapters import challenge_election
from opencall.funding.models import BallotEntry, BudgetBallot
from opencall.ideas.models import Idea
from tests.factories import IdeaFactory, UserFactory


@pytest.fixture
def funding(challenge):
    challenge.phase = "funding"
    challenge.budget_minor = 100_000
    challenge.save(update_fields=["phase", "budget_minor"])
    costs = [60_000, 40_000, 30_000, 20_000]
    ideas = [IdeaFactory(challenge=challenge, title=f"Idea {c}", requested_budget_minor=c) for c in costs]
    return challenge, ideas


def _entries(user):
    return list(BallotEntry.objects.filter(ballot__voter=user).values_list("idea_id", "points"))


@pytest.mark.django_db
def test_knapsack_ballot_is_checked_and_replaceable(funding, participant):
    challenge, ideas = funding
    with pytest.raises(InvalidInput) as err:
        cast_ballot(challenge=challenge, by=participant, choices={ideas[0].pk: 1, ideas[1].pk: 1, ideas[2].pk: 1})
    assert err.value.errors == {"choices": ["Over budget: 1,300.00 EUR chosen, 1,000.00 EUR available."]}
    assert BudgetBallot.objects.count() == 0
    with pytest.raises(InvalidInput) as err:
        cast_ballot(challenge=challenge, by=participant, choices=[(ideas[0].pk, 1), (ideas[0].pk, 1)])
    assert err.value.errors == {"choices": ["An idea is chosen twice."]}
    first = cast_ballot(challenge=challenge, by=participant, choices={ideas[0].pk: 1, ideas[1].pk: 1})
    again = cast_ballot(challenge=challenge, by=participant, choices={ideas[3].pk: 1})
    assert (first.pk, again.revision) == (again.pk, 2)
    assert _entries(participant) == [(ideas[3].pk, 1)]


@pytest.mark.django_db
def test_approval_and_cumulative_limits(funding, organiser, participant):
    challenge, ideas = funding
    configure_funding(challenge=challenge, by=organiser, ballot_kind="approval", max_choices=2)
    with pytest.raises(InvalidInput) as err:
        cast_ballot(challenge=challenge, by=participant, choices={i.pk: 1 for i in ideas[:3]})
    assert err.value.errors == {"choices": ["Too many choices: at most 2."]}
    configure_funding(challenge=challenge, by=organiser, ballot_kind="cumulative", total_points=5)
    with pytest.raises(InvalidInput) as err:
        cast_ballot(challenge=challenge, by=participant, choices={ideas[0].pk: 4, ideas[1].pk: 2})
    assert err.value.errors == {"choices": ["Too many points: 6 given, 5 available."]}
    with pytest.raises(InvalidInput):
        cast_ballot(challenge=challenge, by=participant, choices={ideas[0].pk: 0})
    cast_ballot(challenge=challenge, by=participant, choices={ideas[0].pk: 3, ideas[1].pk: 2})
    assert _entries(participant) == [(ideas[0].pk, 3), (ideas[1].pk, 2)]


@pytest.mark.django_db
def test_ballots_refused_outside_the_phase_and_for_strangers(funding, participant, visitor):
    challenge, ideas = funding
    other = IdeaFactory(requested_budget_minor=10)  # another challenge's idea
    with pytest.raises(InvalidInput) as err:
        cast_ballot(challenge=challenge, by=participant, choices={other.pk: 1})
    assert err.value.errors == {"choices": [f"Not on this ballot: {other.pk}."]}
    with pytest.raises(PermissionDenied):
        cast_ballot(challenge=challenge, by=visitor, choices={ideas[0].pk: 1})
    challenge.phase = "results"
    challenge.save(update_fields=["phase"])
    with pytest.raises(PhaseClosed):
        cast_ballot(challenge=challenge, by=participant, choices={ideas[0].pk: 1})
    assert BudgetBallot.objects.count() == 0


@pytest.mark.django_db
def test_allocation_runs_publishes_and_recounts(funding, organiser):
    challenge, ideas = funding
    a, b, c, d = ideas
    # 3 voters want the big idea a; 2 want c and d. Greedy gives a+b to the majority's taste;
    # Equal Shares lets the minority fund something.
    for pick in ([a, b], [a, b], [a, b], [c, d], [c, d]):
        cast_ballot(challenge=challenge, by=UserFactory(), choices={i.pk: 1 for i in pick})
    allocation = run_allocation(challenge=challenge, by=organiser, rule="mes")
    assert allocation.ballot_count == 5
    assert allocation.comparison["greedy"]["selected"] == [a.pk, b.pk]
    assert allocation.comparison["greedy"]["voters_with_funded_idea"] == 3
    assert allocation.comparison["mes"]["voters_with_funded_idea"] == 5
    assert allocation.budget_used_minor <= 100_000
    assert set(allocation.explanations) == {str(i.pk) for i in ideas}
    assert recount(allocation=allocation)["outcome_matches"] is True
    with pytest.raises(PhaseClosed):
        publish_allocation(allocation=allocation, by=organiser)
    challenge.phase = "results"
    challenge.save(update_fields=["phase"])
    publish_allocation(allocation=allocation, by=organiser)
    funded = set(Idea.objects.filter(status="funded").values_list("pk", flat=True))
    assert funded == set(allocation.selected)


@pytest.mark.django_db
def test_export_is_anonymous_pabulib(funding, participant):
    challenge, ideas = funding
    cast_ballot(challenge=challenge, by=participant, choices={ideas[1].pk: 1})
    text = challenge_election(challenge).pb_text
    assert text.startswith("META")
    assert "PROJECTS" in text and "VOTES" in text
    assert participant.email not in text and str(participant.pk) not in text.split("VOTES", 1)[1].split(";")[0]


@pytest.mark.django_db(transaction=False)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ballots=st.lists(st.sets(st.integers(0, 3), min_size=1), min_size=1, max_size=8),
       rule=st.sampled_from(["mes", "greedy", "greedy-cost", "phragmen", "mes-approval"]))
def test_property_never_over_budget_and_deterministic(funding, organiser, ballots, rule):
    challenge, ideas = funding
    BudgetBallot.objects.filter(challenge=challenge).delete()
    configure_funding(challenge=challenge, by=organiser, ballot_kind="approval", max_choices=4)
    for pick in ballots:
        cast_ballot(challenge=challenge, by=UserFactory(), choices={ideas[i].pk: 1 for i in sorted(pick)})
    first = run_allocation(challenge=challenge, by=organiser, rule=rule)
    second = run_allocation(challenge=challenge, by=organiser, rule=rule)
    cost = {i.pk: i.requested_budget_minor for i in ideas}
    assert sum(cost[i] for i in first.selected) <= challenge.budget_minor
    assert first.selected == second.selected
    assert first.ballots_digest == second.ballots_digest


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempt=st.dictionaries(st.integers(0, 3), st.integers(1, 3), min_size=1))
def test_property_ballots_never_change_after_close(funding, participant, attempt):
    challenge, ideas = funding
    challenge.phase = "funding"
    challenge.save(update_fields=["phase"])
    BudgetBallot.objects.filter(challenge=challenge).delete()
    cast_ballot(challenge=challenge, by=participant, choices={ideas[3].pk: 1})
    before = _entries(participant)
    challenge.phase = "results"
    challenge.save(update_fields=["phase"])
    with pytest.raises(PhaseClosed):
        cast_ballot(challenge=challenge, by=participant, choices={ideas[i].pk: p for i, p in attempt.items()})
    assert _entries(participant) == before
