"""Clients and assertions for API tests: session (with or without CSRF enforcement) and token callers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from opencall.accounts.actions import issue_token

PROBLEM = "application/problem+json"


class ApiClient:
    """A thin JSON wrapper over Django's test client; every response keeps `.json()`."""

    def __init__(self, client: Client, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}

    def _send(self, method: str, path: str, data: Any = None, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {"headers": {**self.headers, **extra.pop("headers", {})}}
        if data is not None:
            kwargs["data"] = data if isinstance(data, str | bytes) else json.dumps(data)
            kwargs["content_type"] = extra.pop("content_type", "application/json")
        elif method != "delete":
            kwargs["data"], kwargs["content_type"] = "", "application/json"  # no body at all
        kwargs.update(extra)
        return getattr(self.client, method)(path, **kwargs)

    def get(self, path: str, params: dict[str, Any] | None = None, **extra: Any) -> Any:
        return self.client.get(path, params or {}, headers={**self.headers, **extra.pop("headers", {})}, **extra)

    def post(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self._send("post", path, data, **extra)

    def patch(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self._send("patch", path, data, **extra)

    def put(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self._send("put", path, data, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self._send("delete", path, None, **extra)


def session_client(user: Any = None) -> ApiClient:
    client = Client()
    if user is not None and user.is_authenticated:
        client.force_login(user)
    return ApiClient(client)


def token_client(user: Any) -> ApiClient:
    _, clear = issue_token(user=user, label="tests")
    return ApiClient(Client(), {"Authorization": f"Bearer {clear}"})


@pytest.fixture
def api():
    """api(user) → a session client (CSRF not enforced, as Django's test client does); api() → anonymous."""
    return session_client


@pytest.fixture
def token_api():
    return token_client


def assert_problem(
    response: Any, status: int, code: str, *, detail: str | None = None, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"https://opencall.dev/problems/{code}"
    assert body["status"] == status
    assert body["title"]
    if detail is not None:
        assert body["detail"] == detail
    if errors is not None:
        assert body.get("errors") == errors
    return body


def iso(value: Any) -> str | None:
    """A datetime as the API writes it (Django's JSON encoder: milliseconds, Z for UTC)."""
    from django.core.serializers.json import DjangoJSONEncoder

    return None if value is None else DjangoJSONEncoder().default(value)
