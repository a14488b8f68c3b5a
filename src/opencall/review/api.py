"""API for crowd pairwise voting and the review phase (judges and organisers)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from opencall.accounts.api import caller, user_auth, visitor
from opencall.challenges.queries import challenge_for
from opencall.core.errors import InvalidInput
from opencall.core.schemas import IdPath
from opencall.review import actions, queries
from opencall.review.crowd import candidates, crowd_ranking, next_pair_for, pairwise_settings
from opencall.review.models import PairwiseSettings
from opencall.review.schemas import (
    AssignmentOut,
    AssignmentReportOut,
    ConflictIn,
    CrowdRankingOut,
    DecisionsIn,
    PairOut,
    PairwiseIn,
    PairwiseSettingsIn,
    PairwiseSettingsOut,
    RankedOut,
    ReviewIn,
)
from opencall.review.scoring import combined_ranking

router = Router(tags=["review"])


@router.get("/challenges/{slug:slug}/pairs/next", response={200: PairOut, 204: None}, auth=user_auth,
            summary="The next pair of ideas to compare (204 when you have seen every pair)")
def next_pair(request: HttpRequest, slug: str) -> Any:
    who = caller(request)
    pair = next_pair_for(challenge_for(who, slug), who)
    if pair is None:
        return Status(204, None)
    return {"first": pair[0].pk, "first_title": pair[0].title, "second": pair[1].pk, "second_title": pair[1].title}


@router.post("/challenges/{slug:slug}/pairs", response={201: None}, auth=user_auth,
             summary="Answer 'which idea is stronger?' (first, second, tie or skip)")
def answer_pair(request: HttpRequest, slug: str, payload: PairwiseIn) -> Status[None]:
    who = caller(request)
    challenge = challenge_for(who, slug)
    ideas = {i.pk: i for i in candidates(challenge)}
    first, second = ideas.get(payload.first), ideas.get(payload.second)
    if first is None or second is None:
        raise InvalidInput(_("Compare two ideas of this challenge."), errors={"pair": [_("Not a valid pair.")]})
    actions.cast_pairwise(challenge=challenge, by=who, first=first, second=second, outcome=payload.outcome)
    return Status(201, None)


@router.get("/challenges/{slug:slug}/pairwise-settings", response=PairwiseSettingsOut, auth=user_auth,
            summary="Crowd pairwise voting settings (organisers)")
def get_pairwise_settings(request: HttpRequest, slug: str) -> PairwiseSettings:
    return pairwise_settings(queries.review_desk_for(caller(request), slug))


@router.put("/challenges/{slug:slug}/pairwise-settings", response=PairwiseSettingsOut, auth=user_auth,
            summary="Turn crowd pairwise voting on or off; aim its pairs at the top or the whole ranking (organisers)")
def put_pairwise_settings(request: HttpRequest, slug: str, payload: PairwiseSettingsIn) -> PairwiseSettings:
    who = caller(request)
    return actions.configure_pairwise(challenge=challenge_for(who, slug), by=who, **payload.model_dump())


@router.get("/challenges/{slug:slug}/crowd-ranking", response=CrowdRankingOut,
            summary="The crowd's Bradley–Terry (or Crowd-BT) ranking with 95% intervals")
def crowd(request: HttpRequest, slug: str) -> dict[str, Any]:
    ranking = crowd_ranking(challenge_for(visitor(request), slug))
    return {"total_votes": ranking.total_votes, "items": [
        {"idea": r.idea.pk, "title": r.idea.title, "score": r.score, "low": r.low, "high": r.high, "votes": r.votes}
        for r in ranking.ideas]}


@router.get("/reviews/assignments", response=list[AssignmentOut], auth=user_auth,
            summary="Ideas assigned to you for review in open rounds")
def my_assignments(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"id": a.pk, "challenge": a.round.challenge.slug, "round": a.round.number, "idea": a.idea_id,
             "idea_title": a.idea.title, "submitted": bool(getattr(getattr(a, "review", None), "submitted_at", None))}
            for a in queries.assignments_for_judge(caller(request))]


@router.put("/reviews/assignments/{assignment_id}", response={204: None}, auth=user_auth,
            summary="Save or submit your review (scores by criterion id)")
def put_review(request: HttpRequest, assignment_id: IdPath, payload: ReviewIn) -> Status[None]:
    who = caller(request)
    assignment = queries.assignment_for(who, assignment_id)
    actions.submit_review(assignment=assignment, by=who, scores=payload.scores, note=payload.note,
                          recommendation=payload.recommendation, final=payload.final)
    return Status(204, None)


@router.post("/reviews/assignments/{assignment_id}/conflict", response={204: None}, auth=user_auth,
             summary="Declare a conflict of interest with the assigned idea")
def conflict(request: HttpRequest, assignment_id: IdPath, payload: ConflictIn) -> Status[None]:
    who = caller(request)
    assignment = queries.assignment_for(who, assignment_id)
    actions.declare_conflict(challenge=assignment.round.challenge, judge=who, idea=assignment.idea, by=who,
                             reason=payload.reason)
    return Status(204, None)


@router.post("/challenges/{slug:slug}/review/rounds/{number}/assignment", response=AssignmentReportOut,
             auth=user_auth, summary="Assign judges optimally (organisers); reports the optimality gap")
def assign(request: HttpRequest, slug: str, number: IdPath) -> dict[str, Any]:
    who = caller(request)
    return actions.run_assignment(rnd=queries.round_for(who, slug, number), by=who)


@router.get("/challenges/{slug:slug}/review/rounds/{number}/ranking", response=list[RankedOut], auth=user_auth,
            summary="Combined ranking: calibrated judge scores and the crowd (organisers)")
def ranking(request: HttpRequest, slug: str, number: IdPath) -> list[dict[str, Any]]:
    return [{"idea": e.idea.pk, "title": e.idea.title, "reviews": e.reviews, "raw_mean": e.raw_mean,
             "calibrated": e.calibrated, "calibrated_sd": e.calibrated_sd, "crowd": e.crowd, "combined": e.combined}
            for e in combined_ranking(queries.round_for(caller(request), slug, number))]


@router.post("/challenges/{slug:slug}/review/rounds/{number}/decisions", response={204: None}, auth=user_auth,
             summary="Advance ideas to the next round or reject them; teams are notified (organisers)")
def decisions(request: HttpRequest, slug: str, number: IdPath, payload: DecisionsIn) -> Status[None]:
    who = caller(request)
    actions.decide_ideas(rnd=queries.round_for(who, slug, number), by=who, advance=payload.advance, reject=payload.reject)
    return Status(204, None)
