"""Reads for live votes, filtered to the viewer, relations preloaded."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Length, Substr
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.challenges.queries import challenge_for
from opencall.core.errors import NotFound, PermissionDenied
from opencall.core.models import AuditEvent
from opencall.ideas.models import Idea, IdeaStatus
from opencall.voting.live import rules
from opencall.voting.models import LiveBallot, LiveCount, LiveVote, RewardCode
from opencall.voting.permissions import (
    can_create_live_vote,
    can_manage_live_vote,
    can_see_results,
    can_vote_live,
    can_watch_live_vote,
)
from opencall.voting.tokens import (
    DEVICE_ID_LENGTH,
    NETWORK_TAG_LENGTH,
    client_network,
    issue_token,
    network_key,
    network_tag,
    read_token,
    signing_key,
)

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
        raise NotFound(_("No such live vote, or it is not visible to you."))
    if manage and not can_manage_live_vote(viewer, live_vote):
        raise PermissionDenied(_("Only the challenge's organisers can run this live vote."))
    return live_vote


def organised_challenge_for(viewer: User, slug: str) -> Challenge:
    """The challenge whose live votes the viewer runs: NotFound if it is missing or hidden from them,
    PermissionDenied for anyone but its organisers."""
    challenge = challenge_for(viewer, slug)
    if not can_create_live_vote(viewer, challenge):
        raise PermissionDenied(_("Only the challenge's organisers can run live votes."))
    return challenge


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


# The console warns when one network has cast more than this share of at least this many ballots.
CONCENTRATION_SHARE = 0.5
CONCENTRATION_MIN_BALLOTS = 10
TOP_NETWORKS = 3


@dataclass(frozen=True)
class NetworkRow:
    tag: str  # the keyed hash of the network, as the device ids carry it
    ballots: int
    share: float

    @property
    def percent(self) -> int:
        return round(self.share * 100)


@dataclass(frozen=True)
class Burst:
    tag: str
    devices: int  # devices that voted, issued to this network within one window of about a minute


@dataclass(frozen=True)
class Concentration:
    ballots: int
    networks: list[NetworkRow]
    burst: Burst | None

    @property
    def warning(self) -> bool:
        return (
            self.ballots >= CONCENTRATION_MIN_BALLOTS
            and bool(self.networks)
            and self.networks[0].share > CONCENTRATION_SHARE
        )


def vote_concentration(viewer: User, live_vote: LiveVote) -> Concentration | None:
    """Where an anonymous live vote's ballots come from, by the network tag inside their device ids:
    the top networks by ballots and the largest burst of devices issued to one network. None for
    a sign-in vote, whose devices are accounts. Three queries, however many ballots or networks."""
    if not can_manage_live_vote(viewer, live_vote):
        raise PermissionDenied(_("Only the challenge's organisers can see live figures."))
    if live_vote.sign_in_required:
        return None
    ballots = LiveBallot.objects.filter(live_vote=live_vote)
    total = ballots.count()
    tagged = (
        ballots.annotate(device_length=Length("device"))
        .filter(device_length=DEVICE_ID_LENGTH)
        .annotate(network=Substr("device", 12, NETWORK_TAG_LENGTH))
    )
    top = tagged.values("network").annotate(n=Count("*")).order_by("-n", "network")[:TOP_NETWORKS]
    networks = [NetworkRow(row["network"], row["n"], row["n"] / total) for row in top]
    # Device ids start with their time of issue in hex milliseconds: 7 digits make windows of
    # 2**16 ms, about a minute.
    peak = (
        tagged.annotate(window=Substr("device", 1, 7))
        .values("network", "window")
        .annotate(n=Count("*"))
        .order_by("-n", "network", "window")
        .first()
    )
    burst = Burst(peak["network"], peak["n"]) if peak else None
    return Concentration(total, networks, burst)


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


# The cookie that binds an anonymous device to its browser, one per live vote (path /v/<code>/).
DEVICE_COOKIE = "opencall_live_device"


def browser_holds_device(code: str, held: str) -> bool:
    """Whether `held`, a browser's device cookie, is a device of the live vote `code`. Such a browser gets
    its device back and mints nothing, so its visit does not count against the minting limit; a missing,
    forged or foreign cookie does."""
    token = read_token(device_key(), held) if held else None
    return token is not None and LiveVote.objects.filter(code=code, pk=token.live_vote_id).exists()


def device_for(viewer: User, live_vote: LiveVote, *, held: str, address: str) -> str:
    """The device token this browser votes with: the one it holds for this live vote if still valid, else a
    new one; PermissionDenied for a viewer who may watch but not vote (a blocked account, an outsider of
    an internal challenge's vote)."""
    if not can_vote_live(viewer, live_vote):
        raise PermissionDenied(_("You cannot vote in this live vote."))
    token = held_voter_token(viewer, live_vote, held)
    return token if token is not None else new_voter_token(viewer, live_vote, address=address)


def held_voter_token(viewer: User, live_vote: LiveVote, held: str) -> str | None:
    """`held` (the token this browser kept for this live vote) if it is still this viewer's: signed
    by this installation, for this live vote and, in sign-in mode, for this account. Else None."""
    token = rules.device_token(device_key(), held, live_vote.pk)
    if token is None:
        return None
    if live_vote.sign_in_required and token.user_id != (viewer.pk if viewer.is_authenticated else None):
        return None
    return held


def new_voter_token(viewer: User, live_vote: LiveVote, *, address: str) -> str:
    """A device token for this viewer: the account's one device in sign-in mode, else a new device
    tagged with the network of `address` (hashed; the address itself is not kept)."""
    key = device_key()
    if live_vote.sign_in_required:
        return issue_token(key, live_vote.pk, user_id=viewer.pk if viewer.is_authenticated else None)
    tag = network_tag(network_key(str(settings.SECRET_KEY)), live_vote.pk, client_network(address))
    return issue_token(key, live_vote.pk, network_tag=tag)


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
