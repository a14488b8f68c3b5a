"""Who may see and change ideas and teams. Phase rules come from challenges.phases only."""

from __future__ import annotations

from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.challenges.permissions import (
    can_participate,
    can_submit_idea,
    can_view_challenge,
    is_judge,
    is_moderator,
    is_organiser,
)
from opencall.challenges.permissions import viewers_among as challenge_viewers
from opencall.challenges.phases import LABELS, Action, PhaseKind, allows
from opencall.core.errors import DomainError, PermissionDenied, PhaseClosed
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


# Why not: the one answer an action and the page showing its form give to a refused person -------


def refusal(by: User, challenge: Challenge, action: Action, *, closed: str, denied: str,
            entitled: bool = True) -> DomainError:
    """Why an entitled person may not act: the phase (409 PhaseClosed), else their rights (403)."""
    if entitled and can_participate(by, challenge) and not allows(challenge.phase, action):
        return PhaseClosed(_("%(what)s in the %(phase)s phase.")
                           % {"what": closed, "phase": LABELS[PhaseKind(challenge.phase)]})
    return PermissionDenied(denied)


def refusal_to_create(by: User, challenge: Challenge) -> DomainError | None:
    """None if the person may put a new idea to the challenge, else the error that says why not."""
    if can_submit_idea(by, challenge):
        return None
    return refusal(by, challenge, Action.SUBMIT, closed=_("New ideas are not accepted"),
                   denied=_("You cannot submit ideas to this challenge."))


def refusal_to_edit(by: User, idea: Idea, *, files: bool = False) -> DomainError | None:
    """None if the person may edit the idea (or add `files` to it), else the error that says why not."""
    if can_edit_idea(by, idea):
        return None
    action = Action.SUBMIT if idea.status == IdeaStatus.DRAFT else Action.EDIT
    denied = (_("Only the idea's team can add files while it is a draft or submitted.") if files
              else _("Only the idea's team can edit it while it is a draft or submitted."))
    entitled = is_team_member(by, idea.team) and idea.status in (IdeaStatus.DRAFT, IdeaStatus.SUBMITTED)
    return refusal(by, idea.challenge, action, closed=_("Ideas cannot be edited"), denied=denied, entitled=entitled)
