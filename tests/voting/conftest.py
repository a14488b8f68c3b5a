from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from opencall.voting import actions
from opencall.voting.live.config import LiveConfig
from opencall.voting.live.http import LiveApp
from opencall.voting.queries import device_key
from opencall.voting.tokens import issue_token
from tests.factories import IdeaFactory


@pytest.fixture
def finalists(challenge):
    return [IdeaFactory(challenge=challenge, title=t, status="shortlisted") for t in ("Alpha", "Beta", "Gamma")]


@pytest.fixture
def live_vote(challenge, organiser, finalists):
    return actions.create_live_vote(
        challenge=challenge,
        by=organiser,
        title="Grand finale",
        finalist_ids=[f.pk for f in finalists],
        duration_seconds=300,
    )


@pytest.fixture
def open_vote(live_vote, organiser):
    return actions.open_live_vote(live_vote=live_vote, by=organiser)


def token_for(live_vote, *, user_id: int | None = None) -> str:
    return issue_token(device_key(), live_vote.pk, user_id=user_id)


def fastpath(**overrides: Any) -> LiveApp:
    config = dict(
        secret_key=str(settings.SECRET_KEY),
        database=dict(connection.settings_dict),
        flush_seconds=0.001,
        cache_seconds=0.0,
        ip_rate=(0.0, 0.0),
        token_rate=(0.0, 0.0),
    )
    config.update(overrides)
    return LiveApp(LiveConfig(**config))


async def request(
    app: LiveApp,
    method: str,
    path: str,
    body: Any = None,
    *,
    ip: str = "192.0.2.1",
    raw: bytes | None = None,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> tuple[int, dict[str, Any], dict[bytes, bytes]]:
    payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": list(headers),
        "client": (ip, 5000),
        "query_string": b"",
    }
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": payload, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    data = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], json.loads(data) if data else {}, dict(start["headers"])


def run(app: LiveApp, scenario) -> Any:
    async def wrapped() -> Any:
        try:
            return await scenario()
        finally:
            await app.shutdown()

    return asyncio.run(wrapped())
