"""Independent LP reference for the assignment tests: SciPy's HiGHS on the LP relaxation.

The b-matching constraint matrix is totally unimodular, so the LP optimum is also the best
integer assignment's total affinity, and LP infeasibility is integer infeasibility.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linprog


def lp_optimum(
    affinity: NDArray[np.float64],
    allowed: NDArray[np.bool_],
    k: NDArray[np.int64],
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
) -> float | None:
    """Best total affinity of the LP relaxation, or None when it is infeasible."""
    n_judges, n_ideas = affinity.shape
    jj, ii = np.nonzero(allowed)
    m = jj.size
    if m == 0:
        return 0.0 if not k.any() and not lo.any() else None
    cols = np.arange(m)
    per_idea = sparse.csr_matrix((np.ones(m), (ii, cols)), shape=(n_ideas, m))
    per_judge = sparse.csr_matrix((np.ones(m), (jj, cols)), shape=(n_judges, m))
    result = linprog(
        -affinity[jj, ii],
        A_ub=sparse.vstack([per_judge, -per_judge]),
        b_ub=np.concatenate([hi, -lo]).astype(float),
        A_eq=per_idea,
        b_eq=k.astype(float),
        bounds=(0, 1),
        method="highs",
    )
    if result.status == 2:
        return None
    assert result.status == 0, result.message
    return float(-result.fun)
