"""The issue's journey, through the API with personal tokens only: an organiser opens a challenge,
a person joins it, submits an idea with a custom field and an attachment, invites a teammate; a
second person comments and likes; the organiser advances the phase and the likes close."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opencall.core.audit import verify_chain
from tests.api.conftest import assert_problem, token_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_journey(organiser):
    olivia = token_client(organiser)
    alice = token_client(UserFactory(display_name="Alice", email="alice@example.org"))
    bob_user = UserFactory(display_name="Bob", email="bob@example.org")
    bob = token_client(bob_user)
    carol = token_client(UserFactory(display_name="Carol", email="carol@example.org"))

    created = olivia.post(
        "/api/challenges",
        {
            "organisation": "northwind",
            "title": "Parcel-free delivery",
            "summary": "Deliver without boxes.",
            "terms": "Entrants keep their IP.",
            "categories": ["Logistics"],
            "phases": [{"kind": "submission"}, {"kind": "community"}, {"kind": "review"}],
            "custom_fields": [
                {"key": "stage", "label": "Stage", "kind": "choice", "required": True, "choices": ["idea", "pilot"]}
            ],
        },
    )
    assert created.status_code == 201
    assert olivia.post("/api/challenges/parcel-free-delivery/advance").json()["phase"] == "submission"

    assert alice.post("/api/challenges/parcel-free-delivery/follow").json() == {"following": True}
    idea = alice.post(
        "/api/challenges/parcel-free-delivery/ideas",
        {
            "title": "Reusable bags",
            "summary": "Deposit bags returned at lockers.",
            "category": "Logistics",
            "answers": {"stage": "pilot"},
            "accept_terms": True,
        },
    ).json()
    assert (idea["status"], idea["answers"]) == ("draft", [{"key": "stage", "label": "Stage", "value": "pilot"}])
    files = alice.client.post(
        f"/api/ideas/{idea['id']}/attachments",
        {"files": [SimpleUploadedFile("deck.pdf", b"%PDF-1.7 deck")]},
        headers=alice.headers,
    )
    assert [f["name"] for f in files.json()["items"]] == ["deck.pdf"]
    assert alice.post(f"/api/ideas/{idea['id']}/submit").json()["status"] == "submitted"
    team = idea["team"]["id"]
    assert alice.post(f"/api/teams/{team}/invitations", {"email": "bob@example.org"}).status_code == 201
    invitation = bob.get("/api/me/team-invitations").json()["items"][0]
    assert bob.post(f"/api/team-invitations/{invitation['id']}/respond", {"accept": True}).json()["status"] == (
        "accepted"
    )
    assert [m["user"]["display_name"] for m in carol.get(f"/api/teams/{team}").json()["members"]] == ["Alice", "Bob"]

    assert carol.post(f"/api/ideas/{idea['id']}/comments", {"body": "Who pays the deposit?"}).status_code == 201
    assert_problem(carol.post(f"/api/ideas/{idea['id']}/like"), 409, "phase-closed")
    assert olivia.post("/api/challenges/parcel-free-delivery/advance").json()["phase"] == "community"
    assert carol.post(f"/api/ideas/{idea['id']}/like").json() == {"liked": True, "like_count": 1}
    assert olivia.post("/api/challenges/parcel-free-delivery/advance").json()["phase"] == "review"
    assert_problem(
        carol.post(f"/api/ideas/{idea['id']}/like"), 409, "phase-closed", detail="Voting is closed in the Review phase."
    )
    assert carol.get(f"/api/ideas/{idea['id']}/like").json() == {"liked": True, "like_count": 1}

    kinds = [n["kind"] for n in alice.get("/api/notifications").json()["items"]]
    assert sorted(kinds) == ["comment", "phase", "phase", "team"]
    assert bob.get("/api/notifications/unread-count").json() == {"unread": 4}
    assert sorted(n["kind"] for n in bob.get("/api/notifications").json()["items"]) == [
        "comment",
        "phase",
        "phase",
        "team_invite",
    ]
    assert verify_chain()[0] is True
