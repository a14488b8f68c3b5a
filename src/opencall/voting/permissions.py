"""Who may run, watch and vote in a live vote."""

from __future__ import annotations

from opencall.accounts.models import User
from opencall.challenges.models import Challenge, Visibility
from opencall.challenges.permissions import can_participate, can_view_challenge, is_organiser
from opencall.challenges.phases import PhaseKind
from opencall.voting.models import LiveState, LiveVote


def _open_audience(live_vote: LiveVote) -> bool:
    """Anyone with the link may watch and vote: only for public challenges (internal and invite-only
    ones, and everything inside them, stay with the people entitled to see them)."""
    challenge = live_vote.challenge
    return (
        not live_vote.sign_in_required
        and challenge.visibility == Visibility.PUBLIC
        and challenge.phase != PhaseKind.DRAFT
    )


def can_create_live_vote(user: User, challenge: Challenge) -> bool:
    return is_organiser(user, challenge)


def can_manage_live_vote(user: User, live_vote: LiveVote) -> bool:
    return is_organiser(user, live_vote.challenge)


def can_watch_live_vote(user: User, live_vote: LiveVote) -> bool:
    """The projector and the voter page: anyone with the link for an open-audience vote."""
    if can_manage_live_vote(user, live_vote):
        return True
    if live_vote.state == LiveState.DRAFT:
        return False
    if not _open_audience(live_vote):
        return can_view_challenge(user, live_vote.challenge)
    # An open-audience vote: the short link shown on stage is the invitation.
    return True


def can_vote_live(user: User, live_vote: LiveVote) -> bool:
    """May get a device token. The window itself is checked by the fast path when the vote lands."""
    if live_vote.state == LiveState.DRAFT:
        return False
    if not _open_audience(live_vote):
        return can_participate(user, live_vote.challenge)
    return not (user.is_authenticated and user.is_blocked)


def can_see_results(user: User, live_vote: LiveVote) -> bool:
    if can_manage_live_vote(user, live_vote):
        return True
    return live_vote.state == LiveState.PUBLISHED and can_watch_live_vote(user, live_vote)
