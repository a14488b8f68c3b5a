"""Teams through the API: detail, invitations, join requests, leaving and open positions."""

from __future__ import annotations

import pytest

from opencall.ideas.models import JoinRequest, Position, TeamInvitation, TeamMember
from tests.api.conftest import assert_problem, iso
from tests.factories import IdeaFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_team_detail_exactly(api, idea, team_member, participant):
    position = Position.objects.create(team=idea.team, title="Designer", description="Packaging design")
    request = JoinRequest.objects.create(team=idea.team, user=participant, message="I can help")
    expected = {
        "id": idea.team_id,
        "name": idea.team.name,
        "description": "",
        "challenge": "green-packaging",
        "idea": idea.pk,
        "members": [{"user": {"id": team_member.pk, "display_name": "Tariq Team"}, "role": "lead"}],
        "positions": [
            {
                "id": position.pk,
                "title": "Designer",
                "description": "Packaging design",
                "skills": [],
                "is_open": True,
                "created_at": iso(position.created_at),
            }
        ],
        "join_requests": [],
    }
    assert api().get(f"/api/teams/{idea.team_id}").json() == expected
    assert api(team_member).get(f"/api/teams/{idea.team_id}").json() == expected | {
        "join_requests": [
            {
                "id": request.pk,
                "team": {"id": idea.team_id, "name": idea.team.name},
                "user": {"id": participant.pk, "display_name": "Paula Participant"},
                "message": "I can help",
                "status": "pending",
                "created_at": iso(request.created_at),
            }
        ]
    }


def test_team_of_a_confidential_idea_is_404_to_others(api, challenge, participant):
    secret = IdeaFactory(challenge=challenge, confidential=True)
    assert_problem(
        api(participant).get(f"/api/teams/{secret.team_id}"),
        404,
        "not-found",
        detail="No such team, or it is not visible to you.",
    )


def test_invite_by_id_or_email_and_answer(api, idea, team_member, participant):
    lead = api(team_member)
    response = lead.post(f"/api/teams/{idea.team_id}/invitations", {"user_id": participant.pk})
    assert response.status_code == 201
    invitation = TeamInvitation.objects.get()
    assert response.json() == {
        "id": invitation.pk,
        "team": {"id": idea.team_id, "name": idea.team.name},
        "user": {"id": participant.pk, "display_name": "Paula Participant"},
        "invited_by": {"id": team_member.pk, "display_name": "Tariq Team"},
        "status": "pending",
        "created_at": iso(invitation.created_at),
    }
    assert_problem(
        lead.post(f"/api/teams/{idea.team_id}/invitations", {"email": "PAULA@example.org"}),
        409,
        "conflict",
        detail="Paula Participant already has a pending invitation.",
    )

    mine = api(participant).get("/api/me/team-invitations").json()
    assert mine == {
        "count": 1,
        "limit": 20,
        "offset": 0,
        "items": [
            {
                "id": invitation.pk,
                "team": {"id": idea.team_id, "name": idea.team.name},
                "idea": idea.pk,
                "invited_by": {"id": team_member.pk, "display_name": "Tariq Team"},
                "status": "pending",
                "created_at": iso(invitation.created_at),
            }
        ],
    }
    answer = api(participant).post(f"/api/team-invitations/{invitation.pk}/respond", {"accept": True}).json()
    assert answer["status"] == "accepted"
    assert TeamMember.objects.filter(team=idea.team, user=participant, role="member").exists()
    assert_problem(
        api(participant).post(f"/api/team-invitations/{invitation.pk}/respond", {"accept": False}),
        409,
        "conflict",
        detail="This invitation was already answered.",
    )
    assert_problem(
        lead.post(f"/api/teams/{idea.team_id}/invitations", {"user_id": participant.pk}),
        409,
        "conflict",
        detail="Paula Participant is already in the team.",
    )


def test_invite_bad_input_and_refusals(api, idea, team_member, participant, outsider):
    url = f"/api/teams/{idea.team_id}/invitations"
    lead = api(team_member)
    assert_problem(lead.post(url, {}), 422, "invalid-input", errors={"user_id": ["Give either user_id or email."]})
    assert_problem(lead.post(url, {"user_id": 1, "email": "a@b.c"}), 422, "invalid-input")
    assert_problem(
        lead.post(url, {"user_id": 999999}),
        422,
        "invalid-input",
        errors={"user_id": ["No active account has this id."]},
    )
    assert_problem(
        lead.post(url, {"email": "nobody@example.org"}),
        422,
        "invalid-input",
        errors={"email": ["No one has an account with that verified email address yet."]},
    )
    assert_problem(lead.post(url, {"user_id": "Paula"}), 422, "invalid-input")
    assert_problem(
        api(participant).post(url, {"user_id": outsider.pk}),
        403,
        "permission-denied",
        detail="Only the team lead invites members.",
    )
    assert TeamInvitation.objects.count() == 0


def test_someone_elses_invitation_is_404(api, idea, team_member, participant, outsider):
    invitation = TeamInvitation.objects.create(team=idea.team, user=participant, invited_by=team_member)
    assert_problem(
        api(outsider).post(f"/api/team-invitations/{invitation.pk}/respond", {"accept": True}),
        404,
        "not-found",
        detail="No such invitation for you.",
    )
    assert_problem(
        api(participant).post(f"/api/team-invitations/{invitation.pk}/respond", {}),
        422,
        "invalid-input",
        errors={"accept": ["This field is required."]},
    )


