"""API fuzz bench: the suite's Schemathesis run (tests/security/test_fuzz.py) at a larger size.

Run from the repository root: ``.venv/bin/python bench/fuzz`` (``--help`` for flags). It runs the
same test in a pytest subprocess (in process against the WSGI app, SQLite test database, seeded
personas) with every variant on (valid and invalid cases, seeded and made-up path keys) and
``--examples`` Hypothesis examples per variant, then prints per caller: operations, cases sent,
failures, seconds, and the wall and CPU time of the whole run.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"fuzz (\w+): (\d+) operations, (\d+) cases, (\d+) failures, (\d+) s$")


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25, help="Hypothesis examples per variant (default 25)")
    parser.add_argument("--seed", type=int, help="a Hypothesis seed instead of the derandomized default")
    parser.add_argument("--suite-size", action="store_true", help="the suite's own size (1 example, 2 variants)")
    parser.add_argument("-k", default="", help="pytest -k expression, e.g. organiser")
    args = parser.parse_args()

    env = dict(os.environ)
    env["OPENCALL_FUZZ_EXAMPLES"] = "1" if args.suite_size else str(args.examples)
    env["OPENCALL_FUZZ_FULL"] = "0" if args.suite_size else "1"
    if args.seed is not None:
        env["OPENCALL_FUZZ_SEED"] = str(args.seed)
    command = [sys.executable, "-m", "pytest", "tests/security/test_fuzz.py", "-q", "-s", "-p", "no:cacheprovider",
               "-p", "no:logging"]
    if args.k:
        command += ["-k", args.k]
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own interpreter running our own test file
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)

    rows = [m.groups() for m in map(LINE.search, done.stdout.splitlines()) if m]
    print(f"examples per variant: {env['OPENCALL_FUZZ_EXAMPLES']}, all variants: {env['OPENCALL_FUZZ_FULL'] == '1'}, "
          f"seed: {args.seed if args.seed is not None else 'derandomized'}")
    print(f"{'caller':<12} {'operations':>10} {'cases':>7} {'failures':>8} {'seconds':>8}")
    for caller, operations, cases, failures, seconds in rows:
        print(f"{caller:<12} {operations:>10} {cases:>7} {failures:>8} {seconds:>8}")
    print(f"total cases: {sum(int(r[2]) for r in rows)}, failures: {sum(int(r[3]) for r in rows)}")
    print(f"wall {wall:.0f} s, CPU {usage.ru_utime + usage.ru_stime:.0f} s, pytest exit code {done.returncode}")
    if done.returncode != 0:
        print(done.stdout[-8000:])
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
