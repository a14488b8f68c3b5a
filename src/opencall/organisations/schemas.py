"""JSON shapes for organisations and their members."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from opencall.accounts.schemas import UserRef
from opencall.core.markdown import render_markdown
from opencall.core.schemas import Page
from opencall.organisations.models import Organisation


class OrganisationRef(Schema):
    slug: str
    name: str


class OrganisationOut(OrganisationRef):
    description: str
    description_html: str = Field(description="The description rendered from Markdown and sanitised.")
    website: str
    member_count: int

    @staticmethod
    def resolve_description_html(obj: Organisation) -> str:
        return render_markdown(obj.description)


class OrganisationPage(Page):
    items: list[OrganisationOut]


class MemberOut(Schema):
    id: int
    user: UserRef
    role: str
    joined_at: datetime = Field(alias="created_at")


class MemberPage(Page):
    items: list[MemberOut]
