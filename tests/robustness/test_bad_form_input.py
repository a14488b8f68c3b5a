"""Malformed form input found by fuzzing the HTML views: each once answered 500."""

from __future__ import annotations

import pytest

from opencall.accounts.actions import notify
from opencall.accounts.models import Notification
from opencall.challenges.models import ChallengeRole
from opencall.community.models import Comment
from opencall.core.web import parse_id
from opencall.voting.models import LiveVote
from tests.factories import IdeaFactory

pytestmark = pytest.mark.django_db

# "²" is a digit to str.isdigit() that int() refuses; 5000 nines exceed int()'s digit limit;
# 2**70 fits no key column (SQLite raised OverflowError).
NOT_IDS = ["²", "9" * 5000, str(2**70), "abc", "-1", "١٢"]


def test_parse_id():
    assert [parse_id(v) for v in ["12", " 7 ", str(2**63 - 1), *NOT_IDS, "0", None]] == [
        12,
        7,
        2**63 - 1,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ]


@pytest.mark.parametrize("target", ["abc", "0", "1e9", "%", "//evil.example/", "https://evil.example/"])
def test_next_parameters_that_are_no_local_path_fall_back(challenge, participant, as_user, target):
    client = as_user(participant)
    joined = client.post(f"/challenges/{challenge.slug}/join/", {"next": target})
    assert (joined.status_code, joined["Location"]) == (302, f"/challenges/{challenge.slug}/")
    read = client.post("/notifications/read/", {"next": target})
    assert (read.status_code, read["Location"]) == (302, "/notifications/")
    assert client.post("/notifications/read/", {"next": "/teams-looking/"})["Location"] == "/teams-looking/"


@pytest.mark.parametrize("bad", NOT_IDS)
def test_notification_ids_that_are_no_ids_are_ignored(participant, as_user, bad):
    notify(recipients=[participant], kind="phase", text="Hello")
    response = as_user(participant).post("/notifications/read/", {"id": [bad]})
    assert (response.status_code, response["Location"]) == (302, "/notifications/")
    assert Notification.objects.get().read_at is None


@pytest.mark.parametrize("bad", NOT_IDS)
def test_comment_reply_to_no_id_is_a_form_error(challenge, idea, participant, as_user, bad):
    response = as_user(participant).post(f"/ideas/{idea.pk}/comments/", {"body": "Hi", "parent": bad})
    assert response.status_code == 422
    assert Comment.objects.count() == 0


@pytest.mark.parametrize("bad", NOT_IDS)
def test_role_removal_with_no_id_is_404(challenge, organiser, judge, as_user, bad):
    response = as_user(organiser).post(f"/challenges/{challenge.slug}/roles/", {"remove": bad})
    assert response.status_code == 404
    assert "No such role on this challenge." in response.content.decode()
    assert ChallengeRole.objects.filter(kind="judge").count() == 1


@pytest.mark.parametrize("bad", NOT_IDS)
def test_live_vote_finalists_that_are_no_ids_are_a_form_error(challenge, organiser, as_user, bad):
    ideas = [IdeaFactory(challenge=challenge, status="shortlisted") for _ in range(2)]
    response = as_user(organiser).post(
        f"/challenges/{challenge.slug}/live/",
        {"title": "Final", "duration_seconds": 60, "finalists": [ideas[0].pk, bad]},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["finalists"] == [f"“{bad}” is not a valid value."]
    assert LiveVote.objects.count() == 0


@pytest.fixture
def judged(challenge, organiser, judge):
    from opencall.review.actions import CriterionSpec, create_rubric, open_round, run_assignment

    challenge.phase = "review"
    challenge.save(update_fields=["phase"])
    ideas = [IdeaFactory(challenge=challenge, title=f"Entry {n}") for n in range(2)]
    rubric = create_rubric(challenge=challenge, by=organiser, name="R", criteria=[CriterionSpec("Impact")])
    rnd = open_round(challenge=challenge, by=organiser, name="One", rubric=rubric, judges_per_idea=1, blind=False)
    run_assignment(rnd=rnd, by=organiser)
    return ideas, rnd


@pytest.mark.parametrize("bad", NOT_IDS)
def test_round_page_operations_with_no_ids(judged, challenge, organiser, as_user, bad):
    from opencall.review.models import ReviewAssignment

    ideas, _rnd = judged
    client = as_user(organiser)
    url = f"/challenges/{challenge.slug}/review/rounds/1/"
    removed = client.post(url, {"op": "remove", "assignment": bad}, follow=True)
    assert "No such assignment." in removed.content.decode()
    assert ReviewAssignment.objects.count() == 2
    decided = client.post(url, {"op": "decide", "advance": [bad], "reject": [bad]})
    assert decided.status_code == 302
    assert sorted(i.status for i in type(ideas[0]).objects.filter(challenge=challenge)) == ["submitted"] * 2


@pytest.mark.parametrize("bad", ["²", "9" * 5000, "-²", "4.0"])
def test_review_score_that_is_no_whole_number_is_a_form_error(judged, judge, as_user, bad):
    from opencall.review.models import Review, ReviewAssignment

    _ideas, rnd = judged
    assignment = ReviewAssignment.objects.filter(judge=judge).first()
    criterion = rnd.rubric.criteria.get()
    response = as_user(judge).post(
        f"/review/assignments/{assignment.pk}/", {f"score-{criterion.pk}": bad, "submit": "1"}
    )
    assert response.status_code == 422
    assert "A whole number, please." in response.content.decode()
    assert Review.objects.count() == 0
