"""The lexical scorer on the shared dev data (MRPC train, STS-B dev): sanity levels, not tuning targets."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from opencall.engines.similarity import LexicalIndex, average_precision, choose_threshold, score

from .duplicates import Pairs, duplicates_root, mrpc_train, sts_dev


def _data(reader: str) -> Pairs:
    root = duplicates_root()
    if not (root / "mrpc").is_dir():
        pytest.skip(f"shared evaluation data not found at {root} (set OPENCALL_SHARED_DATA)")
    return mrpc_train(root) if reader == "mrpc" else sts_dev(root)


def test_mrpc_sample_ranks_paraphrases_above_chance() -> None:
    pairs = _data("mrpc")
    n = 300  # the first 300 pairs: small enough for the quick run
    scores = [score(a, b) for a, b in zip(pairs.a[:n], pairs.b[:n], strict=True)]
    labels = np.array(pairs.gold[:n])
    assert average_precision(scores, labels) > labels.mean() + 0.1
    assert choose_threshold(scores, labels).f1 > 0.8


@pytest.mark.slow
def test_sts_dev_spearman_with_the_index_idf() -> None:
    pairs = _data("sts")
    index = LexicalIndex()
    for i, text in enumerate(sorted({*pairs.a, *pairs.b})):
        index.add(i, text)
    scores = [index.score(a, b) for a, b in zip(pairs.a, pairs.b, strict=True)]
    rho = spearmanr(scores, pairs.gold).statistic
    assert rho > 0.75  # measured 0.79 (bench/similarity); MiniLM's published level is 0.82
