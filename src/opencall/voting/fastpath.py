"""The live-vote fast path: a small raw ASGI app, served apart from the page stack.

    granian --interface asgi --workers 2 opencall.voting.fastpath:app

Routes (all under /live/api/):
    POST <code>/vote     {"token", "idea", "vote_id", "seq"} -> 200 once the vote is committed
    POST <code>/vote?idea=&vote_id=&seq=   the same without a body ("compact form"), with the
                         header "Authorization: Bearer <token>"; the voter page sends this form
    GET  <code>          the live vote's state and current counts (JSON)
    GET  <code>/events   server-sent events with the live counts
    GET  ping            a trivial answer, to measure the stack's raw ceiling

A vote is checked (size, shape, token signature, rate limits, window, finalist) in memory, then
queued; a writer task per process commits everything queued in one transaction every
OPENCALL_LIVE_FLUSH_MS (5 ms by default; back to back under load) and only then answers each
request. With REDIS_URL set, live counters and fan-out to the projectors go through Redis; the
database still holds every ballot and the final tally is always recounted from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from opencall.voting.store import BallotStore, BatchResult, DatabaseBusy, LiveVoteInfo, PendingVote
from opencall.voting.tokens import read_token, signing_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opencall.config.settings.production")

log = logging.getLogger("opencall.voting.fastpath")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY = 2048
GC_YOUNG_THRESHOLD = 50_000
VOTE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
CODE = re.compile(r"[A-Za-z0-9_-]{1,16}")
MAX_SEQ = 2**53
_DECODER = json.JSONDecoder()
_COMPACT_FIELDS = frozenset({"idea", "vote_id", "seq"})
# The compact form as the voter page writes it; anything else goes through the general checks.
# At most 15 digits and no leading zero: a positive number below MAX_SEQ.
_CANONICAL = re.compile(rb"idea=([1-9][0-9]{0,14})&vote_id=([A-Za-z0-9_-]{8,64})&seq=([1-9][0-9]{0,14})")


Answer = tuple[int, dict[str, Any] | bytes, list[tuple[bytes, bytes]]]


class VoteFields(NamedTuple):
    idea: int
    vote_id: str
    seq: int
    token: str


def _env_rate(name: str, default: str) -> tuple[float, float]:
    """ "rate/s,burst" -> (rate, burst); "0" turns the limit off."""
    raw = os.environ.get(name, default).strip()
    if raw in ("", "0", "off"):
        return 0.0, 0.0
    rate, _, burst = raw.partition(",")
    return float(rate), float(burst or rate)


@dataclass(frozen=True)
class FastPathConfig:
    secret_key: str
    database: dict[str, Any]
    redis_url: str = ""
    flush_seconds: float = 0.005
    max_batch: int = 5000
    ip_rate: tuple[float, float] = (200.0, 400.0)
    token_rate: tuple[float, float] = (5.0, 10.0)
    trusted_proxies: frozenset[str] = frozenset()
    allowed_origins: frozenset[str] = frozenset()
    cache_seconds: float = 0.5
    tick_seconds: float = 0.5
    checkpoint_seconds: float = 1.0

    @classmethod
    def from_settings(cls) -> FastPathConfig:
        from django.conf import settings

        return cls(
            secret_key=str(settings.SECRET_KEY),
            database=dict(settings.DATABASES["default"]),
            redis_url=str(getattr(settings, "REDIS_URL", "") or ""),
            flush_seconds=float(os.environ.get("OPENCALL_LIVE_FLUSH_MS", "5")) / 1000,
            max_batch=int(os.environ.get("OPENCALL_LIVE_MAX_BATCH", "5000")),
            ip_rate=_env_rate("OPENCALL_LIVE_RATE_IP", "200,400"),
            token_rate=_env_rate("OPENCALL_LIVE_RATE_TOKEN", "5,10"),
            trusted_proxies=frozenset(
                p.strip() for p in os.environ.get("OPENCALL_LIVE_TRUSTED_PROXIES", "").split(",") if p.strip()
            ),
            allowed_origins=frozenset(
                o.strip() for o in os.environ.get("OPENCALL_LIVE_ALLOWED_ORIGINS", "").split(",") if o.strip()
            ),
        )


class RateLimiter:
    """Token buckets per key, in this process's memory (limits are per worker process).

    Each bucket is one float, the time at which it is full again (the generic cell rate
    algorithm): a request finds `burst - (full_at - now) * rate` tokens, passes if that is at least
    one and moves `full_at` one interval (1 / rate) on. It answers exactly as a bucket of `burst`
    tokens refilled at `rate` per second, with one dictionary operation to read and one to write:
    under load the dictionaries hold hundreds of thousands of keys and every operation is a cache
    miss, so a bucket kept as two floats in two dicts cost twice as much (17 us per vote for the
    two limiters, measured in bench/live). Floats in a dict of strings are invisible to the cyclic
    garbage collector, whereas 400,000 small lists made each full collection stop the loop ~80 ms.

    Keys live in two generations. A key found in the older one moves to the current one; when
    the current one holds `max_keys // 2` keys it becomes the older one, and the previous older
    one is let go a few entries per call: dropping 100,000 keys at once (or sorting them by age,
    as this class did before) stopped the event loop for 100-150 ms under load. A key unseen for
    two generations starts again with a full bucket, which it would have by then anyway unless
    more than `max_keys // 2` other keys arrived within the `burst / rate` seconds its bucket
    takes to refill.
    """

    def __init__(self, rate: float, burst: float, max_keys: int = 200_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self.interval = 1.0 / rate if rate > 0 else 0.0
        # How far ahead of now `full_at` may be for a request to pass: burst - 1 intervals.
        self.slack = (burst - 1) * self.interval
        self.full_at: dict[str, float] = {}
        self.old_full_at: dict[str, float] = {}
        self.dropping: list[dict[str, float]] = []

    def retry_after(self, key: str, now: float) -> float:
        """0 if a request may pass now (and take a token), else seconds until it may."""
        if self.rate <= 0:
            return 0.0
        if self.dropping:
            self._drop_some()
        full_at = self.full_at.get(key)
        if full_at is None:
            # Taken out of the older generation before a rotation lets that one go.
            full_at = self.old_full_at.pop(key, None)
            if len(self.full_at) >= self.max_keys // 2:
                self._rotate()
            if full_at is None:
                self.full_at[key] = now + self.interval
                return 0.0
        if full_at < now:
            full_at = now
        wait = full_at - now - self.slack
        if wait > 1e-9:
            self.full_at[key] = full_at
            return wait
        self.full_at[key] = full_at + self.interval
        return 0.0

    def __len__(self) -> int:
        """Keys remembered (both generations)."""
        return len(self.full_at) + len(self.old_full_at)

    def _rotate(self) -> None:
        self.dropping.append(self.old_full_at)
        self.old_full_at, self.full_at = self.full_at, {}

    def _drop_some(self) -> None:
        victims = self.dropping[-1]
        for _ in range(min(8, len(victims))):
            victims.popitem()
        if not victims:
            self.dropping.pop()


class Batcher:
    """Group commit: votes wait in memory, one transaction writes them all, then all are answered."""

    def __init__(
        self,
        store: BallotStore,
        flush_seconds: float,
        max_batch: int,
        after_commit: Callable[[BatchResult], None] | None = None,
        checkpoint_seconds: float = 1.0,
    ) -> None:
        self.store, self.flush_seconds, self.max_batch = store, flush_seconds, max_batch
        self.after_commit = after_commit
        self.pending: list[tuple[PendingVote, asyncio.Future[str]]] = []
        self.wakeup = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.batches = 0
        self.written = 0
        self.checkpoint_every = checkpoint_seconds
        self._last_checkpoint = time.monotonic()
        self._checkpointing: asyncio.Future[tuple[int, int]] | None = None
        self.closing = False
        self._nap: asyncio.Future[None] | None = None

    def start(self) -> None:
        if self.task is None:
            self.loop = asyncio.get_running_loop()
            self.task = self.loop.create_task(self._run())

    async def submit(self, vote: PendingVote) -> str:
        if self.task is None or self.task.done():
            return "unavailable"  # shutting down: the voter is told to send again
        # The loop found at start: asyncio.get_running_loop() makes a getpid() system call each
        # time (it checks for a fork), which profiling showed at a tenth of the loop's time.
        future: asyncio.Future[str] = self.loop.create_future()
        self.pending.append((vote, future))
        self.wakeup.set()
        return await future

    async def drain(self, timeout: float = 10.0) -> None:
        """Write what is queued, answer it, then stop (a worker shutting down): the votes already
        received are not dropped, and no thread is left using the store when it is closed."""
        if self.task is None:
            return
        self.closing = True
        self.wakeup.set()
        _wake(self._nap)
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except Exception:  # including the timeout
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
        if self._checkpointing is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(self._checkpointing), timeout)

    async def _run(self) -> None:
        last = 0.0
        while True:
            await self.wakeup.wait()
            wait = last + self.flush_seconds - time.monotonic()
            if wait > 0 and not self.closing:
                # A nap that `drain` can cut short.
                self._nap = self.loop.create_future()
                timer = self.loop.call_later(wait, _wake, self._nap)
                try:
                    await self._nap
                finally:
                    timer.cancel()
            last = time.monotonic()
            batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
            if not self.pending:
                self.wakeup.clear()
            if batch:
                await self._write_and_answer(batch)
            if self.closing and not self.pending:
                return

    async def _write_and_answer(self, batch: list[tuple[PendingVote, asyncio.Future[str]]]) -> None:
        votes = [vote for vote, _ in batch]
        try:
            result = await self._write(votes)
        except Exception:
            log.exception("live vote batch of %d not written", len(votes))
            for _, future in batch:
                if not future.done():
                    future.set_result("unavailable")
            return
        self.batches += 1
        self.written += len(votes)
        for (_, future), outcome in zip(batch, result.outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
        if self.after_commit is not None:
            self.after_commit(result)
        self._maybe_checkpoint()

    def _maybe_checkpoint(self) -> None:
        """Start a WAL checkpoint in a thread now and then (SQLite); the next batches go on meanwhile."""
        if not self.store.sqlite:
            return
        now = time.monotonic()
        if now - self._last_checkpoint < self.checkpoint_every:
            return
        if self._checkpointing is not None and not self._checkpointing.done():
            return
        self._last_checkpoint = now
        self._checkpointing = asyncio.ensure_future(asyncio.to_thread(self.store.checkpoint))
        self._checkpointing.add_done_callback(_log_checkpoint_failure)

    async def _write(self, votes: list[PendingVote]) -> BatchResult:
        # A lost connection (database restart) is retried for a few seconds; retrying is safe
        # because a vote already committed comes back as a duplicate.
        deadline = time.monotonic() + 5.0
        delay = 0.05
        while True:
            try:
                if self.store.sqlite:
                    return await self._write_here(votes)
                return await self.store.write_batch_async(votes)
            except Exception:
                if time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _write_here(self, votes: list[PendingVote]) -> BatchResult:
        """SQLite: write the batch on the event loop's own thread.

        A writer thread shares this process's GIL with the loop, and SQLite gives the GIL up at
        every call: while the loop was busy answering votes, the writer waited up to a switch
        interval (5 ms) each time it wanted it back, holding the batch lock meanwhile, so the
        other worker's writer waited too (measured: 7 ms per batch for 2 ms of work). Here the
        batch runs in one stretch. Only waiting goes to a thread: for the other worker's batch
        lock, for the disk's flush, or, when a page of the site is writing to the database, the
        whole batch.
        """
        store = self.store
        if not store.try_lock():
            await asyncio.to_thread(store.lock)
        try:
            try:
                result = store.write_locked(votes, wait=False)
            except DatabaseBusy:
                result = await asyncio.to_thread(store.write_locked, votes, wait=True)
        finally:
            store.unlock()
        # On disk before anyone is answered; the disk's flush is waited for in a thread, after
        # the lock is released (see BallotStore.sync_wal).
        try:
            await asyncio.to_thread(store.sync_wal)
        except OSError:
            # Committed but maybe not on disk. Not retried: after a failed fsync a second one can
            # succeed although the data is gone. The voters are told to send again (503).
            log.critical("WAL sync failed; %d committed votes answered as not recorded", len(votes), exc_info=True)
            return BatchResult(["unavailable"] * len(votes), result.deltas, result.turnout, result.accepted)
        return result


def _wake(nap: asyncio.Future[None] | None) -> None:
    if nap is not None and not nap.done():
        nap.set_result(None)


def _log_checkpoint_failure(future: asyncio.Future[tuple[int, int]]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("WAL checkpoint failed", exc_info=future.exception())


def _problem(status: int, code: str, title: str, detail: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"https://opencall.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    return status, body


def _too_many(wait: float, detail: str) -> Answer:
    """429 with the seconds to wait, in the problem and in Retry-After."""
    return (
        *_problem(429, "rate-limited", "Too many requests", detail, retry_after=round(wait, 2)),
        [(b"retry-after", str(max(1, round(wait))).encode())],
    )


class LiveApp:
    """The ASGI callable. One instance per worker process; state is created on first use."""

    def __init__(self, config: FastPathConfig | None = None) -> None:
        self._config = config
        self._ready = False
        self.store: BallotStore | None = None
        self.batcher: Batcher | None = None
        self.redis: Any = None
        self.cache: dict[str, tuple[float, LiveVoteInfo | None]] = {}
        self.loading: dict[str, asyncio.Future[LiveVoteInfo | None]] = {}
        self.boards: dict[int, Scoreboard] = {}
        self.samples: dict[int, list[tuple[float, int]]] = {}

    @property
    def config(self) -> FastPathConfig:
        if self._config is None:
            self._config = FastPathConfig.from_settings()
        return self._config

    def _setup(self) -> None:
        if self._ready:
            return
        cfg = self.config
        self.key = signing_key(cfg.secret_key)
        self.store = BallotStore(cfg.database)
        self.ip_limits = RateLimiter(*cfg.ip_rate)
        self.token_limits = RateLimiter(*cfg.token_rate)
        if cfg.redis_url:
            import redis.asyncio as aioredis

            self.redis = aioredis.from_url(cfg.redis_url)
        self.batcher = Batcher(
            self.store, cfg.flush_seconds, cfg.max_batch, self._after_commit, checkpoint_seconds=cfg.checkpoint_seconds
        )
        self.batcher.start()
        self._ready = True

    async def shutdown(self) -> None:
        if self.batcher is not None:
            await self.batcher.drain()
        for board in list(self.boards.values()):
            board.stop()
        if self.redis is not None:
            await self.redis.aclose()
        if self.store is not None:
            await self.store.aclose()
            self.store.close()
        self._ready = False
        self.batcher = None

    # -- ASGI ---------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            return
        self._setup()
        path: str = scope["path"]
        method: str = scope["method"]
        if not path.startswith("/live/api/"):
            await self._json(send, *_problem(404, "not-found", "Not found", "No such endpoint."), scope=scope)
            return
        rest = path[len("/live/api/") :].strip("/").split("/")
        if rest == ["ping"]:
            await self._json(send, 200, {"ok": True}, scope=scope)
            return
        if method == "OPTIONS":
            await self._preflight(scope, send)
            return
        if not CODE.fullmatch(rest[0]):
            await self._json(send, *_problem(404, "not-found", "Not found", "No such live vote."), scope=scope)
            return
        if len(rest) == 2 and rest[1] == "vote":
            if method != "POST":
                await self._json(
                    send,
                    *_problem(405, "method-not-allowed", "Method not allowed", "Send votes with POST."),
                    scope=scope,
                )
                return
            status, body, headers = await self._vote(scope, receive, rest[0])
            await self._json(send, status, body, headers, scope=scope)
            return
        if len(rest) == 2 and rest[1] == "events" and method == "GET":
            await self._events(scope, receive, send, rest[0])
            return
        if len(rest) == 1 and method == "GET":
            await self._state(scope, send, rest[0])
            return
        await self._json(send, *_problem(404, "not-found", "Not found", "No such endpoint."), scope=scope)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self._setup()
                    # What is loaded by now (Django settings, modules) lives as long as the process:
                    # keep it out of the collector's full passes, which would otherwise walk it
                    # every time and stall all parked votes meanwhile.
                    gc.collect()
                    gc.freeze()
                    # A vote's objects live for one batch (~15 ms under load). With the default
                    # threshold (700) the youngest generation is collected about every millisecond
                    # at full load, so nearly every request's objects were walked and promoted;
                    # at 50,000 most of them are freed by reference counting first.
                    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _cors(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        if not self.config.allowed_origins:
            return []
        for name, value in scope["headers"]:
            if name == b"origin" and value.decode("latin-1") in self.config.allowed_origins:
                return [(b"access-control-allow-origin", value), (b"vary", b"origin")]
        return []

    async def _preflight(self, scope: Scope, send: Send) -> None:
        headers = self._cors(scope)
        if headers:
            headers += [
                (b"access-control-allow-methods", b"POST, GET"),
                (b"access-control-allow-headers", b"content-type, authorization"),
                (b"access-control-max-age", b"600"),
            ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _json(
        self,
        send: Send,
        status: int,
        body: dict[str, Any] | bytes,
        headers: list[tuple[bytes, bytes]] | None = None,
        *,
        scope: Scope,
    ) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
        ctype = b"application/problem+json" if status >= 400 else b"application/json"
        all_headers = [
            (b"content-type", ctype),
            (b"content-length", str(len(payload)).encode()),
            (b"cache-control", b"no-store"),
            *(headers or []),
            *self._cors(scope),
        ]
        await send({"type": "http.response.start", "status": status, "headers": all_headers})
        await send({"type": "http.response.body", "body": payload})

    # -- casting a vote ------------------------------------------------------------------------
    @staticmethod
    def _compact_vote(query: bytes, bearer: str | None) -> dict[str, Any] | None:
        """The fields of a body-less vote as the JSON form would carry them, or None if the query
        string is not one. Numbers stay text unless they are plain digits, so that a bad value
        meets the same field checks (and messages) as in the JSON form."""
        data: dict[str, Any] = {}
        if len(query) > MAX_BODY:
            return None
        try:
            text = query.decode("ascii")
        except UnicodeDecodeError:
            return None
        for part in text.split("&"):
            name, sep, value = part.partition("=")
            if not sep or name not in _COMPACT_FIELDS or name in data:
                return None
            data[name] = int(value) if name != "vote_id" and value.isdigit() and len(value) < 17 else value
        if bearer is not None:
            data["token"] = bearer
        return data

    async def _live_vote(self, code: str) -> LiveVoteInfo | None:
        """The live vote, cached for `cache_seconds`; one database read per code at a time.

        A stale answer is safe: the writer checks the window again inside each batch transaction.
        """
        now = time.monotonic()
        cached = self.cache.get(code)
        if cached is not None and cached[0] > now:
            return cached[1]
        loading = self.loading.get(code)
        if loading is None:
            assert self.store is not None
            loading = asyncio.ensure_future(asyncio.to_thread(self.store.live_vote, code))
            self.loading[code] = loading
            try:
                info = await loading
            finally:
                del self.loading[code]
            self.cache[code] = (time.monotonic() + self.config.cache_seconds, info)
            return info
        if cached is not None:
            return cached[1]  # someone is refreshing it; meanwhile the last answer stands
        return await asyncio.shield(loading)

    async def _read_fields(
        self, scope: Scope, receive: Receive, query: bytes, bearer: str | None
    ) -> VoteFields | Answer:
        """The fields of a vote in any accepted form, or the error answer."""
        if query:
            # The compact form: fields in the query string, the device token in the Authorization
            # header, no body. It spares the server's body read, which costs a vote more than
            # all of its own checks (see bench/live). A body sent along with it is not read.
            data = self._compact_vote(query, bearer)
            if data is None:
                return (
                    *_problem(
                        400,
                        "malformed",
                        "Malformed request",
                        "The query string must be idea=<id>&vote_id=<id>&seq=<n>, each at most once.",
                    ),
                    [],
                )
        else:
            message = await receive()
            if message["type"] == "http.disconnect":
                return 400, {}, []
            body: bytes | bytearray = message.get("body", b"")
            if message.get("more_body"):  # the body came in several pieces: gather them
                body = bytearray(body)
                more = True
                while more and len(body) <= MAX_BODY:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return 400, {}, []
                    body += message.get("body", b"")
                    more = bool(message.get("more_body"))
            if len(body) > MAX_BODY:
                return (
                    *_problem(
                        413,
                        "too-large",
                        "Request too large",
                        f"A vote is a small JSON object (at most {MAX_BODY} bytes).",
                    ),
                    [],
                )
            try:
                data = _DECODER.decode(body.decode())
            except (ValueError, UnicodeDecodeError):
                return (*_problem(400, "malformed", "Malformed request", "The body must be a JSON object."), [])
            if not isinstance(data, dict):
                return (*_problem(400, "malformed", "Malformed request", "The body must be a JSON object."), [])
        errors: dict[str, list[str]] = {}
        idea = data.get("idea")
        if not isinstance(idea, int) or isinstance(idea, bool) or not 0 < idea < MAX_SEQ:
            errors["idea"] = ["Must be the id of a finalist (a positive integer)."]
        vote_id = data.get("vote_id")
        if not isinstance(vote_id, str) or not VOTE_ID.fullmatch(vote_id):
            errors["vote_id"] = ["Must be 8 to 64 characters: letters, digits, '-' or '_'."]
        seq = data.get("seq", 1)
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < MAX_SEQ:
            errors["seq"] = ["Must be a positive integer that grows each time this device votes again."]
        if not isinstance(data.get("token"), str):
            errors["token"] = [
                "Required: the device token from the voting page (in the body, or as "
                "'Authorization: Bearer <token>' with the compact form)."
            ]
        if errors or not isinstance(idea, int) or not isinstance(vote_id, str):
            return (*_problem(422, "invalid-input", "Invalid input", "The vote is not valid.", errors=errors), [])
        return VoteFields(idea, vote_id, seq, data["token"])

    def _read_headers(self, scope: Scope) -> tuple[str, str | None]:
        """(the client's address, the bearer token or None) in one pass over the headers."""
        forwarded = authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is None:
                    authorization = value
            elif name == b"x-forwarded-for":
                forwarded = value
        client = scope.get("client")
        peer = str(client[0]) if client else "unknown"
        ip = peer
        if forwarded is not None and peer in self.config.trusted_proxies:
            ip = forwarded.decode("latin-1").rsplit(",", 1)[-1].strip() or peer
        token = None
        if authorization is not None:
            scheme, _, value = authorization.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                token = value.strip()
        return ip, token

    async def _vote(self, scope: Scope, receive: Receive, code: str) -> Answer:
        now = time.time()
        tick = time.monotonic()
        ip, bearer = self._read_headers(scope)
        wait = self.ip_limits.retry_after(ip, tick)
        if wait:
            return _too_many(wait, "Too many votes from this network address; try again shortly.")
        query: bytes = scope.get("query_string") or b""
        canonical = _CANONICAL.fullmatch(query) if query and bearer is not None else None
        if canonical is not None:
            # What the voter page sends, already valid by the pattern's shape.
            idea, vote_id, seq, token_text = int(canonical[1]), canonical[2].decode(), int(canonical[3]), bearer
        else:
            fields = await self._read_fields(scope, receive, query, bearer)
            if not isinstance(fields, VoteFields):
                return fields
            idea, vote_id, seq, token_text = fields
        token = read_token(self.key, token_text)
        if token is None:
            return (
                *_problem(
                    403, "invalid-token", "Invalid device token", "Reload the voting page to get a new device token."
                ),
                [],
            )
        wait = self.token_limits.retry_after(f"{token.live_vote_id}:{token.device}", tick)
        if wait:
            return _too_many(wait, "This device is voting too fast; try again in a moment.")
        cached = self.cache.get(code)
        try:
            # Most votes find the live vote cached: no coroutine for them.
            info = cached[1] if cached is not None and cached[0] > tick else await self._live_vote(code)
        except Exception:
            log.warning("live vote not loaded", exc_info=True)
            return (
                *_problem(
                    503,
                    "unavailable",
                    "Vote not recorded",
                    "The vote could not be checked; send it again with the same vote_id.",
                ),
                [(b"retry-after", b"1")],
            )
        if info is None:
            return (*_problem(404, "not-found", "Not found", "No such live vote."), [])
        if token.live_vote_id != info.id:
            return (
                *_problem(
                    403,
                    "invalid-token",
                    "Invalid device token",
                    "This token belongs to another live vote; reload the voting page.",
                ),
                [],
            )
        if info.sign_in_required and token.user_id is None:
            return (
                *_problem(403, "sign-in-required", "Sign in required", "This vote is for signed-in members only."),
                [],
            )
        if not info.accepts(now):
            return (
                *_problem(
                    409, "voting-closed", "Voting is not open", "Votes are accepted only while the live vote is open."
                ),
                [],
            )
        if idea not in info.finalists:
            return (
                *_problem(
                    422,
                    "invalid-input",
                    "Invalid input",
                    "The vote is not valid.",
                    errors={"idea": ["Not a finalist of this live vote."]},
                ),
                [],
            )
        assert self.batcher is not None
        outcome = await self.batcher.submit(
            PendingVote(info.id, token.device, idea, str(vote_id), seq, token.user_id, now)
        )
        if outcome in ("new", "change", "duplicate"):
            # The common answer, formatted directly (vote_id was checked against VOTE_ID).
            return (
                200,
                b'{"status":"recorded","vote_id":"%s","idea":%d,"duplicate":%s}'
                % (str(vote_id).encode(), idea, b"true" if outcome == "duplicate" else b"false"),
                [],
            )
        if outcome == "stale":
            return (
                200,
                {
                    "status": "superseded",
                    "vote_id": vote_id,
                    "detail": "A later vote from this device is already recorded.",
                },
                [],
            )
        if outcome == "invalid":
            return (
                *_problem(
                    422,
                    "invalid-input",
                    "Invalid input",
                    "The vote is not valid.",
                    errors={"idea": ["Not a finalist of this live vote."]},
                ),
                [],
            )
        if outcome == "closed":
            return (
                *_problem(
                    409, "voting-closed", "Voting is not open", "The live vote closed before this vote was recorded."
                ),
                [],
            )
        return (
            *_problem(
                503,
                "unavailable",
                "Vote not recorded",
                "The vote could not be stored; send it again with the same vote_id.",
            ),
            [(b"retry-after", b"1")],
        )

    def _after_commit(self, result: BatchResult) -> None:
        if self.redis is None:
            for live_vote_id in result.deltas:
                board = self.boards.get(live_vote_id)
                if board is not None:
                    board.poke()
            return
        asyncio.get_running_loop().create_task(self._publish(result))

    async def _publish(self, result: BatchResult) -> None:
        try:
            pipe = self.redis.pipeline(transaction=False)
            for live_vote_id, delta in result.deltas.items():
                key = f"opencall:live:{live_vote_id}"
                for idea, step in delta.items():
                    pipe.hincrby(f"{key}:counts", str(idea), step)
                pipe.hincrby(f"{key}:counts", "turnout", result.turnout.get(live_vote_id, 0))
                pipe.hincrby(f"{key}:counts", "writes", result.accepted.get(live_vote_id, 0))
                pipe.expire(f"{key}:counts", 7 * 24 * 3600)
                pipe.publish(key, b"1")
            await pipe.execute()
        except Exception:
            log.warning("live counters not updated in Redis", exc_info=True)

    # -- reading ------------------------------------------------------------------------------
    async def snapshot(self, info: LiveVoteInfo) -> dict[str, Any]:
        assert self.store is not None
        if self.redis is not None:
            raw = await self.redis.hgetall(f"opencall:live:{info.id}:counts")
            stored = {k.decode(): int(v) for k, v in raw.items()}
            turnout = stored.pop("turnout", 0)
            writes = stored.pop("writes", 0)
            counts = {int(k): v for k, v in stored.items()}
        else:
            counts, turnout, writes = await asyncio.to_thread(self.store.counts, info.id)
        now = time.time()
        samples = self.samples.setdefault(info.id, [])
        samples.append((now, writes))
        while len(samples) > 2 and samples[1][0] < now - 10:
            samples.pop(0)
        first_at, first_writes = samples[0]
        rate = (writes - first_writes) / (now - first_at) if now - first_at >= 0.5 else 0.0
        return {
            "code": info.code,
            "state": "open" if info.accepts(now) else ("closed" if info.state == "open" else info.state),
            "closes_in": max(0, round(info.closes_at - now, 1)) if info.closes_at and info.accepts(now) else 0,
            "counts": {str(i): counts.get(i, 0) for i in sorted(info.finalists)},
            "turnout": turnout,
            "votes_per_second": round(rate, 1),
        }

    async def _state(self, scope: Scope, send: Send, code: str) -> None:
        try:
            info = await self._live_vote(code)
            snapshot = await self.snapshot(info) if info is not None else None
        except Exception:
            await self._json(send, *_problem(503, "unavailable", "Unavailable", "Try again shortly."), scope=scope)
            return
        if info is None:
            await self._json(send, *_problem(404, "not-found", "Not found", "No such live vote."), scope=scope)
            return
        await self._json(send, 200, snapshot or {}, scope=scope)

    async def _events(self, scope: Scope, receive: Receive, send: Send, code: str) -> None:
        try:
            info = await self._live_vote(code)
        except Exception:
            await self._json(send, *_problem(503, "unavailable", "Unavailable", "Try again shortly."), scope=scope)
            return
        if info is None:
            await self._json(send, *_problem(404, "not-found", "Not found", "No such live vote."), scope=scope)
            return
        board = self.boards.get(info.id)
        if board is None:
            board = self.boards[info.id] = Scoreboard(self, code, info.id)
        queue = board.join()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream"),
                    (b"cache-control", b"no-store"),
                    (b"x-accel-buffering", b"no"),
                    *self._cors(scope),
                ],
            }
        )

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        gone = asyncio.get_running_loop().create_task(watch_disconnect())
        try:
            await send({"type": "http.response.body", "body": b"retry: 2000\n\n", "more_body": True})
            while not gone.done():
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, gone}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    chunk = b"event: tally\ndata: " + getter.result() + b"\n\n"
                else:
                    getter.cancel()
                    if gone.done():
                        break
                    chunk = b": keep-alive\n\n"
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except OSError:
            pass
        finally:
            gone.cancel()
            board.leave(queue)
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})


