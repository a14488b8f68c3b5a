"""Outcomes and times of every rule on every Pabulib file, from whichever checkout is installed.

    .venv/bin/python bench/budgeting/outcomes.py --out after.jsonl
    ../other/.venv/bin/python bench/budgeting/outcomes.py --out before.jsonl   # another checkout
    .venv/bin/python bench/budgeting/outcomes.py --compare before.jsonl after.jsonl

One JSON line per (file, rule): the selected projects, a digest of the explanations and the CPU
time of the main thread (best of 3 for runs under 50 ms). It imports ``opencall`` from the running interpreter's environment
(no path games), so the same script measures two checkouts; ``--compare`` says whether the
outcomes and explanations are identical on every instance and gives the time ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

RULES = (
    "greedy,greedy-cost,greedy-threshold,greedy-no-skip,mes,mes-add1u-greedy,mes-greedy,mes-cost,"
    "mes-approval,mes-approval-greedy,phragmen,maximin-support"
)


def measure(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reference import ReferenceTimeout, time_limit

    import opencall
    from opencall.engines.budgeting import RuleError, read_pabulib, run_rule

    print(f"opencall from {Path(opencall.__file__).parent}", file=sys.stderr)
    folder = Path(os.environ.get("OPENCALL_SHARED_DATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "data"))
    files = sorted((folder / "pabulib").glob("*.pb"), key=lambda p: p.stat().st_size)
    with args.out.open("w") as out:
        for path in files:
            if args.files not in path.name:
                continue
            election = read_pabulib(path.read_text(encoding="utf-8-sig"))
            for rule in args.rules.split(","):
                if rule == "maximin-support" and len(election.indices) > args.maximin_max_entries:
                    continue
                best = float("inf")
                row: dict[str, object] = {"file": path.name, "rule": rule}
                try:
                    for _ in range(args.repeats):
                        t0 = time.thread_time()
                        with time_limit(args.max_seconds):
                            outcome = run_rule(election, rule, explain=False)
                        best = min(best, time.thread_time() - t0)
                        if best >= 0.05:  # long enough to measure once
                            break
                    explained = run_rule(election, rule)
                except RuleError:
                    continue
                except ReferenceTimeout:
                    row["timeout"] = args.max_seconds
                    out.write(json.dumps(row) + "\n")
                    continue
                notes = json.dumps([e.as_dict() for e in explained.explanations], sort_keys=True)
                row.update(
                    selected=list(outcome.selected_ids),
                    explained_selected=list(explained.selected_ids),
                    explanations=hashlib.sha256(notes.encode()).hexdigest()[:16],
                    cpu_s=best,
                )
                out.write(json.dumps(row) + "\n")
                out.flush()


def compare(before_path: Path, after_path: Path) -> None:
    def load(p: Path) -> dict[tuple[str, str], dict[str, object]]:
        return {(r["file"], r["rule"]): r for r in map(json.loads, p.read_text().splitlines())}

    before, after = load(before_path), load(after_path)
    same = differ = notes_differ = 0
    ratios: dict[str, list[float]] = {}
    for key in sorted(before.keys() & after.keys()):
        b, a = before[key], after[key]
        if "timeout" in b or "timeout" in a:
            print(f"{key[0]} {key[1]}: timeout before={'timeout' in b} after={'timeout' in a}")
            continue
        if (b["selected"], b["explained_selected"]) == (a["selected"], a["explained_selected"]):
            same += 1
        else:
            differ += 1
            print(f"DIFFERENT {key[0]} {key[1]}: {b['selected']} -> {a['selected']}")
        if b["explanations"] != a["explanations"]:
            notes_differ += 1
            print(f"explanations differ: {key[0]} {key[1]}")
        ratios.setdefault(str(key[1]), []).append(float(a["cpu_s"]) / max(float(b["cpu_s"]), 1e-6))  # type: ignore[arg-type]
    print(f"{same + differ} (file, rule) pairs: {same} same outcome, {differ} different; explanations differ on {notes_differ}")
    print(f"only before: {len(before.keys() - after.keys())}, only after: {len(after.keys() - before.keys())}")
    every = [x for v in ratios.values() for x in v]
    if every:
        print(f"time after / before: median {statistics.median(every):.3f} over {len(every)} pairs")
    for rule, values in sorted(ratios.items()):
        print(f"  {rule:20} median {statistics.median(values):.3f}  (n={len(values)})")


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/budgeting/outcomes.py")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path)
    parser.add_argument("--rules", default=RULES)
    parser.add_argument("--files", default="")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=10.0, help="CPU limit for one run (Add1U can need thousands of passes)")
    parser.add_argument("--maximin-max-entries", type=int, default=3000)
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
    elif args.out:
        measure(args)
    else:
        parser.error("give --out FILE or --compare BEFORE AFTER")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
