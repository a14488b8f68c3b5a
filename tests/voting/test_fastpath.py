"""The rules of casting, through the real ASGI fast path against the test database."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from opencall.voting import actions
from opencall.voting.live.ratelimit import RateLimiter
from opencall.voting.live.store import BallotStore, BatchResult, PendingVote, open_store
from opencall.voting.models import LiveBallot, LiveCount, LiveVote
from tests.voting.conftest import fastpath, request, run, token_for

pytestmark = pytest.mark.django_db(transaction=True)


TOKEN_REQUIRED = (
    "Required: the device token from the voting page (in the body, or as "
    "'Authorization: Bearer <token>' with the compact form)."
)


def vote_body(token: str, idea: int, vote_id: str, seq: int = 1) -> dict[str, object]:
    return {"token": token, "idea": idea, "vote_id": vote_id, "seq": seq}


def ballots(live_vote: LiveVote) -> dict[str, tuple[int, str, int, int]]:
    return {
        b.device: (b.idea_id, b.client_vote_id, b.seq, b.changes)
        for b in LiveBallot.objects.filter(live_vote=live_vote)
    }


def counts(live_vote: LiveVote) -> dict[int, int]:
    return dict(LiveCount.objects.filter(live_vote=live_vote).values_list("idea_id", "votes"))


def pending(live_vote: LiveVote, device: str, idea: int, vote_id: str, seq: int = 1) -> PendingVote:
    """A vote as the fast path queues it, for the batch writer's tests (devices padded to length)."""
    return PendingVote(live_vote.pk, f"{device}xxxxxxxxxxxxxxxx", idea, vote_id, seq, None, time.time())


async def write_as(store: BallotStore, mode: str, votes: list[PendingVote]) -> BatchResult:
    """A batch written as the fast path writes it: from a thread ("thread", `write_batch`) or from
    the event loop ("event loop", PostgreSQL's `write_batch_async`)."""
    if mode == "thread":
        return store.write_batch(votes)
    return await store.write_batch_async(votes)


def test_vote_is_acknowledged_once_committed(open_vote, finalists) -> None:
    app, token = fastpath(), token_for(open_vote)
    path = f"/live/api/{open_vote.code}/vote"

    async def scenario():
        return await request(app, "POST", path, vote_body(token, finalists[0].pk, "vote-0001"))

    status, body, headers = run(app, scenario)
    assert (status, body) == (
        200,
        {"status": "recorded", "vote_id": "vote-0001", "idea": finalists[0].pk, "duplicate": False},
    )
    assert headers[b"content-type"] == b"application/json"
    device = token.split(".")[1]
    assert ballots(open_vote) == {device: (finalists[0].pk, "vote-0001", 1, 0)}
    assert counts(open_vote) == {finalists[0].pk: 1, finalists[1].pk: 0, finalists[2].pk: 0}


def test_retries_count_once_and_change_of_vote_wins(open_vote, finalists) -> None:
    app, token = fastpath(), token_for(open_vote)
    path = f"/live/api/{open_vote.code}/vote"
    a, b = finalists[0].pk, finalists[1].pk

    async def scenario():
        first = await request(app, "POST", path, vote_body(token, a, "vote-0001", 1))
        retry = await request(app, "POST", path, vote_body(token, a, "vote-0001", 1))
        change = await request(app, "POST", path, vote_body(token, b, "vote-0002", 2))
        late = await request(app, "POST", path, vote_body(token, a, "vote-0001", 1))
        again = await request(app, "POST", path, vote_body(token, b, "vote-0002", 2))
        return first, retry, change, late, again

    first, retry, change, late, again = run(app, scenario)
    assert first[1]["duplicate"] is False
    assert retry[:2] == (200, {"status": "recorded", "vote_id": "vote-0001", "idea": a, "duplicate": True})
    assert change[1] == {"status": "recorded", "vote_id": "vote-0002", "idea": b, "duplicate": False}
    assert late[:2] == (
        200,
        {
            "status": "superseded",
            "vote_id": "vote-0001",
            "detail": "A later vote from this device is already recorded.",
        },
    )
    assert again[1]["duplicate"] is True
    device = token.split(".")[1]
    assert ballots(open_vote) == {device: (b, "vote-0002", 2, 1)}
    assert counts(open_vote) == {a: 0, b: 1, finalists[2].pk: 0}


def test_one_ballot_per_device_and_exact_tally(open_vote, finalists, organiser) -> None:
    app = fastpath()
    path = f"/live/api/{open_vote.code}/vote"
    picks = [0, 1, 1, 2, 1, 0, 1]
    tokens = [token_for(open_vote) for _ in picks]

    async def scenario():
        import asyncio

        # All at once: they land in the same batch or a few, as under load.
        return await asyncio.gather(
            *(
                request(app, "POST", path, vote_body(t, finalists[p].pk, f"vote-{n:04d}"))
                for n, (t, p) in enumerate(zip(tokens, picks, strict=True))
            )
        )

    answers = run(app, scenario)
    assert [a[0] for a in answers] == [200] * 7
    stopped = actions.stop_live_vote(live_vote=open_vote, by=organiser)
    ids = [f.pk for f in finalists]
    assert stopped.final_tally == {
        "counts": {str(ids[0]): 2, str(ids[1]): 4, str(ids[2]): 1},
        "turnout": 7,
        "standings": [[ids[1], 4], [ids[0], 2], [ids[2], 1]],
    }
    assert len(stopped.ballots_digest) == 64
    assert counts(open_vote) == {ids[0]: 2, ids[1]: 4, ids[2]: 1}


