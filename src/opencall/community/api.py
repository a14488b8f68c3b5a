"""API for comments, likes, follows (ideas, and joining challenges) and reports."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from opencall.accounts.api import caller, page, user_auth, visitor
from opencall.accounts.models import User
from opencall.challenges.queries import challenge_for
from opencall.challenges.queries import is_following as follows_challenge
from opencall.community import actions, queries
from opencall.community.models import Comment, Report
from opencall.community.schemas import (
    BlockedOut,
    BlockIn,
    CommentIn,
    CommentOut,
    CommentPage,
    FollowOut,
    LikeOut,
    QueuedReportOut,
    QueuedReportPage,
    QueueFilters,
    ReportIn,
    ReportOut,
    ResolveIn,
)
from opencall.core.schemas import FilterSchema, IdPath
from opencall.ideas.models import Idea
from opencall.ideas.queries import idea_for

router = Router(tags=["community"])


def _likes(who: User, idea: Idea) -> dict[str, Any]:
    liked, count = queries.likes_of(who, idea)
    return {"liked": liked, "like_count": count}


@router.get(
    "/ideas/{idea_id}/comments",
    response=CommentPage,
    tags=["comments"],
    summary="Comments on an idea in thread order (hidden ones only for moderators)",
)
def comment_list(request: HttpRequest, filters: Query[FilterSchema], idea_id: IdPath) -> dict[str, Any]:
    who = visitor(request)
    return page(filters, queries.comments_for(who, idea_for(who, idea_id)))


@router.post(
    "/ideas/{idea_id}/comments",
    response={201: CommentOut},
    auth=user_auth,
    tags=["comments"],
    summary="Comment on an idea, or reply to a comment (while the phase allows comments)",
)
def comment_create(request: HttpRequest, payload: CommentIn, idea_id: IdPath) -> Status[Comment]:
    user = caller(request)
    idea = idea_for(user, idea_id)
    parent = queries.reply_target_for(user, payload.parent_id) if payload.parent_id is not None else None
    comment = actions.add_comment(idea=idea, by=user, body=payload.body, parent=parent)
    depth, above = 0, parent
    while above is not None and depth < 4:
        depth, above = depth + 1, above.parent
    comment.depth = depth  # type: ignore[attr-defined]
    return Status(201, comment)


@router.post(
    "/comments/{comment_id}/report",
    response={200: ReportOut, 201: ReportOut},
    auth=user_auth,
    tags=["comments"],
    summary="Report a comment to the moderators (201; 200 with your open report if you already filed one)",
)
def comment_report(request: HttpRequest, payload: ReportIn, comment_id: IdPath) -> Status[Report]:
    user = caller(request)
    comment = queries.comment_to_report(user, comment_id)
    report, created = actions.report_comment(comment=comment, by=user, reason=payload.reason)
    return Status(201 if created else 200, report)


@router.post(
    "/ideas/{idea_id}/report",
    response={200: ReportOut, 201: ReportOut},
    auth=user_auth,
    summary="Report an idea to the moderators (201; 200 with your open report if you already filed one)",
)
def idea_report(request: HttpRequest, payload: ReportIn, idea_id: IdPath) -> Status[Report]:
    user = caller(request)
    report, created = actions.report_idea(idea=idea_for(user, idea_id), by=user, reason=payload.reason)
    return Status(201 if created else 200, report)


@router.get(
    "/ideas/{idea_id}/like", response=LikeOut, tags=["likes"], summary="The idea's like count and whether you like it"
)
def like_state(request: HttpRequest, idea_id: IdPath) -> dict[str, Any]:
    who = visitor(request)
    return _likes(who, idea_for(who, idea_id))


@router.post(
    "/ideas/{idea_id}/like",
    response=LikeOut,
    auth=user_auth,
    tags=["likes"],
    summary="Like an idea (once; only in a phase that allows voting, else 409)",
)
def like(request: HttpRequest, idea_id: IdPath) -> dict[str, Any]:
    user = caller(request)
    idea = idea_for(user, idea_id)
    actions.like_idea(idea=idea, by=user)
    return _likes(user, idea)


@router.delete(
    "/ideas/{idea_id}/like",
    response=LikeOut,
    auth=user_auth,
    tags=["likes"],
    summary="Take back a like (only in a phase that allows voting, else 409)",
)
def unlike(request: HttpRequest, idea_id: IdPath) -> dict[str, Any]:
    user = caller(request)
    idea = idea_for(user, idea_id)
    actions.unlike_idea(idea=idea, by=user)
    return _likes(user, idea)


@router.get("/ideas/{idea_id}/follow", response=FollowOut, tags=["follows"], summary="Whether you follow an idea")
def idea_follow_state(request: HttpRequest, idea_id: IdPath) -> dict[str, bool]:
    who = visitor(request)
    return {"following": queries.is_following(who, idea=idea_for(who, idea_id))}


@router.post(
    "/ideas/{idea_id}/follow",
    response=FollowOut,
    auth=user_auth,
    tags=["follows"],
    summary="Follow an idea: hear of its comments and decisions",
)
def idea_follow(request: HttpRequest, idea_id: IdPath) -> dict[str, bool]:
    user = caller(request)
    actions.follow_idea(idea=idea_for(user, idea_id), by=user, on=True)
    return {"following": True}


@router.delete(
    "/ideas/{idea_id}/follow", response=FollowOut, auth=user_auth, tags=["follows"], summary="Stop following an idea"
)
def idea_unfollow(request: HttpRequest, idea_id: IdPath) -> dict[str, bool]:
    user = caller(request)
    actions.follow_idea(idea=idea_for(user, idea_id), by=user, on=False)
    return {"following": False}


@router.get(
    "/challenges/{slug:slug}/follow",
    response=FollowOut,
    tags=["follows"],
    summary="Whether you joined (follow) a challenge",
)
def challenge_follow_state(request: HttpRequest, slug: str) -> dict[str, bool]:
    who = visitor(request)
    return {"following": follows_challenge(who, challenge_for(who, slug))}


@router.post(
    "/challenges/{slug:slug}/follow",
    response=FollowOut,
    auth=user_auth,
    tags=["follows"],
    summary="Join (follow) a challenge: hear of every phase change",
)
def challenge_follow(request: HttpRequest, slug: str) -> dict[str, bool]:
    user = caller(request)
    actions.follow_challenge(challenge=challenge_for(user, slug), by=user, on=True)
    return {"following": True}


@router.delete(
    "/challenges/{slug:slug}/follow",
    response=FollowOut,
    auth=user_auth,
    tags=["follows"],
    summary="Leave (stop following) a challenge",
)
def challenge_unfollow(request: HttpRequest, slug: str) -> dict[str, bool]:
    user = caller(request)
    actions.follow_challenge(challenge=challenge_for(user, slug), by=user, on=False)
    return {"following": False}


# Moderation -------------------------------------------------------------------------------------


@router.get(
    "/moderation/reports",
    response=QueuedReportPage,
    auth=user_auth,
    tags=["moderation"],
    summary="Reports you may handle (site moderators: all; others: the challenges they moderate or run)",
)
def report_queue(request: HttpRequest, filters: Query[QueueFilters]) -> dict[str, Any]:
    return page(filters, queries.moderation_queue(caller(request), status=filters.status))


@router.post(
    "/moderation/reports/{report_id}/resolve",
    response=QueuedReportOut,
    auth=user_auth,
    tags=["moderation"],
    summary="Hide the reported content with a reason, or dismiss the report",
)
def report_resolve(request: HttpRequest, payload: ResolveIn, report_id: IdPath) -> Report:
    user = caller(request)
    report = queries.report_for(user, report_id)
    actions.resolve_report(report=report, by=user, hide=payload.hide, resolution=payload.resolution)
    return queries.report_for(user, report_id)


@router.post(
    "/moderation/people/{user_id}/block",
    response=BlockedOut,
    auth=user_auth,
    tags=["moderation"],
    summary="Block an account (site moderators)",
)
def person_block(request: HttpRequest, payload: BlockIn, user_id: IdPath) -> dict[str, Any]:
    user = caller(request)
    target = queries.person_to_block(user, user_id)
    actions.block_account(user=target, by=user, reason=payload.reason)
    return {"id": target.pk, "blocked": True}
