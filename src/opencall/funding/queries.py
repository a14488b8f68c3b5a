from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.challenges.queries import challenge_for
from opencall.core.errors import NotFound, PermissionDenied
from opencall.funding.models import Allocation, BallotEntry, BudgetBallot, FundingSettings
from opencall.funding.permissions import can_run_allocation, can_view_allocation
from opencall.ideas.models import Idea, IdeaStatus

FUNDABLE = (IdeaStatus.SUBMITTED, IdeaStatus.SHORTLISTED, IdeaStatus.FUNDED)


def settings_for(challenge: Challenge) -> FundingSettings:
    found = FundingSettings.objects.filter(challenge=challenge).first()
    return found if found is not None else FundingSettings(challenge=challenge)


def fundable_ideas(challenge: Challenge) -> QuerySet[Idea]:
    """Ideas on the ballot: in play, not hidden or confidential, with a requested budget (their cost)."""
    return (
        Idea.objects.filter(challenge=challenge, status__in=FUNDABLE, hidden=False, confidential=False,
                            requested_budget_minor__isnull=False)
        .select_related("category")
        .order_by("id")
    )


def ballot_of(challenge: Challenge, voter: User) -> BudgetBallot | None:
    if not voter.is_authenticated:
        return None
    return (
        BudgetBallot.objects.filter(challenge=challenge, voter=voter)
        .prefetch_related(Prefetch("entries", queryset=BallotEntry.objects.order_by("position", "id")))
        .first()
    )


def ballot_for(viewer: User, challenge: Challenge) -> BudgetBallot:
    """The gate for reading one's own budget ballot: it, or NotFound when none was cast."""
    ballot = ballot_of(challenge, viewer)
    if ballot is None:
        raise NotFound(_("You have not cast a budget ballot here."))
    return ballot


def ballots_for_count(challenge: Challenge) -> int:
    return BudgetBallot.objects.filter(challenge=challenge).count()


def ballot_rows(challenge: Challenge) -> list[tuple[int, list[tuple[int, int]]]]:
    """(ballot id, [(idea id, points), …]) for every ballot with an entry, in ballot-id order."""
    rows: dict[int, list[tuple[int, int]]] = {}
    entries = BallotEntry.objects.filter(ballot__challenge=challenge).order_by("ballot_id", "position", "id")
    for ballot_id, idea_id, points in entries.values_list("ballot_id", "idea_id", "points"):
        rows.setdefault(ballot_id, []).append((idea_id, points))
    return sorted(rows.items())


def allocations_for(challenge: Challenge) -> QuerySet[Allocation]:
    return Allocation.objects.filter(challenge=challenge).select_related("created_by").order_by("-created_at", "-id")


def published_allocation(challenge: Challenge) -> Allocation | None:
    return (
        Allocation.objects.filter(challenge=challenge, published_at__isnull=False)
        .order_by("-published_at", "-id")
        .first()
    )


def published_result(challenge: Challenge) -> Allocation:
    """The gate for a challenge's funding result: its published allocation, or NotFound."""
    allocation = published_allocation(challenge)
    if allocation is None:
        raise NotFound(_("No funding result is published for this challenge."))
    return allocation


def allocation_desk_for(viewer: User, slug: str) -> Challenge:
    """The gate for the organisers' funding desk (settings, allocation runs): the challenge, NotFound
    when the viewer may not see it, PermissionDenied when they see it but do not organise it."""
    challenge = challenge_for(viewer, slug)
    if not can_run_allocation(viewer, challenge):
        raise PermissionDenied(_("Only the challenge's organisers run allocations."))
    return challenge


def allocation_for(viewer: User, challenge: Challenge, allocation_id: int) -> Allocation:
    """The gate for one allocation run: organisers see every run, others only published ones;
    missing and unpublished answer alike (NotFound)."""
    allocation = Allocation.objects.filter(challenge=challenge, pk=allocation_id).first()
    if allocation is None or not can_view_allocation(viewer, allocation):
        raise NotFound(_("No such allocation, or it is not visible to you."))
    allocation.challenge = challenge  # the gated instance, with what its pages read preloaded
    return allocation


def challenge_by_slug(slug: str) -> Challenge:
    """Any challenge by its slug, for the operator's command line (which has no viewer), or NotFound."""
    found = Challenge.objects.filter(slug=slug).first()
    if found is None:
        raise NotFound(_("No challenge has the slug %(slug)s.") % {"slug": slug})
    return found


def allocation_to_recount(challenge: Challenge) -> Allocation:
    """The published allocation, else the latest run, or NotFound when the challenge has none."""
    allocation = published_allocation(challenge) or allocations_for(challenge).first()
    if allocation is None:
        raise NotFound(_("%(slug)s has no allocation to recount.") % {"slug": challenge.slug})
    return allocation