def test_votes_outside_the_window_are_refused_and_not_counted(live_vote, finalists, organiser) -> None:
    app, token = fastpath(), token_for(live_vote)
    path = f"/live/api/{live_vote.code}/vote"
    idea = finalists[0].pk

    async def before():
        return await request(app, "POST", path, vote_body(token, idea, "vote-0001"))

    status, body, _ = run(app, before)
    assert (status, body["type"], body["detail"]) == (
        409,
        "https://opencall.dev/problems/voting-closed",
        "Votes are accepted only while the live vote is open.",
    )
    actions.open_live_vote(live_vote=live_vote, by=organiser)
    LiveVote.objects.filter(pk=live_vote.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    app = fastpath()
    status, body, _ = run(app, before)
    assert (status, body["title"]) == (409, "Voting is not open")
    assert ballots(live_vote) == {}


def test_votes_after_stop_are_refused(open_vote, finalists, organiser) -> None:
    app, token = fastpath(), token_for(open_vote)
    path = f"/live/api/{open_vote.code}/vote"
    actions.stop_live_vote(live_vote=open_vote, by=organiser)

    async def scenario():
        return await request(app, "POST", path, vote_body(token, finalists[0].pk, "vote-0001"))

    assert run(app, scenario)[0] == 409
    assert ballots(open_vote) == {}


@pytest.mark.parametrize(
    ("payload", "status", "errors"),
    [
        ({"idea": 1, "vote_id": "vote-0001"}, 422, {"token": [TOKEN_REQUIRED]}),
        (
            {"idea": "1", "vote_id": "vote-0001", "token": "t"},
            422,
            {"idea": ["Must be the id of a finalist (a positive integer)."]},
        ),
        (
            {"idea": True, "vote_id": "vote-0001", "token": "t"},
            422,
            {"idea": ["Must be the id of a finalist (a positive integer)."]},
        ),
        (
            {"idea": 1, "vote_id": "short", "token": "t"},
            422,
            {"vote_id": ["Must be 8 to 64 characters: letters, digits, '-' or '_'."]},
        ),
        (
            {"idea": 1, "vote_id": "<script>alert(1)</script>", "token": "t"},
            422,
            {"vote_id": ["Must be 8 to 64 characters: letters, digits, '-' or '_'."]},
        ),
        (
            {"idea": 1, "vote_id": "vote-0001\n", "token": "t"},
            422,
            {"vote_id": ["Must be 8 to 64 characters: letters, digits, '-' or '_'."]},
        ),
        (
            {"idea": 1, "vote_id": "vote-0001", "token": "t", "seq": 0},
            422,
            {"seq": ["Must be a positive integer that grows each time this device votes again."]},
        ),
    ],
)
def test_malformed_votes_get_field_errors(open_vote, payload, status, errors) -> None:
    app = fastpath()

    async def scenario():
        return await request(app, "POST", f"/live/api/{open_vote.code}/vote", payload)

    got_status, body, headers = run(app, scenario)
    assert (got_status, body["errors"]) == (status, errors)
    assert headers[b"content-type"] == b"application/problem+json"
    assert ballots(open_vote) == {}


def test_bad_bodies_bad_tokens_and_non_finalists(open_vote, finalists, challenge) -> None:
    from tests.factories import IdeaFactory

    outsider_idea = IdeaFactory(challenge=challenge, title="Not a finalist", status="shortlisted")
    app, token = fastpath(), token_for(open_vote)
    path = f"/live/api/{open_vote.code}/vote"
    other = token_for(open_vote)[:-4] + "AAAA"

    async def scenario():
        return [
            await request(app, "POST", path, raw=b"{not json"),
            await request(app, "POST", path, raw=b"[1, 2]"),
            await request(app, "POST", path, raw=b"x" * 5000),
            await request(app, "POST", path, vote_body(other, finalists[0].pk, "vote-0001")),
            await request(app, "POST", path, vote_body(token, outsider_idea.pk, "vote-0002")),
            await request(app, "POST", "/live/api/nosuch/vote", vote_body(token, finalists[0].pk, "vote-0003")),
            await request(app, "GET", path),
        ]

    answers = run(app, scenario)
    assert [(s, b["detail"]) for s, b, _ in answers] == [
        (400, "The body must be a JSON object."),
        (400, "The body must be a JSON object."),
        (413, "A vote is a small JSON object (at most 2048 bytes)."),
        (403, "Reload the voting page to get a new device token."),
        (422, "The vote is not valid."),
        (404, "No such live vote."),
        (405, "Send votes with POST."),
    ]
    assert answers[4][1]["errors"] == {"idea": ["Not a finalist of this live vote."]}
    assert ballots(open_vote) == {}


def test_token_of_another_live_vote_and_sign_in_mode(open_vote, finalists, challenge, organiser) -> None:
    members_only = actions.create_live_vote(
        challenge=challenge,
        by=organiser,
        title="Staff vote",
        finalist_ids=[f.pk for f in finalists],
        sign_in_required=True,
    )
    actions.open_live_vote(live_vote=members_only, by=organiser)
    app = fastpath()

    async def scenario():
        return [
            await request(
                app,
                "POST",
                f"/live/api/{members_only.code}/vote",
                vote_body(token_for(open_vote), finalists[0].pk, "vote-0001"),
            ),
            await request(
                app,
                "POST",
                f"/live/api/{members_only.code}/vote",
                vote_body(token_for(members_only), finalists[0].pk, "vote-0002"),
            ),
            await request(
                app,
                "POST",
                f"/live/api/{members_only.code}/vote",
                vote_body(token_for(members_only, user_id=organiser.pk), finalists[0].pk, "vote-0003"),
            ),
        ]

    answers = run(app, scenario)
    assert [(s, b.get("title", b.get("status"))) for s, b, _ in answers] == [
        (403, "Invalid device token"),
        (403, "Sign in required"),
        (200, "recorded"),
    ]
    assert list(LiveBallot.objects.filter(live_vote=members_only).values_list("device", "user_id")) == [
        (f"u{organiser.pk}", organiser.pk)
    ]


def test_rate_limits_answer_429_with_a_problem(open_vote, finalists) -> None:
    path = f"/live/api/{open_vote.code}/vote"
    token = token_for(open_vote)
    per_token = fastpath(token_rate=(0.001, 2.0))
    per_ip = fastpath(ip_rate=(0.001, 1.0))

    async def by_token():
        return [
            await request(per_token, "POST", path, vote_body(token, finalists[0].pk, f"vote-000{n}", n))
            for n in (1, 2, 3)
        ]

    async def by_ip():
        return [
            await request(
                per_ip,
                "POST",
                path,
                vote_body(token_for(open_vote), finalists[1].pk, f"ipvote-{n}1"),
                ip="198.51.100.7",
            )
            for n in (1, 2)
        ]

    answers = run(per_token, by_token)
    assert [a[0] for a in answers] == [200, 200, 429]
    assert answers[2][1]["detail"] == "This device is voting too fast; try again in a moment."
    assert answers[2][2][b"retry-after"].isdigit()
    answers = run(per_ip, by_ip)
    assert [a[0] for a in answers] == [200, 429]
    assert answers[1][1]["detail"] == "Too many votes from this network address; try again shortly."
    assert sorted(counts(open_vote).values()) == [0, 1, 1]


def test_rate_limiter_refills() -> None:
    limiter = RateLimiter(rate=2.0, burst=2.0)
    assert [limiter.retry_after("k", 0.0) for _ in range(3)] == [0.0, 0.0, 0.5]
    assert limiter.retry_after("k", 0.5) == 0.0
    assert limiter.retry_after("other", 0.5) == 0.0
    assert RateLimiter(rate=0, burst=0).retry_after("k", 0.0) == 0.0
    # An idle key is back to a full bucket, never more: 5 at once, then one per 0.1 s.
    steady = RateLimiter(rate=10.0, burst=5.0)
    assert [steady.retry_after("k", 100.0) for _ in range(6)] == [0.0] * 5 + [pytest.approx(0.1)]
    assert [steady.retry_after("k", 1000.0) for _ in range(6)] == [0.0] * 5 + [pytest.approx(0.1)]
    assert steady.retry_after("k", 1000.05) == pytest.approx(0.05)
    assert steady.retry_after("k", 1000.1) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_rate_limiter_answers_as_a_token_bucket(seed) -> None:
    """Against a plain token bucket (tokens and last look per key) on random request times."""
    import random

    rng = random.Random(seed)
    rate, burst = rng.choice([(1.0, 3.0), (5.0, 10.0), (200.0, 400.0), (2.0, 1.0)])
    limiter = RateLimiter(rate=rate, burst=burst)
    buckets: dict[str, tuple[float, float]] = {}
    now = 0.0
    for _ in range(3000):
        now += rng.expovariate(rate * rng.choice([0.5, 2.0, 8.0]))
        key = rng.choice("abc")
        tokens, last = buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        expected = 0.0 if tokens >= 1 - 1e-9 else (1 - tokens) / rate
        buckets[key] = (tokens - 1 if expected == 0.0 else tokens, now)
        assert limiter.retry_after(key, now) == pytest.approx(expected, abs=1e-6)


def test_rate_limiter_forgets_idle_keys_a_little_at_a_time_and_stays_out_of_the_collector() -> None:
    import gc

    limiter = RateLimiter(rate=1.0, burst=3.0, max_keys=4)  # generations of 2 keys
    limiter.retry_after("a", 0.0)
    limiter.retry_after("a", 0.0)  # a has 1 token left
    limiter.retry_after("b", 0.0)
    limiter.retry_after("c", 0.0)  # the generation is full: a and b become the older one
    assert set(limiter.full_at) == {"c"} and set(limiter.old_full_at) == {"a", "b"}
    # a recent key keeps its half-used bucket when it moves forward: 1 token, then none left
    assert [limiter.retry_after("a", 0.0) for _ in range(2)] == [0.0, 1.0]
    assert set(limiter.full_at) == {"a", "c"} and set(limiter.old_full_at) == {"b"}
    limiter.retry_after("d", 0.0)  # full again: b, left behind for two generations, goes
    assert set(limiter.old_full_at) == {"a", "c"} and set(limiter.full_at) == {"d"}
    assert limiter.dropping and "b" in limiter.dropping[0]
    for n in range(3):  # let go a few entries per call, never all at once
        limiter.retry_after("d", 10.0 + n)
    assert not limiter.dropping
    assert len(limiter) == 3
    assert limiter.retry_after("b", 20.0) == 0.0  # forgotten: a full bucket again
    # A key coming back from the older generation just as the current one fills up.
    turning = RateLimiter(rate=1.0, burst=2.0, max_keys=4)
    for key in "abcd":
        turning.retry_after(key, 0.0)
    assert turning.retry_after("a", 0.0) == 0.0 and turning.retry_after("a", 0.0) == 1.0
    # However many keys come, at most max_keys are remembered.
    many = RateLimiter(rate=1.0, burst=3.0, max_keys=1000)
    for n in range(10_000):
        many.retry_after(f"k{n}", float(n))
        assert len(many) <= 1000
    # Hundreds of thousands of buckets must not be containers the cyclic collector walks.
    for table in (limiter.full_at, limiter.old_full_at):
        assert not gc.is_tracked(table)


def test_forwarded_address_is_trusted_only_from_a_proxy(open_vote, finalists) -> None:
    app = fastpath(ip_rate=(0.001, 1.0), trusted_proxies=frozenset({"127.0.0.1"}))
    path = f"/live/api/{open_vote.code}/vote"

    async def scenario():
        out = []
        for n in range(2):
            out.append(
                await request(
                    app,
                    "POST",
                    path,
                    vote_body(token_for(open_vote), finalists[0].pk, f"proxied-{n}1"),
                    ip="127.0.0.1",
                    headers=[(b"x-forwarded-for", f"203.0.113.{n}".encode())],
                )
            )
        return out

    assert [a[0] for a in run(app, scenario)] == [200, 200]


def test_state_and_ping(open_vote, finalists) -> None:
    app = fastpath()

    async def scenario():
        await request(
            app,
            "POST",
            f"/live/api/{open_vote.code}/vote",
            vote_body(token_for(open_vote), finalists[2].pk, "vote-0001"),
        )
        return await request(app, "GET", "/live/api/ping"), await request(app, "GET", f"/live/api/{open_vote.code}")

    ping, state = run(app, scenario)
    assert ping[:2] == (200, {"ok": True})
    body = state[1]
    assert (body["code"], body["state"], body["turnout"]) == (open_vote.code, "open", 1)
    assert body["counts"] == {str(finalists[0].pk): 0, str(finalists[1].pk): 0, str(finalists[2].pk): 1}


def test_sqlite_batches_leave_checkpointing_to_the_checkpointer(open_vote, finalists) -> None:
    """On SQLite a batch's COMMIT never copies the WAL into the database (that would hold the write
    lock while votes queue); the fast path's checkpointer does it beside the writers, losing nothing."""

    if connection.vendor != "sqlite":
        pytest.skip("WAL checkpoints are SQLite's")
    app = fastpath(checkpoint_seconds=0.0)
    path = f"/live/api/{open_vote.code}/vote"
    tokens = [token_for(open_vote) for _ in range(40)]

    async def scenario():
        answers = []
        for n, token in enumerate(tokens):
            answers.append(await request(app, "POST", path, vote_body(token, finalists[n % 3].pk, f"vote-{n:04d}")))
        assert app.store is not None and app.batcher is not None
        writer = app.store._writer
        autocheckpoint = writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        frames, copied = await asyncio.to_thread(app.store.checkpoint)
        return answers, autocheckpoint, frames, copied, app.batcher.batches

    answers, autocheckpoint, frames, copied, batches = run(app, scenario)
    assert {status for status, _, _ in answers} == {200}
    assert autocheckpoint == 0
    assert batches == 40
    assert frames > 0 and copied == frames
    assert sum(counts(open_vote).values()) == 40
    assert len(ballots(open_vote)) == 40


def test_a_body_in_pieces_is_gathered_and_an_endless_one_is_cut_off(open_vote, finalists) -> None:
    app, token = fastpath(), token_for(open_vote)
    path = f"/live/api/{open_vote.code}/vote"
    whole = json.dumps(vote_body(token, finalists[1].pk, "vote-pieces")).encode()

    async def send_in_pieces(pieces: list[bytes]) -> tuple[int, dict[str, object], int]:
        queue = [{"type": "http.request", "body": p, "more_body": n < len(pieces) - 1} for n, p in enumerate(pieces)]
        taken = 0
        sent: list[dict[str, object]] = []

        async def receive() -> dict[str, object]:
            nonlocal taken
            taken += 1
            return queue.pop(0)

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": path, "headers": [], "client": ("192.0.2.9", 1)}
        await app(scope, receive, send)
        body = b"".join(m.get("body", b"") for m in sent[1:])  # type: ignore[misc]
        return int(sent[0]["status"]), json.loads(body), taken  # type: ignore[call-overload]

    async def scenario():
        thirds = [whole[:10], whole[10:40], whole[40:]]
        endless = [b"{" + b" " * 1000] * 50
        return await send_in_pieces(thirds), await send_in_pieces(endless)

    (ok_status, ok_body, ok_taken), (big_status, big_body, big_taken) = run(app, scenario)
    assert (ok_status, ok_body["status"], ok_taken) == (200, "recorded", 3)
    assert (big_status, big_body["title"]) == (413, "Request too large")
    assert big_taken == 3  # stopped reading once past the limit, not after all 50 pieces
    assert list(ballots(open_vote).values()) == [(finalists[1].pk, "vote-pieces", 1, 0)]


async def compact(app, path: str, query: str, token: str | None) -> tuple[int, dict[str, object], int]:
    """A body-less vote: fields in the query string, the token in the Authorization header.
    Returns (status, body, how many times the app called receive())."""
    reads = 0

    async def receive() -> dict[str, object]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": query.encode(),
        "headers": headers,
        "client": ("192.0.2.7", 1),
    }
    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent[1:])  # type: ignore[misc]
    return int(sent[0]["status"]), json.loads(body), reads  # type: ignore[call-overload]


