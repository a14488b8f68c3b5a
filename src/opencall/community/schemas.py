"""JSON shapes for comments, likes, follows and reports."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from opencall.accounts.schemas import UserRef
from opencall.community.models import Comment, Report
from opencall.core.markdown import render_markdown
from opencall.core.schemas import FilterSchema, Id, InSchema, Page


class CommentOut(Schema):
    id: int
    parent_id: int | None
    depth: int = Field(description="Nesting level for display (0 = top level, capped at 4).")
    author: UserRef
    body: str = Field(description="Markdown as written. Never insert it as HTML; use body_html.")
    body_html: str = Field(description="The body rendered from Markdown and sanitised.")
    hidden: bool
    created_at: datetime

    @staticmethod
    def resolve_depth(obj: Comment) -> int:
        return int(getattr(obj, "depth", 0))

    @staticmethod
    def resolve_body_html(obj: Comment) -> str:
        return render_markdown(obj.body)


class CommentPage(Page):
    items: list[CommentOut] = Field(description="In thread order: each reply follows its parent.")


class CommentIn(InSchema):
    body: str = Field(min_length=1, max_length=5000, description="Markdown.")
    parent_id: Id | None = Field(None, description="The comment this replies to.")


class ReportIn(InSchema):
    reason: str = Field(min_length=1, max_length=500)


class ReportOut(Schema):
    id: int
    reason: str
    status: str
    created_at: datetime


class LikeOut(Schema):
    liked: bool
    like_count: int


class FollowOut(Schema):
    following: bool


class ReportedIdea(Schema):
    id: int
    title: str


class ReportedComment(Schema):
    id: int
    idea_id: int
    author: UserRef
    body: str
    body_html: str

    @staticmethod
    def resolve_body_html(obj: Comment) -> str:
        return render_markdown(obj.body)


class QueuedReportOut(Schema):
    """A report as moderators see it, with the reported content."""

    id: int
    reason: str
    status: str
    created_at: datetime
    challenge: str
    reporter: UserRef | None
    idea: ReportedIdea | None
    comment: ReportedComment | None
    resolution: str
    handled_by: UserRef | None

    @staticmethod
    def resolve_challenge(obj: Report) -> str:
        idea = obj.idea if obj.idea_id else obj.comment.idea  # type: ignore[union-attr]
        return idea.challenge.slug  # type: ignore[union-attr]


class QueuedReportPage(Page):
    items: list[QueuedReportOut]


class QueueFilters(FilterSchema):
    status: Literal["open", "hidden", "dismissed"] = "open"


class ResolveIn(InSchema):
    hide: bool = Field(description="Hide the content (a resolution is then required) or dismiss the report.")
    resolution: str = Field("", max_length=300)


class BlockIn(InSchema):
    reason: str = Field(min_length=1, max_length=300)


class BlockedOut(Schema):
    id: int
    blocked: bool
