"""The live-vote fast path's ASGI app: routing and answers. A small raw ASGI app, served apart
from the page stack (`opencall.voting.fastpath:app` under granian).

Routes (all under /live/api/):
    POST <code>/vote     {"token", "idea", "vote_id", "seq"} -> 200 once the vote is committed
    POST <code>/vote?idea=&vote_id=&seq=   the same without a body ("compact form"), with the
                         header "Authorization: Bearer <token>"; the voter page sends this form
    GET  <code>          the live vote's state and current counts (JSON)
    GET  <code>/events   server-sent events with the live counts
    GET  ping            a trivial answer, to measure the stack's raw ceiling

A vote is read (`casting`), checked in memory (rate limits, token signature, window, finalist:
`ratelimit`, `rules`), then queued (`batcher`); a writer task per process commits everything queued
in one transaction every OPENCALL_LIVE_FLUSH_MS (5 ms by default; back to back under load) through
the `store`, and only then is each request answered. Counts go out through the `fanout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from opencall.voting.live import rules
from opencall.voting.live.batcher import Batcher
from opencall.voting.live.casting import CANONICAL, GONE, Unreadable, read_fields, read_headers
from opencall.voting.live.config import LiveConfig
from opencall.voting.live.fanout import Fanout, LocalFanout, RedisFanout, Scoreboard
from opencall.voting.live.ratelimit import RateLimiter
from opencall.voting.live.store import BallotStore, LiveVoteInfo, PendingVote, open_store
from opencall.voting.tokens import read_token, signing_key

log = logging.getLogger("opencall.voting.live.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Answer = tuple[int, dict[str, Any] | bytes, list[tuple[bytes, bytes]]]

GC_YOUNG_THRESHOLD = 50_000
CODE = re.compile(r"[A-Za-z0-9_-]{1,16}")


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


def _unreadable(why: Unreadable) -> Answer:
    if why is GONE:
        return 400, {}, []
    if why.errors is not None:
        return (*_problem(why.status, why.code, why.title, why.detail, errors=why.errors), [])
    return (*_problem(why.status, why.code, why.title, why.detail), [])


_INVALID_TOKEN: Answer = (
    *_problem(403, "invalid-token", "Invalid device token", "Reload the voting page to get a new device token."),
    [],
)
_FOREIGN_TOKEN: Answer = (
    *_problem(
        403, "invalid-token", "Invalid device token", "This token belongs to another live vote; reload the voting page."
    ),
    [],
)
_SIGN_IN: Answer = (
    *_problem(403, "sign-in-required", "Sign in required", "This vote is for signed-in members only."),
    [],
)
_NOT_OPEN: Answer = (
    *_problem(409, "voting-closed", "Voting is not open", "Votes are accepted only while the live vote is open."),
    [],
)
_CLOSED_MEANWHILE: Answer = (
    *_problem(409, "voting-closed", "Voting is not open", "The live vote closed before this vote was recorded."),
    [],
)
_NOT_A_FINALIST: Answer = (
    *_problem(
        422,
        "invalid-input",
        "Invalid input",
        "The vote is not valid.",
        errors={"idea": ["Not a finalist of this live vote."]},
    ),
    [],
)
_NO_SUCH_LIVE_VOTE = _problem(404, "not-found", "Not found", "No such live vote.")
_UNAVAILABLE = _problem(503, "unavailable", "Unavailable", "Try again shortly.")


def _retry(detail: str) -> Answer:
    return (*_problem(503, "unavailable", "Vote not recorded", detail), [(b"retry-after", b"1")])


class LiveApp:
    """The ASGI callable. One instance per worker process; state is created on first use."""

    def __init__(self, config: LiveConfig | None = None) -> None:
        self._config = config
        self._ready = False
        self.store: BallotStore | None = None
        self.batcher: Batcher | None = None
        self.fanout: Fanout | None = None
        self.cache: dict[str, tuple[float, LiveVoteInfo | None]] = {}
        self.loading: dict[str, asyncio.Future[LiveVoteInfo | None]] = {}
        self.boards: dict[int, Scoreboard] = {}
        self.samples: dict[int, list[tuple[float, int]]] = {}

    @property
    def config(self) -> LiveConfig:
        if self._config is None:
            self._config = LiveConfig.from_settings()
        return self._config

    def _setup(self) -> None:
        if self._ready:
            return
        cfg = self.config
        self.key = signing_key(cfg.secret_key)
        self.store = open_store(cfg.database)
        self.ip_limits = RateLimiter(*cfg.ip_rate)
        self.token_limits = RateLimiter(*cfg.token_rate)
        self.fanout = RedisFanout.from_url(cfg.redis_url) if cfg.redis_url else LocalFanout(self.store)
        self.batcher = Batcher(
            self.store,
            cfg.flush_seconds,
            cfg.max_batch,
            self.fanout.committed,
            checkpoint_seconds=cfg.checkpoint_seconds,
        )
        self.batcher.start()
        self._ready = True

    async def shutdown(self) -> None:
        if self.batcher is not None:
            await self.batcher.drain()
        for board in list(self.boards.values()):
            board.stop()
        if self.fanout is not None:
            await self.fanout.aclose()
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
            await self._json(send, *_NO_SUCH_LIVE_VOTE, scope=scope)
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

    async def _vote(self, scope: Scope, receive: Receive, code: str) -> Answer:
        now = time.time()
        tick = time.monotonic()
        ip, bearer = read_headers(scope, self.config.trusted_proxies)
        wait = self.ip_limits.retry_after(ip, tick)
        if wait:
            return _too_many(wait, "Too many votes from this network address; try again shortly.")
        query: bytes = scope.get("query_string") or b""
        canonical = CANONICAL.fullmatch(query) if query and bearer is not None else None
        if canonical is not None:
            # What the voter page sends, already valid by the pattern's shape.
            idea, vote_id, seq, token_text = int(canonical[1]), canonical[2].decode(), int(canonical[3]), bearer
        else:
            fields = await read_fields(receive, query, bearer)
            if isinstance(fields, Unreadable):
                return _unreadable(fields)
            idea, vote_id, seq, token_text = fields
        token = read_token(self.key, token_text)
        if token is None:
            return _INVALID_TOKEN
        wait = self.token_limits.retry_after(f"{token.live_vote_id}:{token.device}", tick)
        if wait:
            return _too_many(wait, "This device is voting too fast; try again in a moment.")
        cached = self.cache.get(code)
        try:
            # Most votes find the live vote cached: no coroutine for them.
            info = cached[1] if cached is not None and cached[0] > tick else await self._live_vote(code)
        except Exception:
            log.warning("live vote not loaded", exc_info=True)
            return _retry("The vote could not be checked; send it again with the same vote_id.")
        if info is None:
            return (*_NO_SUCH_LIVE_VOTE, [])
        if not rules.is_for(token, info.id):
            return _FOREIGN_TOKEN
        if not rules.may_vote(token, sign_in_required=info.sign_in_required):
            return _SIGN_IN
        if not info.accepts(now):
            return _NOT_OPEN
        if not rules.is_finalist(idea, info.finalists):
            return _NOT_A_FINALIST
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
            return _NOT_A_FINALIST
        if outcome == "closed":
            return _CLOSED_MEANWHILE
        return _retry("The vote could not be stored; send it again with the same vote_id.")

    # -- reading ------------------------------------------------------------------------------
    async def snapshot(self, info: LiveVoteInfo) -> dict[str, Any]:
        assert self.fanout is not None
        counts, turnout, writes = await self.fanout.counts(info.id)
        now = time.time()
        samples = self.samples.setdefault(info.id, [])
        samples.append((now, writes))
        while len(samples) > 2 and samples[1][0] < now - 10:
            samples.pop(0)
        first_at, first_writes = samples[0]
        rate = (writes - first_writes) / (now - first_at) if now - first_at >= 0.5 else 0.0
        open_now = info.accepts(now)
        return {
            "code": info.code,
            "state": rules.shown_state(info.state, info.opens_at, info.closes_at, now),
            "closes_in": max(0, round(info.closes_at - now, 1)) if info.closes_at and open_now else 0,
            "counts": {str(i): counts.get(i, 0) for i in sorted(info.finalists)},
            "turnout": turnout,
            "votes_per_second": round(rate, 1),
        }

    async def _state(self, scope: Scope, send: Send, code: str) -> None:
        try:
            info = await self._live_vote(code)
            snapshot = await self.snapshot(info) if info is not None else None
        except Exception:
            await self._json(send, *_UNAVAILABLE, scope=scope)
            return
        if info is None:
            await self._json(send, *_NO_SUCH_LIVE_VOTE, scope=scope)
            return
        await self._json(send, 200, snapshot or {}, scope=scope)

    def _board(self, code: str, live_vote_id: int) -> Scoreboard:
        board = self.boards.get(live_vote_id)
        if board is None:
            assert self.fanout is not None
            board = self.boards[live_vote_id] = Scoreboard(
                self.fanout,
                live_vote_id,
                lambda: self._live_vote(code),
                self.snapshot,
                self.boards,
                self.config.tick_seconds,
            )
        return board

    async def _events(self, scope: Scope, receive: Receive, send: Send, code: str) -> None:
        try:
            info = await self._live_vote(code)
        except Exception:
            await self._json(send, *_UNAVAILABLE, scope=scope)
            return
        if info is None:
            await self._json(send, *_NO_SUCH_LIVE_VOTE, scope=scope)
            return
        board = self._board(code, info.id)
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