def test_compact_votes_follow_the_same_rules_without_a_body(open_vote, finalists) -> None:
    app, token = fastpath(), token_for(open_vote)
    path = f"/live/api/{open_vote.code}/vote"
    a, b = finalists[0].pk, finalists[1].pk

    async def scenario():
        return [
            await compact(app, path, f"idea={a}&vote_id=compact-0001&seq=1", token),
            await compact(app, path, f"idea={a}&vote_id=compact-0001&seq=1", token),  # a retry
            await compact(app, path, f"idea={b}&vote_id=compact-0002&seq=2", token),  # a change
            await compact(app, path, f"idea={a}&vote_id=compact-0003&seq=1", token),  # older: stale
        ]

    answers = run(app, scenario)
    assert [(s, body["status"], body.get("duplicate")) for s, body, _ in answers] == [
        (200, "recorded", False),
        (200, "recorded", True),
        (200, "recorded", False),
        (200, "superseded", None),
    ]
    assert {reads for _, _, reads in answers} == {0}  # the body is never read
    device = token.split(".")[1]
    assert ballots(open_vote) == {device: (b, "compact-0002", 2, 1)}
    assert counts(open_vote) == {a: 0, b: 1, finalists[2].pk: 0}


@pytest.mark.parametrize(
    ("query", "with_token", "status", "errors"),
    [
        ("idea=1&vote_id=compact-0001", False, 422, {"token": [TOKEN_REQUIRED]}),
        ("idea=abc&vote_id=compact-0001", True, 422, {"idea": ["Must be the id of a finalist (a positive integer)."]}),
        ("idea=1&vote_id=short", True, 422, {"vote_id": ["Must be 8 to 64 characters: letters, digits, '-' or '_'."]}),
        (
            "idea=1&vote_id=compact-0001&seq=-3",
            True,
            422,
            {"seq": ["Must be a positive integer that grows each time this device votes again."]},
        ),
        ("idea=1&idea=2&vote_id=compact-0001", True, 400, None),
        ("idea=1&vote_id=compact-0001&token=abc", True, 400, None),
        ("idea", True, 400, None),
        (
            "idea=1&vote_id=compact-%C3%A9",
            True,
            422,
            {"vote_id": ["Must be 8 to 64 characters: letters, digits, '-' or '_'."]},
        ),
    ],
)
def test_malformed_compact_votes_are_refused_with_a_problem(open_vote, query, with_token, status, errors) -> None:
    app = fastpath()
    token = token_for(open_vote) if with_token else None

    async def scenario():
        return await compact(app, f"/live/api/{open_vote.code}/vote", query, token)

    got_status, body, _ = run(app, scenario)
    assert got_status == status
    if errors is None:
        assert body["detail"] == "The query string must be idea=<id>&vote_id=<id>&seq=<n>, each at most once."
    else:
        assert body["errors"] == errors
    assert ballots(open_vote) == {}


