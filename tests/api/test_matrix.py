"""Phase × role matrices for the API's writes that depend on the phase: like, comment, submit an idea."""

from __future__ import annotations

import pytest

from tests.api.conftest import session_client

pytestmark = pytest.mark.django_db

ROLES = ["visitor", "participant", "team_member", "organiser", "judge", "moderator", "outsider", "employee"]
PHASES = ["submission", "community", "review", "closed"]


def person(request, role):
    return None if role == "visitor" else request.getfixturevalue(role)


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("role", ROLES)
def test_like(request, role, phase, challenge, idea):
    challenge.phase = phase
    challenge.save()
    response = session_client(person(request, role)).post(f"/api/ideas/{idea.pk}/like")
    expected = 401 if role == "visitor" else 200 if phase == "community" else 409
    assert response.status_code == expected
    if expected == 200:
        assert response.json() == {"liked": True, "like_count": 1}
    else:
        assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("role", ROLES)
def test_comment(request, role, phase, challenge, idea):
    challenge.phase = phase
    challenge.save()
    response = session_client(person(request, role)).post(f"/api/ideas/{idea.pk}/comments", {"body": "Hi"})
    expected = 401 if role == "visitor" else 409 if phase == "closed" else 201
    assert response.status_code == expected
    if expected == 201:
        assert response.json()["body_html"] == "<p>Hi</p>\n"


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("role", ROLES)
def test_submit_idea(request, role, phase, challenge):
    challenge.phase = phase
    challenge.save()
    response = session_client(person(request, role)).post(
        "/api/challenges/green-packaging/ideas", {"title": "T", "summary": "S", "submit": True}
    )
    expected = 401 if role == "visitor" else 201 if phase == "submission" else 409
    assert response.status_code == expected
    if expected == 201:
        assert response.json()["status"] == "submitted"


@pytest.mark.parametrize("role", ROLES)
def test_internal_challenge_by_role(request, role, challenge, idea):
    challenge.visibility = "internal"
    challenge.save()
    response = session_client(person(request, role)).get(f"/api/ideas/{idea.pk}")
    entitled = role in ("organiser", "employee", "judge", "moderator", "team_member")
    assert response.status_code == (200 if entitled else 404)
    listing = session_client(person(request, role)).get("/api/challenges")
    assert [c["slug"] for c in listing.json()["items"]] == (
        ["green-packaging"] if entitled and role != "team_member" else []
    )
