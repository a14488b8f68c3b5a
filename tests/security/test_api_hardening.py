"""Issue 13, finding 8 (API): every answer under /api/ is problem+json, what the OpenAPI document declares
nullable accepts null (and what refuses null is not declared so), and JSON bodies take booleans and
numbers only as such."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client, override_settings

from opencall.challenges.models import Challenge
from opencall.core.middleware import TimezoneMiddleware
from opencall.ideas.models import Idea
from tests.api.conftest import PROBLEM, token_client

pytestmark = pytest.mark.django_db

PROBLEMS = "https://opencall.dev/problems/"


def problem_of(response: Any) -> tuple[int, dict[str, Any]]:
    assert response["Content-Type"] == PROBLEM, response.content[:300]
    return response.status_code, json.loads(response.content)


def session(user: Any) -> Client:
    """A signed-in browser whose writes Django checks for a CSRF token, as a real one's are."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


# Every error under /api/ is problem+json -------------------------------------------------------


def test_session_write_without_csrf_to_an_unmatched_path_is_a_404_problem(participant, challenge):
    # `éx` is no slug, so no endpoint matches; the answer was Django's HTML CSRF page.
    response = session(participant).post("/api/challenges/%C3%A9x/follow")
    assert problem_of(response) == (
        404,
        {
            "type": PROBLEMS + "no-such-endpoint",
            "title": "Not found",
            "status": 404,
            "detail": "There is no API endpoint at /api/challenges/éx/follow.",
        },
    )


CSRF_REFUSED = {
    "type": PROBLEMS + "permission-denied",
    "title": "Permission denied",
    "status": 403,
    "detail": "CSRF check failed: send the X-CSRFToken header with session requests.",
}


def test_a_refused_csrf_check_is_a_problem_under_api_and_the_usual_page_elsewhere(participant):
    client = session(participant)
    assert problem_of(client.post("/api/")) == (403, CSRF_REFUSED)
    assert problem_of(client.post("/api/docs/assets/favicon.png")) == (403, CSRF_REFUSED)
    page = client.post("/profile/edit/", {"display_name": "Mallory"})
    assert (page.status_code, page["Content-Type"]) == (403, "text/html; charset=utf-8")
    assert b"CSRF verification failed" in page.content
    participant.refresh_from_db()
    assert participant.display_name == "Paula Participant"


def test_a_disallowed_host_is_a_problem_under_api_and_the_usual_page_elsewhere(client):
    response = client.get("/api/challenges", HTTP_HOST="attacker.example")
    assert problem_of(response) == (
        400,
        {
            "type": PROBLEMS + "bad-request",
            "title": "Bad request",
            "status": 400,
            "detail": "The Host header names a site this server does not serve.",
        },
    )
    page = client.get("/", HTTP_HOST="attacker.example")
    assert (page.status_code, page["Content-Type"]) == (400, "text/html; charset=utf-8")
    assert b"<h1>Bad Request (400)</h1>" in page.content


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_too_large_for_the_csrf_middleware_is_a_413_problem():
    # The CSRF middleware reads a form body before any API view runs, so ninja's own 413 never sees it.
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = _get_new_csrf_string()
    response = client.post("/api/", "x=" + "y" * 2000, content_type="application/x-www-form-urlencoded")
    assert problem_of(response) == (
        413,
        {
            "type": PROBLEMS + "too-large",
            "title": "Request too large",
            "status": 413,
            "detail": "The request body is larger than the server accepts.",
        },
    )


def test_an_exception_in_a_middleware_is_a_bare_500_problem(monkeypatch):
    def broken(self: Any, request: Any) -> Any:
        raise RuntimeError("cache on fire")

    monkeypatch.setattr(TimezoneMiddleware, "__call__", broken)
    client = Client(raise_request_exception=False)
    response = client.get("/api/challenges")
    assert problem_of(response) == (
        500,
        {
            "type": PROBLEMS + "server-error",
            "title": "Server error",
            "status": 500,
            "detail": "Something went wrong on our side; it has been logged.",
        },
    )
    page = client.get("/")
    assert (page.status_code, page["Content-Type"]) == (500, "text/html; charset=utf-8")


@override_settings(DEBUG=True)
def test_debug_technical_pages_never_reach_api_clients(client):
    response = client.get("/api/challenges", HTTP_HOST="attacker.example")
    assert problem_of(response) == (
        400,
        {
            "type": PROBLEMS + "http-error",
            "title": "Bad request",
            "status": 400,
            "detail": "The request could not be handled (HTTP 400).",
        },
    )
    assert b"Traceback" not in response.content


# Nullable in the document <=> null accepted ----------------------------------------------------


def test_patch_fields_that_cannot_be_cleared_are_not_declared_nullable(client):
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]
    assert schemas["ChallengePatch"]["properties"]["title"] == {
        "maxLength": 160,
        "minLength": 1,
        "title": "Title",
        "type": "string",
    }
    assert schemas["IdeaPatch"]["properties"]["confidential"] == {"title": "Confidential", "type": "boolean"}
    refusing_null = {
        "ChallengePatch": ["categories", "currency", "summary", "title", "visibility"],
        "IdeaPatch": ["confidential", "summary", "title"],
    }
    for name, fields in refusing_null.items():
        for field in fields:
            declared = schemas[name]["properties"][field]
            assert "anyOf" not in declared and "default" not in declared, (name, field, declared)


