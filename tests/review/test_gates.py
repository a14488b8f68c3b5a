"""The review gates: the desk, a round and an assignment answer alike on the web and in the API."""

from __future__ import annotations

import pytest

from opencall.review.actions import CriterionSpec, create_rubric, open_round, run_assignment
from opencall.review.models import ReviewAssignment
from tests.factories import IdeaFactory, UserFactory, make_role

ORGANISERS_ONLY = "Only the challenge's organisers run the review."


@pytest.fixture
def judged(challenge, organiser):
    challenge.phase = "review"
    challenge.save(update_fields=["phase"])
    for n in range(2):
        IdeaFactory(challenge=challenge, title=f"Entry {n}")
    judge = UserFactory()
    make_role(challenge, judge, "judge")
    rubric = create_rubric(challenge=challenge, by=organiser, name="R", criteria=[CriterionSpec("Impact")])
    rnd = open_round(challenge=challenge, by=organiser, name="Final", rubric=rubric, judges_per_idea=1)
    run_assignment(rnd=rnd, by=organiser)
    return challenge, judge


@pytest.mark.django_db
def test_a_round_is_for_organisers_and_a_missing_round_is_missing(judged, organiser, participant, as_user):
    challenge, _judge = judged
    refused_page = as_user(participant).get(f"/challenges/{challenge.slug}/review/rounds/1/")
    assert refused_page.status_code == 403
    assert "Only the challenge&#x27;s organisers run the review." in refused_page.content.decode()
    refused = as_user(participant).get(f"/api/challenges/{challenge.slug}/review/rounds/1/ranking")
    assert (refused.status_code, refused.json()["detail"]) == (403, ORGANISERS_ONLY)
    missing_page = as_user(organiser).get(f"/challenges/{challenge.slug}/review/rounds/7/")
    assert missing_page.status_code == 404 and "No such review round." in missing_page.content.decode()
    missing = as_user(organiser).get(f"/api/challenges/{challenge.slug}/review/rounds/7/ranking")
    assert (missing.status_code, missing.json()["detail"]) == (404, "No such review round.")
    hidden = as_user(participant).get("/api/challenges/no-such-challenge/review/rounds/1/ranking")
    assert (hidden.status_code, hidden.json()["detail"]) == (404, "No such challenge, or it is not visible to you.")


@pytest.mark.django_db
def test_an_assignment_is_only_its_judges(judged, organiser, as_user):
    _challenge, judge = judged
    assignment = ReviewAssignment.objects.filter(judge=judge).first()
    page = as_user(organiser).get(f"/review/assignments/{assignment.pk}/")
    assert page.status_code == 404 and "This review is not assigned to you." in page.content.decode()
    answer = as_user(organiser).put(f"/api/reviews/assignments/{assignment.pk}", {"scores": {}, "final": False},
                                    content_type="application/json")
    assert (answer.status_code, answer.json()["detail"]) == (404, "This review is not assigned to you.")
    assert as_user(judge).get(f"/review/assignments/{assignment.pk}/").status_code == 200


@pytest.mark.django_db
def test_removing_an_unknown_assignment_is_a_message_on_the_round_page(judged, organiser, as_user):
    challenge, _judge = judged
    page = as_user(organiser).post(f"/challenges/{challenge.slug}/review/rounds/1/", {"op": "remove",
                                                                                      "assignment": "x"},
                                   follow=True)
    assert page.status_code == 200 and "No such assignment." in page.content.decode()
    assert ReviewAssignment.objects.count() == 2
