"""Live counts out to the projectors and voter pages: after each committed batch, and on demand.

Two implementations of one interface (`Fanout`):

- `LocalFanout`, one worker's memory: a batch wakes that worker's scoreboards, which read the
  counters from the database (every worker's scoreboards poll as well, so a batch written by
  another worker shows within one wait);
- `RedisFanout` (REDIS_URL set): every batch moves running counters in a Redis hash and publishes
  on a channel that every worker's scoreboards listen to; the counts are read from the hash. It
  owns its key names (`counts_key`, `channel`). The database still holds every ballot and the final
  tally is always recounted from it.

A `Scoreboard` per live vote per worker reads the counts once and hands them to every listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from opencall.voting.live.store import BallotStore, BatchResult, LiveVoteInfo

log = logging.getLogger("opencall.voting.live.fanout")

Counts = tuple[dict[int, int], int, int]  # votes per finalist, turnout, accepted votes so far


class Subscription(Protocol):
    async def wait(self, timeout: float) -> None:
        """Return when a batch may have moved the counts, or after `timeout` seconds."""

    def poke(self) -> None:
        """Make the next `wait` return at once, if this kind of subscription can."""

    async def close(self) -> None: ...


class Fanout(Protocol):
    def committed(self, result: BatchResult) -> None:
        """A batch was committed (called on the event loop; must not block it)."""

    async def counts(self, live_vote_id: int) -> Counts: ...

    async def subscribe(self, live_vote_id: int) -> Subscription: ...

    async def aclose(self) -> None: ...


class _LocalSubscription:
    def __init__(self, watchers: set[asyncio.Event]) -> None:
        self.changed = asyncio.Event()
        self.watchers = watchers
        watchers.add(self.changed)

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout)
        self.changed.clear()

    def poke(self) -> None:
        self.changed.set()

    async def close(self) -> None:
        self.watchers.discard(self.changed)


class LocalFanout:
    """This worker's batches wake this worker's scoreboards; counts come from the database."""

    def __init__(self, store: BallotStore) -> None:
        self.store = store
        self.watchers: dict[int, set[asyncio.Event]] = {}

    def committed(self, result: BatchResult) -> None:
        for live_vote_id in result.deltas:
            for changed in self.watchers.get(live_vote_id, ()):
                changed.set()

    async def counts(self, live_vote_id: int) -> Counts:
        return await asyncio.to_thread(self.store.counts, live_vote_id)

    async def subscribe(self, live_vote_id: int) -> _LocalSubscription:
        return _LocalSubscription(self.watchers.setdefault(live_vote_id, set()))

    async def aclose(self) -> None:
        self.watchers.clear()


class _RedisSubscription:
    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(
                self.pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout), timeout + 0.5
            )

    def poke(self) -> None:
        """Nothing to do: the next message or the timeout ends the wait."""

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()


class RedisFanout:
    """Running counters in a Redis hash per live vote, and a channel per live vote to wake every
    worker's scoreboards. `client` is a redis.asyncio client (or anything with its methods)."""

    PREFIX = "opencall:live:"
    # The hash outlives a live vote by a week at most: long enough for any show, short enough that
    # nothing accumulates.
    COUNTS_TTL = 7 * 24 * 3600

    def __init__(self, client: Any) -> None:
        self.redis = client

    @classmethod
    def from_url(cls, url: str) -> RedisFanout:
        import redis.asyncio as aioredis

        return cls(aioredis.from_url(url))

    @classmethod
    def channel(cls, live_vote_id: int) -> str:
        """Where a message announces that a batch moved this live vote's counts."""
        return f"{cls.PREFIX}{live_vote_id}"

    @classmethod
    def counts_key(cls, live_vote_id: int) -> str:
        """The hash of counts: a field per finalist's idea id, plus "turnout" and "writes"."""
        return f"{cls.PREFIX}{live_vote_id}:counts"

    def committed(self, result: BatchResult) -> None:
        asyncio.get_running_loop().create_task(self.publish(result))

    async def publish(self, result: BatchResult) -> None:
        """Move the counters by a batch and announce it, in one round trip."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            for live_vote_id, delta in result.deltas.items():
                key = self.counts_key(live_vote_id)
                for idea, step in delta.items():
                    pipe.hincrby(key, str(idea), step)
                pipe.hincrby(key, "turnout", result.turnout.get(live_vote_id, 0))
                pipe.hincrby(key, "writes", result.accepted.get(live_vote_id, 0))
                pipe.expire(key, self.COUNTS_TTL)
                pipe.publish(self.channel(live_vote_id), b"1")
            await pipe.execute()
        except Exception:
            log.warning("live counters not updated in Redis", exc_info=True)

    async def counts(self, live_vote_id: int) -> Counts:
        raw = await self.redis.hgetall(self.counts_key(live_vote_id))
        stored = {k.decode(): int(v) for k, v in raw.items()}
        turnout = stored.pop("turnout", 0)
        writes = stored.pop("writes", 0)
        return {int(k): v for k, v in stored.items()}, turnout, writes

    async def subscribe(self, live_vote_id: int) -> _RedisSubscription:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel(live_vote_id))
        return _RedisSubscription(pubsub)

    async def aclose(self) -> None:
        await self.redis.aclose()


class Scoreboard:
    """One per live vote per worker: reads the counts once and fans them out to every listener.

    `live_vote` reloads the live vote (None once it is gone), `snapshot` makes the JSON a listener
    receives; `boards` is the registry it leaves when its last listener goes.
    """

    WAIT_SECONDS = 2.0

    def __init__(
        self,
        fanout: Fanout,
        live_vote_id: int,
        live_vote: Callable[[], Awaitable[LiveVoteInfo | None]],
        snapshot: Callable[[LiveVoteInfo], Awaitable[dict[str, Any]]],
        boards: dict[int, Scoreboard],
        tick_seconds: float,
    ) -> None:
        self.fanout, self.live_vote_id = fanout, live_vote_id
        self.live_vote, self.snapshot, self.boards, self.tick = live_vote, snapshot, boards, tick_seconds
        self.listeners: set[asyncio.Queue[bytes]] = set()
        self.last: bytes = b""
        self.task: asyncio.Task[None] | None = None
        self.subscription: Subscription | None = None

    def join(self) -> asyncio.Queue[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1)
        if self.last:
            queue.put_nowait(self.last)
        self.listeners.add(queue)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
        elif self.subscription is not None:
            self.subscription.poke()
        return queue

    def leave(self, queue: asyncio.Queue[bytes]) -> None:
        self.listeners.discard(queue)
        if not self.listeners:
            self.stop()

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self.boards.pop(self.live_vote_id, None)

    async def _run(self) -> None:
        subscription = self.subscription = await self.fanout.subscribe(self.live_vote_id)
        subscription.poke()  # the first listener gets the counts at once
        try:
            while self.listeners:
                await subscription.wait(self.WAIT_SECONDS)
                info = await self.live_vote()
                if info is None:
                    break
                try:
                    payload = json.dumps(await self.snapshot(info), separators=(",", ":")).encode()
                except Exception:
                    log.warning("live counts not read", exc_info=True)
                    payload = self.last
                if payload and payload != self.last:
                    self.last = payload
                    for queue in list(self.listeners):
                        if queue.full():
                            queue.get_nowait()
                        queue.put_nowait(payload)
                await asyncio.sleep(self.tick)
        finally:
            self.subscription = None
            await subscription.close()
