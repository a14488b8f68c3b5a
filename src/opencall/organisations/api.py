"""API for organisations: list, detail, members."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from opencall.accounts.api import page, visitor
from opencall.core.schemas import FilterSchema
from opencall.organisations import queries
from opencall.organisations.models import Organisation
from opencall.organisations.schemas import MemberPage, OrganisationOut, OrganisationPage

router = Router(tags=["organisations"])


@router.get("/organisations", response=OrganisationPage, summary="Organisations, by name")
def organisation_list(request: HttpRequest, filters: Query[FilterSchema]) -> dict[str, Any]:
    visitor(request)
    return page(filters, queries.organisations())


@router.get("/organisations/{slug:slug}", response=OrganisationOut, summary="One organisation")
def organisation_detail(request: HttpRequest, slug: str) -> Organisation:
    return queries.organisation_for(visitor(request), slug)


@router.get(
    "/organisations/{slug:slug}/members",
    response=MemberPage,
    summary="Members and their roles (for the organisation's members)",
)
def organisation_members(request: HttpRequest, slug: str, filters: Query[FilterSchema]) -> dict[str, Any]:
    who = visitor(request)
    return page(filters, queries.members_of(who, queries.organisation_for(who, slug)))
