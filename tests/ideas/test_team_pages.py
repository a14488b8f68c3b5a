"""Team pages: invitations, join requests, leaving, positions and the 'teams looking' page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opencall.accounts.models import Notification
from opencall.ideas.models import JoinRequest, Position, RequestStatus, TeamInvitation, TeamMember
from tests.factories import IdeaFactory, UserFactory

pytestmark = pytest.mark.django_db


def _members(team) -> list[tuple[str, str]]:
    return list(TeamMember.objects.filter(team=team).order_by("created_at").values_list("user__display_name", "role"))


def test_team_page_for_lead_shows_management(idea, as_user, team_member):
    html = as_user(team_member).get(reverse("ideas:team", args=[idea.team.pk])).content.decode()
    assert idea.team.name in html
    assert 'data-testid="invite-form"' in html
    assert 'data-testid="position-form"' in html
    assert 'data-testid="join-form"' not in html


def test_team_page_for_a_participant_offers_to_join(idea, as_user, participant):
    html = as_user(participant).get(reverse("ideas:team", args=[idea.team.pk])).content.decode()
    assert "Tariq Team" in html
    assert 'data-testid="join-form"' in html
    assert 'data-testid="invite-form"' not in html


def test_invite_by_email_then_accept(idea, as_user, team_member, participant):
    response = as_user(team_member).post(
        reverse("ideas:team_invite", args=[idea.team.pk]), {"email": "PAULA@example.org"}
    )
    assert response.status_code == 302
    invitation = TeamInvitation.objects.get()
    assert (invitation.user, invitation.status) == (participant, RequestStatus.PENDING)
    assert Notification.objects.filter(recipient=participant, kind="team_invite").count() == 1
    lead_view = as_user(team_member).get(reverse("ideas:team", args=[idea.team.pk])).content.decode()
    assert 'data-testid="pending-invitations"><li>Paula Participant' in lead_view
    page = as_user(participant).get(reverse("ideas:team", args=[idea.team.pk])).content.decode()
    assert 'data-testid="my-invitation"' in page
    dash = as_user(participant).get(reverse("ideas:dashboard")).content.decode()
    assert 'data-testid="dashboard-invitations"' in dash
    as_user(participant).post(reverse("ideas:invitation_respond", args=[invitation.pk]), {"accept": "1"})
    assert _members(idea.team) == [("Tariq Team", "lead"), ("Paula Participant", "member")]


def test_invitee_can_answer_even_when_the_idea_is_a_draft(idea, as_user, team_member, participant):
    idea.status = "draft"
    idea.save()
    as_user(team_member).post(reverse("ideas:team_invite", args=[idea.team.pk]), {"email": participant.email})
    html = as_user(participant).get(reverse("ideas:team", args=[idea.team.pk])).content.decode()
    assert "invited you to join this team" in html
    invitation = TeamInvitation.objects.get()
    as_user(participant).post(reverse("ideas:invitation_respond", args=[invitation.pk]), {"accept": "0"})
    invitation.refresh_from_db()
    assert invitation.status == RequestStatus.DECLINED
    assert as_user(participant).get(reverse("ideas:team", args=[idea.team.pk])).status_code == 404


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "This field is required."),
        ("not-an-email", "Enter a valid email address."),
        ("nobody@example.org", "No one has an account with that verified email address yet."),
        ("tariq@example.org", "Tariq Team is already in the team."),
    ],
)
def test_invite_errors_are_shown_on_the_form(idea, as_user, team_member, email, message):
    response = as_user(team_member).post(reverse("ideas:team_invite", args=[idea.team.pk]), {"email": email})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert TeamInvitation.objects.count() == 0


def test_second_invitation_is_a_clear_error(idea, as_user, team_member, participant):
    url = reverse("ideas:team_invite", args=[idea.team.pk])
    as_user(team_member).post(url, {"email": participant.email})
    again = as_user(team_member).post(url, {"email": participant.email})
    assert again.status_code == 422
    assert "Paula Participant already has a pending invitation." in again.content.decode()
    assert TeamInvitation.objects.count() == 1


def test_only_the_lead_invites(idea, as_user, participant):
    response = as_user(participant).post(
        reverse("ideas:team_invite", args=[idea.team.pk]), {"email": "tariq@example.org"}
    )
    assert response.status_code == 403
    assert TeamInvitation.objects.count() == 0


def test_join_request_accepted_by_lead(idea, as_user, team_member, participant):
    as_user(participant).post(reverse("ideas:team_join", args=[idea.team.pk]), {"message": "I know foam"})
    request = JoinRequest.objects.get()
    assert (request.user, request.message, request.status) == (participant, "I know foam", RequestStatus.PENDING)
    mine = as_user(participant).get(reverse("ideas:team", args=[idea.team.pk])).content.decode()
    assert 'data-testid="my-join-request"' in mine
    lead = as_user(team_member).get(reverse("ideas:team", args=[idea.team.pk])).content.decode()
    assert "“I know foam”" in lead
    # Someone else cannot answer it.
    assert (
        as_user(participant).post(reverse("ideas:join_request_respond", args=[request.pk]), {"accept": "1"}).status_code
        == 404
    )
    as_user(team_member).post(reverse("ideas:join_request_respond", args=[request.pk]), {"accept": "1"})
    assert _members(idea.team) == [("Tariq Team", "lead"), ("Paula Participant", "member")]


def test_join_request_message_too_long(idea, as_user, participant):
    response = as_user(participant).post(reverse("ideas:team_join", args=[idea.team.pk]), {"message": "m" * 501})
    assert response.status_code == 422
    assert "Ensure this value has at most 500 characters (it has 501)." in response.content.decode()
    assert JoinRequest.objects.count() == 0


def test_leave_team_passes_the_lead_on(idea, as_user, team_member, participant):
    TeamMember.objects.create(team=idea.team, user=participant, role="member")
    response = as_user(team_member).post(reverse("ideas:team_leave", args=[idea.team.pk]))
    assert response["Location"] == reverse("ideas:dashboard")
    assert _members(idea.team) == [("Paula Participant", "lead")]


def test_last_member_cannot_leave(idea, as_user, team_member):
    response = as_user(team_member).post(reverse("ideas:team_leave", args=[idea.team.pk]), follow=True)
    assert "The last member cannot leave; withdraw the idea instead." in response.content.decode()
    assert _members(idea.team) == [("Tariq Team", "lead")]


def test_positions_added_closed_and_listed_by_skill(idea, as_user, team_member, participant):
    as_user(team_member).post(
        reverse("ideas:position_create", args=[idea.team.pk]),
        {"title": "Materials scientist", "description": "Grow foam", "skills": "Biology, chemistry"},
    )
    as_user(team_member).post(
        reverse("ideas:position_create", args=[idea.team.pk]), {"title": "Sales lead", "skills": "sales"}
    )
    position = Position.objects.get(title="Materials scientist")
    assert sorted(position.skills.values_list("name", flat=True)) == ["biology", "chemistry"]
    html = as_user(participant).get(reverse("ideas:positions"), {"skill": "Biology"}).content.decode()
    assert "Materials scientist" in html and "Sales lead" not in html
    assert "1 open position" in html
    as_user(team_member).post(reverse("ideas:position_close", args=[position.pk]))
    html = as_user(participant).get(reverse("ideas:positions")).content.decode()
    assert "Materials scientist" not in html and "Sales lead" in html


def test_position_errors_and_permission(idea, as_user, team_member, participant):
    bad = as_user(team_member).post(reverse("ideas:position_create", args=[idea.team.pk]), {"title": "t" * 121})
    assert bad.status_code == 422
    assert "Ensure this value has at most 120 characters (it has 121)." in bad.content.decode()
    denied = as_user(participant).post(reverse("ideas:position_create", args=[idea.team.pk]), {"title": "Boss"})
    assert denied.status_code == 403
    assert Position.objects.count() == 0


@pytest.mark.parametrize("rows", [1, 3])
def test_positions_page_query_count(challenge, as_user, participant, rows, django_assert_num_queries):
    from opencall.accounts.actions import normalise_skills

    skills = normalise_skills(["python", "design"])
    for i in range(rows):
        team = IdeaFactory(challenge=challenge, lead=UserFactory()).team
        position = Position.objects.create(team=team, title=f"Role {i}")
        position.skills.set(skills)
    client = as_user(participant)
    client.get(reverse("ideas:positions"))
    with django_assert_num_queries(9):
        html = client.get(reverse("ideas:positions")).content.decode()
    assert html.count('data-testid="position"') == rows
