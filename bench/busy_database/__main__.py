"""A busy or full database under a real server: what writes and reads answer, and how fast.

    .venv/bin/python bench/busy_database --var /path/to/demo/var [--hold 30] [--port 8160]

Copies the demo database in `--var` (an `opencall demo` data folder) to a temp folder, serves it with
`opencall serve` (granian, 2 blocking threads, as shipped) and then, while a second process holds
SQLite's write lock (`BEGIN IMMEDIATE`) for `--hold` seconds, times an API comment post, a form comment
post, page reads (anonymous and signed in) and an API read with a token; then several writes at once
beside one read (the server has two threads); then the same post after the lock is released.
`--disk-full` runs the database on a small tmpfs filled to the brim instead (needs root).
Prints one line per request: what, status, seconds, the start of the body.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
CSRF = "a" * 32
LOCK = {"start": time.monotonic(), "released": 0.0}


class Client:
    def __init__(self, port: int, fixture: dict[str, Any]) -> None:
        self.port = port
        self.fx = fixture

    def call(self, label: str, method: str, path: str, *, body: bytes | None = None,
             headers: dict[str, str] | None = None, timeout: float = 60) -> dict[str, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        start = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            status: Any = response.status
            extra = {k: response.getheader(k) for k in ("Retry-After", "Content-Type") if response.getheader(k)}
        except Exception as exc:  # a bench reports whatever happened
            data, status, extra = str(exc).encode(), type(exc).__name__, {}
        finally:
            conn.close()
        took = time.monotonic() - start
        return {"what": label, "status": status, "seconds": round(took, 2), "headers": extra,
                "at": start - LOCK["start"], "held": LOCK["released"] == 0 or time.monotonic() < LOCK["released"],
                "body": data[:160].decode("utf-8", "replace").replace("\n", " "),
                "full": data.decode("utf-8", "replace")}

    def api_post_comment(self, text: str) -> dict[str, Any]:
        return self.call("API POST comment (token)", "POST", f"/api/ideas/{self.fx['idea']}/comments",
                         body=json.dumps({"body": text}).encode(),
                         headers={"Authorization": f"Bearer {self.fx['token']}", "Content-Type": "application/json"})

    def form_post_comment(self, text: str) -> dict[str, Any]:
        from urllib.parse import urlencode

        result = self.call("form POST comment (session)", "POST", f"/ideas/{self.fx['idea']}/comments/",
                           body=urlencode({"body": text, "csrfmiddlewaretoken": CSRF}).encode(),
                           headers={"Cookie": f"sessionid={self.fx['session']}; csrftoken={CSRF}",
                                    "Content-Type": "application/x-www-form-urlencoded"})
        if result["status"] != 302:
            result["what"] += " input kept" if f">{text}</textarea>" in result["full"] else " input LOST"
        return result

    def page_anon(self) -> dict[str, Any]:
        return self.call("GET idea page (anonymous)", "GET", f"/ideas/{self.fx['idea']}/")

    def page_session(self) -> dict[str, Any]:
        return self.call("GET idea page (signed in)", "GET", f"/ideas/{self.fx['idea']}/",
                         headers={"Cookie": f"sessionid={self.fx['session']}"})

    def api_read(self) -> dict[str, Any]:
        return self.call("API GET comments (token)", "GET", f"/api/ideas/{self.fx['idea']}/comments?limit=1",
                         headers={"Authorization": f"Bearer {self.fx['token']}"})


def together(*calls: Any) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = [{} for _ in calls]

    def run(i: int, call: Any) -> None:
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
        time.sleep(0.05)  # in this order
    for t in threads:
        t.join()
    return results


def show(title: str, results: list[dict[str, Any]]) -> None:
    print(f"\n## {title}")
    for r in results:
        when = f"t={r['at']:5.1f} s" + ("" if r["held"] else " (lock gone)")
        print(f"  {when:<24} {r['what']:<40} {r['status']!s:<5} {r['seconds']:>6.2f} s  {r['headers']}  {r['body'][:100]}")


def comment_count(db: Path, marker: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM community_comment WHERE body LIKE ?",
                                (f"%{marker}%",)).fetchone()[0])


def hold_lock(db: Path, seconds: float, ready: threading.Event) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    LOCK["start"] = time.monotonic()
    ready.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    LOCK["released"] = time.monotonic()
    conn.close()


def serve(var: Path, port: int, settings: str, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is taken: stop what listens there first")
    env = {**os.environ, "OPENCALL_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": settings, **extra_env}
    log = (var / "server.log").open("wb")
    argv = [str(PYTHON), "-m", "opencall", "serve", "--no-demo", "--no-worker", "--no-live", "--port", str(port)]
    server = subprocess.Popen(  # noqa: S603 - our own argv, no shell
        argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=var, start_new_session=True
    )
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/")
            conn.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not start; see " + str(var / "server.log"))


def fixture(var: Path, settings: str, extra_env: dict[str, str]) -> dict[str, Any]:
    env = {**os.environ, "OPENCALL_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": settings, **extra_env}
    argv = [str(PYTHON), str(Path(__file__).parent / "fixture.py")]
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout  # noqa: S603 - our argv
    return dict(json.loads(out.strip().splitlines()[-1]))


def locked(args: argparse.Namespace, var: Path, client: Client) -> None:
    db = var / "opencall.sqlite3"
    marker = f"busy-{int(time.time())}"
    ready = threading.Event()
    holder = threading.Thread(target=hold_lock, args=(db, args.hold, ready))
    start = time.monotonic()
    holder.start()
    ready.wait()
    print(f"\nA second process holds the write lock for {args.hold} s.")
    show("writes one at a time, lock held", [client.api_post_comment(f"{marker} api"),
                                             client.form_post_comment(f"{marker} form")])
    show("reads one at a time, lock held", [client.page_anon(), client.page_session(), client.api_read()])
    show("three writes and a read at once, lock held",
         together(lambda: client.api_post_comment(f"{marker} a"), lambda: client.api_post_comment(f"{marker} b"),
                  lambda: client.form_post_comment(f"{marker} c"), client.page_anon))
    show("two writes and two reads at once, lock held",
         together(lambda: client.api_post_comment(f"{marker} d"), lambda: client.api_post_comment(f"{marker} e"),
                  client.page_anon, client.api_read))
    # The server's note that the lock is held lasts 5 s after the last refusal; past it, the first
    # writes wait the whole busy timeout again, each holding one of the two threads.
    time.sleep(6)
    show("three writes and a read at once, lock held, 6 s after the last refusal",
         together(lambda: client.api_post_comment(f"{marker} f"), lambda: client.api_post_comment(f"{marker} g"),
                  lambda: client.form_post_comment(f"{marker} h"), client.page_anon))
    print(f"\ncomments with the marker saved while locked: {comment_count(db, marker)}")
    holder.join()
    print(f"lock released after {time.monotonic() - start:.1f} s")
    show("after the release", [client.api_post_comment(f"{marker} after"), client.page_anon()])
    print(f"comments with the marker saved: {comment_count(db, marker)} (the one after the release)")


def disk_full(args: argparse.Namespace, var: Path, client: Client) -> None:
    db = var / "opencall.sqlite3"
    marker = f"full-{int(time.time())}"
    filler = var / "filler"
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
        except OSError:
            pass
    print(f"\nThe disk holding the database is full ({shutil.disk_usage(var).free} bytes free).")
    for _ in range(2):
        show("disk full", [client.api_post_comment(f"{marker} api" + " x" * 2000),
                           client.form_post_comment(f"{marker} form" + " x" * 2000),
                           client.page_anon(), client.page_session(), client.api_read()])
    print(f"\ncomments with the marker saved while full: {comment_count(db, marker)}")
    filler.unlink()
    show("space freed", [client.api_post_comment(f"{marker} after"), client.page_anon()])
    print(f"comments with the marker saved: {comment_count(db, marker)} (the one after space was freed)")


def pg_ctl(data: Path, *command: str) -> None:
    argv = ["su", "postgres", "-c", " ".join(["pg_ctl", "-D", str(data), "-w", *command])]
    subprocess.run(argv, check=True, capture_output=True)  # noqa: S603 - our own argv


def restart(args: argparse.Namespace, var: Path, client: Client) -> None:
    """PostgreSQL stopped for `--hold` seconds, then started again, with a post and a read every 0.5 s."""
    marker = f"restart-{int(time.time())}"
    results: list[dict[str, Any]] = []
    done = threading.Event()

    def traffic() -> None:
        n = 0
        while not done.is_set():
            n += 1
            results.extend(together(lambda n=n: client.api_post_comment(f"{marker} {n}"), client.page_anon))
            time.sleep(0.5)

    LOCK["start"], LOCK["released"] = time.monotonic(), 0.0
    # Started again with the options it runs with now (port, socket folder, addresses).
    opts = shlex.split((args.pg_data / "postmaster.opts").read_text())[1:]
    opts = [o for i, o in enumerate(opts) if o != "-D" and (i == 0 or opts[i - 1] != "-D")]
    worker = threading.Thread(target=traffic, daemon=True)
    worker.start()
    try:
        time.sleep(2)
        stop = time.monotonic()
        pg_ctl(args.pg_data, "stop", "-m", "fast")
        print(f"\nPostgreSQL stopped at t={stop - LOCK['start']:.1f} s")
        time.sleep(args.hold)
        pg_ctl(args.pg_data, "start", "-l", str(args.pg_data.parent / "log"), "-o", shlex.quote(shlex.join(opts)))
        LOCK["released"] = time.monotonic()
        print(f"PostgreSQL answering again at t={LOCK['released'] - LOCK['start']:.1f} s")
        time.sleep(3)
    finally:
        done.set()
        worker.join()
    for r in results:
        down = stop <= LOCK["start"] + r["at"] < LOCK["released"]
        r["what"], r["held"] = ("[PG down] " if down else "[PG up]   ") + r["what"], True
    show("a post and a page read every 0.5 s", results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var", type=Path, required=True, help="a data folder holding the demo database")
    parser.add_argument("--port", type=int, default=8160)
    parser.add_argument("--hold", type=float, default=30)
    parser.add_argument("--settings", default="opencall.config.settings.dev")
    parser.add_argument("--disk-full", action="store_true", help="a full disk instead of a held lock (root)")
    parser.add_argument("--postgres", help="DATABASE_URL of a PostgreSQL database holding the demo, to restart")
    parser.add_argument("--pg-data", type=Path, help="that cluster's data folder (pg_ctl runs as user postgres)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="opencall-busy-"))
    var = work / "var"
    mounted = False
    try:
        if args.postgres:
            var.mkdir()
        elif args.disk_full:
            var.mkdir()
            size = (args.var / "opencall.sqlite3").stat().st_size + 24 * 1024 * 1024
            subprocess.run(  # noqa: S603 - our own argv, no shell
                ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(var)], check=True  # noqa: S607 - from PATH
            )
            mounted = True
            shutil.copytree(args.var, var, dirs_exist_ok=True)
        else:
            shutil.copytree(args.var, var)
        extra_env = {"DATABASE_URL": args.postgres} if args.postgres else {}
        fx = fixture(var, args.settings, extra_env)
        print(f"free space in the data folder: {shutil.disk_usage(var).free} bytes")
        server = serve(var, args.port, args.settings, extra_env)
        print(f"free space in the data folder: {shutil.disk_usage(var).free} bytes")
        try:
            client = Client(args.port, fx)
            show("warm-up", [client.page_anon(), client.api_read()])
            scenario = restart if args.postgres else disk_full if args.disk_full else locked
            scenario(args, var, client)
        finally:
            os.killpg(server.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=20)
            # granian's workers too, or the next run would talk to this server
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            log = (var / "server.log").read_text(errors="replace")
            lines = [line for line in log.splitlines() if "503" in line or "rror" in line]
            causes = sorted({line.partition(": ")[2] for line in lines if "Answered 503" in line})
            print(f"\nserver log: {len(lines)} lines on errors and 503s; the causes given: {causes or '-'}")
    finally:
        for _ in range(60 if mounted else 0):  # the server's last process may take a moment to go
            umount = subprocess.run(  # noqa: S603 - our own argv, no shell
                ["umount", str(var)], check=False, capture_output=True  # noqa: S607 - umount from PATH
            )
            if umount.returncode == 0:
                break
            time.sleep(0.5)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
