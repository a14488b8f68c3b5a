"""A burst of comment posts from one account through the API, against a real server (granian, two worker
processes sharing the database cache), as issue 13 reproduced it: how many are accepted, how many refused.

    .venv/bin/python bench/ratelimit [--posts 200] [--concurrency 4] [--port 8150] [--workers 2]

Builds a fresh SQLite database in a temporary folder (nothing else is touched), serves it on 127.0.0.1 only,
sends the posts with one personal token, prints the answers by status and the first refusal, and stops the
server it started.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def build(var: Path) -> tuple[int, str]:
    """Migrate a fresh database and make a challenge, a submitted idea and a participant with a token."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    from opencall.accounts.actions import issue_token
    from opencall.accounts.models import User
    from opencall.challenges.models import Challenge
    from opencall.ideas.models import Idea, IdeaStatus, Team
    from opencall.organisations.models import Organisation

    org = Organisation.objects.create(name="Bench", slug="bench")
    challenge = Challenge.objects.create(organisation=org, title="Bench", slug="bench", summary="s",
                                         phase="submission", visibility="public")
    team = Team.objects.create(challenge=challenge, name="Team")
    idea = Idea.objects.create(challenge=challenge, team=team, title="Target", summary="s",
                               status=IdeaStatus.SUBMITTED)
    person = User.objects.create_user(email="burst@example.org", password=None, display_name="Burst")
    _, clear = issue_token(user=person, label="burst")
    connections.close_all()
    return idea.pk, clear


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"The server did not come up on 127.0.0.1:{port}")


def post(url: str, token: str, n: int) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body)."""
    body = json.dumps({"body": f"Burst comment {n}"}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={  # noqa: S310 -- loopback http only
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 -- loopback only
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="opencall-bench-ratelimit-"))
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "opencall.config.settings.dev", "DEBUG": "0", "OPENCALL_VAR_DIR": str(var),
        "SECRET_KEY": secrets.token_urlsafe(50), "LOG_LEVEL": "ERROR",
    })
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)  # the default store: the database cache
    idea_id, token = build(var)
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(args.port),
         "--workers", str(args.workers), "--no-ws", "opencall.config.wsgi:application"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(args.port)
        url = f"http://127.0.0.1:{args.port}/api/ideas/{idea_id}/comments"
        started = time.monotonic()
        with ThreadPoolExecutor(args.concurrency) as pool:
            answers = list(pool.map(lambda n: post(url, token, n), range(args.posts)))
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=15)
    counts = collections.Counter(status for status, _, _ in answers)
    print(f"{args.posts} comment posts from one account, {args.concurrency} at a time, "
          f"{args.workers} server workers: {elapsed:.1f} s ({args.posts / elapsed:.0f}/s)")
    print("answers by status: " + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())))
    refused = next(((headers, body) for status, headers, body in answers if status == 429), None)
    if refused is not None:
        headers, body = refused
        print(f"first refusal: Retry-After {headers.get('retry-after')}, {headers.get('content-type')}")
        print("  " + body.decode())
    import sqlite3

    with sqlite3.connect(var / "opencall.sqlite3") as db:
        (stored,) = db.execute("SELECT COUNT(*) FROM community_comment").fetchone()
    print(f"comments stored: {stored}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    raise SystemExit(main())
