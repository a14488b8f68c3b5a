"""Assignment engine bench: exactness on real data, fairness, affinity loss, and scale.

Run from the repository root: ``.venv/bin/python bench/assignment`` (``--help`` for flags).
Reads ../shared/data/assignment (or $OPENCALL_SHARED_DATA/assignment); sections whose data
is absent are skipped with a message. The reference is SciPy's HiGHS LP on the same problem
(openreview-matcher is not on the package index).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(Path(__file__).resolve().parent)]

from synthetic import topical_affinity  # noqa: E402
from tests.engines.assignment.goldstandard import read_expertise, read_profiles  # noqa: E402
from tests.engines.assignment.reference_lp import lp_max_min, lp_optimum  # noqa: E402

from opencall.engines.assignment import (  # noqa: E402
    AssignmentProblem,
    assign_fair,
    assign_max_affinity,
    expertise_ranking_loss,
    text_affinity,
)

T = TypeVar("T")

PUBLISHED = {"specter_mfr": 0.238, "specter": 0.272, "tpms": 0.281, "acl": 0.295, "elmo": 0.337}


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """Result, wall seconds, CPU seconds of this process (the machine may be shared)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def data_root() -> Path | None:
    default = ROOT / ".." / "shared" / "data"
    root = Path(os.environ.get("OPENCALL_SHARED_DATA", default)) / "assignment"
    return root if root.is_dir() else None


def real_data(root: Path) -> None:
    print("== Exactness on real affinity data: ours (min-cost flow) vs SciPy HiGHS LP ==")
    print(
        f"{'instance':10} {'size':>9} {'ours total':>14} {'LP optimum':>14} {'|diff|':>9}"
        f" {'our gap':>9} {'ours s':>7} {'LP s':>7} {'LP/ours':>8} conflicts"
    )
    midl = root / "iesl_fair_matching" / "data" / "midl"
    cases: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    if midl.is_dir():
        scores = np.load(midl / "scores.npy")
        cases.append(
            (
                "midl",
                scores,
                np.zeros_like(scores, dtype=bool),
                np.load(midl / "covs.npy"),
                np.load(midl / "loads-lb.npy"),
                np.load(midl / "loads.npy"),
            )
        )
    for name in ("preflib1", "preflib2"):
        path = root / "preflib_bids" / f"{name}.npz"
        if path.exists():
            data = np.load(path)
            a = data["similarity_matrix"].astype(float)
            nj, ni = a.shape
            hi = int(np.ceil(3 * ni / nj)) + 1
            cases.append(
                (
                    name,
                    a,
                    data["mask_matrix"].astype(bool),
                    np.full(ni, 3),
                    np.zeros(nj, dtype=np.int64),
                    np.full(nj, hi),
                )
            )
    for name, a, conflicts, k, lo, hi in cases:
        problem = AssignmentProblem(affinity=a, load_max=hi, load_min=lo, judges_per_idea=k, conflicts=conflicts)
        ours, t_ours, _ = timed(lambda p=problem: assign_max_affinity(p))
        ref, t_ref, _ = timed(lambda a=a, c=conflicts, k=k, lo=lo, hi=hi: lp_optimum(a, ~c, k, lo, hi))
        assert ref is not None
        hit = int(ours.matrix(*a.shape)[conflicts].sum())
        print(
            f"{name:10} {a.shape[0]:>4}x{a.shape[1]:<4} {ours.total_affinity:14.8f} {ref:14.8f}"
            f" {abs(ours.total_affinity - ref):9.1e} {ours.gap:9.1e} {t_ours:7.3f} {t_ref:7.3f}"
            f" {t_ref / t_ours:7.1f}x {int(conflicts.sum())} masked, {hit} assigned"
        )
    if midl.is_dir():
        fairness(midl)


def fairness(midl: Path) -> None:
    print("\n== Fairness on MIDL (177 judges x 118 papers, k=3, loads 2..4) ==")
    a = np.load(midl / "scores.npy")
    k, lo, hi = np.load(midl / "covs.npy"), np.load(midl / "loads-lb.npy"), np.load(midl / "loads.npy")
    problem = AssignmentProblem(affinity=a, load_max=hi, load_min=lo, judges_per_idea=k)
    best, t_best, _ = timed(lambda: assign_max_affinity(problem))
    fair, t_fair, _ = timed(lambda: assign_fair(problem))
    bound_lp, t_lp, _ = timed(lambda: lp_max_min(a, np.ones_like(a, dtype=bool), k, lo, hi))
    print(f"{'method':32} {'worst paper':>11} {'total':>10} {'time s':>7}")
    print(
        f"{'max total affinity (flow)':32} {best.worst_idea_affinity:11.4f} {best.total_affinity:10.4f} {t_best:7.2f}"
    )
    print(f"{'fair: worst paper first':32} {fair.worst_idea_affinity:11.4f} {fair.total_affinity:10.4f} {t_fair:7.2f}")
    print(f"{'  our certified upper bound':32} {fair.bound:11.4f}")
    print(f"{'  LP max-min bound (HiGHS)':32} {bound_lp:11.4f} {'':10} {t_lp:7.2f}")
    print(
        f"  worst paper reaches {fair.worst_idea_affinity / bound_lp:.1%} of the LP bound;"
        f" total kept at {fair.total_affinity / best.total_affinity:.1%} of the maximum"
    )


