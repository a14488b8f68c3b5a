"""An internal challenge and everything inside it stay within the organisation (and its named roles)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

SLUG = "staff-canteen"


@pytest.fixture
def strangers(participant, outsider, visitor, judge, moderator):
    # The personas' judge and moderator hold roles on the *public* challenge only.
    return {
        "participant": participant,
        "outsider": outsider,
        "visitor": visitor,
        "judge": judge,
        "moderator": moderator,
    }


def test_lists_search_and_home_leave_it_out(internal_idea, strangers, employee, as_user):
    for name, person in strangers.items():
        client = as_user(person)
        for url in ("/", "/challenges/", "/challenges/?q=canteen", "/challenges/?visibility=internal"):
            page = client.get(url).content.decode()
            assert "Staff canteen" not in page and "Canteen" not in page, (name, url)
        assert client.get("/api/challenges", {"q": "canteen"}).json()["count"] == 0, name
        assert client.get("/api/challenges", {"visibility": "internal"}).json()["count"] == 0, name
        page = client.get("/teams-looking/").content.decode()
        assert "Coffee engineer" not in page and "Robot barista" not in page, name
        assert [p["title"] for p in client.get("/api/positions").json()["items"]] == [], name
    client = as_user(employee)
    assert "Staff canteen" in client.get("/challenges/?q=canteen").content.decode()
    assert [p["title"] for p in client.get("/api/positions").json()["items"]] == ["Coffee engineer"]


def test_every_page_and_endpoint_inside_it_is_404(internal_idea, strangers, as_user):
    i = internal_idea.pk
    pages = [
        f"/challenges/{SLUG}/",
        f"/challenges/{SLUG}/ideas/",
        f"/ideas/{i}/",
        f"/ideas/{i}/comments/",
        f"/teams/{internal_idea.team_id}/",
        f"/challenges/{SLUG}/crowd-ranking/",
        f"/challenges/{SLUG}/budget-ballot/",
        f"/challenges/{SLUG}/results/",
        f"/challenges/{SLUG}/compare/",
    ]
    endpoints = [
        f"/api/challenges/{SLUG}",
        f"/api/challenges/{SLUG}/ideas",
        f"/api/ideas/{i}",
        f"/api/ideas/{i}/comments",
        f"/api/ideas/{i}/like",
        f"/api/teams/{internal_idea.team_id}",
        f"/api/challenges/{SLUG}/crowd-ranking",
        f"/api/challenges/{SLUG}/results",
        f"/api/challenges/{SLUG}/follow",
    ]
    for name, person in strangers.items():
        client = as_user(person)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 404, (name, url, response.status_code)
            body = response.content.decode()
            assert "Robot barista" not in body and "Espresso" not in body, (name, url)
        for url in endpoints:
            response = client.get(url)
            assert (response.status_code, response.json()["status"]) == (404, 404), (name, url)


def test_sponsor_members_see_it_and_stay_out_of_confidential(internal, internal_idea, other_org, outsider, as_user):
    internal.sponsors.add(other_org)
    client = as_user(outsider)
    assert client.get(f"/api/challenges/{SLUG}/ideas").json()["count"] == 1
    internal_idea.confidential = True
    internal_idea.save(update_fields=["confidential"])
    assert client.get(f"/api/challenges/{SLUG}/ideas").json()["count"] == 0
    assert client.get(f"/api/ideas/{internal_idea.pk}").status_code == 404
