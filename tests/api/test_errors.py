"""Every way a call can go wrong answers application/problem+json with a clear detail, never a 500."""

from __future__ import annotations

import pytest
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
from django.test import Client

from opencall.accounts.actions import issue_token, revoke_token
from tests.api.conftest import PROBLEM, assert_problem, token_client

pytestmark = pytest.mark.django_db


def test_unknown_route_under_api_is_a_problem(api):
    body = assert_problem(api().get("/api/no/such/thing"), 404, "no-such-endpoint")
    assert body["detail"] == "There is no API endpoint at /api/no/such/thing."


def test_unknown_route_with_post_is_a_problem_too(api):
    assert_problem(api().post("/api/nothing-here", {"a": 1}), 404, "no-such-endpoint")


def test_index_names_the_documents(api):
    response = api().get("/api/")
    assert response.status_code == 200
    assert response.json() == {
        "title": "Opencall API",
        "version": "1",
        "openapi": "/api/openapi.json",
        "docs": "/api/docs",
    }


def test_wrong_method_is_405_with_allow_header(api, participant):
    response = api(participant).put("/api/me", {"bio": "x"})
    body = assert_problem(response, 405, "method-not-allowed")
    assert body["detail"] == "PUT is not allowed here; use GET, PATCH."
    assert response["Allow"] == "GET, PATCH"


def test_malformed_json_is_400(api, participant):
    response = api(participant).patch("/api/me", '{"display_name": "Paula"')
    assert_problem(response, 400, "malformed-body", detail="The request body is not valid JSON.")


def test_json_that_is_not_an_object_is_422(api, participant):
    response = api(participant).patch("/api/me", "[1, 2]")
    body = assert_problem(response, 422, "invalid-input")
    assert list(body["errors"]) == ["body"]


def test_wrong_type_missing_and_unknown_fields_are_listed_per_field(api, participant):
    response = api(participant).post("/api/me/tokens", {"lable": "x"})
    assert_problem(
        response,
        422,
        "invalid-input",
        detail="Check these fields: label, lable.",
        errors={"label": ["This field is required."], "lable": ["Unknown field."]},
    )
    response = api(participant).post("/api/me/tokens", {"label": 42})
    assert_problem(response, 422, "invalid-input", errors={"label": ["Input should be a valid string"]})


def test_too_long_string_is_422_and_nothing_saved(api, participant):
    response = api(participant).patch("/api/me", {"display_name": "x" * 81})
    assert_problem(
        response, 422, "invalid-input", errors={"display_name": ["String should have at most 80 characters"]}
    )
    participant.refresh_from_db()
    assert participant.display_name == "Paula Participant"


def test_nul_characters_are_refused_not_a_database_error(api, participant):
    message = ["Value error, must not contain NUL characters or unpaired surrogates"]
    response = api(participant).patch("/api/me", {"bio": "a\x00b"})
    assert_problem(response, 422, "invalid-input", errors={"bio": message})
    response = api(participant).patch("/api/me", '{"display_name": "x\\ud800y"}')
    assert_problem(response, 422, "invalid-input", errors={"display_name": message})
    response = api().get("/api/challenges", {"q": "a\x00b"})
    assert_problem(response, 422, "invalid-input", errors={"q": message})


def test_out_of_range_ids_and_query_values_are_422(api):
    assert_problem(
        api().get("/api/ideas/99999999999999999999"),
        422,
        "invalid-input",
        errors={"idea_id": ["Input should be less than or equal to 9223372036854775807"]},
    )
    assert_problem(
        api().get("/api/ideas/abc"),
        422,
        "invalid-input",
        errors={"idea_id": ["Input should be a valid integer, unable to parse string as an integer"]},
    )
    assert_problem(
        api().get("/api/challenges", {"limit": 1000}),
        422,
        "invalid-input",
        errors={"limit": ["Input should be less than or equal to 100"]},
    )
    assert_problem(
        api().get("/api/challenges", {"offset": -1}),
        422,
        "invalid-input",
        errors={"offset": ["Input should be greater than or equal to 0"]},
    )


def test_anonymous_write_is_401_with_www_authenticate(api):
    response = api().post("/api/me/tokens", {"label": "ci"})
    assert_problem(response, 401, "not-authenticated", detail="Sign in or send a personal API token.")
    assert response["WWW-Authenticate"] == 'Bearer realm="opencall"'


def test_bad_scheme_and_unknown_token_are_401(api):
    response = api().get("/api/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(response, 401, "not-authenticated", detail="Use 'Authorization: Bearer <token>'.")
    response = api().get("/api/challenges", headers={"Authorization": "Bearer oc_nope"})
    assert_problem(response, 401, "not-authenticated", detail="The API token is unknown or revoked.")


def test_token_authenticates_and_revoked_token_does_not(participant):
    token, clear = issue_token(user=participant, label="ci")
    client = Client(headers={"Authorization": f"Bearer {clear}"})
    assert client.get("/api/me").json()["email"] == "paula@example.org"
    revoke_token(token_id=token.pk, by=participant)
    response = client.get("/api/me")
    assert_problem(response, 401, "not-authenticated", detail="The API token is unknown or revoked.")


def test_token_writes_need_no_csrf(participant):
    client = token_client(participant)
    client.client = Client(enforce_csrf_checks=True, headers=client.headers)
    response = client.patch("/api/me", {"bio": "Hello"})
    assert response.status_code == 200
    assert response.json()["bio"] == "Hello"


def test_session_writes_need_the_csrf_token(participant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(participant)
    response = client.patch("/api/me", '{"bio": "Hi"}', content_type="application/json")
    assert_problem(
        response,
        403,
        "permission-denied",
        detail="CSRF check failed: send the X-CSRFToken header with session requests.",
    )
    participant.refresh_from_db()
    assert participant.bio == ""
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    response = client.patch(
        "/api/me",
        '{"bio": "Hi"}',
        content_type="application/json",
        headers={"X-CSRFToken": _mask_cipher_secret(secret)},
    )
    assert response.status_code == 200
    assert response.json()["bio"] == "Hi"


def test_session_reads_need_no_csrf(participant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(participant)
    assert client.get("/api/me").json()["display_name"] == "Paula Participant"


def test_problem_content_type_on_domain_errors(api, participant):
    response = api(participant).delete("/api/me/tokens/12345")
    assert response["Content-Type"] == PROBLEM
    assert_problem(response, 404, "not-found", detail="No such token.")


def test_oversized_body_is_413(api, participant):
    from django.test import override_settings

    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = api(participant).patch("/api/me", {"bio": "x" * 1500})
    assert_problem(response, 413, "too-large", detail="The request body is larger than the server accepts.")
    participant.refresh_from_db()
    assert participant.bio == ""


def test_unexpected_errors_are_a_bare_500_problem(api, monkeypatch):
    from opencall.challenges import queries

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(queries, "challenge_cards", broken)
    response = api().get("/api/challenges")
    body = assert_problem(response, 500, "server-error")
    assert body["detail"] == "Something went wrong on our side; it has been logged."
    assert b"fire" not in response.content


def test_head_is_get_without_a_body(api, challenge):
    get = api().get("/api/challenges")
    head = api().client.head("/api/challenges")
    assert (head.status_code, head.content) == (200, b"")
    assert head["Content-Length"] == str(len(get.content))
    assert head["Content-Type"] == "application/json; charset=utf-8"
