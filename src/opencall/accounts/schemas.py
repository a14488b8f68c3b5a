"""JSON shapes for people, tokens and notifications."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from opencall.accounts.models import Notification, User
from opencall.accounts.names import clean_display_name
from opencall.core.markdown import render_markdown
from opencall.core.schemas import FilterSchema, Id, InSchema, Page


class UserRef(Schema):
    """A person as others see them next to their content: never the email address."""

    id: int
    display_name: str

    @staticmethod
    def resolve_display_name(obj: User) -> str:
        return str(obj)


class ProfileOut(UserRef):
    bio: str
    bio_html: str = Field(description="The bio rendered from Markdown and sanitised.")
    skills: list[str]
    languages: str

    @staticmethod
    def resolve_bio_html(obj: User) -> str:
        return render_markdown(obj.bio)

    @staticmethod
    def resolve_skills(obj: User) -> list[str]:
        return [s.name for s in obj.skills.all()]


class MeOut(ProfileOut):
    email: str
    timezone: str
    is_moderator: bool


class ProfileIn(InSchema):
    """Fields left out keep their value."""

    display_name: str | None = Field(None, max_length=80)
    bio: str | None = Field(None, max_length=2000)
    skills: list[str] | None = Field(None, max_length=30)
    languages: str | None = Field(None, max_length=200)
    timezone: str | None = Field(None, max_length=64, description="An IANA zone such as Europe/Berlin.")

    @field_validator("display_name")
    @classmethod
    def _visible_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return clean_display_name(value)
        except ValueError as exc:
            # A custom error keeps the message as written (a plain ValueError gets "Value error, " in front).
            raise PydanticCustomError("display_name", "{message}", {"message": str(exc)}) from exc


class TokenOut(Schema):
    id: int
    label: str
    prefix: str = Field(description="The token's first characters, to recognise it.")
    created_at: datetime
    last_used_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The token itself. It is shown only this once.")


class TokenIn(InSchema):
    label: str = Field(min_length=1, max_length=80)


class TokenPage(Page):
    items: list[TokenOut]


class NotificationOut(Schema):
    id: int
    kind: str
    text: str
    url: str
    created_at: datetime
    read: bool

    @staticmethod
    def resolve_read(obj: Notification) -> bool:
        return obj.read_at is not None


class NotificationPage(Page):
    items: list[NotificationOut]


class NotificationFilters(FilterSchema):
    unread: bool = Field(False, description="Only unread notifications.")


class UnreadOut(Schema):
    unread: int


class MarkReadIn(InSchema):
    ids: list[Id] | None = Field(None, max_length=500, description="Leave out to mark all as read.")


class MarkedOut(Schema):
    marked: int
    unread: int
