"""People, tokens and notifications through the API."""

from __future__ import annotations

import hashlib

import pytest

from opencall.accounts.actions import issue_token, notify
from opencall.accounts.models import ApiToken, Notification
from opencall.core.models import AuditEvent
from tests.api.conftest import assert_problem, iso

pytestmark = pytest.mark.django_db


def test_me_shows_the_private_profile(api, participant):
    response = api(participant).get("/api/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": participant.pk,
        "display_name": "Paula Participant",
        "bio": "",
        "bio_html": "",
        "skills": [],
        "languages": "",
        "email": "paula@example.org",
        "timezone": "",
        "is_moderator": False,
    }


def test_me_needs_authentication(api):
    assert_problem(api().get("/api/me"), 401, "not-authenticated")


def test_patch_me_changes_only_what_is_sent_and_renders_bio_safely(api, participant):
    response = api(participant).patch(
        "/api/me",
        {
            "bio": "I build **robots** <script>alert('x')</script>",
            "skills": ["Python", " UX ", "python"],
            "timezone": "Asia/Shanghai",
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": participant.pk,
        "display_name": "Paula Participant",
        "bio": "I build **robots** <script>alert('x')</script>",
        "bio_html": "<p>I build <strong>robots</strong> &lt;script&gt;alert('x')&lt;/script&gt;</p>\n",
        "skills": ["python", "ux"],
        "languages": "",
        "email": "paula@example.org",
        "timezone": "Asia/Shanghai",
        "is_moderator": False,
    }
    participant.refresh_from_db()
    assert participant.timezone == "Asia/Shanghai"
    assert AuditEvent.objects.filter(verb="profile.update", object_id=str(participant.pk)).count() == 1


def test_patch_me_null_clears_a_field(api, participant):
    participant.languages = "English"
    participant.save()
    response = api(participant).patch("/api/me", {"languages": None})
    assert response.json()["languages"] == ""


def test_patch_me_bad_input(api, participant):
    client = api(participant)
    assert_problem(
        client.patch("/api/me", {"timezone": "Mars/Olympus"}),
        422,
        "invalid-input",
        detail="The profile has errors.",
        errors={"timezone": ["Unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Berlin."]},
    )
    assert_problem(
        client.patch("/api/me", {"bio": "x" * 2001}),
        422,
        "invalid-input",
        errors={"bio": ["String should have at most 2000 characters"]},
    )
    assert_problem(
        client.patch("/api/me", {"skills": "python"}),
        422,
        "invalid-input",
        errors={"skills": ["Input should be a valid list"]},
    )
    assert_problem(
        client.patch("/api/me", {"skills": [f"s{i}" for i in range(31)]}),
        422,
        "invalid-input",
        errors={"skills": ["List should have at most 30 items after validation, not 31"]},
    )
    participant.refresh_from_db()
    assert (participant.bio, participant.timezone) == ("", "")


def test_public_profile_hides_the_email(api, participant, outsider):
    participant.bio = "Hi"
    participant.save()
    response = api(outsider).get(f"/api/people/{participant.pk}")
    assert response.json() == {
        "id": participant.pk,
        "display_name": "Paula Participant",
        "bio": "Hi",
        "bio_html": "<p>Hi</p>\n",
        "skills": [],
        "languages": "",
    }
    assert_problem(api().get("/api/people/999999"), 404, "not-found", detail="No such person.")


def test_token_lifecycle(api, participant):
    client = api(participant)
    created = client.post("/api/me/tokens", {"label": "CI pipeline"})
    assert created.status_code == 201
    body = created.json()
    token = ApiToken.objects.get()
    assert body == {
        "id": token.pk,
        "label": "CI pipeline",
        "prefix": body["token"][:10],
        "created_at": iso(token.created_at),
        "last_used_at": None,
        "token": body["token"],
    }
    assert body["token"].startswith("oc_")
    assert token.digest == hashlib.sha256(body["token"].encode()).hexdigest()

    listed = client.get("/api/me/tokens").json()
    assert listed == {
        "count": 1,
        "limit": 20,
        "offset": 0,
        "items": [
            {
                "id": token.pk,
                "label": "CI pipeline",
                "prefix": token.prefix,
                "created_at": iso(token.created_at),
                "last_used_at": None,
            }
        ],
    }
    assert "token" not in listed["items"][0]

    response = client.delete(f"/api/me/tokens/{token.pk}")
    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/api/me/tokens").json()["count"] == 0
    assert_problem(client.delete(f"/api/me/tokens/{token.pk}"), 404, "not-found", detail="No such token.")


def test_token_label_is_checked(api, participant):
    client = api(participant)
    assert_problem(
        client.post("/api/me/tokens", {"label": ""}),
        422,
        "invalid-input",
        errors={"label": ["String should have at least 1 character"]},
    )
    assert_problem(
        client.post("/api/me/tokens", {"label": "x" * 81}),
        422,
        "invalid-input",
        errors={"label": ["String should have at most 80 characters"]},
    )
    assert_problem(
        client.post("/api/me/tokens", {"label": "   "}),
        422,
        "invalid-input",
        detail="A token needs a label of 1-80 characters.",
        errors={"label": ["1-80 characters."]},
    )
    assert ApiToken.objects.count() == 0


def test_someone_elses_token_cannot_be_revoked(api, participant, outsider):
    token, _ = issue_token(user=outsider, label="theirs")
    assert_problem(api(participant).delete(f"/api/me/tokens/{token.pk}"), 404, "not-found")
    token.refresh_from_db()
    assert token.revoked_at is None


def test_notifications_list_count_and_mark_read(api, participant, outsider):
    notify(recipients=[participant, outsider], kind="comment", text="Someone commented", url="/ideas/1/")
    notify(recipients=[participant], kind="phase", text="Now in review", url="/challenges/x/")
    client = api(participant)
    newest, oldest = Notification.objects.filter(recipient=participant).order_by("-id")
    assert client.get("/api/notifications/unread-count").json() == {"unread": 2}
    assert client.get("/api/notifications").json() == {
        "count": 2,
        "limit": 20,
        "offset": 0,
        "items": [
            {
                "id": newest.pk,
                "kind": "phase",
                "text": "Now in review",
                "url": "/challenges/x/",
                "created_at": iso(newest.created_at),
                "read": False,
            },
            {
                "id": oldest.pk,
                "kind": "comment",
                "text": "Someone commented",
                "url": "/ideas/1/",
                "created_at": iso(oldest.created_at),
                "read": False,
            },
        ],
    }
    assert client.post("/api/notifications/read", {"ids": [oldest.pk]}).json() == {"marked": 1, "unread": 1}
    unread = client.get("/api/notifications", {"unread": "true"}).json()
    assert [n["id"] for n in unread["items"]] == [newest.pk]
    assert client.post("/api/notifications/read").json() == {"marked": 1, "unread": 0}
    assert Notification.objects.get(recipient=outsider).read_at is None


def test_notifications_paginate(api, participant):
    notify(recipients=[participant], kind="phase", text="one")
    notify(recipients=[participant], kind="phase", text="two")
    notify(recipients=[participant], kind="phase", text="three")
    page = api(participant).get("/api/notifications", {"limit": 2, "offset": 1}).json()
    assert (page["count"], page["limit"], page["offset"]) == (3, 2, 1)
    assert [n["text"] for n in page["items"]] == ["two", "one"]


def test_mark_read_bad_input(api, participant):
    client = api(participant)
    assert_problem(
        client.post("/api/notifications/read", {"ids": ["a"]}),
        422,
        "invalid-input",
        errors={"ids.0": ["Input should be a valid integer"]},
    )
    assert_problem(
        client.post("/api/notifications/read", {"ids": 5}),
        422,
        "invalid-input",
        errors={"ids": ["Input should be a valid list"]},
    )
