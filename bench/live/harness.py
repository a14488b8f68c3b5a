"""Shared by the live-vote bench and crash test: databases, the server process, wrk runs."""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GRANIAN = str(ROOT / ".venv" / "bin" / "granian")
sys.path.insert(0, str(ROOT / "src"))

from opencall.voting.tokens import issue_token, signing_key  # noqa: E402

PG_ADMIN = os.environ.get("OPENCALL_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432/test")
# The database each PostgreSQL run drops and creates anew (through the PG_ADMIN connection).
PG_DATABASE = os.environ.get("OPENCALL_BENCH_DATABASE", "opencall_live_bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Backend:
    name: str
    workdir: Path
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    url: str = ""

    def create(self) -> None:
        if self.name == "sqlite":
            self.url = f"sqlite:///{self.workdir / 'live.sqlite3'}"
            return
        import psycopg

        base, _, _ = PG_ADMIN.rpartition("/")
        dbname = PG_DATABASE
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {dbname}")
        self.url = f"{base}/{dbname}"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(ROOT / "src"),
                "DJANGO_SETTINGS_MODULE": "opencall.config.settings.production",
                "SECRET_KEY": self.secret,
                "DATABASE_URL": self.url,
                "OPENCALL_VAR_DIR": str(self.workdir),
                # The generator sends X-Forwarded-For with many addresses, as a proxy in front would;
                # the per-address limit then applies per simulated phone network, as in production.
                "OPENCALL_LIVE_TRUSTED_PROXIES": "127.0.0.1",
                "LOG_LEVEL": "ERROR",
            }
        )
        env.update(extra)
        return env

    def prepare(self, finalists: int = 6, duration: int = 3600) -> dict[str, Any]:
        out = subprocess.run(  # noqa: S603 - our own argv, no shell
            [PYTHON, str(HERE / "fixture.py"), str(finalists), str(duration)],
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
            cwd=self.workdir,
        )
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))

    def tokens(self, live_vote_id: int, count: int, tag: str = "") -> Path:
        """A file of `count` fresh device tokens (new voters)."""
        key = signing_key(self.secret)
        path = self.workdir / f"tokens-{live_vote_id}-{count}{tag}.txt"
        if not path.exists():
            with path.open("w") as f:
                for _ in range(count):
                    f.write(issue_token(key, live_vote_id) + "\n")
        return path

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.name == "sqlite":
            import sqlite3

            with sqlite3.connect(self.url.removeprefix("sqlite:///")) as conn:
                return list(conn.execute(sql, params).fetchall())
        import psycopg

        with psycopg.connect(self.url) as conn:
            return list(conn.execute(sql.replace("?", "%s"), params).fetchall())


class Server:
    """granian serving the fast path, in its own process group so it can be stopped whole."""

    def __init__(
        self, backend: Backend, workers: int = 2, port: int | None = None, loop: str = "auto", **env: str
    ) -> None:
        self.backend, self.workers, self.loop = backend, workers, loop
        self.port = port or free_port()
        self.env = backend.env(**env)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.backend.workdir / "server.log").open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            [
                GRANIAN,
                "--interface",
                "asgi",
                "--workers",
                str(self.workers),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--backlog",
                "4096",
                "--no-ws",
                "--loop",
                self.loop,
                "opencall.voting.fastpath:app",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.backend.workdir,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"GET /live/api/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    if b"200" in s.recv(100):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the fast path did not start; see server.log")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's processes (its process group)."""
        if self.proc is None:
            return 0.0
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # field 5 of stat: the process group
                total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
        return total / os.sysconf("SC_CLK_TCK")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None


def cpu_of(names: set[str], marker: str = "") -> float:
    """CPU seconds used so far by processes with one of these names whose command line holds
    `marker` (PostgreSQL backends show their database there, so other users' sessions are left
    out). Processes that exit during a run take their CPU time with them: keep them alive."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            if name not in names:
                continue
            if marker and marker.encode() not in (stat.parent / "cmdline").read_bytes():
                continue
        except (OSError, ValueError):
            continue
        fields = text.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_idle() -> tuple[int, int]:
    """(idle ticks, all ticks) over every CPU so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)


def wrk(
    url: str,
    script: str,
    *,
    duration: float,
    connections: int,
    args: list[str] | None = None,
    threads: int = 1,
    timeout: str = "5s",
) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        f"--timeout={timeout}",
        "--latency",
        "-s",
        str(HERE / script),
        url,
    ]
    if args:
        cmd += ["--", *args]
    # The machine's idle share over the timed part only: the generator builds its requests first
    # (a second or so, the server idle meanwhile), so the CPU counters are sampled through the run
    # and the last `duration` seconds before wrk exits are kept.
    samples: list[tuple[float, tuple[int, int]]] = []
    running = threading.Event()
    running.set()

    def sample() -> None:
        while running.is_set():
            samples.append((time.monotonic(), machine_idle()))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: S603 - our own argv, no shell
    finally:
        running.clear()
        sampler.join()
    end, idle_after = time.monotonic(), machine_idle()
    idle_before = next((v for t, v in samples if t >= end - duration), idle_after)
    out = done.stdout
    if done.stderr.strip():
        print(f"  wrk {script}: {done.stderr.strip()[:600]}", file=sys.stderr)
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result = dict(json.loads(line[len("RESULT ") :]))
            seconds = result["duration_us"] / 1e6
            result["rate"] = result["acked"] / seconds if seconds else 0.0
            result["idle"] = (idle_after[0] - idle_before[0]) / max(1, idle_after[1] - idle_before[1])
            return result
    raise RuntimeError(f"wrk printed no result:\n{out}")


def workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def median_interval(values: list[float], confidence: float = 0.9) -> tuple[float, float, float]:
    """A distribution-free confidence interval for the median of `values`: the k-th smallest and
    k-th largest value for the largest k whose coverage is at least `confidence` (the sign test:
    the true median lies below the k-th smallest value only if fewer than k values fall below it,
    a Binomial(n, 1/2) event). Returns (low, high, coverage); with too few values for that
    confidence, the smallest and largest value and their coverage."""
    ordered, n = sorted(values), len(values)

    def coverage(k: int) -> float:
        return 1 - 2 * sum(math.comb(n, i) for i in range(k)) / float(2**n)

    k = 1
    while k + 1 <= (n + 1) // 2 and coverage(k + 1) >= confidence:
        k += 1
    return ordered[k - 1], ordered[n - k], coverage(k)
