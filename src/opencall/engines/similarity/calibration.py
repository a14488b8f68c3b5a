"""Choosing and judging a "likely duplicate" threshold on labelled pairs.

Method
------
:func:`choose_threshold` sorts the pairs by score and sweeps every distinct score as the cut
(a pair is flagged when ``score >= threshold``), computing precision, recall and F1 from running
counts; it returns the cut with the highest F1 (ties: the higher threshold, which flags fewer
pairs), placed halfway between that score and the next lower distinct score so that a new pair
scoring just under the lowest flagged one in the labelled data is treated alike on both sides.
:func:`average_precision` is the area under the precision-recall step curve,
``sum_n (R_n - R_{n-1}) P_n`` over the distinct thresholds (the definition of scikit-learn's
``average_precision_score``; Manning, Raghavan & Schütze, "Introduction to Information Retrieval",
2008, section 8.4). :func:`f1_at` scores a fixed threshold on other pairs (a held-out split).

Complexity: O(n log n) for n pairs (one sort), O(n) memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class Threshold:
    """A cut on scores (flag when ``score >= value``) with its precision, recall and F1 where it was chosen."""

    value: float
    f1: float
    precision: float
    recall: float


def _pairs(scores: ArrayLike, labels: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if s.ndim != 1 or y.shape != s.shape:
        raise ValueError("scores and labels must be one-dimensional of equal length")
    if s.shape[0] == 0:
        raise ValueError("need at least one labelled pair")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0/1 (or False/True)")
    yb = y.astype(bool)
    if not yb.any():
        raise ValueError("need at least one positive pair")
    return s, yb


def _sweep(
    s: NDArray[np.float64], y: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Distinct scores (descending) and the true / false positives flagged at each as the cut."""
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), s.shape[0] - 1]  # last index of each run of equal scores
    tp = np.cumsum(y)[last].astype(np.float64)
    fp = (last + 1) - tp
    return s[last], tp, fp


def choose_threshold(scores: ArrayLike, labels: ArrayLike) -> Threshold:
    """The F1-maximising threshold on labelled pairs (label 1: a duplicate / paraphrase)."""
    s, y = _pairs(scores, labels)
    cuts, tp, fp = _sweep(s, y)
    positives = float(y.sum())
    precision = tp / (tp + fp)
    recall = tp / positives
    with np.errstate(invalid="ignore"):
        f1 = np.where(tp > 0, 2 * precision * recall / (precision + recall), 0.0)
    best = int(np.argmax(f1))  # first maximum: the highest threshold among ties
    value = float(cuts[best]) if best + 1 == cuts.shape[0] else float((cuts[best] + cuts[best + 1]) / 2)
    return Threshold(value, float(f1[best]), float(precision[best]), float(recall[best]))


def f1_at(scores: ArrayLike, labels: ArrayLike, threshold: float) -> float:
    """F1 of flagging the pairs with ``score >= threshold``."""
    s, y = _pairs(scores, labels)
    flagged = s >= threshold
    tp = float((flagged & y).sum())
    if tp == 0:
        return 0.0
    return 2 * tp / (float(flagged.sum()) + float(y.sum()))


def average_precision(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the precision-recall step curve (scikit-learn's ``average_precision_score``)."""
    s, y = _pairs(scores, labels)
    _cuts, tp, fp = _sweep(s, y)
    precision = tp / (tp + fp)
    recall = tp / float(y.sum())
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def labels_from_scores(gold: Sequence[float], at_least: float) -> NDArray[np.bool_]:
    """Binary labels from graded gold scores (e.g. SICK relatedness >= 4.5 as "duplicate")."""
    return np.asarray(gold, dtype=np.float64) >= at_least
