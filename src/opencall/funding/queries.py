from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.funding.models import Allocation, BallotEntry, BudgetBallot, FundingSettings
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


def allocation_by_id(challenge: Challenge, allocation_id: int) -> Allocation | None:
    return Allocation.objects.filter(challenge=challenge, pk=allocation_id).first()
