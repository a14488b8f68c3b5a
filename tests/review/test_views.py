from __future__ import annotations

import pytest

from opencall.review.actions import CriterionSpec, configure_pairwise, create_rubric, open_round, run_assignment
from opencall.review.models import PairwiseVote, Review, ReviewAssignment
from tests.factories import IdeaFactory, UserFactory, make_role


@pytest.fixture
def judged(challenge, organiser):
    challenge.phase = "review"
    challenge.save(update_fields=["phase"])
    ideas = [IdeaFactory(challenge=challenge, title=f"Entry {n}", body="**bold** <script>x</script>") for n in range(2)]
    judge = UserFactory(display_name="Jo Judge")
    make_role(challenge, judge, "judge")
    rubric = create_rubric(challenge=challenge, by=organiser, name="R", criteria=[CriterionSpec("Impact")])
    rnd = open_round(challenge=challenge, by=organiser, name="Final", rubric=rubric, judges_per_idea=1, blind=True)
    run_assignment(rnd=rnd, by=organiser)
    return challenge, ideas, judge, rnd


@pytest.mark.django_db
def test_judge_reviews_blind_and_bad_scores_are_refused(judged, as_user):
    _challenge, _ideas, judge, rnd = judged
    client = as_user(judge)
    dash = client.get("/review/").content.decode()
    assert "Entry 0" in dash and "Entry 1" in dash and "0 of 2 submitted" in dash
    a = ReviewAssignment.objects.filter(judge=judge).order_by("idea_id").first()
    criterion = rnd.rubric.criteria.get()
    page = client.get(f"/review/assignments/{a.pk}/").content.decode()
    assert "Blind review: the team is not shown." in page
    assert a.idea.team.name not in page
    assert "<strong>bold</strong>" in page and "<script>x" not in page
    bad = client.post(f"/review/assignments/{a.pk}/", {f"score-{criterion.pk}": "9", "submit": "1"})
    assert bad.status_code == 422
    assert "Impact: a whole number from 1 to 5." in bad.content.decode()
    assert Review.objects.count() == 0
    ok = client.post(f"/review/assignments/{a.pk}/", {f"score-{criterion.pk}": "4", "note": "n", "submit": "1"})
    assert ok.status_code == 302
    assert Review.objects.get().scores == {str(criterion.pk): 4}


@pytest.mark.django_db
def test_review_pages_are_private(judged, as_user, participant, organiser):
    challenge, _, judge, _rnd = judged
    a = ReviewAssignment.objects.filter(judge=judge).first()
    assert as_user(participant).get(f"/review/assignments/{a.pk}/").status_code == 404
    assert as_user(organiser).get(f"/review/assignments/{a.pk}/").status_code == 404
    assert as_user(participant).get(f"/challenges/{challenge.slug}/review/").status_code == 403
    desk = as_user(organiser).get(f"/challenges/{challenge.slug}/review/rounds/1/").content.decode()
    assert "Combined ranking" in desk and "Entry 0" in desk


@pytest.mark.django_db
def test_organiser_decides_from_the_round_page(judged, as_user, organiser):
    challenge, ideas, _, _ = judged
    client = as_user(organiser)
    resp = client.post(f"/challenges/{challenge.slug}/review/rounds/1/",
                       {"op": "decide", "advance": [ideas[0].pk], "reject": [ideas[1].pk]})
    assert resp.status_code == 302
    ideas[0].refresh_from_db()
    ideas[1].refresh_from_db()
    assert (ideas[0].status, ideas[1].status) == ("shortlisted", "rejected")
    page = client.get(resp.url).content.decode()
    assert "2 decisions recorded; the teams are notified." in page


@pytest.mark.django_db
def test_one_decision_is_announced_in_the_singular(judged, as_user, organiser):
    challenge, ideas, _, _ = judged
    client = as_user(organiser)
    resp = client.post(f"/challenges/{challenge.slug}/review/rounds/1/", {"op": "decide", "advance": [ideas[0].pk]})
    assert "1 decision recorded; the team is notified." in client.get(resp.url).content.decode()


@pytest.mark.django_db
def test_compare_page_records_answers(challenge, organiser, participant, as_user):
    challenge.phase = "community"
    challenge.save(update_fields=["phase"])
    a, b = IdeaFactory(challenge=challenge, title="Left"), IdeaFactory(challenge=challenge, title="Right")
    client = as_user(participant)
    assert "have not opened pairwise voting" in client.get(f"/challenges/{challenge.slug}/compare/").content.decode()
    configure_pairwise(challenge=challenge, by=organiser, enabled=True)
    page = client.get(f"/challenges/{challenge.slug}/compare/").content.decode()
    assert "Left" in page and "Right" in page and "Can't decide" in page
    resp = client.post(f"/challenges/{challenge.slug}/compare/", {"first": a.pk, "second": b.pk, "outcome": "first"},
                       HTTP_HX_REQUEST="true")
    assert "You have compared every pair" in resp.content.decode()
    again = client.post(f"/challenges/{challenge.slug}/compare/", {"first": a.pk, "second": b.pk, "outcome": "tie"})
    assert again.status_code == 422 and "You answered this pair already." in again.content.decode()
    assert list(PairwiseVote.objects.values_list("outcome", flat=True)) == ["first"]
    ranking = client.get(f"/challenges/{challenge.slug}/crowd-ranking/").content.decode()
    assert ranking.index("Left") < ranking.index("Right")


@pytest.mark.django_db
def test_review_api_for_judges_and_organisers(judged, organiser):
    from opencall.accounts.actions import issue_token

    challenge, _ideas, judge, rnd = judged
    _, judge_token = issue_token(user=judge, label="ci")
    _, org_token = issue_token(user=organiser, label="ci")
    from django.test import Client

    client = Client()
    mine = client.get("/api/reviews/assignments", HTTP_AUTHORIZATION=f"Bearer {judge_token}").json()
    assert sorted(m["idea_title"] for m in mine) == ["Entry 0", "Entry 1"]
    criterion = rnd.rubric.criteria.get()
    bad = client.put(f"/api/reviews/assignments/{mine[0]['id']}", {"scores": {str(criterion.pk): 7}},
                     content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {judge_token}")
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    assert bad.json()["errors"] == {f"scores.{criterion.pk}": ["Impact: a whole number from 1 to 5."]}
    ok = client.put(f"/api/reviews/assignments/{mine[0]['id']}", {"scores": {str(criterion.pk): 5}},
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {judge_token}")
    assert ok.status_code == 204
    forbidden = client.get(f"/api/challenges/{challenge.slug}/review/rounds/1/ranking",
                           HTTP_AUTHORIZATION=f"Bearer {judge_token}")
    assert forbidden.status_code == 403
    ranking = client.get(f"/api/challenges/{challenge.slug}/review/rounds/1/ranking",
                         HTTP_AUTHORIZATION=f"Bearer {org_token}").json()
    assert [r["reviews"] for r in ranking] == [1, 0]
    assert ranking[0]["raw_mean"] == 100.0
