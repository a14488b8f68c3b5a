"""Organisations through the API."""

from __future__ import annotations

import pytest

from opencall.organisations.models import Membership
from tests.api.conftest import assert_problem, iso

pytestmark = pytest.mark.django_db


def test_list_and_detail(api, organiser, employee, other_org):
    org = organiser.memberships.get().organisation
    org.description = "We sell *things*."
    org.save()
    listed = api().get("/api/organisations").json()
    assert listed == {
        "count": 2,
        "limit": 20,
        "offset": 0,
        "items": [
            {
                "slug": "contoso",
                "name": "Contoso Labs",
                "description": "",
                "description_html": "",
                "website": "",
                "member_count": 0,
            },
            {
                "slug": "northwind",
                "name": "Northwind Retail",
                "description": "We sell *things*.",
                "description_html": "<p>We sell <em>things</em>.</p>\n",
                "website": "",
                "member_count": 2,
            },
        ],
    }
    assert api().get("/api/organisations/northwind").json() == listed["items"][1]
    assert_problem(api().get("/api/organisations/nope"), 404, "not-found", detail="No such organisation.")


def test_members_are_listed_to_members_only(api, organiser, employee, outsider):
    owner = Membership.objects.get(user=organiser)
    member = Membership.objects.get(user=employee)
    body = api(employee).get("/api/organisations/northwind/members").json()
    assert body == {
        "count": 2,
        "limit": 20,
        "offset": 0,
        "items": [
            {
                "id": member.pk,
                "user": {"id": employee.pk, "display_name": "Evan Employee"},
                "role": "member",
                "joined_at": iso(member.created_at),
            },
            {
                "id": owner.pk,
                "user": {"id": organiser.pk, "display_name": "Olivia Organiser"},
                "role": "owner",
                "joined_at": iso(owner.created_at),
            },
        ],
    }
    assert_problem(
        api(outsider).get("/api/organisations/northwind/members"),
        403,
        "permission-denied",
        detail="Only the organisation's members see its member list.",
    )
    assert_problem(api().get("/api/organisations/northwind/members"), 403, "permission-denied")


def test_slug_with_odd_characters_is_a_404_problem(api):
    assert_problem(api().get("/api/organisations/a%20b"), 404, "no-such-endpoint")