def test_sqlite_batch_waits_off_the_loop_for_site_writers_and_the_other_worker(open_vote, finalists) -> None:
    """On SQLite a batch is written on the event loop's thread, but waiting never happens there:
    while a page of the site holds the database's write lock, or another worker holds the batch
    lock, the vote stays unanswered, the loop keeps serving, and the vote commits once both are free."""
    import fcntl
    import os
    import sqlite3

    if connection.vendor != "sqlite":
        pytest.skip("the batch lock and the inline write are SQLite's")
    app = fastpath()
    path = f"/live/api/{open_vote.code}/vote"
    name = str(connection.settings_dict["NAME"])

    async def scenario():
        await request(app, "GET", "/live/api/ping")  # sets the app up
        site = sqlite3.connect(name, isolation_level=None, timeout=30)
        site.execute("BEGIN IMMEDIATE")  # a page writing
        other_worker = os.open(f"{name}.live-lock", os.O_RDWR | os.O_CREAT, 0o600)
        vote = asyncio.ensure_future(
            request(app, "POST", path, vote_body(token_for(open_vote), finalists[0].pk, "vote-waits-1"))
        )
        pings = 0
        for _ in range(20):  # the loop answers meanwhile; the vote does not
            pings += (await request(app, "GET", "/live/api/ping"))[0] == 200
            await asyncio.sleep(0.005)
        waited_for_site = not vote.done()
        site.execute("COMMIT")
        first = await asyncio.wait_for(vote, 10)
        fcntl.flock(other_worker, fcntl.LOCK_EX)  # another worker's batch in progress
        second = asyncio.ensure_future(
            request(app, "POST", path, vote_body(token_for(open_vote), finalists[1].pk, "vote-waits-2"))
        )
        for _ in range(20):
            pings += (await request(app, "GET", "/live/api/ping"))[0] == 200
            await asyncio.sleep(0.005)
        waited_for_worker = not second.done()
        fcntl.flock(other_worker, fcntl.LOCK_UN)
        os.close(other_worker)
        site.close()
        return pings, waited_for_site, first, waited_for_worker, await asyncio.wait_for(second, 10)

    pings, waited_for_site, first, waited_for_worker, second = run(app, scenario)
    assert pings == 40
    assert waited_for_site and waited_for_worker
    assert first[:2] == (
        200,
        {"status": "recorded", "vote_id": "vote-waits-1", "idea": finalists[0].pk, "duplicate": False},
    )
    assert second[0] == 200 and second[1]["vote_id"] == "vote-waits-2"
    assert counts(open_vote) == {finalists[0].pk: 1, finalists[1].pk: 1, finalists[2].pk: 0}
    assert len(ballots(open_vote)) == 2


