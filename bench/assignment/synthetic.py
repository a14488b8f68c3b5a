"""Synthetic judges x ideas affinities with topical structure (seeded)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def topical_affinity(
    n_judges: int, n_ideas: int, *, topics: int = 40, conflict_rate: float = 0.01, seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Cosine similarity of sparse Dirichlet topic mixes plus noise, and random conflicts.

    Topic popularity is skewed (Zipf-like), so ideas in popular topics compete for the same
    experts, which is what makes load limits bind.
    """
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, topics + 1)
    popularity /= popularity.sum()
    judges = rng.dirichlet(np.full(topics, 0.1), size=n_judges)
    ideas = rng.dirichlet(popularity * topics * 0.1, size=n_ideas)
    judges /= np.linalg.norm(judges, axis=1, keepdims=True)
    ideas /= np.linalg.norm(ideas, axis=1, keepdims=True)
    affinity = judges @ ideas.T + rng.normal(0.0, 0.05, size=(n_judges, n_ideas))
    conflicts = rng.random((n_judges, n_ideas)) < conflict_rate
    return np.clip(affinity, 0.0, None), conflicts
