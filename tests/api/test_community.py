"""Comments, likes, follows and reports through the API."""

from __future__ import annotations

import pytest

from opencall.community.models import Comment, Follow, Like, Report
from tests.api.conftest import assert_problem, iso
from tests.factories import CommentFactory, IdeaFactory

pytestmark = pytest.mark.django_db


def comment_json(comment, depth=0, **changes):
    return {
        "id": comment.pk,
        "parent_id": comment.parent_id,
        "depth": depth,
        "author": {"id": comment.author_id, "display_name": str(comment.author)},
        "body": comment.body,
        "body_html": f"<p>{comment.body}</p>\n",
        "hidden": comment.hidden,
        "created_at": iso(comment.created_at),
    } | changes


def test_comments_are_threaded_and_hidden_ones_reach_moderators_only(api, idea, participant, moderator):
    first = CommentFactory(idea=idea, author=participant, body="First")
    second = CommentFactory(idea=idea, author=participant, body="Second")
    reply = CommentFactory(idea=idea, author=moderator, body="Reply", parent=first)
    hidden = CommentFactory(idea=idea, author=participant, body="Spam", hidden=True, hidden_reason="Ads")
    assert api().get(f"/api/ideas/{idea.pk}/comments").json() == {
        "count": 3,
        "limit": 20,
        "offset": 0,
        "items": [comment_json(first), comment_json(reply, depth=1), comment_json(second)],
    }
    as_moderator = api(moderator).get(f"/api/ideas/{idea.pk}/comments").json()
    assert [c["id"] for c in as_moderator["items"]] == [first.pk, reply.pk, second.pk, hidden.pk]
    assert as_moderator["items"][3]["hidden"] is True


def test_comments_of_a_confidential_idea_are_404(api, challenge, participant):
    secret = IdeaFactory(challenge=challenge, confidential=True)
    CommentFactory(idea=secret)
    assert_problem(api(participant).get(f"/api/ideas/{secret.pk}/comments"), 404, "not-found")


def test_comment_and_reply(api, idea, participant, team_member):
    response = api(participant).post(
        f"/api/ideas/{idea.pk}/comments", {"body": "Love it <img src=x onerror=alert(1)> [x](javascript:alert(1))"}
    )
    assert response.status_code == 201
    comment = Comment.objects.get()
    assert response.json() == comment_json(comment) | {
        "body_html": "<p>Love it &lt;img src=x onerror=alert(1)&gt; [x](javascript:alert(1))</p>\n"
    }
    reply = api(team_member).post(f"/api/ideas/{idea.pk}/comments", {"body": "Thanks", "parent_id": comment.pk})
    assert (reply.status_code, reply.json()["depth"], reply.json()["parent_id"]) == (201, 1, comment.pk)
    idea.refresh_from_db()
    assert idea.comment_count == 2
    assert participant.notifications.get(kind="comment").text == "Tariq Team commented on “Mushroom foam”"


def test_comment_bad_input(api, challenge, idea, participant):
    url = f"/api/ideas/{idea.pk}/comments"
    client = api(participant)
    assert_problem(
        client.post(url, {"body": ""}),
        422,
        "invalid-input",
        errors={"body": ["String should have at least 1 character"]},
    )
    assert_problem(
        client.post(url, {"body": "   "}),
        422,
        "invalid-input",
        detail="The comment is empty.",
        errors={"body": ["Write something first."]},
    )
    assert_problem(
        client.post(url, {"body": "x" * 5001}),
        422,
        "invalid-input",
        errors={"body": ["String should have at most 5000 characters"]},
    )
    assert_problem(
        client.post(url, {"body": ["a"]}), 422, "invalid-input", errors={"body": ["Input should be a valid string"]}
    )
    assert_problem(
        client.post(url, {"body": "Hi", "parent_id": 987654}),
        422,
        "invalid-input",
        errors={"parent_id": ["No such comment."]},
    )
    elsewhere = CommentFactory(idea=IdeaFactory(challenge=challenge))
    assert_problem(
        client.post(url, {"body": "Hi", "parent_id": elsewhere.pk}),
        422,
        "invalid-input",
        errors={"parent": ["Not a comment on this idea."]},
    )
    assert_problem(api().post(url, {"body": "Hi"}), 401, "not-authenticated")
    assert Comment.objects.count() == 1


