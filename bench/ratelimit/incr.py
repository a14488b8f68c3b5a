"""Counting in the database cache from several processes at once: Django's stock DatabaseCache against
opencall.core.cache.DatabaseCache (the rate limiter's default store), on a fresh SQLite database.

    .venv/bin/python bench/ratelimit/incr.py [--processes 4] [--increments 200]

Each process adds to the same key; a lost update shows as a final count below processes × increments.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

BACKENDS = {"django": "django.core.cache.backends.db.DatabaseCache", "opencall": "opencall.core.cache.DatabaseCache"}


def _setup(var: str) -> None:
    os.environ.update({"DJANGO_SETTINGS_MODULE": "opencall.config.settings.dev", "OPENCALL_VAR_DIR": var,
                       "SECRET_KEY": "bench-only-" + "x" * 50, "LOG_LEVEL": "ERROR"})
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    import django
    from django.conf import settings

    django.setup()
    settings.CACHES.update({name: {"BACKEND": path, "LOCATION": f"bench_{name}"} for name, path in BACKENDS.items()})


def _worker(var: str, backend: str, increments: int, start: float) -> None:
    _setup(var)
    from django.core.cache import caches

    cache = caches[backend]
    while time.time() < start:
        time.sleep(0.001)
    for _ in range(increments):
        cache.incr("count")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--increments", type=int, default=200)
    args = parser.parse_args()
    var = tempfile.mkdtemp(prefix="opencall-bench-incr-")
    _setup(var)
    from django.core.cache import caches
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    context = multiprocessing.get_context("spawn")
    for backend in BACKENDS:
        caches[backend].set("count", 0, 3600)
        start = time.time() + 3
        procs = [context.Process(target=_worker, args=(var, backend, args.increments, start))
                 for _ in range(args.processes)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        final = caches[backend].get("count")
        expected = args.processes * args.increments
        print(f"{backend:>8} DatabaseCache: {args.processes} processes × {args.increments} incr → {final} "
              f"(expected {expected}, lost {expected - final})")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    raise SystemExit(main())
