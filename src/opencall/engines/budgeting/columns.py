"""Project-major view of a profile, with exact and float utilities.

The rules iterate over a project's supporters; :func:`project_columns` transposes the voter-major
CSR arrays of an :class:`~opencall.engines.budgeting.model.Election` once (a stable argsort,
O(E log E) for E ballot entries) and attaches the utility each supporter draws from the project:

* ``"approval"`` -- 1 per listed project (pabutools' ``Cardinality_Sat``) or the points given
  for cumulative/ordinal ballots (``Additive_Cardinal_Sat``);
* ``"cost"`` -- points times the project's cost (``Cost_Sat`` on approval ballots, the
  utility equalshares.net uses).

Utilities are kept as floats for the fast path and, per project, as the list of their distinct
exact values (``Fraction``) with a code per entry for the exact path.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from opencall.engines.budgeting.model import Election, FloatArray, IntArray

Utility = Literal["approval", "cost"]


@dataclass(frozen=True, eq=False)
class Columns:
    """Supporters of project ``c`` are ``voters[ptr[c]:ptr[c + 1]]`` (ascending voter index)."""

    num_voters: int
    ptr: IntArray
    voters: IntArray
    util: FloatArray
    codes: IntArray
    values_exact: tuple[tuple[Fraction, ...], ...]
    values_float: tuple[FloatArray, ...]
    costs: tuple[Fraction, ...]
    costs_float: FloatArray

    def supporters(self, c: int) -> IntArray:
        return self.voters[self.ptr[c] : self.ptr[c + 1]]

    def constant_utility(self, c: int) -> bool:
        return len(self.values_exact[c]) <= 1

    def total_utility(self, c: int) -> float:
        return float(self.util[self.ptr[c] : self.ptr[c + 1]].sum())


def project_columns(election: Election, utility: Utility = "approval") -> Columns:
    if election.vote_type in ("approval", "choose-1") and election.exact_points is None:
        return _approval_columns(election, utility)
    m = election.num_projects
    order = np.argsort(election.indices, kind="stable")
    voter_of = election.voter_of_entry()[order]
    proj = election.indices[order]
    ptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(proj, minlength=m), out=ptr[1:])
    if election.exact_points is not None:
        exact_entries = [election.exact_points[int(i)] for i in order]
        pts_float = np.asarray([float(x) for x in exact_entries], dtype=np.float64)
    else:
        exact_entries = []
        pts_float = election.points[order]
    costs = tuple(p.cost for p in election.projects)
    codes = np.zeros(len(proj), dtype=np.int64)
    values_exact: list[tuple[Fraction, ...]] = []
    values_float: list[FloatArray] = []
    util = np.empty(len(proj), dtype=np.float64)
    for c in range(m):
        lo, hi = int(ptr[c]), int(ptr[c + 1])
        scale = costs[c] if utility == "cost" else Fraction(1)
        if election.vote_type in ("approval", "choose-1"):
            # every entry is worth 1: one utility value per project, no need to look
            vals: tuple[Fraction, ...] = (scale,) if hi > lo else ()
        elif exact_entries:
            seg = exact_entries[lo:hi]
            distinct = sorted(set(seg))
            where = {v: k for k, v in enumerate(distinct)}
            codes[lo:hi] = [where[v] for v in seg]
            vals = tuple(v * scale for v in distinct)
        else:
            distinct_f, inverse = np.unique(pts_float[lo:hi], return_inverse=True)
            codes[lo:hi] = inverse
            vals = tuple(Fraction(int(v)) * scale for v in distinct_f)
        values_exact.append(vals)
        vf = np.asarray([float(v) for v in vals], dtype=np.float64)
        values_float.append(vf)
        util[lo:hi] = vf[codes[lo:hi]] if hi > lo else util[lo:hi]
    return Columns(
        num_voters=election.num_voters,
        ptr=ptr,
        voters=voter_of.astype(np.int64),
        util=util,
        codes=codes,
        values_exact=tuple(values_exact),
        values_float=tuple(values_float),
        costs=costs,
        costs_float=np.asarray([float(c) for c in costs], dtype=np.float64),
    )


def _approval_columns(election: Election, utility: Utility) -> Columns:
    """Approval ballots: one utility per project (1, or its cost), so no per-project loop over
    entries -- a handful of NumPy calls whatever the size (this runs once per rule call)."""
    m = election.num_projects
    indices = election.indices
    # a stable sort of small integers is a radix sort in NumPy: several times faster than on int64
    order = np.argsort(indices.astype(np.int16) if m < 2**15 else indices, kind="stable")
    counts = np.bincount(indices, minlength=m)
    ptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    voters = np.repeat(np.arange(election.num_voters, dtype=np.int64), np.diff(election.indptr))[order]
    costs = tuple(p.cost for p in election.projects)
    costs_float = np.asarray([float(c) for c in costs], dtype=np.float64)
    supported = (counts > 0).tolist()
    empty_f = np.zeros(0, dtype=np.float64)
    if utility == "cost":
        values_exact = tuple((c,) if ok else () for c, ok in zip(costs, supported, strict=True))
        per_project = costs_float
    else:
        one = (Fraction(1),)
        values_exact = tuple(one if ok else () for ok in supported)
        per_project = np.ones(m, dtype=np.float64)
    rows = tuple(per_project.reshape(m, 1)) if m else ()
    values_float = tuple(row if ok else empty_f for row, ok in zip(rows, supported, strict=True))
    return Columns(
        num_voters=election.num_voters,
        ptr=ptr,
        voters=voters,
        util=per_project[indices[order]] if len(indices) else np.zeros(0, dtype=np.float64),
        codes=np.zeros(len(indices), dtype=np.int64),
        values_exact=values_exact,
        values_float=values_float,
        costs=costs,
        costs_float=costs_float,
    )