def test_comments_close_with_the_challenge(api, challenge, idea, participant):
    challenge.phase = "closed"
    challenge.save()
    assert_problem(
        api(participant).post(f"/api/ideas/{idea.pk}/comments", {"body": "Late"}),
        409,
        "phase-closed",
        detail="Comments are closed in the Closed phase.",
    )


def test_likes_open_only_in_the_voting_phase(api, challenge, idea, participant, organiser):
    client = api(participant)
    url = f"/api/ideas/{idea.pk}/like"
    assert_problem(client.post(url), 409, "phase-closed", detail="Voting is closed in the Submission phase.")
    assert api(organiser).post("/api/challenges/green-packaging/advance").json()["phase"] == "community"
    assert client.post(url).json() == {"liked": True, "like_count": 1}
    assert client.post(url).json() == {"liked": True, "like_count": 1}
    assert api(organiser).post(url).json() == {"liked": True, "like_count": 2}
    assert client.get(url).json() == {"liked": True, "like_count": 2}
    assert api().get(url).json() == {"liked": False, "like_count": 2}
    assert client.delete(url).json() == {"liked": False, "like_count": 1}
    assert list(Like.objects.values_list("user_id", flat=True)) == [organiser.pk]
    assert api(organiser).post("/api/challenges/green-packaging/advance").json()["phase"] == "review"
    assert_problem(client.post(url), 409, "phase-closed", detail="Voting is closed in the Review phase.")
    assert_problem(api().post(url), 401, "not-authenticated")
    idea.refresh_from_db()
    assert idea.like_count == 1


def test_likes_on_invisible_ideas_are_404(api, challenge, participant):
    challenge.phase = "community"
    challenge.save()
    secret = IdeaFactory(challenge=challenge, confidential=True)
    assert_problem(api(participant).post(f"/api/ideas/{secret.pk}/like"), 404, "not-found")
    assert Like.objects.count() == 0


def test_follow_idea_and_challenge(api, idea, participant):
    client = api(participant)
    assert client.get(f"/api/ideas/{idea.pk}/follow").json() == {"following": False}
    assert client.post(f"/api/ideas/{idea.pk}/follow").json() == {"following": True}
    assert client.get(f"/api/ideas/{idea.pk}/follow").json() == {"following": True}
    assert client.delete(f"/api/ideas/{idea.pk}/follow").json() == {"following": False}
    assert client.post("/api/challenges/green-packaging/follow").json() == {"following": True}
    assert client.get("/api/challenges/green-packaging/follow").json() == {"following": True}
    assert list(Follow.objects.values_list("user_id", "challenge__slug", "idea_id")) == [
        (participant.pk, "green-packaging", None)
    ]
    assert client.delete("/api/challenges/green-packaging/follow").json() == {"following": False}
    assert api().get("/api/challenges/green-packaging/follow").json() == {"following": False}
    assert_problem(api().post("/api/challenges/green-packaging/follow"), 401, "not-authenticated")
    assert_problem(client.post("/api/challenges/unknown/follow"), 404, "not-found")


def test_reports(api, idea, participant, moderator):
    comment = CommentFactory(idea=idea, body="Rude")
    response = api(participant).post(f"/api/comments/{comment.pk}/report", {"reason": "Insulting"})
    assert response.status_code == 201
    report = Report.objects.get()
    assert response.json() == {
        "id": report.pk,
        "reason": "Insulting",
        "status": "open",
        "created_at": iso(report.created_at),
    }
    assert (report.comment_id, report.reporter_id) == (comment.pk, participant.pk)
    response = api(participant).post(f"/api/ideas/{idea.pk}/report", {"reason": "Copied from elsewhere"})
    assert response.status_code == 201
    assert Report.objects.filter(idea=idea).count() == 1
    assert_problem(
        api(participant).post(f"/api/ideas/{idea.pk}/report", {"reason": "  "}),
        422,
        "invalid-input",
        detail="Say what is wrong.",
        errors={"reason": ["A reason is required."]},
    )
    assert_problem(
        api(participant).post(f"/api/ideas/{idea.pk}/report", {"reason": "x" * 501}),
        422,
        "invalid-input",
        errors={"reason": ["String should have at most 500 characters"]},
    )
    assert_problem(api().post(f"/api/ideas/{idea.pk}/report", {"reason": "x"}), 401, "not-authenticated")
    comment.hidden = True
    comment.save()
    assert_problem(
        api(participant).post(f"/api/comments/{comment.pk}/report", {"reason": "Again"}),
        404,
        "not-found",
        detail="No such comment.",
    )
    assert Report.objects.count() == 2
