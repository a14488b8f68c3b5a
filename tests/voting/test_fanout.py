"""Live counts out through Redis, against the Redis server on 127.0.0.1:6379 (database 5, the
only one these tests touch), and the configuration the fast path reads from settings."""

from __future__ import annotations

import asyncio
import os

import pytest
from django.test import override_settings

from opencall.voting.live.config import LiveConfig
from opencall.voting.live.fanout import RedisFanout
from opencall.voting.live.store import BatchResult
from tests.voting.conftest import fastpath, request, run, token_for

REDIS_URL = "redis://127.0.0.1:6379/5"


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis server on 127.0.0.1:6379")


def test_redis_fanout_owns_its_keys_moves_counters_and_announces() -> None:
    _redis_or_skip()
    live_vote_id = 900_000 + os.getpid()  # apart from any other test process's keys

    async def scenario():
        fanout = RedisFanout.from_url(REDIS_URL)
        client = fanout.redis
        key = RedisFanout.counts_key(live_vote_id)
        await client.delete(key)
        listener = client.pubsub()
        await listener.subscribe(RedisFanout.channel(live_vote_id))
        try:
            await fanout.publish(
                BatchResult(
                    ["new", "new", "change"], {live_vote_id: {1: 2, 2: -1, 3: 1}}, {live_vote_id: 2}, {live_vote_id: 3}
                )
            )
            message = None
            for _ in range(10):  # the first read may be the subscription's own confirmation
                message = await listener.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is not None:
                    break
            first = await fanout.counts(live_vote_id)
            await fanout.publish(BatchResult(["new"], {live_vote_id: {2: 1}}, {live_vote_id: 1}, {live_vote_id: 1}))
            second = await fanout.counts(live_vote_id)
            keys = sorted(k.decode() for k in await client.keys(f"{RedisFanout.PREFIX}{live_vote_id}*"))
            ttl = await client.ttl(key)
            return message, first, second, keys, ttl
        finally:
            await listener.aclose()
            await client.delete(key)
            await fanout.aclose()

    message, first, second, keys, ttl = asyncio.run(scenario())
    assert message is not None
    assert message["channel"] == f"opencall:live:{live_vote_id}".encode() and message["data"] == b"1"
    assert first == ({1: 2, 2: -1, 3: 1}, 2, 3)
    assert second == ({1: 2, 2: 0, 3: 1}, 3, 4)
    assert keys == [f"opencall:live:{live_vote_id}:counts"]
    assert 0 < ttl <= 7 * 24 * 3600


def test_redis_subscription_wakes_on_a_batch() -> None:
    _redis_or_skip()
    live_vote_id = 800_000 + os.getpid()

    async def scenario():
        fanout = RedisFanout.from_url(REDIS_URL)
        subscription = await fanout.subscribe(live_vote_id)
        try:
            await subscription.wait(1)  # reads the subscription's confirmation
            waiting = asyncio.ensure_future(subscription.wait(30))
            await asyncio.sleep(0.2)
            before = waiting.done()
            fanout.committed(BatchResult(["new"], {live_vote_id: {1: 1}}, {live_vote_id: 1}, {live_vote_id: 1}))
            await asyncio.wait_for(waiting, 10)  # well before the 30 s it would wait otherwise
            return before
        finally:
            await subscription.close()
            await fanout.redis.delete(RedisFanout.counts_key(live_vote_id))
            await fanout.aclose()

    assert asyncio.run(scenario()) is False


@pytest.mark.django_db(transaction=True)
def test_votes_through_the_fast_path_count_in_redis(open_vote, finalists) -> None:
    """With REDIS_URL set, a committed vote moves the Redis counters and the state route reads them."""
    _redis_or_skip()
    app = fastpath(redis_url=REDIS_URL)
    key = RedisFanout.counts_key(open_vote.pk)

    async def scenario():
        await request(app, "GET", "/live/api/ping")  # sets the app up
        assert isinstance(app.fanout, RedisFanout)
        await app.fanout.redis.delete(key)
        body = {"token": token_for(open_vote), "idea": finalists[1].pk, "vote_id": "vote-redis-1", "seq": 1}
        vote = await request(app, "POST", f"/live/api/{open_vote.code}/vote", body)
        for _ in range(50):  # the counters move right after the batch is answered
            if await app.fanout.redis.hget(key, "turnout") == b"1":
                break
            await asyncio.sleep(0.05)
        state = await request(app, "GET", f"/live/api/{open_vote.code}")
        await app.fanout.redis.delete(key)
        return vote, state

    vote, state = run(app, scenario)
    assert vote[0] == 200 and vote[1]["status"] == "recorded"
    assert state[0] == 200
    assert state[1]["counts"] == {str(finalists[0].pk): 0, str(finalists[1].pk): 1, str(finalists[2].pk): 0}
    assert state[1]["turnout"] == 1 and state[1]["state"] == "open"


@override_settings(
    OPENCALL_LIVE_FLUSH_MS=7.5,
    OPENCALL_LIVE_MAX_BATCH=123,
    OPENCALL_LIVE_RATE_IP=(10.0, 20.0),
    OPENCALL_LIVE_RATE_TOKEN=(0.0, 0.0),
    OPENCALL_LIVE_TRUSTED_PROXIES=["10.0.0.1"],
    OPENCALL_LIVE_ALLOWED_ORIGINS=["https://example.org"],
    REDIS_URL="redis://127.0.0.1:6379/5",
)
def test_the_fast_path_reads_its_settings() -> None:
    config = LiveConfig.from_settings()
    assert config.flush_seconds == 0.0075 and config.max_batch == 123
    assert config.ip_rate == (10.0, 20.0) and config.token_rate == (0.0, 0.0)
    assert config.trusted_proxies == frozenset({"10.0.0.1"})
    assert config.allowed_origins == frozenset({"https://example.org"})
    assert config.redis_url == "redis://127.0.0.1:6379/5"


def test_live_rates_from_the_environment(monkeypatch) -> None:
    from opencall.config.settings.base import live_rate

    monkeypatch.setenv("OPENCALL_LIVE_RATE_IP", "50")
    assert live_rate("OPENCALL_LIVE_RATE_IP", "200,400") == (50.0, 50.0)
    monkeypatch.setenv("OPENCALL_LIVE_RATE_IP", "off")
    assert live_rate("OPENCALL_LIVE_RATE_IP", "200,400") == (0.0, 0.0)
    monkeypatch.delenv("OPENCALL_LIVE_RATE_IP")
    assert live_rate("OPENCALL_LIVE_RATE_IP", "200,400") == (200.0, 400.0)