def test_join_request_and_answer(api, idea, team_member, participant, outsider):
    response = api(participant).post(f"/api/teams/{idea.team_id}/join-requests", {"message": "Hire me"})
    assert response.status_code == 201
    request = JoinRequest.objects.get()
    assert response.json() == {
        "id": request.pk,
        "team": {"id": idea.team_id, "name": idea.team.name},
        "user": {"id": participant.pk, "display_name": "Paula Participant"},
        "message": "Hire me",
        "status": "pending",
        "created_at": iso(request.created_at),
    }
    assert_problem(
        api(participant).post(f"/api/teams/{idea.team_id}/join-requests", {}),
        409,
        "conflict",
        detail="You already asked to join this team.",
    )
    assert_problem(
        api(outsider).post(f"/api/teams/{idea.team_id}/join-requests", {"message": "x" * 501}),
        422,
        "invalid-input",
        errors={"message": ["String should have at most 500 characters"]},
    )
    assert_problem(
        api(team_member).post(f"/api/teams/{idea.team_id}/join-requests", {}),
        403,
        "permission-denied",
        detail="You cannot ask to join this team.",
    )
    assert_problem(
        api(outsider).post(f"/api/join-requests/{request.pk}/respond", {"accept": True}),
        404,
        "not-found",
        detail="No such join request to a team of yours.",
    )
    body = api(team_member).post(f"/api/join-requests/{request.pk}/respond", {"accept": True}).json()
    assert body["status"] == "accepted"
    assert TeamMember.objects.filter(team=idea.team, user=participant).exists()


def test_leave_team(api, idea, team_member, participant):
    assert_problem(
        api(team_member).post(f"/api/teams/{idea.team_id}/leave"),
        409,
        "conflict",
        detail="The last member cannot leave; withdraw the idea instead.",
    )
    TeamMember.objects.create(team=idea.team, user=participant, role="member")
    response = api(team_member).post(f"/api/teams/{idea.team_id}/leave")
    assert (response.status_code, response.content) == (204, b"")
    assert list(TeamMember.objects.filter(team=idea.team).values_list("user_id", "role")) == [(participant.pk, "lead")]
    assert_problem(
        api(UserFactory()).post(f"/api/teams/{idea.team_id}/leave"), 409, "conflict", detail="You are not in this team."
    )


def test_positions_open_close_and_search(api, challenge, idea, team_member, participant):
    response = api(team_member).post(
        f"/api/teams/{idea.team_id}/positions",
        {"title": "Chemist", "description": "Bio-polymers", "skills": ["Chemistry", "Biology"]},
    )
    assert response.status_code == 201
    position = Position.objects.get()
    assert response.json() == {
        "id": position.pk,
        "title": "Chemist",
        "description": "Bio-polymers",
        "skills": ["biology", "chemistry"],
        "is_open": True,
        "created_at": iso(position.created_at),
    }
    secret = IdeaFactory(challenge=challenge, confidential=True, lead=team_member)
    Position.objects.create(team=secret.team, title="Hidden role")
    listed = api().get("/api/positions", {"skill": "Chemistry"}).json()
    assert listed == {
        "count": 1,
        "limit": 20,
        "offset": 0,
        "items": [
            {
                "id": position.pk,
                "title": "Chemist",
                "description": "Bio-polymers",
                "skills": ["biology", "chemistry"],
                "is_open": True,
                "created_at": iso(position.created_at),
                "team": {"id": idea.team_id, "name": idea.team.name},
                "idea": idea.pk,
                "idea_title": "Mushroom foam",
                "challenge": "green-packaging",
            }
        ],
    }
    assert api().get("/api/positions", {"skill": "law"}).json()["count"] == 0
    assert_problem(
        api(participant).post(f"/api/teams/{idea.team_id}/positions", {"title": "Boss"}),
        403,
        "permission-denied",
        detail="Only the team lead posts positions.",
    )
    assert_problem(
        api(team_member).post(f"/api/teams/{idea.team_id}/positions", {"title": ""}),
        422,
        "invalid-input",
        errors={"title": ["String should have at least 1 character"]},
    )
    assert_problem(
        api(team_member).post(f"/api/teams/{idea.team_id}/positions", {"title": "A", "skills": ["x" * 61]}),
        422,
        "invalid-input",
        errors={"skills.0": ["String should have at most 60 characters"]},
    )
    assert_problem(
        api(participant).post(f"/api/positions/{position.pk}/close"),
        403,
        "permission-denied",
        detail="Only the team lead closes positions.",
    )
    assert api(team_member).post(f"/api/positions/{position.pk}/close").json()["is_open"] is False
    assert api().get("/api/positions").json()["count"] == 0


def test_positions_of_draft_ideas_are_not_listed(api, challenge, team_member):
    draft = IdeaFactory(challenge=challenge, title="Stealth plan", status="draft", submitted_at=None, lead=team_member)
    Position.objects.create(team=draft.team, title="Co-founder")
    assert api().get("/api/positions").json()["count"] == 0
    assert api(team_member).get(f"/api/teams/{draft.team_id}").json()["positions"][0]["title"] == "Co-founder"