def test_sqlite_votes_are_answered_only_after_the_wal_is_synced(open_vote, finalists, monkeypatch) -> None:
    """Batches commit without syncing (so the lock is not held through the disk's flush); the
    fast path then syncs the WAL file itself and answers only once that returned."""
    import os
    import threading

    from opencall.voting.live.store import sqlite as store_module

    if connection.vendor != "sqlite":
        pytest.skip("the WAL is SQLite's")
    synced: list[int] = []
    release = threading.Event()
    real_fdatasync = os.fdatasync

    def slow_fdatasync(fd: int) -> None:
        release.wait(10)
        real_fdatasync(fd)
        synced.append(os.fstat(fd).st_ino)

    monkeypatch.setattr(store_module.os, "fdatasync", slow_fdatasync)
    app = fastpath()
    path = f"/live/api/{open_vote.code}/vote"
    wal = f"{connection.settings_dict['NAME']}-wal"

    async def scenario():
        vote = asyncio.ensure_future(
            request(app, "POST", path, vote_body(token_for(open_vote), finalists[2].pk, "vote-sync-1"))
        )
        await asyncio.sleep(0.3)
        answered_before_sync = vote.done()
        committed_before_sync = await asyncio.to_thread(lambda: len(ballots(open_vote)))
        release.set()
        answer = await asyncio.wait_for(vote, 10)
        assert app.store is not None
        level = app.store._writer.execute("PRAGMA synchronous").fetchone()[0]
        return answered_before_sync, committed_before_sync, answer, level

    answered_before_sync, committed_before_sync, answer, level = run(app, scenario)
    assert not answered_before_sync and committed_before_sync == 1  # committed, not yet answered
    assert answer[0] == 200 and answer[1]["vote_id"] == "vote-sync-1"
    assert synced == [os.stat(wal).st_ino]
    assert level == 1  # NORMAL: the commit itself does not sync


