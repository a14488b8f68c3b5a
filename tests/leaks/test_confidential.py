"""Where a confidential idea must not show up for people outside its team, organisers and judges."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

SLUG = "green-packaging"


@pytest.fixture
def outsiders(participant, outsider, employee, moderator, visitor):
    # A plain employee of the organising organisation and a challenge moderator are not entitled either.
    return {
        "participant": participant,
        "outsider": outsider,
        "employee": employee,
        "moderator": moderator,
        "visitor": visitor,
    }


@pytest.fixture
def insiders(organiser, judge, secret_lead):
    return {"organiser": organiser, "judge": judge, "team": secret_lead}


def _titles(response) -> list[str]:
    return [item["title"] for item in response.json()["items"]]


def test_idea_list_page_and_api(secret, outsiders, insiders, as_user):
    for name, person in outsiders.items():
        client = as_user(person)
        page = client.get(f"/challenges/{SLUG}/ideas/").content.decode()
        assert "Mushroom foam" in page and "Secret sauce" not in page, name
        assert _titles(client.get(f"/api/challenges/{SLUG}/ideas")) == ["Mushroom foam"], name
    for name, person in insiders.items():
        client = as_user(person)
        assert "Secret sauce" in client.get(f"/challenges/{SLUG}/ideas/").content.decode(), name
        assert sorted(_titles(client.get(f"/api/challenges/{SLUG}/ideas"))) == ["Mushroom foam", "Secret sauce"]


def test_search_by_its_title_finds_nothing(secret, outsiders, as_user):
    for name, person in outsiders.items():
        client = as_user(person)
        assert client.get(f"/api/challenges/{SLUG}/ideas", {"q": "sauce"}).json()["count"] == 0, name
        page = client.get(f"/challenges/{SLUG}/ideas/", {"q": "sauce"}).content.decode()
        assert "Secret sauce" not in page and "Only for the jury" not in page, name


def test_idea_page_api_comments_likes_and_attachment_are_404(secret, outsiders, insiders, as_user):
    attachment = secret.attachments.get()
    for name, person in outsiders.items():
        client = as_user(person)
        assert client.get(f"/ideas/{secret.pk}/").status_code == 404, name
        assert client.get(f"/api/ideas/{secret.pk}").json()["status"] == 404, name
        comments = client.get(f"/api/ideas/{secret.pk}/comments")
        assert (comments.status_code, comments.json()["status"]) == (404, 404), name
        assert "vault" not in client.get(f"/ideas/{secret.pk}/comments/").content.decode(), name
        assert client.get(f"/api/ideas/{secret.pk}/like").status_code == 404, name
        assert client.get(f"/attachments/{attachment.pk}/").status_code == 404, name
        assert client.get(f"/teams/{secret.team_id}/").status_code == 404, name
        assert client.get(f"/api/teams/{secret.team_id}").status_code == 404, name
    for name, person in insiders.items():
        client = as_user(person)
        response = client.get(f"/attachments/{attachment.pk}/")
        assert (response.status_code, b"".join(response.streaming_content)) == (200, b"recipe"), name
        assert [c["body"] for c in client.get(f"/api/ideas/{secret.pk}/comments").json()["items"]] == [
            "Recipe stays in the vault"
        ], name


def test_positions_page_and_api(secret, outsiders, as_user):
    for name, person in outsiders.items():
        client = as_user(person)
        page = client.get("/teams-looking/").content.decode()
        assert "Mycologist" in page and "Sauce chemist" not in page and "Secret sauce" not in page, name
        assert [p["title"] for p in client.get("/api/positions").json()["items"]] == ["Mycologist"], name


def test_profile_of_its_lead(secret, outsiders, as_user, secret_lead):
    for name, person in outsiders.items():
        page = as_user(person).get(f"/people/{secret_lead.pk}/").content.decode()
        assert "Sam Secret" in page and "Secret sauce" not in page, name


def test_crowd_ranking_page_and_api(secret, outsiders, insiders, as_user):
    for name, person in {**outsiders, **insiders}.items():
        client = as_user(person)
        ranking = client.get(f"/api/challenges/{SLUG}/crowd-ranking").json()
        assert [row["title"] for row in ranking["items"]] == ["Mushroom foam"], name
        page = client.get(f"/challenges/{SLUG}/crowd-ranking/").content.decode()
        assert "Mushroom foam" in page and "Secret sauce" not in page, name


def test_budget_ballot_offers_it_to_nobody(secret, challenge, outsiders, insiders, as_user):
    challenge.phase = "funding"
    challenge.save(update_fields=["phase"])
    for name, person in {**outsiders, **insiders}.items():
        page = as_user(person).get(f"/challenges/{SLUG}/budget-ballot/").content.decode()
        assert "Mushroom foam" in page and "Secret sauce" not in page, name
    response = as_user(outsiders["participant"]).put(
        f"/api/challenges/{SLUG}/budget-ballot", {"choices": [{"idea": secret.pk}]}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"]["choices"] == [f"Not on this ballot: {secret.pk}."]


def test_challenge_dashboard_is_for_organisers_only(secret, outsiders, as_user):
    for name, person in outsiders.items():
        response = as_user(person).get(f"/dashboard/{SLUG}/")
        assert response.status_code in (302, 403), name
        assert "Secret sauce" not in response.content.decode(), name
