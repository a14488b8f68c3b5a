"""Similarity engine bench: the lexical scorer's quality on the shared dev data, and its latency.

Run from the repository root: ``.venv/bin/python bench/similarity`` (``--help`` for flags).
Reads ../shared/data/duplicates (or $OPENCALL_SHARED_DATA/duplicates) in place; without it,
only the synthetic latency section runs. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.engines.similarity.duplicates import (  # noqa: E402
    Pairs,
    control_characters,
    duplicates_root,
    mrpc_train,
    sick,
    sts_dev,
)

from opencall.engines.similarity import (  # noqa: E402
    LexicalIndex,
    average_precision,
    choose_threshold,
    f1_at,
    score,
)

# Published anchors for all-MiniLM-L6-v2 (../shared/data/README.md: test splits, thresholds tuned on
# train/dev). NOT measured here; printed for comparison only.
ANCHORS = {"mrpc_f1": 0.81, "sts_spearman": 0.82, "sick_f1": 0.70}
SICK_DUPLICATE = 4.5  # relatedness >= 4.5 counts as a duplicate


def percentiles(seconds: Sequence[float]) -> str:
    p50, p95, p99 = np.percentile(np.asarray(seconds) * 1000, [50, 95, 99])
    return f"p50 {p50:7.3f} ms   p95 {p95:7.3f} ms   p99 {p99:7.3f} ms"


def scored(pairs: Pairs, fn: Callable[[str, str], float]) -> np.ndarray:
    return np.array([fn(a, b) for a, b in zip(pairs.a, pairs.b, strict=True)])


def quality(root: Path, index: LexicalIndex) -> None:
    mrpc, sts, sick_train, sick_trial = mrpc_train(root), sts_dev(root), sick(root, "train"), sick(root, "trial")
    scorers: list[tuple[str, Callable[[str, str], float]]] = [
        ("lexical, idf of the dev index", index.score),
        ("lexical, no idf (pair alone)", score),
    ]
    print("== Quality on the shared dev data (thresholds: F1-maximising, choose_threshold) ==")
    header = (
        f"{'scorer':32} {'MRPC thr':>8} {'MRPC F1':>8} {'MRPC AP':>8} {'STS-B rho':>9}"
        f" {'SICK thr':>8} {'F1 train':>8} {'F1 trial':>8} {'SICK AP':>8}"
    )
    print(header)
    for name, fn in scorers:
        m = scored(mrpc, fn)
        m_gold = np.array(mrpc.gold)
        m_thr = choose_threshold(m, m_gold)
        rho = spearmanr(scored(sts, fn), sts.gold).statistic
        st, sv = scored(sick_train, fn), scored(sick_trial, fn)
        st_gold = np.array(sick_train.gold) >= SICK_DUPLICATE
        sv_gold = np.array(sick_trial.gold) >= SICK_DUPLICATE
        s_thr = choose_threshold(st, st_gold)
        print(
            f"{name:32} {m_thr.value:8.3f} {m_thr.f1:8.3f} {average_precision(m, m_gold):8.3f} {rho:9.3f}"
            f" {s_thr.value:8.3f} {s_thr.f1:8.3f} {f1_at(sv, sv_gold, s_thr.value):8.3f}"
            f" {average_precision(sv, sv_gold):8.3f}"
        )
    print(
        f"{'MiniLM, PUBLISHED anchor':32} {'':>8} {ANCHORS['mrpc_f1']:8.2f} {'':>8} {ANCHORS['sts_spearman']:9.2f}"
        f" {'':>8} {'':>8} {ANCHORS['sick_f1']:8.2f}   (published, on the test splits; not measured here)"
    )
    positives = float(np.mean(mrpc.gold))
    print(
        f"MRPC train: {len(mrpc.gold)} pairs, {positives:.1%} paraphrases: flagging every pair gives F1"
        f" {2 * positives / (1 + positives):.3f} and AP {positives:.3f}, so AP separates scorers better."
    )
    print(
        f"MRPC F1 is in-sample (threshold chosen and measured on train); SICK: threshold chosen on train"
        f" ({len(sick_train.gold)} pairs), F1 measured on trial ({len(sick_trial.gold)} pairs, held out);"
        f" STS-B dev: {len(sts.gold)} pairs."
    )
    print()


def latency(index: LexicalIndex, sentences: list[str], n_queries: int, seed: int) -> None:
    rng = random.Random(seed)
    queries = rng.sample(sentences, min(n_queries, len(sentences)))
    # Typing: the first half of a sentence's words, as if the author were still writing the title.
    typed = [" ".join(q.split()[: max(2, len(q.split()) // 2)]) for q in queries]
    others = rng.sample(sentences, len(queries))
    print(f"== Latency: {len(queries)} queries, index of {len(index)} dev sentences (k=5) ==")
    for label, fn in (
        ("pair score(a, b), no idf", lambda i: score(queries[i], others[i])),
        ("pair index.score(a, b)", lambda i: index.score(queries[i], others[i])),
        ("search, full sentence, no reasons", lambda i: index.search(queries[i], 5, explain=False)),
        ("search, full sentence + reasons", lambda i: index.search(queries[i], 5)),
        ("search, half-typed + reasons", lambda i: index.search(typed[i], 5)),
    ):
        times = []
        for i in range(len(queries)):
            t = time.perf_counter()
            fn(i)
            times.append(time.perf_counter() - t)
        print(f"{label:36} {percentiles(times)}")
    hit = index.search(typed[0], 3)
    print(f"example: {typed[0]!r} -> " + "; ".join(f"{h.score:.2f} {list(h.phrases)}" for h in hit))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=2000, help="latency queries (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    root = duplicates_root()
    print("(wall times on a shared 2-core machine; single-threaded Python + SciPy)\n")
    if not (root / "mrpc").is_dir():
        print(f"shared data not found at {root}: nothing to measure (set OPENCALL_SHARED_DATA)")
        return
    sets = [mrpc_train(root), sts_dev(root), sick(root, "train"), sick(root, "trial")]
    sentences = sorted({s for p in sets for s in (*p.a, *p.b)})
    print(
        f"{control_characters(root)} control character(s) in the data (MRPC: U+0012 for an apostrophe) read as"
        " a space; the engine itself refuses them (TextError 'binary')."
    )
    index = LexicalIndex()
    t, cpu = time.perf_counter(), time.process_time()
    for i, text in enumerate(sentences):
        index.add(i, text)
    index.search(sentences[0], 1)  # builds the matrix
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    matrices = (index._main, index._main_sq)  # bench only: the index's sparse matrices and their bytes
    size = sum(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes for m in matrices)
    print(
        f"index: {len(sentences)} distinct dev sentences, {index._main.nnz:,} non-zeros"
        f" ({size / 2**20:.0f} MiB of CSR, weights and their squares),"
        f" built in {wall:.1f} s wall / {cpu:.1f} s cpu\n"
    )
    quality(root, index)
    latency(index, sentences, args.queries, args.seed)


if __name__ == "__main__":
    main()
