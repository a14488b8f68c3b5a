"""Pool the pairs of several bench/live invocations recorded with --record FILE.

    .venv/bin/python bench/live/pool.py FILE

For each backend: how many invocations and pairs, the median of every pair's ratio (vote run over
the ceiling run just before it) with a distribution-free confidence interval, how many
invocations had their own median at or above 50%, the range of p99 at 80% load, the errors and
the database checks.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import median_interval


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: bench/live/pool.py FILE (written by bench/live --record FILE)")
    path = Path(sys.argv[1])
    try:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        sys.exit(f"cannot read {path}: {exc}")
    try:
        report(rows)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        sys.exit(f"{path}: not a file written by bench/live --record ({exc!r})")


def report(rows: list[dict[str, Any]]) -> None:
    for backend in sorted({r["backend"] for r in rows}):
        runs = [r for r in rows if r["backend"] == backend]
        medians, pairs = [], []
        for r in runs:
            ratios = [v / c for c, v in zip(r["ceilings"], r["votes"], strict=True)]
            medians.append(statistics.median(ratios))
            pairs += ratios
        low, high, coverage = median_interval(pairs, 0.95)
        p99 = [r["p99_ms_at_80"] for r in runs]
        errors = [r["errors"] for r in runs if "errors" in r]
        unrecorded = f" (not recorded in {len(runs) - len(errors)})" if len(errors) < len(runs) else ""
        print(
            f"{backend:9} {len(runs)} invocations, {len(pairs)} pairs: median of the pairs {statistics.median(pairs):.1%} "
            f"({coverage:.0%} confidence interval {low:.1%}-{high:.1%}); invocations at or above 50%: "
            f"{sum(m >= 0.5 for m in medians)} of {len(medians)} ({' '.join(f'{m:.0%}' for m in medians)}); "
            f"p99 at 80% load {min(p99):.1f}-{max(p99):.1f} ms; errors {sum(errors)}{unrecorded}; "
            f"database checks ok: {sum(r['check'] for r in runs)} of {len(runs)}"
        )


if __name__ == "__main__":
    main()
