from __future__ import annotations

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.challenges.permissions import can_vote, is_judge, is_organiser
from opencall.challenges.phases import Action, allows
from opencall.review.models import ReviewAssignment, ReviewRound


def can_manage_review(user: User, challenge: Challenge) -> bool:
    return is_organiser(user, challenge)


def can_write_review(user: User, assignment: ReviewAssignment) -> bool:
    rnd = assignment.round
    return (assignment.judge_id == user.pk and is_judge(user, rnd.challenge) and not user.is_blocked
            and rnd.state == ReviewRound.State.OPEN and allows(rnd.challenge.phase, Action.REVIEW))


def can_declare_conflict(user: User, challenge: Challenge) -> bool:
    return is_judge(user, challenge) or is_organiser(user, challenge)


def sees_team_names(user: User, rnd: ReviewRound) -> bool:
    """Blind rounds hide who is behind an idea from judges (organisers still see it)."""
    return not rnd.blind or is_organiser(user, rnd.challenge)


def can_compare(user: User, challenge: Challenge, enabled: bool) -> bool:
    """Crowd pairwise voting: when the organiser enabled it and the phase allows voting."""
    return enabled and can_vote(user, challenge)
