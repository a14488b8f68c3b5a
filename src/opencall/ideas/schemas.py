"""JSON shapes for ideas, their versions and attachments, teams and positions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.urls import reverse
from ninja import Schema
from pydantic import Field

from opencall.accounts.schemas import UserRef
from opencall.core.markdown import render_markdown
from opencall.core.schemas import MAX_ID, FilterSchema, Id, InSchema, Page, omittable
from opencall.ideas.models import (
    Attachment,
    FieldAnswer,
    Idea,
    IdeaVersion,
    Position,
    Team,
    TeamInvitation,
    TeamMember,
)

FieldKey = Annotated[str, Field(min_length=1, max_length=40)]
AnswerValue = Annotated[str, Field(max_length=5000)] | int | float | None
SkillName = Annotated[str, Field(min_length=1, max_length=60)]
Sort = Literal["newest", "liked", "discussed", "title"]
StatusName = Literal["draft", "submitted", "shortlisted", "funded", "awarded", "rejected", "withdrawn"]
Decision = Literal["submitted", "shortlisted", "funded", "awarded", "rejected"]


class TeamRef(Schema):
    id: int
    name: str


class IdeaOut(Schema):
    id: int
    title: str
    summary: str
    category: str | None
    status: str
    confidential: bool
    hidden: bool
    requested_budget_minor: int | None
    like_count: int
    comment_count: int
    version: int
    team: TeamRef
    submitted_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_category(obj: Idea) -> str | None:
        return obj.category.name if obj.category_id else None  # type: ignore[union-attr]


class IdeaPage(Page):
    items: list[IdeaOut]


class AnswerOut(Schema):
    key: str
    label: str
    value: str

    @staticmethod
    def resolve_key(obj: FieldAnswer) -> str:
        return obj.field.key

    @staticmethod
    def resolve_label(obj: FieldAnswer) -> str:
        return obj.field.label


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    content_type: str
    url: str = Field(description="Download link; it checks that the caller may see the idea.")
    created_at: datetime

    @staticmethod
    def resolve_url(obj: Attachment) -> str:
        return reverse("ideas:attachment", args=[obj.pk])


class MemberOut(Schema):
    user: UserRef
    role: str


class IdeaRights(Schema):
    """What the caller may do with this idea right now."""

    edit: bool
    submit: bool
    withdraw: bool
    view_history: bool
    decide_status: bool


class IdeaDetailOut(IdeaOut):
    challenge: str = Field(description="The challenge's slug.")
    body: str = Field(description="Markdown as written. Never insert it as HTML; use body_html.")
    body_html: str = Field(description="The body rendered from Markdown and sanitised.")
    hidden_reason: str
    terms_accepted_at: datetime | None
    answers: list[AnswerOut]
    attachments: list[AttachmentOut]
    members: list[MemberOut]
    you: IdeaRights

    @staticmethod
    def resolve_challenge(obj: Idea) -> str:
        return obj.challenge.slug

    @staticmethod
    def resolve_body_html(obj: Idea) -> str:
        return render_markdown(obj.body)

    @staticmethod
    def resolve_members(obj: Idea) -> list[TeamMember]:
        return list(obj.team.members.all())

    @staticmethod
    def resolve_you(obj: Idea) -> dict[str, bool]:
        return getattr(obj, "viewer_rights", {})


class IdeaFilters(FilterSchema):
    sort: Sort = "newest"
    category: str = Field("", max_length=60)
    status: StatusName | Literal[""] = ""
    q: str = Field("", max_length=200, description="Words in the title or summary.")


class IdeaIn(InSchema):
    title: str = Field(min_length=1, max_length=160)
    summary: str = Field(min_length=1, max_length=400)
    body: str = Field("", max_length=30000, description="Markdown; HTML is not rendered.")
    category: str = Field("", max_length=60, description="One of the challenge's categories, or empty.")
    requested_budget_minor: int | None = Field(None, ge=0, le=MAX_ID)
    confidential: bool = False
    answers: dict[FieldKey, AnswerValue] = Field(
        default_factory=dict, max_length=20, description="Custom field key → answer."
    )
    accept_terms: bool = Field(False, description="Required when the challenge has terms.")
    submit: bool = Field(False, description="Submit at once instead of saving a draft.")
    team_name: str = Field("", max_length=120)


class IdeaPatch(InSchema):
    """Fields left out keep their value; `answers` are merged key by key (a null answer clears it); null
    clears `body`, `category` and `requested_budget_minor`. Every change is a new version."""

    title: str = omittable(min_length=1, max_length=160)
    summary: str = omittable(min_length=1, max_length=400)
    body: str | None = Field(None, max_length=30000)
    category: str | None = Field(None, max_length=60)
    requested_budget_minor: int | None = Field(None, ge=0, le=MAX_ID)
    confidential: bool = omittable()
    answers: dict[FieldKey, AnswerValue] | None = Field(None, max_length=20)
    remove_attachments: list[Id] = Field(default_factory=list, max_length=50)


class SubmitIn(InSchema):
    accept_terms: bool = False


class DecisionIn(InSchema):
    status: Decision
    reason: str = Field("", max_length=300)


class VersionOut(Schema):
    number: int
    title: str
    summary: str
    body: str
    body_html: str
    data: dict[str, object]
    author: UserRef | None
    created_at: datetime

    @staticmethod
    def resolve_body_html(obj: IdeaVersion) -> str:
        return render_markdown(obj.body)


class VersionPage(Page):
    items: list[VersionOut]


class PositionOut(Schema):
    id: int
    title: str
    description: str
    skills: list[str]
    is_open: bool
    created_at: datetime

    @staticmethod
    def resolve_skills(obj: Position) -> list[str]:
        return [s.name for s in obj.skills.all()]


class OpenPositionOut(PositionOut):
    team: TeamRef
    idea: int | None
    idea_title: str | None
    challenge: str

    @staticmethod
    def resolve_idea(obj: Position) -> int | None:
        idea = getattr(obj.team, "idea", None)
        return idea.pk if idea is not None else None

    @staticmethod
    def resolve_idea_title(obj: Position) -> str | None:
        idea = getattr(obj.team, "idea", None)
        return idea.title if idea is not None else None

    @staticmethod
    def resolve_challenge(obj: Position) -> str:
        return obj.team.challenge.slug


class OpenPositionPage(Page):
    items: list[OpenPositionOut]


class PositionFilters(FilterSchema):
    skill: str = Field("", max_length=60, description="Only positions wanting this skill.")


class PositionIn(InSchema):
    title: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=2000)
    skills: list[SkillName] = Field(default_factory=list, max_length=30)


class JoinRequestOut(Schema):
    id: int
    team: TeamRef
    user: UserRef
    message: str
    status: str
    created_at: datetime


class TeamOut(Schema):
    id: int
    name: str
    description: str
    challenge: str
    idea: int | None
    members: list[MemberOut]
    positions: list[PositionOut]
    join_requests: list[JoinRequestOut] = Field(description="Pending requests; shown to the team lead only.")

    @staticmethod
    def resolve_challenge(obj: Team) -> str:
        return obj.challenge.slug

    @staticmethod
    def resolve_idea(obj: Team) -> int | None:
        idea = getattr(obj, "idea", None)
        return idea.pk if idea is not None else None

    @staticmethod
    def resolve_join_requests(obj: Team) -> list[object]:
        return list(getattr(obj, "pending_requests", []))


class InviteIn(InSchema):
    """Name the person by `user_id` or by `email` (they need an account)."""

    user_id: Id | None = None
    email: str | None = Field(None, max_length=254)


class InvitationOut(Schema):
    id: int
    team: TeamRef
    user: UserRef
    invited_by: UserRef | None
    status: str
    created_at: datetime


class MyInvitationOut(Schema):
    """An invitation addressed to the caller."""

    id: int
    team: TeamRef
    idea: int | None
    invited_by: UserRef | None
    status: str
    created_at: datetime

    @staticmethod
    def resolve_idea(obj: TeamInvitation) -> int | None:
        idea = getattr(obj.team, "idea", None)
        return idea.pk if idea is not None else None


class MyInvitationPage(Page):
    items: list[MyInvitationOut]


class JoinIn(InSchema):
    message: str = Field("", max_length=500)


class RespondIn(InSchema):
    accept: bool


class AttachmentList(Schema):
    items: list[AttachmentOut]


class MyIdeaOut(IdeaOut):
    challenge: str = Field(description="The challenge's slug.")
    challenge_title: str

    @staticmethod
    def resolve_challenge(obj: Idea) -> str:
        return obj.challenge.slug

    @staticmethod
    def resolve_challenge_title(obj: Idea) -> str:
        return obj.challenge.title


class MyIdeaPage(Page):
    items: list[MyIdeaOut]
