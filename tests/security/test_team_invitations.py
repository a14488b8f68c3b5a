"""Found in the issue-14 review: inviting to a team told anyone who could see the team whether an
address (or an account id) belongs to someone — 422 "no account" against 403 "not the lead". The right
to invite is now checked before anything about the invitee is looked up."""

from __future__ import annotations

import pytest

from tests.api.conftest import session_client
from tests.factories import IdeaFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(challenge, team_member):
    return IdeaFactory(challenge=challenge, lead=team_member).team


@pytest.mark.parametrize("invitee", [
    {"email": "somebody@example.org"},  # a verified account
    {"email": "nobody@example.org"},  # no account
    {"user_id": "existing"},
    {"user_id": 987654},  # no account
])
def test_someone_who_is_not_the_lead_learns_nothing_about_the_invitee(team, participant, invitee):
    someone = UserFactory(email="somebody@example.org")
    if invitee.get("user_id") == "existing":
        invitee = {"user_id": someone.pk}
    response = session_client(participant).post(f"/api/teams/{team.pk}/invitations", invitee)
    body = response.json()
    assert (response.status_code, body["type"].rsplit("/", 1)[-1], body["detail"]) == (
        403, "permission-denied", "Only the team lead invites members.")
    assert team.invitations.count() == 0
