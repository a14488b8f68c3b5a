"""API for the funding phase: budget ballots, allocation runs, published results, recount."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from opencall.accounts.api import caller, user_auth, visitor
from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.challenges.queries import challenge_for
from opencall.core.errors import NotFound, PermissionDenied
from opencall.core.schemas import IdPath
from opencall.funding import actions, queries
from opencall.funding.models import Allocation, BudgetBallot
from opencall.funding.permissions import can_run_allocation, can_view_allocation
from opencall.funding.schemas import (
    AllocationIn,
    AllocationOut,
    BallotIn,
    BallotOut,
    FundingSettingsIn,
    RecountOut,
)

router = Router(tags=["funding"])


def _challenge(who: User, slug: str) -> Challenge:
    challenge = challenge_for(who, slug)
    if challenge is None:
        raise NotFound("No such challenge, or it is not visible to you.")
    return challenge


def _ballot_out(challenge: Challenge, ballot: BudgetBallot) -> dict[str, Any]:
    return {"challenge": challenge.slug, "kind": ballot.kind, "revision": ballot.revision,
            "choices": [{"idea": e.idea_id, "points": e.points} for e in ballot.entries.all()]}


@router.get("/challenges/{slug:slug}/budget-ballot", response=BallotOut, auth=user_auth,
            summary="Your budget ballot in this challenge")
def my_ballot(request: HttpRequest, slug: str) -> dict[str, Any]:
    who = caller(request)
    challenge = _challenge(who, slug)
    ballot = queries.ballot_of(challenge, who)
    if ballot is None:
        raise NotFound("You have not cast a budget ballot here.")
    return _ballot_out(challenge, ballot)


@router.put("/challenges/{slug:slug}/budget-ballot", response=BallotOut, auth=user_auth,
            summary="Cast or replace your budget ballot (funding phase only)")
def put_ballot(request: HttpRequest, slug: str, payload: BallotIn) -> dict[str, Any]:
    who = caller(request)
    challenge = _challenge(who, slug)
    actions.cast_ballot(challenge=challenge, by=who, choices=[(c.idea, c.points) for c in payload.choices])
    ballot = queries.ballot_of(challenge, who)
    assert ballot is not None
    return _ballot_out(challenge, ballot)


@router.delete("/challenges/{slug:slug}/budget-ballot", response={204: None}, auth=user_auth,
               summary="Withdraw your budget ballot (funding phase only)")
def delete_ballot(request: HttpRequest, slug: str) -> Status[None]:
    who = caller(request)
    actions.withdraw_ballot(challenge=_challenge(who, slug), by=who)
    return Status(204, None)


@router.put("/challenges/{slug:slug}/funding-settings", response={204: None}, auth=user_auth,
            summary="Choose the ballot form and default rule (organisers, before the first ballot)")
def put_settings(request: HttpRequest, slug: str, payload: FundingSettingsIn) -> Status[None]:
    who = caller(request)
    actions.configure_funding(challenge=_challenge(who, slug), by=who, **payload.model_dump())
    return Status(204, None)


@router.get("/challenges/{slug:slug}/allocations", response=list[AllocationOut], auth=user_auth,
            summary="Every allocation run of this challenge (organisers)")
def list_allocations(request: HttpRequest, slug: str) -> list[Allocation]:
    who = caller(request)
    challenge = _challenge(who, slug)
    if not can_run_allocation(who, challenge):
        raise PermissionDenied("Only organisers see unpublished allocations.")
    return list(queries.allocations_for(challenge))


@router.post("/challenges/{slug:slug}/allocations", response={201: AllocationOut}, auth=user_auth,
             summary="Run a rule over the current ballots (organisers)")
def create_allocation(request: HttpRequest, slug: str, payload: AllocationIn) -> Status[Allocation]:
    who = caller(request)
    return Status(201, actions.run_allocation(challenge=_challenge(who, slug), by=who, rule=payload.rule))


def _allocation(who: User, slug: str, allocation_id: int) -> Allocation:
    allocation = queries.allocation_by_id(_challenge(who, slug), allocation_id)
    if allocation is None or not can_view_allocation(who, allocation):
        raise NotFound("No such allocation, or it is not published.")
    return allocation


@router.post("/challenges/{slug:slug}/allocations/{allocation_id}/publish", response=AllocationOut,
             auth=user_auth, summary="Publish an allocation: its ideas become funded (organisers)")
def publish(request: HttpRequest, slug: str, allocation_id: IdPath) -> Allocation:
    who = caller(request)
    return actions.publish_allocation(allocation=_allocation(who, slug, allocation_id), by=who)


@router.get("/challenges/{slug:slug}/results", response=AllocationOut,
            summary="The published funding result with an explanation for every idea")
def results(request: HttpRequest, slug: str) -> Allocation:
    allocation = queries.published_allocation(_challenge(visitor(request), slug))
    if allocation is None:
        raise NotFound("No funding result is published for this challenge.")
    return allocation


@router.get("/challenges/{slug:slug}/allocations/{allocation_id}/recount", response=RecountOut,
            summary="Recompute an allocation from the ballots and say whether it matches")
def recount(request: HttpRequest, slug: str, allocation_id: IdPath) -> dict[str, object]:
    return actions.recount(allocation=_allocation(visitor(request), slug, allocation_id))