def test_sqlite_wal_starts_over_after_each_checkpoint(open_vote, finalists) -> None:
    """A passive checkpoint alone does not let the WAL start over when it could not copy every
    frame; the checkpointer then restarts it under the batch lock, so the next batch writes from
    the WAL's start and the file stops growing."""
    import os
    import sqlite3
    import time

    if connection.vendor != "sqlite":
        pytest.skip("the WAL is SQLite's")
    store = open_store(dict(connection.settings_dict))
    name = str(connection.settings_dict["NAME"])
    counter = iter(range(10_000))

    def batch(size: int = 20) -> None:
        store.write_batch(
            [
                PendingVote(
                    open_vote.pk, f"device{n:06d}xxxxxxxxxx", finalists[n % 3].pk, f"vote-{n:06d}", 1, None, time.time()
                )
                for n in (next(counter) for _ in range(size))
            ]
        )

    # A reader (a page, a projector) still looking at an older snapshot while the passive step
    # runs keeps it from copying the newest batch, as a batch landing during the step would;
    # it finishes right after that step.
    reader = sqlite3.connect(name, isolation_level=None)
    real_connect = store._connect

    class ReaderFinishesAfterPassiveStep:
        def __init__(self) -> None:
            self.conn = real_connect()

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            cursor = self.conn.execute(sql, *args)
            if "PASSIVE" in sql and reader.in_transaction:
                row = cursor.fetchone()
                reader.execute("COMMIT")
                return self.conn.execute("SELECT ?, ?, ?", row)
            return cursor

        def close(self) -> None:
            self.conn.close()

    store._connect = lambda: ReaderFinishesAfterPassiveStep() if store._writer is not None else real_connect()  # type: ignore[method-assign]
    try:
        wal_bytes = []
        for _ in range(6):
            batch()
            reader.execute("BEGIN")
            reader.execute("SELECT COUNT(*) FROM voting_liveballot").fetchone()
            batch()
            store.checkpoint()
            batch()
            wal_bytes.append(os.path.getsize(f"{name}-wal"))
    finally:
        reader.close()
        store.close()
    # Each round writes over the same start of the WAL file instead of appending to it.
    assert wal_bytes[-1] == wal_bytes[1], wal_bytes
    assert len(ballots(open_vote)) == 6 * 3 * 20


@pytest.mark.parametrize("mode", ["thread", "event loop"])
def test_one_batch_mixing_new_devices_changes_retries_and_refusals(open_vote, finalists, challenge, mode) -> None:
    """A batch's outcomes follow the tally rules vote by vote whatever the mix; on PostgreSQL the
    first votes of new devices take the one-statement path and the rest the general one (from the
    event loop: the prepared statement sent through libpq, then a thread)."""

    if mode == "event loop" and connection.vendor != "postgresql":
        pytest.skip("SQLite batches are written by write_locked")

    from opencall.ideas.models import Idea

    store = open_store(dict(connection.settings_dict))
    a, b, c = (f.pk for f in finalists[:3])
    outsider = Idea.objects.filter(challenge=challenge).exclude(pk__in=[f.pk for f in finalists]).first()
    not_finalist = outsider.pk if outsider is not None else max(a, b, c) + 1000

    vote = functools.partial(pending, open_vote)

    write = functools.partial(write_as, store, mode)

    async def scenario():
        first = await write([vote("old", a, "vote-old-1", 1), vote("kept", b, "vote-kept-1", 1)])
        second = await write(
            [
                vote("new", a, "vote-new-1", 1),  # new device
                vote("new", b, "vote-new-2", 2),  # the same device changes its vote in the batch
                vote("old", c, "vote-old-2", 2),  # a device with a ballot changes its vote
                vote("kept", b, "vote-kept-1", 1),  # a retry
                vote("kept", a, "vote-kept-0", 1),  # an older vote arriving late
                vote("odd", not_finalist, "vote-odd-1", 1),  # not a finalist
                vote("new", b, "vote-new-2", 2),  # a retry inside the batch
                vote("late", c, "vote-late-1", 1),  # another new device
            ]
        )
        return first, second

    try:
        first, second = asyncio.run(scenario())
    finally:
        if mode == "event loop":
            asyncio.run(store.aclose())
        store.close()
    assert first.outcomes == ["new", "new"]
    assert second.outcomes == ["new", "change", "change", "duplicate", "stale", "invalid", "duplicate", "new"]
    assert second.turnout == {open_vote.pk: 2}
    assert second.deltas == {open_vote.pk: {b: 1, c: 2, a: -1}}
    assert second.accepted == {open_vote.pk: 4}
    assert counts(open_vote) == {a: 0, b: 2, c: 2}
    assert {d.removesuffix("x" * 16): row[0] for d, row in ballots(open_vote).items()} == {
        "old": c,
        "kept": b,
        "new": b,
        "late": c,
    }


def test_new_devices_path_hands_the_rest_of_the_batch_to_the_general_one(open_vote, finalists) -> None:
    """Without any held ballot in the way, the first votes of new devices go in by the plain insert
    (no fallback afterwards) and the other votes of the same batch (a device's second vote, a
    vote for an idea that is not a finalist) are decided by the general path in the same batch,
    seeing the ballots just inserted."""

    store = open_store(dict(connection.settings_dict))
    a, b = finalists[0].pk, finalists[1].pk
    vote = functools.partial(pending, open_vote)
    try:
        result = store.write_batch(
            [
                vote("one", a, "vote-one-1"),
                vote("two", b, "vote-two-1"),
                vote("one", b, "vote-one-2", 2),  # a change, in the batch of its first vote
                vote("odd", 10**9, "vote-odd-1"),  # not a finalist
                vote("two", b, "vote-two-1"),  # a retry in the batch
            ]
        )
        skipping = store._skip_held_batches
    finally:
        store.close()
    assert result.outcomes == ["new", "new", "change", "invalid", "duplicate"]
    assert skipping == 0  # the plain insert went through
    assert result.deltas == {open_vote.pk: {b: 2}}
    assert result.turnout == {open_vote.pk: 2} and result.accepted == {open_vote.pk: 3}
    assert counts(open_vote) == {a: 0, b: 2, finalists[2].pk: 0}
    assert {d.removesuffix("x" * 16): row[:3] for d, row in ballots(open_vote).items()} == {
        "one": (b, "vote-one-2", 2),
        "two": (b, "vote-two-1", 1),
    }


def test_the_writers_shortcut_for_a_device_without_ballot_is_the_tally_rule() -> None:
    """BallotStore._write (and the PostgreSQL statement) record a device's first vote as NEW, +1
    for its idea, without asking the tally engine: this is what the engine decides."""
    from opencall.engines.tally import Ballot, Decision, VoteEvent, apply_event

    for seq in (1, 7):
        assert apply_event(None, VoteEvent("dev", "vote-0001", seq, 42)) == (
            Decision.NEW,
            Ballot("dev", "vote-0001", seq, 42),
            ((42, 1),),
        )


