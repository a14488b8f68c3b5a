from __future__ import annotations

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.challenges.permissions import can_participate, can_view_challenge, is_organiser
from opencall.challenges.phases import Action, allows
from opencall.funding.models import Allocation


def can_cast_ballot(user: User, challenge: Challenge) -> bool:
    return can_participate(user, challenge) and allows(challenge.phase, Action.FUND)


def can_run_allocation(user: User, challenge: Challenge) -> bool:
    return is_organiser(user, challenge)


def can_view_allocation(user: User, allocation: Allocation) -> bool:
    if is_organiser(user, allocation.challenge):
        return True
    return allocation.published_at is not None and can_view_challenge(user, allocation.challenge)
