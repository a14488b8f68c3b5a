"""Reads for live votes, filtered to the viewer, relations preloaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.core.errors import NotFound, PermissionDenied
from opencall.core.models import AuditEvent
from opencall.ideas.models import Idea, IdeaStatus
from opencall.voting.models import LiveBallot, LiveVote, RewardCode
from opencall.voting.permissions import can_create_live_vote, can_manage_live_vote, can_see_results, can_watch_live_vote
from opencall.voting.tokens import issue_token, read_token, signing_key

FINALIST_STATUSES = (IdeaStatus.SUBMITTED, IdeaStatus.SHORTLISTED, IdeaStatus.FUNDED, IdeaStatus.AWARDED)


def device_key() -> bytes:
    return signing_key(str(settings.SECRET_KEY))


def live_vote_for(viewer: User, code: str, *, manage: bool = False) -> LiveVote:
    """One live vote with its challenge and finalists, or NotFound/PermissionDenied."""
    live_vote = (LiveVote.objects.select_related("challenge", "challenge__organisation")
                 .prefetch_related("finalists").filter(code=code).first())
    if live_vote is None or not can_watch_live_vote(viewer, live_vote):
        raise NotFound(_not_found())
    if manage and not can_manage_live_vote(viewer, live_vote):
        raise PermissionDenied(str(_("Only the challenge's organisers can run this live vote.")))
    return live_vote


def live_votes_of(viewer: User, challenge: Challenge) -> QuerySet[LiveVote]:
    """The live votes an organiser runs on a challenge (none for anyone else)."""
    if not can_create_live_vote(viewer, challenge):
        return LiveVote.objects.none()
    return (LiveVote.objects.filter(challenge=challenge).annotate(ballot_count=Count("ballots"))
            .prefetch_related("finalists").order_by("-created_at"))


def finalist_candidates(viewer: User, challenge: Challenge) -> QuerySet[Idea]:
    """Ideas an organiser may put in a live vote: entered (submitted or further on), not hidden."""
    if not can_create_live_vote(viewer, challenge):
        return Idea.objects.none()
    return Idea.objects.filter(challenge=challenge, status__in=FINALIST_STATUSES, hidden=False).order_by("title", "id")


@dataclass(frozen=True)
class LiveStats:
    counts: dict[int, int]
    turnout: int
    votes_per_second: float


def live_stats(viewer: User, live_vote: LiveVote, window_seconds: int = 10) -> LiveStats:
    if not can_manage_live_vote(viewer, live_vote):
        raise PermissionDenied(str(_("Only the challenge's organisers can see live figures.")))
    rows = LiveBallot.objects.filter(live_vote=live_vote).values("idea_id").annotate(n=Count("id"))
    counts = {f.pk: 0 for f in live_vote.finalists.all()}
    for row in rows:
        counts[row["idea_id"]] = row["n"]
    since = timezone.now() - timedelta(seconds=window_seconds)
    recent = LiveBallot.objects.filter(live_vote=live_vote, updated_at__gte=since).count()
    return LiveStats(counts, sum(counts.values()), recent / window_seconds)


@dataclass(frozen=True)
class RewardStats:
    total: int
    assigned: int
    redeemed: int


def reward_stats(viewer: User, live_vote: LiveVote) -> RewardStats:
    if not can_manage_live_vote(viewer, live_vote):
        return RewardStats(0, 0, 0)
    agg = RewardCode.objects.filter(live_vote=live_vote).aggregate(
        total=Count("id"), assigned=Count("id", filter=~Q(device="")),
        redeemed=Count("id", filter=Q(redeemed_at__isnull=False)))
    return RewardStats(agg["total"], agg["assigned"], agg["redeemed"])


def voter_token(viewer: User, live_vote: LiveVote, existing: str = "") -> str:
    """The device token for this viewer: the one the phone holds if still valid, else a new one."""
    key = device_key()
    user_id = viewer.pk if viewer.is_authenticated else None
    held = read_token(key, existing) if existing else None
    if held is not None and held.live_vote_id == live_vote.pk:
        if not live_vote.sign_in_required or held.user_id == user_id:
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
    return AuditEvent.objects.filter(object_type="voting.livevote", object_id=str(live_vote.pk)).order_by("seq")


def _not_found() -> str:
    return str(_("No such live vote."))