def test_a_failed_wal_sync_answers_not_recorded_and_is_not_retried(open_vote, finalists, monkeypatch) -> None:
    """After a failed fsync a second one may succeed though the data is gone: the batch is
    answered 503 (send again), never acknowledged on a retry."""
    import os

    from opencall.voting.live.store import sqlite as store_module

    if connection.vendor != "sqlite":
        pytest.skip("the WAL is SQLite's")
    calls: list[int] = []

    def failing_fdatasync(fd: int) -> None:
        calls.append(fd)
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store_module.os, "fdatasync", failing_fdatasync)
    app = fastpath()
    path = f"/live/api/{open_vote.code}/vote"

    async def scenario():
        return await request(app, "POST", path, vote_body(token_for(open_vote), finalists[0].pk, "vote-eio-1"))

    status, body, headers = run(app, scenario)
    assert status == 503 and body["title"] == "Vote not recorded" and headers[b"retry-after"] == b"1"
    assert len(calls) == 1
    monkeypatch.setattr(store_module.os, "fdatasync", os.fdatasync)


def test_postgres_rest_of_a_batch_failing_keeps_the_new_devices_outcome(open_vote, finalists, monkeypatch) -> None:
    """The new devices' statement commits on its own; if the rest of the batch then fails, their
    votes stay recorded with their counts and only the rest is answered 'send again'."""

    if connection.vendor != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's")
    store = open_store(dict(connection.settings_dict))
    a, b = finalists[0].pk, finalists[1].pk

    vote = functools.partial(pending, open_vote)

    def broken(votes: object) -> None:
        raise RuntimeError("connection lost")

    async def scenario():
        await store.write_batch_async([vote("old", a, "vote-old-1", 1)])
        monkeypatch.setattr(store, "write_general", broken)
        try:
            return await store.write_batch_async([vote("new", a, "vote-new-1", 1), vote("old", b, "vote-old-2", 2)])
        finally:
            await store.aclose()
            store.close()

    result = asyncio.run(scenario())
    assert result.outcomes == ["new", "unavailable"]
    assert result.deltas == {open_vote.pk: {a: 1}} and result.turnout == {open_vote.pk: 1}
    assert counts(open_vote) == {a: 2, b: 0, finalists[2].pk: 0}


@pytest.mark.parametrize("mode", ["thread", "event loop"])
def test_resent_first_vote_falls_back_to_reading_held_ballots(open_vote, finalists, mode) -> None:
    """New devices' first votes go in by a plain insert; a first vote resent after its answer was
    lost makes it fail on the primary key. The batch then runs again past held ballots (nothing
    counted twice, the other new devices recorded: on SQLite the savepoint took back the one
    inserted before the failure), and so do the next batches for a while."""

    from opencall.voting.live.store import base as store_module

    if mode == "event loop" and connection.vendor != "postgresql":
        pytest.skip("SQLite batches are written by write_locked")
    store = open_store(dict(connection.settings_dict))
    a, b = finalists[0].pk, finalists[1].pk

    vote = functools.partial(pending, open_vote)

    write = functools.partial(write_as, store, mode)

    async def scenario():
        try:
            first = await write([vote("one", a, "vote-one-1"), vote("two", b, "vote-two-1")])
            plain_after_new = store._skip_held_batches
            resent = await write([vote("three", a, "vote-three-1"), vote("one", a, "vote-one-1")])
            skipping = store._skip_held_batches
            for n in range(store_module.SKIP_HELD_BATCHES):
                await write([vote(f"more{n}", b, f"vote-more{n}")])
            return first, plain_after_new, resent, skipping, store._skip_held_batches
        finally:
            await store.aclose()
            store.close()

    first, plain_after_new, resent, skipping, after = asyncio.run(scenario())
    assert first.outcomes == ["new", "new"] and plain_after_new == 0
    assert resent.outcomes == ["new", "duplicate"]
    assert resent.deltas == {open_vote.pk: {a: 1}} and resent.turnout == {open_vote.pk: 1}
    assert skipping == store_module.SKIP_HELD_BATCHES and after == 0
    assert counts(open_vote) == {a: 2, b: 1 + store_module.SKIP_HELD_BATCHES, finalists[2].pk: 0}


def test_postgres_batch_for_two_live_votes_is_one_transaction(open_vote, finalists, challenge, organiser) -> None:
    """From the event loop a batch for one live vote is a single autocommitted statement; one that
    spans two live votes runs their statements in one transaction, and a resent first vote in
    either rolls both back and reruns them skipping held ballots."""

    if connection.vendor != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's")
    other = actions.open_live_vote(
        live_vote=actions.create_live_vote(
            challenge=challenge,
            by=organiser,
            title="Second stage",
            finalist_ids=[f.pk for f in finalists],
            duration_seconds=300,
        ),
        by=organiser,
    )
    store = open_store(dict(connection.settings_dict))
    a, b = finalists[0].pk, finalists[1].pk

    vote = pending

    async def scenario():
        try:
            first = await store.write_batch_async([vote(open_vote, "one", a, "v-1"), vote(other, "one", b, "v-2")])
            second = await store.write_batch_async(
                [vote(open_vote, "two", b, "v-3"), vote(other, "one", b, "v-2"), vote(other, "two", a, "v-4")]
            )
            return first, second, store._skip_held_batches
        finally:
            await store.aclose()
            store.close()

    first, second, skipping = asyncio.run(scenario())
    assert first.outcomes == ["new", "new"]
    assert first.deltas == {open_vote.pk: {a: 1}, other.pk: {b: 1}}
    assert second.outcomes == ["new", "duplicate", "new"] and skipping > 0
    assert second.deltas == {open_vote.pk: {b: 1}, other.pk: {a: 1}}
    assert counts(open_vote) == {a: 1, b: 1, finalists[2].pk: 0}
    assert counts(other) == {a: 1, b: 1, finalists[2].pk: 0}
    assert set(ballots(other)) == {"onexxxxxxxxxxxxxxxx", "twoxxxxxxxxxxxxxxxx"}


