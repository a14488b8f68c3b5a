"""The batch writer alone: CPU and wall time per vote of BallotStore.write_batch.

    .venv/bin/python bench/live/writes.py [--backend sqlite|postgres] [--batch 93] [--batches 600]

SQLite: writes the same batches twice into fresh databases, once with device ids as Opencall
issues them (they sort by time of issue) and once with purely random ids, and prints both.
PostgreSQL: writes them with the new devices' plain insert and with the insert that skips held
ballots (ON CONFLICT DO NOTHING, what the writer falls back to), and prints both, with the CPU
time of every PostgreSQL process on the machine per vote (keep other users off it).
Every batch is new voters; each write_batch call commits (and syncs the WAL, SQLite), as the
fast path does.
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

from harness import Backend, cpu_of, workdir


def measure(backend_name: str, size: int, count: int, ordered: bool, skip_held: bool) -> tuple[float, float, float]:
    backend = Backend(backend_name, workdir("opencall-writes-"))
    backend.create()
    info = backend.prepare()
    os.environ.update(backend.env())
    import django

    django.setup()
    from django.conf import settings

    from opencall.voting.live.store import PendingVote, open_store
    from opencall.voting.tokens import new_device_id

    store = open_store(settings.DATABASES["default"])
    if skip_held:
        store._skip_held_batches = 10**9
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
    wall, cpu, side = time.perf_counter(), time.process_time(), cpu_of({"postgres"})
    for batch in batches[1:]:
        store.write_batch(batch)
    n = count * size
    side = cpu_of({"postgres"}) - side
    result = (time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6, side / n * 1e6
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--batch", type=int, default=93, help="votes per batch (93: the bench's mean under load)")
    parser.add_argument("--batches", type=int, default=600)
    parser.add_argument(
        "--variant",
        choices=("ordered", "random", "plain", "skip-held"),
        help="one measurement only (Django is set up once per process)",
    )
    opts = parser.parse_args()
    labels = {
        "ordered": "device ids by time of issue",
        "random": "random device ids",
        "plain": "plain insert",
        "skip-held": "insert skipping held ballots",
    }
    if opts.variant:
        cpu, wall, side = measure(
            opts.backend, opts.batch, opts.batches, opts.variant != "random", opts.variant == "skip-held"
        )
        extra = f", {side:5.1f} us CPU in PostgreSQL" if opts.backend == "postgres" else ""
        print(f"  {labels[opts.variant]:30} {cpu:6.1f} us CPU, {wall:6.1f} us wall per vote{extra}", flush=True)
        return
    print(f"BallotStore.write_batch, {opts.backend}, {opts.batches} batches of {opts.batch} new voters", flush=True)
    variants = ("ordered", "random") if opts.backend == "sqlite" else ("plain", "skip-held", "plain", "skip-held")
    for variant in variants:
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
                "--variant",
                variant,
            ],
            check=True,
        )


if __name__ == "__main__":
    main()
