"""The confidence interval bench/live reports for its ratio (median of the pairs)."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

_HARNESS = Path(__file__).resolve().parents[2] / "bench" / "live" / "harness.py"


@pytest.fixture(scope="module")
def median_interval():
    spec = importlib.util.spec_from_file_location("bench_live_harness", _HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module.median_interval


def test_interval_is_the_order_statistics_the_sign_test_gives(median_interval):
    values = [0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6]
    # n = 9: the 2nd and 8th smallest cover the median with 1 - 2 * (1 + 9) / 512.
    assert median_interval(values, 0.9) == (0.2, 0.8, 1 - 20 / 512)
    # Asking for less confidence narrows it to the 3rd and 7th: 1 - 2 * (1 + 9 + 36) / 512.
    assert median_interval(values, 0.8) == (0.3, 0.7, 1 - 92 / 512)
    # Five values cannot reach 95%: the widest interval, with the coverage it has.
    assert median_interval([5, 1, 4, 2, 3], 0.95) == (1, 5, 1 - 2 / 32)


def test_interval_covers_the_true_median_as_often_as_it_says(median_interval):
    rng = random.Random(7)
    trials, covered, stated = 4000, 0, set()
    for _ in range(trials):
        # A skewed distribution whose median is exactly 1.0.
        sample = [rng.lognormvariate(0.0, 0.6) for _ in range(15)]
        low, high, coverage = median_interval(sample, 0.9)
        stated.add(coverage)
        covered += low <= 1.0 <= high
    (coverage,) = stated
    assert coverage == pytest.approx(0.9648, abs=1e-4)
    assert covered / trials == pytest.approx(coverage, abs=0.015)
