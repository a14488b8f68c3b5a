"""Reads for live votes, filtered to the viewer, relations preloaded."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.core.errors import NotFound, PermissionDenied
from opencall.core.models import AuditEvent
from opencall.ideas.models import Idea, IdeaStatus
from opencall.voting.models import LiveCount, LiveVote, RewardCode
from opencall.voting.permissions import can_create_live_vote, can_manage_live_vote, can_see_results, can_watch_live_vote
from opencall.voting.tokens import issue_token, read_token, signing_key

LIFECYCLE_VERBS = (
    "live_vote.created",
    "live_vote.opened",
    "live_vote.extended",
    "live_vote.closed",
    "live_vote.published",
)
FINALIST_STATUSES = (IdeaStatus.SUBMITTED, IdeaStatus.SHORTLISTED, IdeaStatus.FUNDED, IdeaStatus.AWARDED)


def device_key() -> bytes:
    return signing_key(str(settings.SECRET_KEY))


def live_vote_for(viewer: User, code: str, *, manage: bool = False) -> LiveVote:
    """One live vote with its challenge and finalists, or NotFound/PermissionDenied."""
    live_vote = (
        LiveVote.objects.select_related("challenge", "challenge__organisation")
        .prefetch_related("finalists")
        .filter(code=code)
        .first()
    )
    if live_vote is None or not can_watch_live_vote(viewer, live_vote):
        raise NotFound(_not_found())
    if manage and not can_manage_live_vote(viewer, live_vote):
        raise PermissionDenied(_("Only the challenge's organisers can run this live vote."))
    return live_vote


def live_votes_of(viewer: User, challenge: Challenge) -> QuerySet[LiveVote]:
    """The live votes an organiser runs on a challenge; PermissionDenied for anyone else."""
    if not can_create_live_vote(viewer, challenge):
        raise PermissionDenied(_("Only the challenge's organisers can run live votes."))
    return (
        LiveVote.objects.filter(challenge=challenge)
        .annotate(ballot_count=Count("ballots"))
        .prefetch_related("finalists")
        .order_by("-created_at")
    )


def finalist_candidates(viewer: User, challenge: Challenge) -> QuerySet[Idea]:
    """Ideas an organiser may put in a live vote: entered (submitted or further on), neither hidden nor
    confidential (the audience sees every finalist)."""
    if not can_create_live_vote(viewer, challenge):
        return Idea.objects.none()
    return Idea.objects.filter(
        challenge=challenge, status__in=FINALIST_STATUSES, hidden=False, confidential=False
    ).order_by("title", "id")


@dataclass(frozen=True)
class LiveStats:
    rows: list[tuple[Idea, int]]
    turnout: int
    accepted: int


def live_stats(viewer: User, live_vote: LiveVote) -> LiveStats:
    """Running counts (kept by the fast path in the ballots' own transactions)."""
    if not can_manage_live_vote(viewer, live_vote):
        raise PermissionDenied(_("Only the challenge's organisers can see live figures."))
    found = {c.idea_id: c for c in LiveCount.objects.filter(live_vote=live_vote)}
    rows = [(idea, found[idea.pk].votes if idea.pk in found else 0) for idea in live_vote.finalists.all()]
    return LiveStats(rows, sum(n for _, n in rows), sum(c.writes for c in found.values()))


@dataclass(frozen=True)
class RewardStats:
    total: int
    assigned: int
    redeemed: int


def reward_stats(viewer: User, live_vote: LiveVote) -> RewardStats:
    if not can_manage_live_vote(viewer, live_vote):
        return RewardStats(0, 0, 0)
    agg = RewardCode.objects.filter(live_vote=live_vote).aggregate(
        total=Count("id"),
        assigned=Count("id", filter=~Q(device="")),
        redeemed=Count("id", filter=Q(redeemed_at__isnull=False)),
    )
    return RewardStats(agg["total"], agg["assigned"], agg["redeemed"])


def rewards_available(live_vote: LiveVote) -> bool:
    """Whether the voter page offers a reward (codes are left to give out)."""
    return RewardCode.objects.filter(live_vote=live_vote, device="").exists()


def voter_token(viewer: User, live_vote: LiveVote, existing: str = "") -> str:
    """The device token for this viewer: the one the phone holds if still valid, else a new one."""
    key = device_key()
    user_id = viewer.pk if viewer.is_authenticated else None
    held = read_token(key, existing) if existing else None
    if (
        held is not None
        and held.live_vote_id == live_vote.pk
        and (not live_vote.sign_in_required or held.user_id == user_id)
    ):
        return existing
    if live_vote.sign_in_required:
        return issue_token(key, live_vote.pk, user_id=user_id)
    return issue_token(key, live_vote.pk)


@dataclass(frozen=True)
class ResultRow:
    idea: Idea
    votes: int
    share: float


def final_results(viewer: User, live_vote: LiveVote) -> list[ResultRow]:
    if not can_see_results(viewer, live_vote) or not live_vote.final_tally:
        return []
    ideas = {i.pk: i for i in live_vote.finalists.all()}
    turnout = int(live_vote.final_tally.get("turnout", 0)) or 1
    rows = []
    for idea_id, votes in live_vote.final_tally.get("standings", []):
        if idea_id in ideas:
            rows.append(ResultRow(ideas[idea_id], votes, votes / turnout))
    return rows


def audit_trail(viewer: User, live_vote: LiveVote) -> QuerySet[AuditEvent]:
    """The audit events of this live vote, published beside the final tally."""
    if not can_see_results(viewer, live_vote):
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(
        object_type="voting.livevote", object_id=str(live_vote.pk), verb__in=LIFECYCLE_VERBS
    ).order_by("seq")


def _not_found() -> str:
    return _("No such live vote.")
