"""Review rounds through actions: optimal assignment with hard conflicts, reviews, decisions."""

from __future__ import annotations

import pytest

from opencall.accounts.models import Notification
from opencall.core.errors import Conflict as ConflictError
from opencall.core.errors import InvalidInput, PermissionDenied, PhaseClosed
from opencall.ideas.models import Idea
from opencall.review.actions import (
    CriterionSpec,
    add_assignment,
    create_rubric,
    decide_ideas,
    declare_conflict,
    open_round,
    run_assignment,
    submit_review,
)
from opencall.review.models import ReviewAssignment
from tests.factories import IdeaFactory, MembershipFactory, UserFactory, make_role


@pytest.fixture
def review_setup(challenge, organiser):
    challenge.phase = "review"
    challenge.save(update_fields=["phase"])
    ideas = [IdeaFactory(challenge=challenge, title=f"Idea {n}") for n in range(4)]
    judges = [UserFactory(display_name=f"Judge {n}") for n in range(3)]
    for j in judges:
        make_role(challenge, j, "judge")
    rubric = create_rubric(challenge=challenge, by=organiser, name="Main", criteria=[
        CriterionSpec("Impact", weight=2), CriterionSpec("Feasibility")])
    return challenge, ideas, judges, rubric


@pytest.mark.django_db
def test_assignment_respects_k_load_and_conflicts(review_setup, organiser):
    challenge, ideas, judges, rubric = review_setup
    # Judge 0 shares an organisation with idea 0's lead; judge 1 declares a conflict with idea 1.
    lead0 = ideas[0].team.members.get().user
    shared = MembershipFactory(user=lead0).organisation
    MembershipFactory(user=judges[0], organisation=shared)
    declare_conflict(challenge=challenge, judge=judges[1], idea=ideas[1], by=judges[1], reason="Former colleague")
    rnd = open_round(challenge=challenge, by=organiser, name="Shortlist", rubric=rubric, judges_per_idea=2, max_load=3)
    report = run_assignment(rnd=rnd, by=organiser)
    pairs = set(ReviewAssignment.objects.filter(round=rnd).values_list("judge_id", "idea_id"))
    assert report["pairs"] == 8 and len(pairs) == 8
    assert (judges[0].pk, ideas[0].pk) not in pairs
    assert (judges[1].pk, ideas[1].pk) not in pairs
    for idea in ideas:
        assert sum(1 for _, i in pairs if i == idea.pk) == 2
    for judge in judges:
        assert sum(1 for j, _ in pairs if j == judge.pk) <= 3
    assert report["gap"] <= 1e-6
    with pytest.raises(ConflictError):
        add_assignment(rnd=rnd, judge=judges[1], idea=ideas[1], by=organiser)


@pytest.mark.django_db
def test_the_host_organisation_is_no_conflict_in_an_internal_round(review_setup, organiser):
    # Regression: judges and entrants of an internal challenge all belong to the host organisation, which
    # made every pair a "same organisation" conflict and every internal round infeasible.
    challenge, ideas, judges, rubric = review_setup
    for user in [*judges, *(idea.team.members.get().user for idea in ideas)]:
        MembershipFactory(user=user, organisation=challenge.organisation)
    other = MembershipFactory(user=judges[2]).organisation
    MembershipFactory(user=ideas[3].team.members.get().user, organisation=other)
    rnd = open_round(challenge=challenge, by=organiser, name="Internal", rubric=rubric, judges_per_idea=2, max_load=3)
    report = run_assignment(rnd=rnd, by=organiser)
    pairs = set(ReviewAssignment.objects.filter(round=rnd).values_list("judge_id", "idea_id"))
    assert report["pairs"] == 8 and len(pairs) == 8
    # A shared organisation other than the host still forbids the pair.
    assert (judges[2].pk, ideas[3].pk) not in pairs
    assert {j for j, i in pairs if i == ideas[3].pk} == {judges[0].pk, judges[1].pk}


