"""Crash test: no acknowledged vote lost, none counted twice, across a kill -9 or a database restart.

    .venv/bin/python bench/live/crash.py [--scenario kill,postgres-restart] [--voters 20000]

Scenario `kill` (SQLite and PostgreSQL): voters cast a vote and then change it while the server is
killed with SIGKILL mid-run and started again. Scenario `postgres-restart`: PostgreSQL itself is
restarted mid-run (`pg_ctlcluster --skip-systemctl-redirect 15 main restart`) under the running
server. Every vote that got no answer is sent again with the same client vote id until it is
acknowledged; at the end every vote (including the old first votes of voters who changed) is sent
once more. Then the live vote is stopped and its final tally must equal the tally of acknowledged
votes computed by the tally engine, ballot by ballot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PYTHON, ROOT, Backend, Server, workdir

from opencall.engines.tally import VoteEvent, fold_events
from opencall.voting.tokens import issue_token, read_token, signing_key


@dataclass
class Vote:
    token: str
    device: str
    vote_id: str
    seq: int
    idea: int
    acked: bool = False
    attempts: int = 0


@dataclass
class Stats:
    sent: int = 0
    acked: int = 0
    unanswered: int = 0
    refused: dict[int, int] = field(default_factory=dict)


class Client:
    """A minimal HTTP/1.1 keep-alive client over asyncio streams (no dependency)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, ip: str, timeout: float = 5.0) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._post(path, body, ip), timeout)
        except BaseException:
            await self.close()
            raise

    async def _post(self, path: str, body: bytes, ip: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Forwarded-For: {ip}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def cast(client: Client, code: str, vote: Vote, stats: Stats) -> None:
    body = json.dumps({"token": vote.token, "idea": vote.idea, "vote_id": vote.vote_id, "seq": vote.seq}).encode()
    vote.attempts += 1
    stats.sent += 1
    try:
        # One address per voter, as phones on many networks behind a trusted proxy.
        n = int(vote.vote_id[1:8])
        status, answer = await client.post(
            f"/live/api/{code}/vote", body, f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        )
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        stats.unanswered += 1
        await asyncio.sleep(0.05)
        return
    if status == 200 and json.loads(answer)["status"] in ("recorded", "superseded"):
        if not vote.acked:
            stats.acked += 1
        vote.acked = True
    else:
        stats.refused[status] = stats.refused.get(status, 0) + 1
        await asyncio.sleep(0.05)


async def drive(
    port: int, code: str, voters: list[list[Vote]], connections: int, stats: Stats, until_acked: bool
) -> None:
    """Each worker takes a voter and casts that voter's votes in order, retrying until acked."""
    queue: asyncio.Queue[list[Vote]] = asyncio.Queue()
    for votes in voters:
        queue.put_nowait(votes)

    async def worker() -> None:
        client = Client(port)
        while not queue.empty():
            votes = queue.get_nowait()
            for vote in votes:
                while True:
                    await cast(client, code, vote, stats)
                    if vote.acked or not until_acked:
                        break
        await client.close()

    await asyncio.gather(*(worker() for _ in range(connections)))


def make_voters(secret: str, live_vote_id: int, finalists: list[int], count: int, seed: int) -> list[list[Vote]]:
    rng = random.Random(seed)
    key = signing_key(secret)
    voters = []
    for n in range(count):
        token = issue_token(key, live_vote_id)
        held = read_token(key, token)
        assert held is not None
        first = Vote(token, held.device, f"v{n:07d}a", 1, rng.choice(finalists))
        votes = [first]
        if rng.random() < 0.4:  # 40% change their mind
            votes.append(Vote(token, held.device, f"v{n:07d}b", 2, rng.choice(finalists)))
        voters.append(votes)
    return voters


def run_scenario(backend_name: str, scenario: str, voters_count: int, connections: int, port: int = 0) -> bool:
    backend = Backend(backend_name, workdir(f"opencall-crash-{backend_name}-"))
    backend.create()
    info = backend.prepare(finalists=5)
    voters = make_voters(backend.secret, info["live_vote_id"], info["finalists"], voters_count, seed=7)
    server = Server(backend, workers=2, port=port or None)
    server.start()
    stats = Stats()

    async def main_run() -> None:
        task = asyncio.create_task(drive(server.port, info["code"], voters, connections, stats, until_acked=True))
        total = sum(len(v) for v in voters)
        while stats.acked < total * 0.4 and not task.done():
            await asyncio.sleep(0.02)
        if scenario == "kill":
            print(f"  SIGKILL to the server after {stats.acked} acknowledged votes")
            await asyncio.to_thread(server.kill)
            await asyncio.to_thread(check_durable)
            await asyncio.to_thread(server.start)
            print("  server restarted")
        else:
            print(f"  restarting PostgreSQL after {stats.acked} acknowledged votes")
            await asyncio.to_thread(
                subprocess.run, ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"], check=True
            )
            await asyncio.to_thread(check_durable)
            print("  PostgreSQL restarted")
        await task

    durable: list[str] = []

    def check_durable() -> None:
        """Every vote acknowledged so far is in the database now, before anything is resent."""
        acked = [v for votes in voters for v in votes if v.acked]
        rows = backend.query(
            "SELECT device, client_vote_id, seq FROM voting_liveballot WHERE live_vote_id = ?", (info["live_vote_id"],)
        )
        held = {d: (vid, int(seq)) for d, vid, seq in rows}
        lost = [
            v
            for v in acked
            if v.device not in held
            or held[v.device][1] < v.seq
            or (held[v.device][1] == v.seq and held[v.device][0] != v.vote_id)
        ]
        durable.append(f"{len(acked)} votes acknowledged at the {scenario}, {len(lost)} missing from the database")

    started = time.monotonic()
    asyncio.run(main_run())
    acked_in_run = stats.acked
    # Everything unanswered is sent again with the same vote id until acknowledged; then every
    # vote once more (retries of acknowledged votes, late retries of changed votes).
    pending = [[v for v in votes if not v.acked] for votes in voters]
    asyncio.run(drive(server.port, info["code"], [p for p in pending if p], connections, stats, until_acked=True))
    resend = [[Vote(v.token, v.device, v.vote_id, v.seq, v.idea)] for votes in voters for v in votes]
    random.Random(3).shuffle(resend)
    again = Stats()
    asyncio.run(drive(server.port, info["code"], resend, connections, again, until_acked=True))
    server.stop()
    elapsed = time.monotonic() - started

    # What the votes must add up to: the engine over the acknowledged votes.
    acked_events = [VoteEvent(v.device, v.vote_id, v.seq, v.idea) for votes in voters for v in votes if v.acked]
    expected, _ = fold_events(acked_events, info["finalists"])
    stop = subprocess.run(  # noqa: S603 - our own argv, no shell
        [
            PYTHON,
            "-c",
            (
                "import django, json; django.setup()\n"
                "from opencall.accounts.models import User\n"
                "from opencall.voting.models import LiveVote\n"
                "from opencall.voting.actions import stop_live_vote\n"
                f"lv = LiveVote.objects.get(pk={info['live_vote_id']})\n"
                f"lv = stop_live_vote(live_vote=lv, by=User.objects.get(pk={info['organiser_id']}))\n"
                "print(json.dumps(lv.final_tally))"
            ),
        ],
        env=backend.env(),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    final = json.loads(stop.stdout.strip().splitlines()[-1])
    rows = backend.query(
        "SELECT device, client_vote_id, seq, idea_id FROM voting_liveballot WHERE live_vote_id = ?",
        (info["live_vote_id"],),
    )
    stored = {d: (v, int(s), int(i)) for d, v, s, i in rows}
    want = {d: (b.vote_id, b.seq, b.choice) for d, b in expected.items()}
    expected_counts = {str(i): sum(1 for b in expected.values() if b.choice == i) for i in info["finalists"]}
    ok = (
        durable[0].endswith(" 0 missing from the database")
        and stored == want
        and final["counts"] == expected_counts
        and final["turnout"] == len(expected)
        and len(rows) == len(stored)
    )
    total = sum(len(v) for v in voters)
    print(
        f"{backend_name:8} {scenario:17} {voters_count} voters, {total} votes ({total - voters_count} changes); "
        f"{acked_in_run} acked during the run, {stats.unanswered} unanswered and "
        f"{sum(stats.refused.values())} refused {stats.refused} resent; {again.sent} re-sent after the end; "
        f"{elapsed:.0f} s"
    )
    print(f"{'':27}{durable[0]}")
    print(
        f"{'':27}final tally {final['counts']} turnout {final['turnout']}; expected {expected_counts}; "
        f"ballots = last acknowledged vote of every device: {stored == want} -> {'PASS' if ok else 'FAIL'}"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="kill,postgres-restart")
    parser.add_argument("--backends", default="sqlite,postgres", help="for the kill scenario")
    parser.add_argument("--voters", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    opts = parser.parse_args()
    results = []
    for scenario in opts.scenario.split(","):
        backends = opts.backends.split(",") if scenario == "kill" else ["postgres"]
        for backend in backends:
            results.append(run_scenario(backend, scenario, opts.voters, opts.connections, opts.port))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
