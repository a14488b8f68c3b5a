"""Who may do what with a challenge. Phase rules come from `phases`; roles from the queries."""

from __future__ import annotations

from opencall.accounts.models import User
from opencall.challenges.models import Challenge, Visibility
from opencall.challenges.phases import Action, PhaseKind, allows
from opencall.challenges.queries import challenge_roles
from opencall.organisations.models import Role
from opencall.organisations.queries import member_org_ids, role_in


def is_organiser(user: User, challenge: Challenge) -> bool:
    return user.is_authenticated and (
        user.is_staff or role_in(user, challenge.organisation_id) in (Role.OWNER, Role.ORGANISER)
    )


def is_judge(user: User, challenge: Challenge) -> bool:
    return "judge" in challenge_roles(user).get(challenge.pk, set())


def is_moderator(user: User, challenge: Challenge) -> bool:
    return user.is_authenticated and (
        user.is_moderator or user.is_staff or "moderator" in challenge_roles(user).get(challenge.pk, set())
        or is_organiser(user, challenge)
    )


def _sponsor_or_invited(user: User, challenge: Challenge) -> bool:
    orgs = member_org_ids(user)
    if challenge.organisation_id in orgs:
        return True
    sponsor_ids = {o.pk for o in challenge.sponsors.all()}
    if orgs & sponsor_ids:
        return True
    if challenge.visibility == Visibility.INVITE_ONLY:
        if orgs & {o.pk for o in challenge.invited_organisations.all()}:
            return True
        return challenge.invited_users.filter(pk=user.pk).exists()
    return False


def has_challenge_role(user: User, challenge: Challenge) -> bool:
    """Judge or moderator of this challenge (named people see it whatever its visibility)."""
    return bool(challenge_roles(user).get(challenge.pk))


def can_view_challenge(user: User, challenge: Challenge) -> bool:
    if is_organiser(user, challenge) or has_challenge_role(user, challenge):
        return True
    if challenge.phase == PhaseKind.DRAFT:
        return False
    if challenge.visibility == Visibility.PUBLIC:
        return True
    return user.is_authenticated and _sponsor_or_invited(user, challenge)


def viewers_among(challenge: Challenge, user_ids: set[int]) -> set[int]:
    """Those of `user_ids` who may see the challenge (notifications name it, so they go to no one else)."""
    if challenge.visibility == Visibility.PUBLIC and challenge.phase != PhaseKind.DRAFT:
        return set(user_ids)
    return {u.pk for u in User.objects.filter(pk__in=user_ids) if can_view_challenge(u, challenge)}


def can_participate(user: User, challenge: Challenge) -> bool:
    """Signed in, not blocked, and able to see the challenge."""
    return user.is_authenticated and not user.is_blocked and can_view_challenge(user, challenge)


def can_submit_idea(user: User, challenge: Challenge) -> bool:
    return can_participate(user, challenge) and allows(challenge.phase, Action.SUBMIT)


def can_comment(user: User, challenge: Challenge) -> bool:
    return can_participate(user, challenge) and allows(challenge.phase, Action.COMMENT)


def can_vote(user: User, challenge: Challenge) -> bool:
    return can_participate(user, challenge) and allows(challenge.phase, Action.VOTE)


def can_edit_challenge(user: User, challenge: Challenge) -> bool:
    return is_organiser(user, challenge)


def can_advance_phase(user: User, challenge: Challenge) -> bool:
    return is_organiser(user, challenge) and challenge.phase != PhaseKind.CLOSED
