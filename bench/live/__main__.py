"""Live-vote bench: the fast path under load, beside the raw ceiling of the same stack.

    .venv/bin/python bench/live [--backends sqlite,postgres] [--seconds 8] [--connections 256]

For each backend: start granian (production settings, 2 workers) on loopback, then from wrk in a
second process measure (1) the raw ceiling: a trivial endpoint of the same ASGI app; (2) the
sustained rate of acknowledged votes, every request a new voter; (3) p50/p99 latency at 80% of
that rate on a fixed schedule. It then checks the database: every acknowledged vote is a row and
the running counts equal a recount.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Backend, Server, cpu_of, median_interval, workdir, wrk

SIDE_PROCESSES = {"postgres": "opencall_live_bench", "redis-server": ""}


def side_cpu() -> float:
    """CPU of this bench's PostgreSQL backends and of Redis."""
    return sum(cpu_of({name}, marker) for name, marker in SIDE_PROCESSES.items())


DEFAULT_LOOP = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rate (the lower middle one for an even count)."""
    return sorted(runs, key=lambda r: float(r["rate"]))[(len(runs) - 1) // 2]


def run_backend(
    name: str,
    seconds: float,
    connections: int,
    workers: int,
    finalists: int,
    voters: int,
    flush_ms: float,
    redis: str,
    loop: str,
    rates: list[float],
    form: str = "compact",
    repeats: int = 3,
    latency_repeats: int = 3,
) -> dict[str, Any]:
    backend = Backend(name, workdir(f"opencall-live-{name}-"))
    backend.create()
    info = backend.prepare(finalists=finalists)
    # Fresh voters for every run: each request is a new device with a new vote id.
    tokens = {"warm": backend.tokens(info["live_vote_id"], voters or 100_000, "warm")}
    ideas = ",".join(str(i) for i in info["finalists"])
    extra = {"OPENCALL_LIVE_FLUSH_MS": str(flush_ms)}
    if redis:
        extra["REDIS_URL"] = redis
    server = Server(backend, workers=workers, loop=loop, **extra)
    acked_sweep: list[int] = []
    server.start()
    try:
        warm = wrk(
            server.base,
            "vote.lua",
            duration=2,
            connections=connections,
            args=[str(tokens["warm"]), info["code"], ideas, "0", "w", form],
        )
        # Just enough fresh voters for each run, with a margin, from the fastest run so far (made
        # before each run, outside its clock): the generator holds every request of a run in
        # memory, and a much larger table makes it slower per request (LuaJIT), which would count
        # against the votes. Sized once from the warm-up, a run on a moment of the machine's
        # drift 50% faster than the warm-up used them all up and repeated votes.
        def need(fastest: float) -> int:
            return voters or int(fastest * seconds * 1.5) + 20_000

        def vote_run(script: str, count: int, rate: float, key: str, tag: str) -> dict[str, Any]:
            """wrk running `script` (vote.lua flat out, rate 0; paced.lua at `rate` votes/s) over
            `count` fresh voters made first; `tag` starts every vote id of the run."""
            tokens[key] = backend.tokens(info["live_vote_id"], count, key)
            return wrk(
                server.base,
                script,
                duration=seconds,
                connections=connections,
                args=[str(tokens[key]), info["code"], ideas, f"{rate:.0f}", tag, form],
            )

        fastest = warm["rate"]
        # The ceiling and the flat-out vote rate are measured in turns, `repeats` times each (the
        # ratio reported is the median of the pairs' ratios, see main): on a shared (virtual)
        # machine the capacity drifts from one run to the next, and alternating keeps the drift
        # from favouring either side.
        ceilings, flats = [], []
        for k in range(repeats):
            cpu = server.cpu_seconds()
            ceiling = wrk(server.base + "/live/api/ping", "ping.lua", duration=seconds, connections=connections)
            ceiling["cpu_us"] = (server.cpu_seconds() - cpu) / max(1, ceiling["acked"]) * 1e6
            ceilings.append(ceiling)
            # Votes have never come near 3/4 of the ceiling measured just before. The voters are made
            # before the CPU clocks start.
            count = need(max(fastest, 0.75 * ceiling["rate"]))
            tokens[f"flat{k}"] = backend.tokens(info["live_vote_id"], count, f"flat{k}")
            cpu, side = server.cpu_seconds(), side_cpu()
            flat = vote_run("vote.lua", count, 0, f"flat{k}", f"f{k}")
            fastest = max(fastest, flat["rate"])
            flat["cpu_us"] = (server.cpu_seconds() - cpu) / max(1, flat["acked"]) * 1e6
            flat["side_us"] = (side_cpu() - side) / max(1, flat["acked"]) * 1e6
            flats.append(flat)
        ceiling, flat = median_run(ceilings), median_run(flats)
        # Latency at 80% load, `latency_repeats` times: each time a flat-out run, then the same votes
        # on a fixed schedule at 80% of the rate just measured, so that the load is 80% of what the
        # machine does at that moment rather than of the median above, taken minutes earlier. One
        # paced run of 4 s is at the mercy of a slow moment of the virtual machine (seen: p99 117 ms
        # where seven other invocations gave 33-49 ms); the table shows the run with the median p99,
        # and every run is printed.
        paced_runs = []
        for k in range(latency_repeats):
            before = vote_run("vote.lua", need(fastest), 0, f"before{k}", f"b{k}")
            fastest = max(fastest, before["rate"])
            target = 0.8 * before["rate"]
            run = vote_run("paced.lua", need(target), target, f"paced{k}", f"p{k}")
            run["target"], run["before"] = target, before
            paced_runs.append(run)
        paced = sorted(paced_runs, key=lambda r: float(r["p99_us"]))[(len(paced_runs) - 1) // 2]
        # Latency at fixed rates: on a shared machine the capacity moves between runs, so a
        # sweep shows where latency bends better than one point at 80%.
        sweep = []
        for n, rate in enumerate(rates):
            result = vote_run("paced.lua", int(rate * seconds * 1.2) + 100, rate, f"s{n}", f"s{n}")
            sweep.append((rate, result))
            acked_sweep.append(result["acked"])
    finally:
        server.stop()
    rows = backend.query("SELECT COUNT(*) FROM voting_liveballot WHERE live_vote_id = ?", (info["live_vote_id"],))[0][0]
    counted = backend.query("SELECT SUM(votes) FROM voting_livecount WHERE live_vote_id = ?", (info["live_vote_id"],))[
        0
    ][0]
    recount = dict(
        backend.query(
            "SELECT idea_id, COUNT(*) FROM voting_liveballot WHERE live_vote_id = ? GROUP BY idea_id",
            (info["live_vote_id"],),
        )
    )
    running = dict(
        backend.query("SELECT idea_id, votes FROM voting_livecount WHERE live_vote_id = ?", (info["live_vote_id"],))
    )
    acked = (
        warm["acked"]
        + sum(f["acked"] for f in flats)
        + sum(r["acked"] + r["before"]["acked"] for r in paced_runs)
        + sum(acked_sweep)
    )
    # Anything the server logged beyond its start and stop (warnings, errors, tracebacks) is shown
    # before the work directory goes: an error count alone does not say what went wrong.
    log_path = backend.workdir / "server.log"
    noted = [
        line
        for line in (log_path.read_text(errors="replace").splitlines() if log_path.exists() else [])
        if line.strip() and not line.startswith("[INFO]")
    ]
    for line in noted[:40]:
        print(f"  {name} server.log: {line}", file=sys.stderr)
    shutil.rmtree(backend.workdir, ignore_errors=True)
    return {
        "backend": name,
        "ceilings": [c["rate"] for c in ceilings],
        "flats": [f["rate"] for f in flats],
        "exhausted": any(f.get("exhausted") for f in [*flats, *(r["before"] for r in paced_runs)]),
        "errors": sum(
            run["failed"] + run["socket_errors"]
            for run in [*flats, *paced_runs, *(r["before"] for r in paced_runs)]
        ),
        "ceiling": ceiling,
        "flat": flat,
        "paced": paced,
        "paced_runs": paced_runs,
        "sweep": sweep,
        "target": paced["target"],
        "rows": rows,
        "acked": acked,
        "counted": counted,
        "counts_match": all(running.get(k, 0) == v for k, v in recount.items()) and counted == rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=9, help="ceiling and flat-out vote runs, in turns")
    parser.add_argument(
        "--latency-repeats", type=int, default=3, help="flat-out run then a run at 80%% of its rate, this many times"
    )
    parser.add_argument("--connections", type=int, default=512)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--finalists", type=int, default=6)
    parser.add_argument(
        "--voters", type=int, default=0, help="fresh device tokens per run (default: 1.5 x what the warm-up suggests)"
    )
    parser.add_argument(
        "--loop", default=DEFAULT_LOOP, choices=["asyncio", "uvloop", "auto"], help="granian event loop"
    )
    parser.add_argument(
        "--redis", default="", help="REDIS_URL for live counters and fan-out, e.g. redis://127.0.0.1:6379/0"
    )
    parser.add_argument(
        "--form",
        choices=("compact", "json"),
        default="compact",
        help="how votes are sent: compact (query + Authorization header, as the voter page) or a JSON body",
    )
    parser.add_argument("--flush-ms", type=float, default=5.0, help="group-commit interval (OPENCALL_LIVE_FLUSH_MS)")
    parser.add_argument("--rates", default="500,1000,1500", help="fixed vote rates for the latency sweep")
    parser.add_argument(
        "--record",
        default="",
        help="append each backend's runs to this file as a JSON line (to pool the pairs of several invocations)",
    )
    opts = parser.parse_args()
    if opts.repeats < 1 or opts.latency_repeats < 1 or opts.seconds <= 0:
        sys.exit("--repeats and --latency-repeats must be at least 1, --seconds above 0")
    if opts.record:
        try:  # before minutes of runs, not after them
            with open(opts.record, "a"):
                pass
        except OSError as exc:
            sys.exit(f"--record {opts.record}: {exc.strerror}")
    load_before = os.getloadavg()[0]
    results = [
        run_backend(
            b.strip(),
            opts.seconds,
            opts.connections,
            opts.workers,
            opts.finalists,
            opts.voters,
            opts.flush_ms,
            opts.redis,
            opts.loop,
            [float(x) for x in opts.rates.split(",") if x.strip()],
            opts.form,
            opts.repeats,
            opts.latency_repeats,
        )
        for b in opts.backends.split(",")
        if b.strip()
    ]
    print(
        f"\nlive-vote fast path: granian ASGI ({opts.loop} loop), {opts.workers} workers, wrk 1 thread x {opts.connections} "
        f"connections, flush {opts.flush_ms:g} ms, {opts.form} votes, {opts.seconds:.0f} s per run, median of {opts.repeats}, loopback, same machine "
        f"(load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, {os.cpu_count()} CPUs)"
    )
    header = (
        f"{'backend':9} {'ceiling req/s':>13} {'votes/s':>9} {'ratio':>6} {'80% rate':>9} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'flat p99':>8} {'errors':>6} {'CPU us/ping':>11} {'CPU us/vote':>11} {'DB+Redis us':>11}  check"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        c, f, p = r["ceiling"], r["flat"], r["paced"]
        errors = r["errors"]  # every flat-out and paced run, not only the ones shown
        check = "ok" if r["counts_match"] and r["rows"] >= r["acked"] else "MISMATCH"
        # The ratio is the median of each vote run's rate over the ceiling run just before it: the
        # two runs of a pair are seconds apart, so a drift of the machine's speed during the
        # invocation (seen: 45,000 pings/s for four runs, then 31,000-34,000) moves both. The
        # ratio of the two medians, printed below the table, can take them from different phases.
        pairs = [v / c_ for c_, v in zip(r["ceilings"], r["flats"], strict=True)]
        ratio = statistics.median(pairs)
        print(
            f"{r['backend']:9} {c['rate']:13.0f} {f['rate']:9.0f} {ratio:6.0%} "
            f"{p['rate']:9.0f} {p['p50_us'] / 1000:7.1f} {p['p99_us'] / 1000:7.1f} {f['p99_us'] / 1000:8.1f} "
            f"{errors:6d} {c['cpu_us']:11.0f} {f['cpu_us']:11.0f} {f['side_us']:11.0f} {c['idle']:3.0%}/{f['idle']:<4.0%}  {check}: {r['rows']} ballots >= {r['acked']} acked, running counts = recount"
        )
    print("\nevery run (req/s), in the order run:")
    for r in results:
        print(
            f"{r['backend']:9} ceiling {' '.join(f'{x:.0f}' for x in r['ceilings'])}; votes {' '.join(f'{x:.0f}' for x in r['flats'])}"
        )
        pairs = [v / c_ for c_, v in zip(r["ceilings"], r["flats"], strict=True)]
        medians = r["flat"]["rate"] / r["ceiling"]["rate"]
        print(
            f"{r['backend']:9} ratio of each pair {' '.join(f'{x:.0%}' for x in pairs)}; ratio of the medians {medians:.0%}"
        )
        low, high, coverage = median_interval(pairs)
        print(
            f"{r['backend']:9} median of the pairs {statistics.median(pairs):.1%}, {coverage:.0%} confidence interval "
            f"{low:.1%}-{high:.1%} (sign test over the {len(pairs)} pairs)"
        )
        runs = "; ".join(
            f"{p['before']['rate']:.0f} -> {p['target']:.0f} asked, {p['rate']:.0f} done, p50/p99 "
            f"{p['p50_us'] / 1000:.1f}/{p['p99_us'] / 1000:.1f} ms"
            for p in r["paced_runs"]
        )
        print(f"{r['backend']:9} at 80% of the vote run just before (votes/s): {runs}")
        if r["exhausted"]:
            print(f"{r['backend']:9} a flat-out run used up its voters and repeated some (raise --voters)")
    if opts.record:
        with open(opts.record, "a") as out:
            for r in results:
                row = {
                    "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "backend": r["backend"],
                    "seconds": opts.seconds,
                    "connections": opts.connections,
                    "ceilings": r["ceilings"],
                    "votes": r["flats"],
                    "p50_ms_at_80": r["paced"]["p50_us"] / 1000,
                    "p99_ms_at_80": r["paced"]["p99_us"] / 1000,
                    "errors": r["errors"],
                    "check": bool(r["counts_match"] and r["rows"] >= r["acked"]),
                }
                out.write(json.dumps(row) + "\n")
    print("\nlatency at fixed rates (votes/s asked -> achieved, p50/p90/p99 ms, non-200):")
    for r in results:
        cells = [
            f"{rate:.0f}->{s['rate']:.0f}: {s['p50_us'] / 1000:.0f}/{s['p90_us'] / 1000:.0f}/{s['p99_us'] / 1000:.0f}"
            f" ({s['failed'] + s['socket_errors']})"
            for rate, s in r["sweep"]
        ]
        print(f"{r['backend']:9} " + "   ".join(cells))


if __name__ == "__main__":
    main()