def test_postgres_lost_connection_is_reopened_and_the_batch_written_once(open_vote, finalists) -> None:
    """The event loop's connection dies between two batches (a database restart): the prepared
    statement's send fails, the writer drops that connection, and the retry opens a new one
    (preparing the statements again) and writes the batch once."""

    from opencall.voting.live.batcher import Batcher

    if connection.vendor != "postgresql":
        pytest.skip("the event loop's connection is PostgreSQL's")
    store = open_store(dict(connection.settings_dict))
    a, b = finalists[0].pk, finalists[1].pk

    vote = functools.partial(pending, open_vote)

    async def scenario():
        batcher = Batcher(store, 0.001, 100)
        try:
            first = await batcher._write([vote("one", a, "v-1")])
            old = store._async_writer

            def terminate() -> None:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [old.pgconn.backend_pid])
                connection.close()

            await asyncio.to_thread(terminate)
            second = await batcher._write([vote("two", b, "v-2"), vote("three", b, "v-3")])
            return first, second, old is not store._async_writer
        finally:
            await store.aclose()
            store.close()

    first, second, reopened = asyncio.run(scenario())
    assert first.outcomes == ["new"] and second.outcomes == ["new", "new"] and reopened
    assert counts(open_vote) == {a: 1, b: 2, finalists[2].pk: 0}
    assert len(ballots(open_vote)) == 3


def test_postgres_rollback_of_a_two_vote_batch_keeps_the_prepared_statements(
    open_vote, finalists, challenge, organiser
) -> None:
    """Batches spanning two live votes go through psycopg; a rolled-back one (a resent first
    vote) must not drop the statements prepared for single-vote batches on that connection."""

    if connection.vendor != "postgresql":
        pytest.skip("the event loop's connection is PostgreSQL's")
    other = actions.open_live_vote(
        live_vote=actions.create_live_vote(
            challenge=challenge, by=organiser, title="Encore", finalist_ids=[f.pk for f in finalists]
        ),
        by=organiser,
    )
    store = open_store(dict(connection.settings_dict))
    a = finalists[0].pk

    def vote(live_vote: LiveVote, device: str, vote_id: str) -> PendingVote:
        return pending(live_vote, device, a, vote_id)

    async def scenario():
        try:
            for n in range(6):  # more than psycopg's default threshold for preparing on its own
                await store.write_batch_async([vote(open_vote, f"d{n}", f"a-{n}"), vote(other, f"d{n}", f"b-{n}")])
            used = store._async_writer
            resent = await store.write_batch_async([vote(open_vote, "d0", "a-0"), vote(other, "late", "b-late")])
            single = await store.write_batch_async([vote(open_vote, "solo", "a-solo")])
            return resent, single, store._async_writer is used
        finally:
            await store.aclose()
            store.close()

    resent, single, same_connection = asyncio.run(scenario())
    assert resent.outcomes == ["duplicate", "new"] and single.outcomes == ["new"]
    assert same_connection  # no reconnect was needed
    assert counts(open_vote)[a] == 7 and counts(other)[a] == 7


def test_postgres_batch_cancelled_in_flight_drops_the_connection(open_vote, finalists) -> None:
    """A worker stopping cancels a batch whose statement is still at the database: that
    connection (a result unread) is dropped, and the next batch goes out on a new one."""

    import psycopg

    if connection.vendor != "postgresql":
        pytest.skip("the event loop's connection is PostgreSQL's")
    store = open_store(dict(connection.settings_dict))
    a = finalists[0].pk

    def vote(device: str, vote_id: str) -> PendingVote:
        return pending(open_vote, device, a, vote_id)

    async def scenario():
        blocker = await psycopg.AsyncConnection.connect(**store._pg_params())
        try:
            await store.write_batch_async([vote("first", "v-first")])
            # Hold the live vote's row so that the next statement waits at the database.
            await blocker.execute("SELECT 1 FROM voting_livevote WHERE id = %s FOR UPDATE", [open_vote.pk])
            stuck = asyncio.ensure_future(store.write_batch_async([vote("stuck", "v-stuck")]))
            await asyncio.sleep(0.3)
            stuck.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stuck
            dropped = store._async_writer is None
            await blocker.rollback()
            after = await store.write_batch_async([vote("after", "v-after")])
            return dropped, after
        finally:
            await blocker.close()
            await store.aclose()
            store.close()

    dropped, after = asyncio.run(scenario())
    assert dropped and after.outcomes == ["new"]
    # The cancelled statement may still have committed once the row was free; either way each
    # device has one ballot and the counters equal them.
    held = ballots(open_vote)
    assert {"firstxxxxxxxxxxxxxxxx", "afterxxxxxxxxxxxxxxxx"} <= set(held)
    assert counts(open_vote)[a] == len(held)


def test_shutdown_writes_and_answers_the_votes_already_queued(open_vote, finalists) -> None:
    """A worker stopping drains its queue: a vote waiting for the next batch is committed and
    answered (not dropped unanswered), and a vote arriving after the drain is told to send again."""

    app = fastpath(flush_seconds=30.0)  # the next batch would be long in coming
    path = f"/live/api/{open_vote.code}/vote"

    async def scenario():
        # The first batch goes at once; the next one would wait for the flush interval.
        first = await request(app, "POST", path, vote_body(token_for(open_vote), finalists[0].pk, "vote-first-1"))
        assert first[0] == 200
        queued = asyncio.ensure_future(
            request(app, "POST", path, vote_body(token_for(open_vote), finalists[1].pk, "vote-last-1"))
        )
        await asyncio.sleep(0.1)
        assert app.batcher is not None
        batcher = app.batcher
        await asyncio.wait_for(app.shutdown(), 10)
        answer = await asyncio.wait_for(queued, 1)
        late = await batcher.submit(PendingVote(open_vote.pk, "late" * 5, finalists[0].pk, "vote-late-1", 1, None, 0.0))
        return answer, late

    answer, late = run(app, scenario)
    assert answer[0] == 200 and answer[1]["vote_id"] == "vote-last-1"
    assert late == "unavailable"
    assert counts(open_vote) == {finalists[0].pk: 1, finalists[1].pk: 1, finalists[2].pk: 0}
