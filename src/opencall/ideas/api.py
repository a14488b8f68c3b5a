"""API for ideas (list, detail, create, edit, submit, withdraw, versions, decisions, files) and teams."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja import File, Query, Router, Status, UploadedFile

from opencall.accounts.api import caller, page, user_auth, visitor
from opencall.accounts.models import User
from opencall.challenges.queries import challenge_for
from opencall.core.schemas import FilterSchema, IdPath
from opencall.ideas import actions, permissions, queries
from opencall.ideas.models import Idea, JoinRequest, Position, Team, TeamInvitation
from opencall.ideas.schemas import (
    AttachmentList,
    DecisionIn,
    IdeaDetailOut,
    IdeaFilters,
    IdeaIn,
    IdeaPage,
    IdeaPatch,
    InvitationOut,
    InviteIn,
    JoinIn,
    JoinRequestOut,
    MyIdeaPage,
    MyInvitationPage,
    OpenPositionPage,
    PositionFilters,
    PositionIn,
    PositionOut,
    RespondIn,
    SubmitIn,
    TeamOut,
    VersionPage,
)

router = Router(tags=["ideas"])


def _detail(who: User, idea_id: int) -> Idea:
    """The idea with what the caller may do with it, for IdeaDetailOut."""
    idea = queries.idea_for(who, idea_id)
    idea.viewer_rights = {  # type: ignore[attr-defined]
        "edit": permissions.can_edit_idea(who, idea),
        "submit": permissions.can_submit(who, idea),
        "withdraw": permissions.can_withdraw(who, idea),
        "view_history": permissions.can_view_history(who, idea),
        "decide_status": permissions.can_decide_status(who, idea),
    }
    return idea


# Ideas ---------------------------------------------------------------------------------------


@router.get(
    "/challenges/{slug:slug}/ideas",
    response=IdeaPage,
    summary="Ideas of a challenge you may see (confidential and hidden ones only if entitled)",
)
def idea_list(request: HttpRequest, slug: str, filters: Query[IdeaFilters]) -> dict[str, Any]:
    who = visitor(request)
    rows = queries.visible_ideas(
        who,
        challenge_for(who, slug),
        sort=filters.sort,
        category=filters.category.strip(),
        status=filters.status,
        text=filters.q.strip(),
    )
    return page(filters, rows)


@router.post(
    "/challenges/{slug:slug}/ideas",
    response={201: IdeaDetailOut},
    auth=user_auth,
    summary="Create an idea with its team of one (a draft unless `submit` is true)",
)
def idea_create(request: HttpRequest, slug: str, payload: IdeaIn) -> Status[Idea]:
    user = caller(request)
    draft = actions.IdeaDraft(
        title=payload.title,
        summary=payload.summary,
        body=payload.body,
        category=payload.category,
        requested_budget_minor=payload.requested_budget_minor,
        confidential=payload.confidential,
        answers=actions.answer_texts(payload.answers),
    )
    idea = actions.create_idea(
        challenge=challenge_for(user, slug),
        by=user,
        draft=draft,
        accept_terms=payload.accept_terms,
        submit=payload.submit,
        team_name=payload.team_name,
    )
    return Status(201, _detail(user, idea.pk))


@router.get("/ideas/{idea_id}", response=IdeaDetailOut, summary="One idea with answers, files and team")
def idea_detail(request: HttpRequest, idea_id: IdPath) -> Idea:
    return _detail(visitor(request), idea_id)


@router.patch(
    "/ideas/{idea_id}",
    response=IdeaDetailOut,
    auth=user_auth,
    summary="Edit an idea (its team, while the phase allows); keeps a new version",
)
def idea_update(request: HttpRequest, payload: IdeaPatch, idea_id: IdPath) -> Idea:
    user = caller(request)
    changes = cast(actions.IdeaChanges, payload.model_dump(exclude_unset=True, exclude={"remove_attachments"}))
    actions.update_idea(
        idea=queries.idea_for(user, idea_id), by=user, draft=changes, remove_attachments=payload.remove_attachments
    )
    return _detail(user, idea_id)


@router.post(
    "/ideas/{idea_id}/attachments",
    response={201: AttachmentList},
    auth=user_auth,
    summary="Attach files (multipart field `files`; PDF, images, Office, text; size-limited)",
)
def idea_attach(request: HttpRequest, files: File[list[UploadedFile]], idea_id: IdPath) -> Status[dict[str, Any]]:
    user = caller(request)
    attachments = actions.add_attachments(idea=queries.idea_for(user, idea_id), by=user, uploads=files)
    return Status(201, {"items": attachments})


@router.post(
    "/ideas/{idea_id}/submit",
    response=IdeaDetailOut,
    auth=user_auth,
    summary="Submit a draft (required custom fields and terms are checked)",
)
def idea_submit(request: HttpRequest, idea_id: IdPath, payload: SubmitIn | None = None) -> Idea:
    user = caller(request)
    actions.submit_idea(
        idea=queries.idea_for(user, idea_id), by=user, accept_terms=payload.accept_terms if payload else False
    )
    return _detail(user, idea_id)


@router.post("/ideas/{idea_id}/withdraw", response=IdeaDetailOut, auth=user_auth, summary="Withdraw an idea")
def idea_withdraw(request: HttpRequest, idea_id: IdPath) -> Idea:
    user = caller(request)
    actions.withdraw_idea(idea=queries.idea_for(user, idea_id), by=user)
    return _detail(user, idea_id)


@router.post(
    "/ideas/{idea_id}/status",
    response=IdeaDetailOut,
    auth=user_auth,
    summary="Decide an idea's status (organisers); the team is notified",
)
def idea_status(request: HttpRequest, payload: DecisionIn, idea_id: IdPath) -> Idea:
    user = caller(request)
    actions.decide_status(
        idea=queries.idea_for(user, idea_id), status=payload.status, by=user, reason=payload.reason
    )
    return _detail(user, idea_id)


@router.get(
    "/ideas/{idea_id}/versions",
    response=VersionPage,
    auth=user_auth,
    summary="Every saved version, newest first (the team and organisers)",
)
def idea_versions(request: HttpRequest, filters: Query[FilterSchema], idea_id: IdPath) -> dict[str, Any]:
    _idea, versions = queries.versions_for(caller(request), idea_id)
    return page(filters, versions)


@router.get(
    "/me/ideas",
    response=MyIdeaPage,
    auth=user_auth,
    summary="Ideas of the teams you are in, drafts included, latest change first",
)
def my_ideas(request: HttpRequest, filters: Query[FilterSchema]) -> dict[str, Any]:
    return page(filters, queries.my_ideas(caller(request)))


# Teams ---------------------------------------------------------------------------------------


@router.get(
    "/teams/{team_id}",
    response=TeamOut,
    tags=["teams"],
    summary="A team: members, positions and (for its lead) pending join requests",
)
def team_detail(request: HttpRequest, team_id: IdPath) -> Team:
    who = visitor(request)
    team = queries.team_for(who, team_id)
    team.pending_requests = (  # type: ignore[attr-defined]
        list(queries.pending_join_requests(team)) if permissions.can_manage_team(who, team) else []
    )
    return team


@router.post(
    "/teams/{team_id}/invitations",
    response={201: InvitationOut},
    auth=user_auth,
    tags=["teams"],
    summary="Invite someone to the team (its lead), by user id or email",
)
def team_invite(request: HttpRequest, payload: InviteIn, team_id: IdPath) -> Status[TeamInvitation]:
    user = caller(request)
    invitation = actions.invite_someone(
        team=queries.team_for(user, team_id), by=user, user_id=payload.user_id, email=payload.email
    )
    return Status(201, invitation)


@router.get(
    "/me/team-invitations",
    response=MyInvitationPage,
    auth=user_auth,
    tags=["teams"],
    summary="Team invitations waiting for your answer",
)
def my_invitations(request: HttpRequest, filters: Query[FilterSchema]) -> dict[str, Any]:
    return page(filters, queries.pending_invitations_for(caller(request)).order_by("-created_at", "-id"))


@router.post(
    "/team-invitations/{invitation_id}/respond",
    response=InvitationOut,
    auth=user_auth,
    tags=["teams"],
    summary="Accept or decline an invitation addressed to you",
)
def invitation_respond(request: HttpRequest, payload: RespondIn, invitation_id: IdPath) -> TeamInvitation:
    user = caller(request)
    invitation = queries.invitation_for(user, invitation_id)
    return actions.respond_to_invitation(invitation=invitation, by=user, accept=payload.accept)


@router.post(
    "/teams/{team_id}/join-requests",
    response={201: JoinRequestOut},
    auth=user_auth,
    tags=["teams"],
    summary="Ask to join a team",
)
def team_join(request: HttpRequest, payload: JoinIn, team_id: IdPath) -> Status[JoinRequest]:
    user = caller(request)
    return Status(
        201, actions.request_to_join(team=queries.team_for(user, team_id), by=user, message=payload.message)
    )


@router.post(
    "/join-requests/{request_id}/respond",
    response=JoinRequestOut,
    auth=user_auth,
    tags=["teams"],
    summary="Accept or decline a request to join your team (its lead)",
)
def join_request_respond(request: HttpRequest, payload: RespondIn, request_id: IdPath) -> JoinRequest:
    user = caller(request)
    join_request = queries.join_request_for(user, request_id)
    return actions.respond_to_join_request(request=join_request, by=user, accept=payload.accept)


@router.post(
    "/teams/{team_id}/leave",
    response={204: None},
    auth=user_auth,
    tags=["teams"],
    summary="Leave a team (the lead role passes on)",
)
def team_leave(request: HttpRequest, team_id: IdPath) -> Status[None]:
    user = caller(request)
    actions.leave_team(team=queries.team_for(user, team_id), by=user)
    return Status(204, None)


@router.post(
    "/teams/{team_id}/positions",
    response={201: PositionOut},
    auth=user_auth,
    tags=["teams"],
    summary="Open a position with wanted skills (the lead)",
)
def position_create(request: HttpRequest, payload: PositionIn, team_id: IdPath) -> Status[Position]:
    user = caller(request)
    position = actions.add_position(
        team=queries.team_for(user, team_id), by=user, title=payload.title, description=payload.description, skills=payload.skills
    )
    return Status(201, position)


@router.post(
    "/positions/{position_id}/close",
    response=PositionOut,
    auth=user_auth,
    tags=["teams"],
    summary="Close a position (the lead)",
)
def position_close(request: HttpRequest, position_id: IdPath) -> Position:
    user = caller(request)
    position = queries.position_for(user, position_id)
    return actions.close_position(position=position, by=user)


@router.get(
    "/positions",
    response=OpenPositionPage,
    tags=["teams"],
    summary="Open positions in teams you may see, optionally wanting one skill",
)
def positions(request: HttpRequest, filters: Query[PositionFilters]) -> dict[str, Any]:
    return page(filters, queries.open_positions(visitor(request), skill=filters.skill))
