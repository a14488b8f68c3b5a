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
    *,
    time_limit: float | None = None,
) -> float | None:
    """Best total affinity of the LP relaxation, or None when it is infeasible.

    Raises ``TimeoutError`` when HiGHS stops at ``time_limit`` seconds.
    """
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
        options={} if time_limit is None else {"time_limit": time_limit},
    )
    if result.status == 2:
        return None
    if result.status == 1:
        raise TimeoutError(f"HiGHS stopped at its limit: {result.message}")
    assert result.status == 0, result.message
    return float(-result.fun)


def lp_max_min(
    affinity: NDArray[np.float64],
    allowed: NDArray[np.bool_],
    k: NDArray[np.int64],
    lo: NDArray[np.int64],
    hi: NDArray[np.int64],
) -> float:
    """LP relaxation of "maximise the worst idea's summed affinity" (FairIR's LP, no rounding).

    An upper bound on what any integer assignment can give the worst-served idea.
    """
    n_judges, n_ideas = affinity.shape
    jj, ii = np.nonzero(allowed)
    m = jj.size
    cols = np.arange(m)
    per_idea = sparse.csr_matrix((np.ones(m), (ii, cols)), shape=(n_ideas, m))
    per_judge = sparse.csr_matrix((np.ones(m), (jj, cols)), shape=(n_judges, m))
    sums = sparse.csr_matrix((-affinity[jj, ii], (ii, cols)), shape=(n_ideas, m))
    t_col = sparse.csr_matrix(np.ones((n_ideas, 1)))
    no_t_judges = sparse.csr_matrix((n_judges, 1))
    result = linprog(
        np.concatenate([np.zeros(m), [-1.0]]),
        A_ub=sparse.vstack(
            [
                sparse.hstack([per_judge, no_t_judges]),
                sparse.hstack([-per_judge, no_t_judges]),
                sparse.hstack([sums, t_col]),
            ]
        ),
        b_ub=np.concatenate([hi, -lo, np.zeros(n_ideas)]).astype(float),
        A_eq=sparse.hstack([per_idea, sparse.csr_matrix((n_ideas, 1))]),
        b_eq=k.astype(float),
        bounds=[(0, 1)] * m + [(None, None)],
        method="highs",
    )
    assert result.status == 0, result.message
    return float(-result.fun)