def test_every_nullable_request_field_accepts_null(client, organiser, challenge, idea, team_member):
    schemas = client.get("/api/openapi.json").json()["components"]["schemas"]

    def nullable(name: str) -> list[str]:
        return sorted(
            field
            for field, declared in schemas[name]["properties"].items()
            if {"type": "null"} in declared.get("anyOf", [])
        )

    assert nullable("ChallengePatch") == ["budget_minor", "description", "terms"]
    response = token_client(organiser).patch(
        f"/api/challenges/{challenge.slug}", {"budget_minor": None, "description": None, "terms": None}
    )
    assert response.status_code == 200, response.content
    assert Challenge.objects.values_list("budget_minor", "description", "terms").get(pk=challenge.pk) == (
        None,
        "",
        "",
    )

    assert nullable("IdeaPatch") == ["answers", "body", "category", "requested_budget_minor"]
    response = token_client(team_member).patch(
        f"/api/ideas/{idea.pk}", {"answers": None, "body": None, "category": None, "requested_budget_minor": None}
    )
    assert response.status_code == 200, response.content
    assert Idea.objects.values_list("body", "category", "requested_budget_minor").get(pk=idea.pk) == ("", None, None)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/challenges/green-packaging", {"title": None}, "title"),
        ("/api/challenges/green-packaging", {"visibility": None}, "visibility"),
        ("/api/challenges/green-packaging", {"categories": None}, "categories"),
    ],
)
def test_null_for_a_field_that_cannot_be_cleared_is_refused_naming_it(organiser, challenge, path, body, field):
    response = token_client(organiser).patch(path, body)
    assert problem_of(response) == (
        422,
        {
            "type": PROBLEMS + "invalid-input",
            "title": "Invalid input",
            "status": 422,
            "detail": f"Check these fields: {field}.",
            "errors": {field: ["This field cannot be null."]},
        },
    )


# Strict JSON scalars ---------------------------------------------------------------------------


NEW_IDEA = {"title": "Kelp wrap", "summary": "Packaging from seaweed."}
NOT_A_BOOLEAN = "Input should be a valid boolean"
NOT_AN_INTEGER = "Input should be a valid integer"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("confidential", "true", NOT_A_BOOLEAN),
        ("confidential", 1, NOT_A_BOOLEAN),
        ("submit", 0, NOT_A_BOOLEAN),
        ("accept_terms", "0", NOT_A_BOOLEAN),
        ("requested_budget_minor", "0", NOT_AN_INTEGER),
        ("requested_budget_minor", True, NOT_AN_INTEGER),
        ("requested_budget_minor", 12.0, NOT_AN_INTEGER),
    ],
)
def test_idea_booleans_and_numbers_are_not_coerced(participant, challenge, field, value, message):
    response = token_client(participant).post(f"/api/challenges/{challenge.slug}/ideas", {**NEW_IDEA, field: value})
    assert problem_of(response) == (
        422,
        {
            "type": PROBLEMS + "invalid-input",
            "title": "Invalid input",
            "status": 422,
            "detail": f"Check these fields: {field}.",
            "errors": {field: [message]},
        },
    )
    assert not Idea.objects.filter(title="Kelp wrap").exists()


@pytest.mark.parametrize(
    ("method", "path", "body", "errors"),
    [
        ("put", "/api/reviews/assignments/1", {"scores": {"3": "4"}}, {"scores.3": [NOT_AN_INTEGER]}),
        ("put", "/api/reviews/assignments/1", {"scores": {"3": True}}, {"scores.3": [NOT_AN_INTEGER]}),
        ("put", "/api/reviews/assignments/1", {"scores": {"3": 4}, "final": 1}, {"final": [NOT_A_BOOLEAN]}),
        ("put", "/api/challenges/green-packaging/pairwise-settings", {"enabled": "true"}, {"enabled": [NOT_A_BOOLEAN]}),
        (
            "put",
            "/api/challenges/green-packaging/budget-ballot",
            {"choices": [{"idea": 1, "points": True}]},
            {"choices.0.points": [NOT_AN_INTEGER]},
        ),
        ("post", "/api/moderation/reports/1/resolve", {"hide": "0"}, {"hide": [NOT_A_BOOLEAN]}),
        ("post", "/api/team-invitations/1/respond", {"accept": 1}, {"accept": [NOT_A_BOOLEAN]}),
        ("post", "/api/notifications/read", {"ids": ["7"]}, {"ids.0": [NOT_AN_INTEGER]}),
    ],
)
def test_scores_points_and_flags_are_not_coerced(organiser, challenge, method, path, body, errors):
    response = getattr(token_client(organiser), method)(path, body)
    status, problem = problem_of(response)
    assert (status, problem["errors"]) == (422, errors)


def test_well_typed_bodies_and_lax_query_strings_still_work(participant, challenge):
    client = token_client(participant)
    response = client.post(
        f"/api/challenges/{challenge.slug}/ideas", {**NEW_IDEA, "confidential": True, "requested_budget_minor": 0}
    )
    assert response.status_code == 201, response.content
    assert (response.json()["confidential"], response.json()["requested_budget_minor"]) == (True, 0)
    listed = client.get("/api/notifications", {"unread": "true", "limit": "5"})
    assert (listed.status_code, listed.json()["limit"]) == (200, 5)


def test_broken_utf8_and_overlong_ids_in_the_path_are_problems(client):
    response = client.get("/api/challenges/%FF/follow")
    assert problem_of(response) == (
        404,
        {
            "type": PROBLEMS + "no-such-endpoint",
            "title": "Not found",
            "status": 404,
            "detail": "There is no API endpoint at /api/challenges/%FF/follow.",
        },
    )
    status, body = problem_of(client.get("/api/challenges/green-packaging/allocations/" + "9" * 40 + "/recount"))
    assert (status, body["errors"]) == (
        422,
        {"allocation_id": ["Input should be less than or equal to 9223372036854775807"]},
    )