@pytest.mark.django_db
def test_infeasible_assignment_is_a_clear_error(review_setup, organiser):
    challenge, _, _, rubric = review_setup
    rnd = open_round(challenge=challenge, by=organiser, name="Too strict", rubric=rubric, judges_per_idea=3,
                     max_load=1)
    with pytest.raises(InvalidInput) as err:
        run_assignment(rnd=rnd, by=organiser)
    assert err.value.errors == {"round": [
        "Too few judges without conflicts for the judges per idea and load limit."]}
    assert ReviewAssignment.objects.count() == 0


@pytest.mark.django_db
def test_reviews_are_validated_and_decisions_notify(review_setup, organiser, participant):
    challenge, ideas, _judges, rubric = review_setup
    rnd = open_round(challenge=challenge, by=organiser, name="Shortlist", rubric=rubric, judges_per_idea=1)
    run_assignment(rnd=rnd, by=organiser)
    a = ReviewAssignment.objects.filter(round=rnd).select_related("round__rubric", "round__challenge").first()
    impact, feasibility = rubric.criteria.all()
    with pytest.raises(PermissionDenied):
        submit_review(assignment=a, by=participant, scores={impact.pk: 3, feasibility.pk: 3})
    with pytest.raises(InvalidInput) as err:
        submit_review(assignment=a, by=a.judge, scores={impact.pk: 9})
    assert err.value.errors == {f"scores.{impact.pk}": ["Impact: a whole number from 1 to 5."],
                                "scores": ["Score every criterion: Feasibility."]}
    review = submit_review(assignment=a, by=a.judge, scores={impact.pk: 5, feasibility.pk: 4}, note="Strong",
                           recommendation="advance")
    assert review.scores == {str(impact.pk): 5, str(feasibility.pk): 4}
    decide_ideas(rnd=rnd, by=organiser, advance=[ideas[0].pk], reject=[ideas[1].pk])
    assert dict(Idea.objects.filter(pk__in=[ideas[0].pk, ideas[1].pk]).values_list("pk", "status")) == {
        ideas[0].pk: "shortlisted", ideas[1].pk: "rejected"}
    lead = ideas[0].team.members.get().user
    assert Notification.objects.filter(recipient=lead, kind="status").count() == 1
    challenge.phase = "results"
    challenge.save(update_fields=["phase"])
    a.round.challenge.phase = "results"
    with pytest.raises(PhaseClosed):
        submit_review(assignment=a, by=a.judge, scores={impact.pk: 1, feasibility.pk: 1})


@pytest.mark.django_db
def test_combined_ranking_corrects_a_harsh_judge(challenge, organiser):
    from opencall.review.scoring import combined_ranking

    challenge.phase = "review"
    challenge.save(update_fields=["phase"])
    [IdeaFactory(challenge=challenge, title=t) for t in ("Strong", "Middle", "Weak")]
    judges = [UserFactory(display_name=n) for n in ("Harsh", "Kind")]
    for j in judges:
        make_role(challenge, j, "judge")
    rubric = create_rubric(challenge=challenge, by=organiser, name="One", criteria=[CriterionSpec("Overall",
                           scale_min=0, scale_max=10)])
    rnd = open_round(challenge=challenge, by=organiser, name="Final", rubric=rubric, judges_per_idea=2, max_load=3)
    run_assignment(rnd=rnd, by=organiser)
    criterion = rubric.criteria.get()
    marks = {"Harsh": {"Strong": 6, "Middle": 3, "Weak": 1}, "Kind": {"Strong": 10, "Middle": 8, "Weak": 5}}
    for a in ReviewAssignment.objects.filter(round=rnd).select_related("judge", "idea", "round__rubric",
                                                                        "round__challenge"):
        submit_review(assignment=a, by=a.judge, scores={criterion.pk: marks[a.judge.display_name][a.idea.title]})
    ranking = combined_ranking(rnd)
    assert [e.idea.title for e in ranking] == ["Strong", "Middle", "Weak"]
    assert [e.reviews for e in ranking] == [2, 2, 2]
    assert ranking[0].raw_mean == 80.0
    assert ranking[0].crowd is None
