"""JSON shapes for comments, likes, follows and reports."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from opencall.accounts.schemas import UserRef
from opencall.community.models import Comment
from opencall.core.markdown import render_markdown
from opencall.core.schemas import Id, InSchema, Page


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
