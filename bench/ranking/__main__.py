"""Ranking engine bench: accuracy on real crowd data, adaptive vs uniform pairs, judge
calibration, and fit time at scale.  Run: ``.venv/bin/python bench/ranking [flags]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Several benches share two cores: one BLAS thread each keeps timings honest.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from scipy.stats import kendalltau, spearmanr

from opencall.engines.ranking import (
    PairwiseVotes,
    calibrate_judges,
    fit_bradley_terry,
    fit_crowd_bt,
)

PUBLISHED_NOISY_BT = 0.347  # crowd-kit NoisyBT on all reading-level votes (data README)
PLAIN_MEAN_SPEARMAN = 0.624


def tau(x: np.ndarray, y: np.ndarray) -> float:
    return float(kendalltau(x, y).statistic)  # tau-b, as in the data README


def section_readinglevel() -> None:
    from datasets import load_pairwise, load_raw_pairs

    print("== Reading level (real crowd votes): Kendall tau-b to the true reading level ==")
    votes, truth, info = load_pairwise("readinglevel")
    raw = load_raw_pairs("readinglevel")
    print(
        f"{info['rows']} votes, {info['self_comparisons']} self-comparisons dropped for the "
        f"model fits, {votes.n_ideas} passages, {votes.n_voters} voters"
    )
    n = votes.n_ideas
    wins = np.bincount(raw[:, 1] - 1, minlength=n).astype(float)
    losses = np.bincount(raw[:, 2] - 1, minlength=n).astype(float)
    rows: list[tuple[str, float, float | None]] = [
        ("raw win rate", tau(wins / np.maximum(wins + losses, 1), truth), None),
        ("wiki survey (wins+1)/(wins+losses+2)", tau((wins + 1) / (wins + losses + 2), truth), None),
    ]
    try:
        import choix

        data = list(zip(votes.first.tolist(), votes.second.tolist(), strict=True))
        for label, func, alpha in (
            ("choix opt_pairwise (BT)", choix.opt_pairwise, 1e-6),
            ("choix ilsr_pairwise", choix.ilsr_pairwise, 1e-2),
        ):
            t0 = time.perf_counter()
            try:
                params = func(n, data, alpha=alpha)
            except RuntimeError as exc:  # choix raises when it does not converge
                print(f"  {label}: {exc}")
                continue
            rows.append((f"{label}, alpha={alpha:g}", tau(params, truth), time.perf_counter() - t0))
    except ImportError:
        print("(choix not installed: its rows are skipped)")
    t0 = time.perf_counter()
    bt = fit_bradley_terry(votes)
    rows.append(("opencall Bradley-Terry (EB prior)", tau(bt.scores, truth), time.perf_counter() - t0))
    t0 = time.perf_counter()
    cbt = fit_crowd_bt(votes)
    rows.append(("opencall Crowd-BT (noisy voters)", tau(cbt.scores, truth), time.perf_counter() - t0))
    rows.append(("crowd-kit NoisyBT (published, data README)", PUBLISHED_NOISY_BT, None))
    for name, value, secs in rows:
        timing = "" if secs is None else f"  ({secs:.2f} s)"
        print(f"  {name:<46} tau = {value:.3f}{timing}")
    ours = tau(cbt.scores, truth)
    print(
        f"  Crowd-BT / NoisyBT = {ours / PUBLISHED_NOISY_BT:.3f}  "
        f"(target >= 1: {'MET' if ours >= PUBLISHED_NOISY_BT else 'NOT MET'})"
    )
    lo, hi = cbt.interval(0.95)
    print(
        f"  95% intervals: median width {np.median(hi - lo):.2f} (scores sd {cbt.scores.std():.2f});"
        f" voter reliability quartiles {np.percentile(cbt.voter_reliability, [25, 50, 75]).round(2)}"
        if cbt.voter_reliability is not None
        else ""
    )


def _ratio_text(need: int | None, budget: int) -> str:
    return "not reached in budget" if need is None else f"{need} votes = {need / budget:.2f} x"


def section_simulation(seeds: int, batch: int, top_k: int, ranking_batch: int, explore: float, step: int) -> None:
    from datasets import load_pairwise
    from simulation import fitted_world, information_ratio, run_arm, votes_to_reach

    print("\n== Simulation: adaptive pairs vs uniform random pairs (model fitted to reading level) ==")
    votes, _, _ = load_pairwise("readinglevel")
    fit = fit_crowd_bt(votes)
    budget = votes.first.shape[0]
    half = budget // 2
    print(
        f"world: {votes.n_ideas} ideas, qualities ~ N(0, {fit.prior_sd:.2f}^2), "
        f"{votes.n_voters} voters with fitted reliabilities and activity; budget {budget} votes.\n"
        f"arms: uniform random pairs; adaptive-top (top {top_k}, diagonal gain, refit every {batch});"
        f" adaptive-ranking (whole ranking: expected mis-ordered pairs, full covariance, refit every"
        f" {ranking_batch}, {explore:.0%} uniform pairs). Metrics every {step} votes; all arms fit Crowd-BT."
    )
    checkpoints = sorted({*range(step, budget, step), half, budget})
    arms = {
        "adaptive-top": dict(
            adaptive=True, batch=batch, top_k=top_k, exact_cov=False, selection=None
        ),
        "adaptive-ranking": dict(
            adaptive=True, batch=ranking_batch, top_k=None, exact_cov=True, selection={"explore": explore}
        ),
    }  # fmt: skip
    ratios: dict[tuple[str, str], list[float]] = {}
    for seed in range(1, seeds + 1):
        world = fitted_world(votes, fit, n_voters=votes.n_voters, seed=seed)
        t0 = time.process_time()
        uni = run_arm(
            world, adaptive=False, budget=budget, batch=step, checkpoints=checkpoints,
            top_k=None, metric_k=top_k, seed=seed,
        )  # fmt: skip
        u_tau, u_top = uni[budget]
        info_uniform, info_tied = information_ratio(world, seed=seed)
        print(
            f" seed {seed}: uniform @ {budget}: tau {u_tau:.3f}, precision@{top_k} {u_top:.2f}"
            f" (@ {half}: tau {uni[half][0]:.3f}; {time.process_time() - t0:.0f} s CPU)\n"
            f"  information per vote: uniform pair {info_uniform:.3f}, tied pair {info_tied:.3f} (the most a"
            f" vote can teach) = {info_tied / info_uniform:.2f} x"
        )
        for name, kwargs in arms.items():
            t0 = time.process_time()
            curve = run_arm(
                world, budget=budget, checkpoints=checkpoints, metric_k=top_k, seed=seed,
                **kwargs,  # type: ignore[arg-type]
            )  # fmt: skip
            a_tau, a_top = curve[budget]
            need_tau = votes_to_reach(curve, u_tau, 0)
            need_top = votes_to_reach(curve, u_top, 1)
            # The other way round: how many uniform votes match what this arm has at half the budget.
            back = votes_to_reach(uni, curve[half][0], 0)
            back_text = "more than the budget" if back is None else f"{back} = {back / half:.2f} x {half}"
            print(
                f"  {name:<16} @ {budget}: tau {a_tau:.3f}, precision@{top_k} {a_top:.2f} (@ {half}: tau "
                f"{curve[half][0]:.3f}, which uniform reaches with {back_text}); to match uniform's final tau: "
                f"{_ratio_text(need_tau, budget)}; precision@{top_k}: {_ratio_text(need_top, budget)}"
                f"  ({time.process_time() - t0:.0f} s CPU)"
            )
            for metric, need in (("tau", need_tau), (f"precision@{top_k}", need_top)):
                ratios.setdefault((name, metric), []).append(float("inf") if need is None else need / budget)
    print(" votes adaptive needs / uniform's budget to match uniform's final figure (target <= 0.5):")
    for (name, metric), values in ratios.items():
        reached = [v for v in values if np.isfinite(v)]
        each = ", ".join("not reached" if not np.isfinite(v) else f"{v:.2f}" for v in values)
        mean = (
            f"mean {np.mean(values):.2f}"
            if len(reached) == len(values)
            else (
                f"{len(values) - len(reached)} of {len(values)} seeds not reached; mean of the others "
                + (f"{np.mean(reached):.2f}" if reached else "-")
            )
        )
        print(f"  {name:<16} {metric:<14} {mean}  (seeds: {each})")


def section_calibration() -> None:
    from datasets import load_peer_grading

    print("\n== Judge calibration: statbiscuit peer grading, Spearman to the tutors' mean ==")
    data, tutor = load_peer_grading()
    n_ideas = data.n_ideas
    counts = np.bincount(data.idea, minlength=n_ideas)
    plain = np.bincount(data.idea, data.score, n_ideas) / counts
    per_judge = np.bincount(data.judge, minlength=data.n_judges)
    print(
        f"{data.score.shape[0]} peer scores, {n_ideas} submissions, {data.n_judges} peers "
        f"(scores per peer: {np.bincount(per_judge)[1:].tolist()} for 1, 2, 3)"
    )
    rho_plain = float(spearmanr(plain, tutor).statistic)
    print(f"  plain mean of peer scores          rho = {rho_plain:.3f} (README {PLAIN_MEAN_SPEARMAN})")
    rubric, _ = load_peer_grading(rubric=True)
    for label, scores, kwargs in (
        ("rubric items, severity (default)", rubric, {}),
        ("rubric items, severity + scale", rubric, {"scale_sd": None}),
        ("totals only, severity", data, {}),
        ("totals only, severity + scale", data, {"scale_sd": None}),
    ):
        t0 = time.perf_counter()
        cal = calibrate_judges(scores, **kwargs)  # type: ignore[arg-type]
        rho = float(spearmanr(cal.score, tutor).statistic)
        print(
            f"  {label:<34} rho = {rho:.3f}  ({time.perf_counter() - t0:.1f} s; severity sd "
            f"{cal.severity_sd:.2f}, noise sd {cal.noise_sd:.2f}, idea sd {cal.idea_sd:.2f})"
            f"  target 0.68: {'MET' if rho >= 0.68 else 'NOT MET'}"
        )


def section_scale(n_ideas: int, n_votes: int, crowd: bool) -> None:
    print(f"\n== Fit time at scale: {n_ideas} ideas, {n_votes} synthetic votes ==")
    rng = np.random.default_rng(7)
    quality = rng.normal(0.0, 1.0, n_ideas)
    first = rng.integers(0, n_ideas, n_votes)
    second = (first + rng.integers(1, n_ideas, n_votes)) % n_ideas
    p = 1.0 / (1.0 + np.exp(quality[second] - quality[first]))
    u = rng.random(n_votes)
    outcome = np.where(u < 0.05, 0.5, (u < p).astype(float))
    voter = rng.integers(0, max(n_votes // 50, 1), n_votes)
    votes = PairwiseVotes(first, second, outcome, voter, n_ideas, int(voter.max()) + 1)
    t0, c0 = time.perf_counter(), time.process_time()
    bt = fit_bradley_terry(votes)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"  Bradley-Terry + Davidson ties (EB prior): {secs:.1f} s wall, {cpu:.1f} s CPU, Kendall tau to truth "
        f"{tau(bt.scores, quality):.3f}, tie parameter {bt.tie_parameter:.3f}, converged {bt.converged}"
    )
    if crowd:
        t0, c0 = time.perf_counter(), time.process_time()
        cbt = fit_crowd_bt(votes, max_em_iter=20)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"  Crowd-BT (20 EM iterations max):           {secs:.1f} s wall, {cpu:.1f} s CPU, Kendall tau "
            f"{tau(cbt.scores, quality):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/ranking", description=__doc__)
    parser.add_argument("--full", action="store_true", help="scale section at 100k ideas / 10M votes")
    parser.add_argument("--ideas", type=int, default=None, help="ideas for the scale section")
    parser.add_argument("--votes", type=int, default=None, help="votes for the scale section")
    parser.add_argument("--seeds", type=int, default=1, help="simulated worlds (default 1)")
    parser.add_argument("--batch", type=int, default=500, help="votes between refits, top arm")
    parser.add_argument("--ranking-batch", type=int, default=100, help="votes between refits, ranking arm")
    parser.add_argument("--explore", type=float, default=0.5, help="share of uniform pairs, ranking arm")
    parser.add_argument("--step", type=int, default=250, help="votes between simulation checkpoints")
    parser.add_argument("--top-k", type=int, default=10, help="size of the top the selector targets")
    parser.add_argument("--skip-sim", action="store_true", help="skip the simulation")
    parser.add_argument("--skip-data", action="store_true", help="only the scale section")
    parser.add_argument("--crowd-at-scale", action="store_true", help="also time Crowd-BT at scale")
    args = parser.parse_args()
    from datasets import shared_data

    if args.skip_data:
        pass
    elif not (shared_data() / "pairwise" / "readinglevel").is_dir():
        print(f"shared data not found at {shared_data()}: real-data sections skipped")
    else:
        section_readinglevel()
        if not args.skip_sim:
            section_simulation(args.seeds, args.batch, args.top_k, args.ranking_batch, args.explore, args.step)
        try:
            section_calibration()
        except ImportError:
            print("\n(calibration skipped: the `rdata` package is not installed)")
    ideas = args.ideas or (100_000 if args.full else 20_000)
    n_votes = args.votes or (10_000_000 if args.full else 1_000_000)
    section_scale(ideas, n_votes, crowd=args.crowd_at_scale)


if __name__ == "__main__":
    main()