class Scoreboard:
    """One per live vote per worker: reads the counts once and fans them out to every listener."""

    def __init__(self, app: LiveApp, code: str, live_vote_id: int) -> None:
        self.app, self.code, self.live_vote_id = app, code, live_vote_id
        self.listeners: set[asyncio.Queue[bytes]] = set()
        self.last: bytes = b""
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def join(self) -> asyncio.Queue[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1)
        if self.last:
            queue.put_nowait(self.last)
        self.listeners.add(queue)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
        self.changed.set()
        return queue

    def leave(self, queue: asyncio.Queue[bytes]) -> None:
        self.listeners.discard(queue)
        if not self.listeners:
            self.stop()

    def poke(self) -> None:
        self.changed.set()

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self.app.boards.pop(self.live_vote_id, None)

    async def _run(self) -> None:
        tick = self.app.config.tick_seconds
        pubsub = None
        if self.app.redis is not None:
            pubsub = self.app.redis.pubsub()
            await pubsub.subscribe(f"opencall:live:{self.live_vote_id}")
        try:
            while self.listeners:
                if pubsub is not None:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(pubsub.get_message(ignore_subscribe_messages=True, timeout=2.0), 2.5)
                else:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self.changed.wait(), 2.0)
                    self.changed.clear()
                info = await self.app._live_vote(self.code)
                if info is None:
                    break
                try:
                    payload = json.dumps(await self.app.snapshot(info), separators=(",", ":")).encode()
                except Exception:
                    log.warning("live counts not read", exc_info=True)
                    payload = self.last
                if payload and payload != self.last:
                    self.last = payload
                    for queue in list(self.listeners):
                        if queue.full():
                            queue.get_nowait()
                        queue.put_nowait(payload)
                await asyncio.sleep(tick)
        finally:
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()


app = LiveApp()


def serve_fastpath(host: str = "127.0.0.1", port: int = 8001, workers: int = 2) -> None:
    """Run the fast path under granian (blocks). Pages are served separately, over WSGI."""
    import importlib.util

    from granian import Granian
    from granian.constants import Interfaces, Loops

    # uvloop makes the many small wake-ups of a parked vote much cheaper (measured: about 40% less
    # CPU per vote); it is optional.
    loop = Loops.uvloop if importlib.util.find_spec("uvloop") else Loops.asyncio
    Granian(
        "opencall.voting.fastpath:app",
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        loop=loop,
        log_access=False,
        backlog=2048,
    ).serve()
