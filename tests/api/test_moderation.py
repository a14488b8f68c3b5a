"""Moderation through the API: the report queue, hiding content with a reason, blocking accounts."""

from __future__ import annotations

import pytest

from opencall.community.models import Report
from tests.api.conftest import assert_problem, iso
from tests.factories import CommentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_queue_hide_and_dismiss(api, idea, participant, moderator, organiser, outsider):
    comment = CommentFactory(idea=idea, author=outsider, body="Buy *now*")
    report = Report.objects.create(reporter=participant, comment=comment, reason="Spam")
    expected = {
        "count": 1,
        "limit": 20,
        "offset": 0,
        "items": [
            {
                "id": report.pk,
                "reason": "Spam",
                "status": "open",
                "created_at": iso(report.created_at),
                "challenge": "green-packaging",
                "reporter": {"id": participant.pk, "display_name": "Paula Participant"},
                "idea": None,
                "comment": {
                    "id": comment.pk,
                    "idea_id": idea.pk,
                    "author": {"id": outsider.pk, "display_name": "Oscar Outsider"},
                    "body": "Buy *now*",
                    "body_html": "<p>Buy <em>now</em></p>\n",
                },
                "resolution": "",
                "handled_by": None,
            }
        ],
    }
    assert api(moderator).get("/api/moderation/reports").json() == expected
    assert api(organiser).get("/api/moderation/reports").json() == expected
    assert_problem(
        api(participant).get("/api/moderation/reports"),
        403,
        "permission-denied",
        detail="Only moderators and organisers see reports.",
    )
    assert_problem(api(moderator).get("/api/moderation/reports", {"status": "gone"}), 422, "invalid-input")

    url = f"/api/moderation/reports/{report.pk}/resolve"
    assert_problem(
        api(moderator).post(url, {"hide": True}),
        422,
        "invalid-input",
        detail="Give the reason the content is hidden.",
        errors={"resolution": ["Required."]},
    )
    assert_problem(
        api(moderator).post(url, {"hide": True, "resolution": "x" * 301}),
        422,
        "invalid-input",
        errors={"resolution": ["String should have at most 300 characters"]},
    )
    assert_problem(
        api(participant).post(url, {"hide": False}), 404, "not-found", detail="No such report for you to handle."
    )
    body = api(moderator).post(url, {"hide": True, "resolution": "Advertising"}).json()
    assert (body["status"], body["resolution"], body["handled_by"]) == (
        "hidden",
        "Advertising",
        {"id": moderator.pk, "display_name": "Max Moderator"},
    )
    comment.refresh_from_db()
    assert (comment.hidden, comment.hidden_reason) == (True, "Advertising")
    assert outsider.notifications.get(kind="moderation").text == "Your content was hidden: Advertising"
    assert_problem(
        api(moderator).post(url, {"hide": False}), 409, "conflict", detail="This report was already handled."
    )
    assert api(moderator).get("/api/moderation/reports").json()["count"] == 0
    assert api(moderator).get("/api/moderation/reports", {"status": "hidden"}).json()["count"] == 1


def test_block_accounts(api, participant, moderator):
    site_moderator = UserFactory(is_moderator=True)
    assert_problem(
        api(moderator).post(f"/api/moderation/people/{participant.pk}/block", {"reason": "Spam"}),
        403,
        "permission-denied",
        detail="Only site moderators block accounts.",
    )
    assert_problem(
        api(site_moderator).post(f"/api/moderation/people/{participant.pk}/block", {"reason": ""}),
        422,
        "invalid-input",
        errors={"reason": ["String should have at least 1 character"]},
    )
    response = api(site_moderator).post(f"/api/moderation/people/{participant.pk}/block", {"reason": "Spam"})
    assert response.json() == {"id": participant.pk, "blocked": True}
    participant.refresh_from_db()
    assert (participant.is_blocked, participant.is_active, participant.blocked_reason) == (True, False, "Spam")
    assert_problem(
        api(site_moderator).post(f"/api/moderation/people/{participant.pk}/block", {"reason": "x"}),
        404,
        "not-found",
        detail="No such active account.",
    )
    assert_problem(
        api(site_moderator).post(f"/api/moderation/people/{site_moderator.pk}/block", {"reason": "x"}),
        422,
        "invalid-input",
        detail="You cannot block yourself.",
    )
