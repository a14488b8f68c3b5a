"""Who may see and change ideas and teams. Phase rules come from challenges.phases only."""

from __future__ import annotations

from opencall.accounts.models import User
from opencall.challenges.permissions import can_participate, can_view_challenge, is_judge, is_moderator, is_organiser
from opencall.challenges.permissions import viewers_among as challenge_viewers
from opencall.challenges.phases import Action, allows
from opencall.ideas.models import Idea, IdeaStatus, Team, TeamMember
from opencall.ideas.queries import my_team_ids


def is_team_member(user: User, team: Team) -> bool:
    return team.pk in my_team_ids(user)


def is_team_lead(user: User, team: Team) -> bool:
    return user.is_authenticated and TeamMember.objects.filter(team=team, user=user, role=TeamMember.Role.LEAD).exists()


def can_view_idea(user: User, idea: Idea) -> bool:
    if is_team_member(user, idea.team):
        return True
    challenge = idea.challenge
    if not can_view_challenge(user, challenge) or idea.status == IdeaStatus.DRAFT:
        return False
    if idea.hidden and not (is_organiser(user, challenge) or is_moderator(user, challenge)):
        return False
    if idea.confidential:
        return is_organiser(user, challenge) or is_judge(user, challenge)
    return True


def viewers_among(idea: Idea, user_ids: set[int]) -> set[int]:
    """Those of `user_ids` who may see the idea: notifications quote its title, so only they get one."""
    if not (idea.confidential or idea.hidden or idea.status == IdeaStatus.DRAFT):
        return challenge_viewers(idea.challenge, user_ids)
    return {u.pk for u in User.objects.filter(pk__in=user_ids) if can_view_idea(u, idea)}


def can_view_history(user: User, idea: Idea) -> bool:
    return is_team_member(user, idea.team) or is_organiser(user, idea.challenge)


def can_edit_idea(user: User, idea: Idea) -> bool:
    if not (is_team_member(user, idea.team) and can_participate(user, idea.challenge)):
        return False
    if idea.status == IdeaStatus.DRAFT:
        return allows(idea.challenge.phase, Action.SUBMIT)
    return idea.status == IdeaStatus.SUBMITTED and allows(idea.challenge.phase, Action.EDIT)


def can_submit(user: User, idea: Idea) -> bool:
    return (idea.status == IdeaStatus.DRAFT and is_team_member(user, idea.team)
            and can_participate(user, idea.challenge) and allows(idea.challenge.phase, Action.SUBMIT))


def can_withdraw(user: User, idea: Idea) -> bool:
    return is_team_member(user, idea.team) and idea.status in (
        IdeaStatus.DRAFT, IdeaStatus.SUBMITTED, IdeaStatus.SHORTLISTED)


def can_decide_status(user: User, idea: Idea) -> bool:
    return is_organiser(user, idea.challenge)


def can_view_team(user: User, team: Team) -> bool:
    idea = getattr(team, "idea", None)
    if idea is None:
        return is_team_member(user, team) or is_organiser(user, team.challenge)
    return can_view_idea(user, idea)


def can_manage_team(user: User, team: Team) -> bool:
    return is_team_lead(user, team)


def can_request_to_join(user: User, team: Team) -> bool:
    return can_participate(user, team.challenge) and not is_team_member(user, team) and can_view_team(user, team)
