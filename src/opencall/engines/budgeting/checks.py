"""Proportionality checks of an outcome: EJR up to one, PJR, priceability.

Definitions for approval ballots with costs, from Peters, Pierczyński, Skowron, "Proportional
Participatory Budgeting with Additive Utilities" (NeurIPS 2021) and Aziz, Lee, Talmon,
"Proportionally Representative Participatory Budgeting" (AAMAS 2018); satisfaction is either the
number of funded approved projects (``"approval"``) or their total cost (``"cost"``).

* A group S of voters is *T-cohesive* when ``|S| >= cost(T) * n / budget`` and every member
  approves every project of T.
* *EJR up to one*: in every T-cohesive group some voter i has ``sat_i(W) >= sat(T)`` or gains
  more than ``sat(T)`` from adding one project of T to W.
* *PJR*: every T-cohesive group S has ``sat(W ∩ (∪_{i in S} A_i)) >= sat(T)``.
* *Priceable*: there are a per-voter budget b and payments ``p_i(c) >= 0`` (only for approved,
  funded projects) with ``sum_c p_i(c) <= b``, ``sum_i p_i(c) = cost(c)`` for funded c, and for
  every unfunded c, the leftover budget of its supporters is at most ``cost(c)``.

EJR-up-to-one and PJR are checked by enumerating project subsets T (and, for PJR, subsets of W),
exponential in the number of projects: they refuse instances above ``max_projects`` (default 12)
and return a witness of any violation. Priceability of a given price system is verified exactly
in rationals in O(E); existence of one is decided by a linear program (SciPy HiGHS, floats with a
1e-9 tolerance) for instances with up to ``max_entries`` ballot entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from opencall.engines.budgeting.model import Election

Satisfaction = Literal["approval", "cost"]


class TooLargeError(ValueError):
    """The exact check would take exponential time on an instance this size."""


@dataclass(frozen=True)
class Violation:
    """A T-cohesive group of voters that the outcome leaves under-represented."""

    projects: tuple[str, ...]
    voters: tuple[str, ...]


def _approval_masks(election: Election) -> list[int]:
    masks = [0] * election.num_voters
    for v in range(election.num_voters):
        lo, hi = int(election.indptr[v]), int(election.indptr[v + 1])
        mask = 0
        for p in election.indices[lo:hi].tolist():
            mask |= 1 << p
        masks[v] = mask
    return masks


def _sat(mask: int, weights: list[Fraction]) -> Fraction:
    total = Fraction(0)
    j = 0
    while mask:
        if mask & 1:
            total += weights[j]
        mask >>= 1
        j += 1
    return total


def _prepare(
    election: Election, selected: list[int] | tuple[int, ...], satisfaction: Satisfaction, max_projects: int
) -> tuple[list[int], list[Fraction], list[Fraction], int]:
    if election.vote_type not in ("approval", "choose-1"):
        raise ValueError("proportionality checks need approval ballots")
    m = election.num_projects
    if m > max_projects:
        raise TooLargeError(f"{m} projects; the exact check enumerates subsets, limit {max_projects}")
    costs = [p.cost for p in election.projects]
    weights = costs if satisfaction == "cost" else [Fraction(1)] * m
    chosen = 0
    for c in selected:
        chosen |= 1 << c
    return _approval_masks(election), costs, weights, chosen


def _cohesive_groups(
    masks: list[int], costs: list[Fraction], budget: Fraction, m: int
) -> list[tuple[int, Fraction, list[int]]]:
    """(T, required group size, voters approving all of T) for every T with enough such voters."""
    n = len(masks)
    out = []
    for t in range(1, 1 << m):
        cost_t = _sat(t, costs)
        if cost_t > budget:
            continue
        need = cost_t * n / budget
        members = [v for v in range(n) if masks[v] & t == t]
        if len(members) >= need and members:
            out.append((t, need, members))
    return out


def ejr_up_to_one(
    election: Election,
    selected: list[int] | tuple[int, ...],
    satisfaction: Satisfaction = "approval",
    *,
    max_projects: int = 12,
) -> Violation | None:
    """None when ``selected`` satisfies EJR up to one, else a violating group."""
    masks, costs, weights, chosen = _prepare(election, selected, satisfaction, max_projects)
    m = election.num_projects
    for t, need, members in _cohesive_groups(masks, costs, election.budget, m):
        sat_t = _sat(t, weights)
        missing = [j for j in range(m) if (t >> j) & 1 and not (chosen >> j) & 1]
        failing = []
        for v in members:
            have = _sat(masks[v] & chosen, weights)
            if have >= sat_t:
                continue
            if any(have + weights[j] > sat_t for j in missing):
                continue
            failing.append(v)
        if failing and len(failing) >= need:
            return Violation(
                projects=tuple(election.projects[j].project_id for j in range(m) if (t >> j) & 1),
                voters=tuple(election.voter_ids[v] for v in failing),
            )
    return None


def pjr(
    election: Election,
    selected: list[int] | tuple[int, ...],
    satisfaction: Satisfaction = "approval",
    *,
    max_projects: int = 12,
) -> Violation | None:
    """None when ``selected`` satisfies PJR, else a violating group."""
    masks, costs, weights, chosen = _prepare(election, selected, satisfaction, max_projects)
    m = election.num_projects
    funded = [j for j in range(m) if (chosen >> j) & 1]
    # every subset W' of the funded set, as a bit mask over project indices, with its satisfaction
    subsets: list[tuple[int, Fraction]] = []
    for bits in range(1 << len(funded)):
        mask = 0
        for k, j in enumerate(funded):
            if (bits >> k) & 1:
                mask |= 1 << j
        subsets.append((mask, _sat(mask, weights)))
    for t, need, members in _cohesive_groups(masks, costs, election.budget, m):
        sat_t = _sat(t, weights)
        for mask, sat_w in subsets:
            if sat_w >= sat_t:
                continue
            # voters whose funded approvals all lie in W' can form a group covered only by W'
            group = [v for v in members if masks[v] & chosen & ~mask == 0]
            if group and len(group) >= need:
                return Violation(
                    projects=tuple(election.projects[j].project_id for j in range(m) if (t >> j) & 1),
                    voters=tuple(election.voter_ids[v] for v in group),
                )
    return None


def verify_price_system(
    election: Election,
    selected: list[int] | tuple[int, ...],
    budget_per_voter: Fraction,
    payments: dict[tuple[int, int], Fraction],
) -> list[str]:
    """Problems with the price system (empty when valid); payments keyed by (voter, project)."""
    problems: list[str] = []
    chosen = set(selected)
    m = election.num_projects
    approves = [set() for _ in range(election.num_voters)]  # type: list[set[int]]
    for v in range(election.num_voters):
        lo, hi = int(election.indptr[v]), int(election.indptr[v + 1])
        approves[v] = set(election.indices[lo:hi].tolist())
    spent = [Fraction(0)] * election.num_voters
    collected = [Fraction(0)] * m
    for (v, c), amount in payments.items():
        if amount < 0:
            problems.append(f"voter {v} pays a negative amount for project {c}")
        if amount and c not in approves[v]:
            problems.append(f"voter {v} pays for project {c} without supporting it")
        if amount and c not in chosen:
            problems.append(f"voter {v} pays for unfunded project {c}")
        spent[v] += amount
        collected[c] += amount
    for v in range(election.num_voters):
        if spent[v] > budget_per_voter:
            problems.append(f"voter {v} pays {spent[v]} > budget {budget_per_voter}")
    for c in chosen:
        if collected[c] != election.projects[c].cost:
            problems.append(f"project {c} collects {collected[c]} of {election.projects[c].cost}")
    for c in range(m):
        if c in chosen:
            continue
        left = sum(
            (budget_per_voter - spent[v] for v in range(election.num_voters) if c in approves[v]),
            Fraction(0),
        )
        if left > election.projects[c].cost:
            problems.append(f"supporters of unfunded project {c} hold {left} > its cost {election.projects[c].cost}")
    return problems


def is_priceable(election: Election, selected: list[int] | tuple[int, ...], *, max_entries: int = 20_000) -> bool:
    """Whether some price system supports ``selected`` (LP feasibility, approval ballots)."""
    from scipy.optimize import linprog

    if election.vote_type not in ("approval", "choose-1"):
        raise ValueError("priceability is checked for approval ballots")
    n, m = election.num_voters, election.num_projects
    chosen = sorted(set(selected))
    voter_of = election.voter_of_entry()
    pairs = [
        (int(v), int(c)) for v, c in zip(voter_of.tolist(), election.indices.tolist(), strict=True) if c in set(chosen)
    ]
    if len(pairs) > max_entries:
        raise TooLargeError(f"{len(pairs)} payment variables, limit {max_entries}")
    nv = len(pairs) + 1  # payments, then b
    b_col = len(pairs)
    rows_ub: list[np.ndarray] = []
    rhs_ub: list[float] = []
    by_voter: dict[int, list[int]] = {}
    for k, (v, _) in enumerate(pairs):
        by_voter.setdefault(v, []).append(k)
    for v in range(n):
        row = np.zeros(nv)
        for k in by_voter.get(v, []):
            row[k] = 1.0
        row[b_col] = -1.0
        rows_ub.append(row)
        rhs_ub.append(0.0)
    supporters: dict[int, list[int]] = {}
    for v, c in zip(voter_of.tolist(), election.indices.tolist(), strict=True):
        supporters.setdefault(int(c), []).append(int(v))
    for c in range(m):
        if c in chosen:
            continue
        row = np.zeros(nv)
        sup = supporters.get(c, [])
        row[b_col] = float(len(sup))
        for v in sup:
            for k in by_voter.get(v, []):
                row[k] -= 1.0
        rows_ub.append(row)
        rhs_ub.append(float(election.projects[c].cost))
    rows_eq: list[np.ndarray] = []
    rhs_eq: list[float] = []
    for c in chosen:
        row = np.zeros(nv)
        for k, (_, cc) in enumerate(pairs):
            if cc == c:
                row[k] = 1.0
        rows_eq.append(row)
        rhs_eq.append(float(election.projects[c].cost))
    scale = max([1.0, *rhs_ub, *rhs_eq])
    result = linprog(
        c=np.zeros(nv),
        A_ub=np.asarray(rows_ub) if rows_ub else None,
        b_ub=np.asarray(rhs_ub) / scale + 1e-9 if rows_ub else None,
        A_eq=np.asarray(rows_eq) if rows_eq else None,
        b_eq=np.asarray(rhs_eq) / scale if rows_eq else None,
        bounds=[(0, None)] * nv,
        method="highs",
    )
    return bool(result.status == 0)
