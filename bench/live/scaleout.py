"""Scale-out model for live voting: how many app servers, Citus workers and Redis nodes for a target
rate, and a simulation of one group-commit write stream to see where latency breaks.

    .venv/bin/python bench/live/scaleout.py [--rate 500000] [--app-us 250] [--db-us 79] ...

Inputs are per-vote CPU costs measured by `bench/live` (CPU us/vote = app processes, DB+Redis us =
PostgreSQL backends, or Redis) and the commit latency of one batch. The model is deliberately
simple: cores = rate x cost / target utilisation; write streams = rate / what one serial stream
(one lock, one commit at a time) carries; the simulation replays Poisson arrivals through the
fast path's group commit (wait at most `linger`, then write everything pending in one commit of
`commit_ms + row_us x batch`) and reports p50/p99 acknowledgement latency.
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Costs:
    app_us: float  # app CPU per vote (HTTP, checks, queue, client side of the write)
    db_us: float  # database CPU per vote (upsert, counters, share of the commit)
    redis_ops_per_batch: int  # HINCRBY per finalist + turnout + writes + PUBLISH
    commit_ms: float  # fixed cost of one commit (WAL flush) on the shard
    row_us: float  # serial time per row inside one write stream


def plan(
    rate: float,
    costs: Costs,
    *,
    utilisation: float,
    cores_per_box: int,
    batches_per_worker_s: float,
    redis_ops_per_core: float,
) -> dict[str, float]:
    app_cores = rate * costs.app_us / 1e6 / utilisation
    db_cores = rate * costs.db_us / 1e6 / utilisation
    app_workers = math.ceil(app_cores)
    batches = app_workers * batches_per_worker_s
    redis_ops = batches * costs.redis_ops_per_batch
    # One write stream = one (live vote, bucket) lock; it runs one commit at a time, so it carries
    # at most 1 / row_us rows per second (the commit's fixed cost is shared by the batch).
    per_stream = 1e6 / costs.row_us * utilisation
    streams = math.ceil(rate / per_stream)
    return {
        "app_cores": app_cores,
        "app_boxes": math.ceil(app_cores / cores_per_box),
        "db_cores": db_cores,
        "citus_workers": math.ceil(db_cores / cores_per_box),
        "streams": streams,
        "buckets": 2 ** math.ceil(math.log2(max(streams, 1))),
        "redis_ops": redis_ops,
        "redis_nodes": max(1, math.ceil(redis_ops / (redis_ops_per_core * utilisation))),
    }


def simulate(rate: float, costs: Costs, linger_ms: float, seconds: float, seed: int) -> tuple[float, float, float]:
    """One write stream: returns (p50 ms, p99 ms, mean batch) of acknowledgement latency."""
    rng = random.Random(seed)
    arrivals: list[float] = []
    t = 0.0
    while t < seconds:
        t += rng.expovariate(rate)
        arrivals.append(t)
    latencies: list[float] = []
    batches = 0
    i = 0
    free_at = 0.0  # when the writer finishes its current commit
    last_start = -1.0
    n = len(arrivals)
    while i < n:
        # As opencall.voting.live.batcher.Batcher: wake for the first pending vote, start no sooner
        # than `linger` after the previous batch started, take everything pending.
        start = max(arrivals[i], last_start + linger_ms / 1000, free_at)
        last_start = start
        j = i
        while j < n and arrivals[j] <= start:
            j += 1
        size = j - i
        done = start + (costs.commit_ms + costs.row_us * size / 1000) / 1000
        latencies.extend(done - a for a in arrivals[i:j])
        batches += 1
        free_at = done
        i = j
    latencies.sort()
    return (latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000, n / batches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=500_000, help="votes per second to carry")
    parser.add_argument("--app-us", type=float, default=250, help="app CPU us per vote (bench: CPU us/vote)")
    parser.add_argument("--db-us", type=float, default=79, help="PostgreSQL CPU us per vote (bench: DB us)")
    parser.add_argument("--row-us", type=float, default=60, help="serial us per row in one write stream")
    parser.add_argument("--commit-ms", type=float, default=5, help="fixed cost of one commit (WAL fsync)")
    parser.add_argument("--finalists", type=int, default=6)
    parser.add_argument("--cores-per-box", type=int, default=8)
    parser.add_argument("--utilisation", type=float, default=0.6, help="target CPU utilisation at peak")
    parser.add_argument("--linger-ms", type=float, default=20)
    parser.add_argument(
        "--redis-ops-per-core", type=float, default=200_000, help="pipelined ops/s one Redis core serves"
    )
    opts = parser.parse_args()
    costs = Costs(opts.app_us, opts.db_us, opts.finalists + 3, opts.commit_ms, opts.row_us)
    batches_per_worker_s = 1000 / max(opts.linger_ms, opts.commit_ms)
    p = plan(
        opts.rate,
        costs,
        utilisation=opts.utilisation,
        cores_per_box=opts.cores_per_box,
        batches_per_worker_s=batches_per_worker_s,
        redis_ops_per_core=opts.redis_ops_per_core,
    )
    print(
        f"target {opts.rate:,.0f} votes/s; app {opts.app_us:g} us/vote, PostgreSQL {opts.db_us:g} us/vote, "
        f"{opts.row_us:g} us/row serial per stream, commit {opts.commit_ms:g} ms; {opts.utilisation:.0%} utilisation"
    )
    print(
        f"  app servers : {p['app_cores']:7.0f} cores = {p['app_boxes']:.0f} boxes of {opts.cores_per_box} cores "
        f"(one granian worker per core, stateless, any L4 balancer hashing on client address)"
    )
    print(
        f"  Citus       : {p['db_cores']:7.0f} cores = {p['citus_workers']:.0f} workers of {opts.cores_per_box} cores; "
        f"{p['streams']:.0f} write streams needed -> {p['buckets']:.0f} buckets (shards) per live vote"
    )
    print(
        f"  Redis       : {p['redis_ops']:9,.0f} ops/s (counters per batch, not per vote) -> "
        f"{p['redis_nodes']:.0f} primary (+1 replica for failover)"
    )
    per_stream = 1e6 / opts.row_us
    print(f"\none write stream (capacity {per_stream:,.0f} rows/s), group commit with {opts.linger_ms:g} ms linger:")
    print(f"  {'load':>5} {'votes/s':>9} {'batch':>7} {'p50 ms':>7} {'p99 ms':>7}")
    for load in (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95):
        r = per_stream * load
        p50, p99, batch = simulate(r, costs, opts.linger_ms, seconds=min(20.0, 200_000 / r), seed=1)
        print(f"  {load:5.0%} {r:9,.0f} {batch:7.0f} {p50:7.1f} {p99:7.1f}")


if __name__ == "__main__":
    main()