def goldstandard(root: Path, all_samples: bool) -> None:
    gold = root / "goldstandard"
    if not gold.is_dir():
        print("\n(gold-standard data absent: skipped)")
        return
    print("\n== Gold standard (Stelmakh et al., arXiv:2303.16750): expertise-ranking loss ==")
    reference = read_expertise(gold)
    print(f"{'method':24} {'published':>9} {'our loss code':>13}   (lower is better)")
    for method, published in PUBLISHED.items():
        path = gold / "predictions" / f"{method}_d_20_1_ta.json"
        predictions = json.loads(path.read_text(encoding="utf-8"))
        print(f"{method:24} {published:9.3f} {expertise_ranking_loss(predictions, reference):13.4f}")
    samples = range(1, 11) if all_samples else range(1, 2)
    losses = []
    for sample in samples:
        profiles, papers = read_profiles(gold / "evaluation_datasets" / f"d_20_{sample}")
        reviewers, ids = sorted(profiles), sorted(papers)
        (sims, t_sims, _) = timed(
            lambda r=reviewers, i=ids, pr=profiles, pa=papers: text_affinity([pr[x] for x in r], [pa[x] for x in i])
        )
        predicted = {r: {p: float(sims[a, b]) for b, p in enumerate(ids)} for a, r in enumerate(reviewers)}
        losses.append(expertise_ranking_loss(predicted, reference))
        if sample == 1:
            print(f"{'ours: TF-IDF top-5 (d_20_1)':24} {'':9} {losses[0]:13.4f}   ({t_sims:.2f} s)")
    if all_samples:
        print(
            f"{'ours: mean of 10 samples':24} {'':9} {float(np.mean(losses)):13.4f}"
            f"   (range {min(losses):.4f}..{max(losses):.4f})"
        )


def scale(n_ideas: int, n_judges: int, k: int, reference: bool, limit: float, fair: bool) -> None:
    total = n_ideas * k
    hi = int(np.ceil(1.35 * total / n_judges))
    lo = int(0.65 * total / n_judges)
    print(
        f"\n== Scale: {n_ideas} ideas x {n_judges} judges, k={k}, loads {lo}..{hi},"
        f" synthetic topical affinities, 1% conflicts =="
    )
    a, conflicts = topical_affinity(n_judges, n_ideas, seed=0)
    problem = AssignmentProblem(affinity=a, load_max=hi, load_min=lo, judges_per_idea=k, conflicts=conflicts)
    ours, wall, cpu = timed(lambda: assign_max_affinity(problem))
    print(
        f"ours (flow + pricing)  total {ours.total_affinity:.6f}  certified gap {ours.gap:.1e}"
        f"  wall {wall:.2f} s  cpu {cpu:.2f} s  conflicts assigned"
        f" {int(ours.matrix(n_judges, n_ideas)[conflicts].sum())}"
    )
    if reference:
        try:
            ref, r_wall, r_cpu = timed(
                lambda: lp_optimum(
                    a, ~conflicts, np.full(n_ideas, k), np.full(n_judges, lo), np.full(n_judges, hi), time_limit=limit
                )
            )
            assert ref is not None
            print(
                f"SciPy HiGHS LP         total {ref:.6f}  |diff| {abs(ref - ours.total_affinity):.1e}"
                f"  wall {r_wall:.2f} s  cpu {r_cpu:.2f} s"
            )
            print(f"ratio LP/ours: wall {r_wall / wall:.1f}x, cpu {r_cpu / cpu:.1f}x")
        except TimeoutError:
            print(
                f"SciPy HiGHS LP         did not finish within {limit:.0f} s:"
                f" ratio LP/ours > {limit / wall:.1f}x (wall)"
            )
    if fair:
        result, f_wall, f_cpu = timed(lambda: assign_fair(problem, rounds=10))
        print(
            f"fair (10 rounds)       worst idea {result.worst_idea_affinity:.4f} (max-total:"
            f" {ours.worst_idea_affinity:.4f}, bound {result.bound:.4f})  total"
            f" {result.total_affinity:.4f}  wall {f_wall:.2f} s  cpu {f_cpu:.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/assignment", description=__doc__)
    parser.add_argument("--ideas", type=int, default=5000)
    parser.add_argument("--judges", type=int, default=1000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true", help="skip the LP at full scale")
    parser.add_argument(
        "--reference-limit", type=float, default=300.0, help="seconds HiGHS may take at full scale (default 300)"
    )
    parser.add_argument(
        "--all-samples", action="store_true", help="gold standard: all 10 profile samples, not only d_20_1"
    )
    parser.add_argument(
        "--fair-scale", action="store_true", help="also run the fair assignment at the small scale size"
    )
    args = parser.parse_args()
    print(
        f"bench/assignment on {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}"
        " (wall times on a shared machine stretch; cpu is this process's own time)\n"
    )
    root = data_root()
    if root is None:
        print("shared data absent (../shared/data/assignment): real-data sections skipped")
    else:
        real_data(root)
        goldstandard(root, args.all_samples)
    scale(max(args.ideas // 5, 1), max(args.judges // 5, 1), args.k, True, args.reference_limit, args.fair_scale)
    scale(args.ideas, args.judges, args.k, not args.no_reference, args.reference_limit, False)


if __name__ == "__main__":
    main()
