"""API for the funding phase: budget ballots, allocation runs, published results, recount."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from opencall.accounts.api import caller, user_auth, visitor
from opencall.challenges.models import Challenge
from opencall.challenges.queries import challenge_for
from opencall.core.schemas import IdPath
from opencall.funding import actions, queries
from opencall.funding.models import Allocation, BudgetBallot
from opencall.funding.schemas import (
    AllocationIn,
    AllocationOut,
    BallotIn,
    BallotOut,
    FundingSettingsIn,
    RecountOut,
)

router = Router(tags=["funding"])


def _ballot_out(challenge: Challenge, ballot: BudgetBallot) -> dict[str, Any]:
    return {"challenge": challenge.slug, "kind": ballot.kind, "revision": ballot.revision,
            "choices": [{"idea": e.idea_id, "points": e.points} for e in ballot.entries.all()]}


@router.get("/challenges/{slug:slug}/budget-ballot", response=BallotOut, auth=user_auth,
            summary="Your budget ballot in this challenge")
def my_ballot(request: HttpRequest, slug: str) -> dict[str, Any]:
    who = caller(request)
    challenge = challenge_for(who, slug)
    return _ballot_out(challenge, queries.ballot_for(who, challenge))


@router.put("/challenges/{slug:slug}/budget-ballot", response=BallotOut, auth=user_auth,
            summary="Cast or replace your budget ballot (funding phase only)")
def put_ballot(request: HttpRequest, slug: str, payload: BallotIn) -> dict[str, Any]:
    who = caller(request)
    challenge = challenge_for(who, slug)
    actions.cast_ballot(challenge=challenge, by=who, choices=[(c.idea, c.points) for c in payload.choices])
    return _ballot_out(challenge, queries.ballot_for(who, challenge))


@router.delete("/challenges/{slug:slug}/budget-ballot", response={204: None}, auth=user_auth,
               summary="Withdraw your budget ballot (funding phase only)")
def delete_ballot(request: HttpRequest, slug: str) -> Status[None]:
    who = caller(request)
    actions.withdraw_ballot(challenge=challenge_for(who, slug), by=who)
    return Status(204, None)


@router.put("/challenges/{slug:slug}/funding-settings", response={204: None}, auth=user_auth,
            summary="Choose the ballot form and default rule (organisers, before the first ballot)")
def put_settings(request: HttpRequest, slug: str, payload: FundingSettingsIn) -> Status[None]:
    who = caller(request)
    actions.configure_funding(challenge=challenge_for(who, slug), by=who, **payload.model_dump())
    return Status(204, None)


@router.get("/challenges/{slug:slug}/allocations", response=list[AllocationOut], auth=user_auth,
            summary="Every allocation run of this challenge (organisers)")
def list_allocations(request: HttpRequest, slug: str) -> list[Allocation]:
    return list(queries.allocations_for(queries.allocation_desk_for(caller(request), slug)))


@router.post("/challenges/{slug:slug}/allocations", response={201: AllocationOut}, auth=user_auth,
             summary="Run a rule over the current ballots (organisers)")
def create_allocation(request: HttpRequest, slug: str, payload: AllocationIn) -> Status[Allocation]:
    who = caller(request)
    return Status(201, actions.run_allocation(challenge=challenge_for(who, slug), by=who, rule=payload.rule))


@router.post("/challenges/{slug:slug}/allocations/{allocation_id}/publish", response=AllocationOut,
             auth=user_auth, summary="Publish an allocation: its ideas become funded (organisers)")
def publish(request: HttpRequest, slug: str, allocation_id: IdPath) -> Allocation:
    who = caller(request)
    allocation = queries.allocation_for(who, challenge_for(who, slug), allocation_id)
    return actions.publish_allocation(allocation=allocation, by=who)


@router.get("/challenges/{slug:slug}/results", response=AllocationOut,
            summary="The published funding result with an explanation for every idea")
def results(request: HttpRequest, slug: str) -> Allocation:
    return queries.published_result(challenge_for(visitor(request), slug))


@router.get("/challenges/{slug:slug}/allocations/{allocation_id}/recount", response=RecountOut,
            summary="Recompute an allocation from the ballots and say whether it matches")
def recount(request: HttpRequest, slug: str, allocation_id: IdPath) -> dict[str, object]:
    who = visitor(request)
    return actions.recount(allocation=queries.allocation_for(who, challenge_for(who, slug), allocation_id))
