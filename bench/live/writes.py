"""The batch writer alone: CPU and wall time per vote of BallotStore.write_batch.

    .venv/bin/python bench/live/writes.py [--backend sqlite] [--batch 93] [--batches 600]

Writes the same batches twice into fresh databases, once with device ids as Opencall issues them
(they sort by time of issue) and once with purely random ids, and prints both. Every batch is
new voters; each write_batch call commits and syncs the WAL (SQLite), as the fast path does.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Backend, workdir


def measure(backend_name: str, size: int, count: int, ordered: bool) -> tuple[float, float]:
    backend = Backend(backend_name, workdir("opencall-writes-"))
    backend.create()
    info = backend.prepare()
    os.environ.update(backend.env())
    import django

    django.setup()
    from django.conf import settings

    from opencall.voting.store import BallotStore, PendingVote
    from opencall.voting.tokens import new_device_id

    store = BallotStore(settings.DATABASES["default"])
    ideas = info["finalists"]

    def device() -> str:
        return new_device_id() if ordered else secrets.token_urlsafe(20)

    batches = [
        [
            PendingVote(
                info["live_vote_id"],
                device(),
                ideas[(b * size + i) % len(ideas)],
                f"v{b}x{i}xxxxxx",
                1,
                None,
                time.time(),
            )
            for i in range(size)
        ]
        for b in range(count + 1)
    ]
    store.write_batch(batches[0])
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in batches[1:]:
        store.write_batch(batch)
    n = count * size
    result = (time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--batch", type=int, default=93, help="votes per batch (93: the bench's mean under load)")
    parser.add_argument("--batches", type=int, default=600)
    parser.add_argument(
        "--ids", choices=("ordered", "random"), help="one measurement only (Django is set up once per process)"
    )
    opts = parser.parse_args()
    if opts.ids:
        cpu, wall = measure(opts.backend, opts.batch, opts.batches, opts.ids == "ordered")
        label = "device ids by time of issue" if opts.ids == "ordered" else "random device ids"
        print(f"  {label:28} {cpu:6.1f} us CPU per vote, {wall:6.1f} us wall per vote", flush=True)
        return
    print(f"BallotStore.write_batch, {opts.backend}, {opts.batches} batches of {opts.batch} new voters", flush=True)
    for ids in ("ordered", "random"):
        subprocess.run(  # noqa: S603 - our own argv, no shell
            [
                sys.executable,
                __file__,
                "--backend",
                opts.backend,
                "--batch",
                str(opts.batch),
                "--batches",
                str(opts.batches),
                "--ids",
                ids,
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
