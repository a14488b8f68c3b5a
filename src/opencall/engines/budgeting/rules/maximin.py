"""Maximin support for participatory budgeting (approval ballots).

Method: Sánchez-Fernández, García, Fisteus, Brill, "The Maximin Support Method" (AAAI 2021),
with costs as in pabutools ``maximin_support``: each round funds the project p (that still fits)
minimising the optimal maximum voter load of ``S + p``, where the costs of the funded set are
spread over their approvers as evenly as possible; ties go to the smallest id; unsupported projects
make the load infinite and are funded last, in id order, while they fit.

The optimal maximum load of a set T is ``max over non-empty X in T of cost(X) / |N(X)|`` (N(X):
voters approving something in X; Hall's theorem / max-flow duality). It is computed exactly with
Dinkelbach's method, each step a maximum-closure problem solved as a min cut (Dinic's algorithm)
on projects and voter types (voters grouped by their approvals within T), in exact rationals.
Candidates are evaluated in order of a lower bound and skipped once the bound exceeds the best
load found. Cost per evaluation is polynomial (a few max-flows on |T| + types nodes); the rule is
meant for the instance sizes where pabutools' LP-based version can run at all.
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction

import numpy as np

from opencall.engines.budgeting.columns import Columns
from opencall.engines.budgeting.model import IntArray


def _max_closure(
    costs: list[Fraction], types: list[tuple[list[int], int]], lam: Fraction
) -> tuple[Fraction, list[int]]:
    """max over X of cost(X) - lam * |N(X)|, and a maximiser (project positions).

    Min cut by shortest augmenting paths (Edmonds-Karp); a capacity of ``sum(costs) + 1``
    stands for infinity since no flow can exceed the total cost.
    """
    k = len(costs)
    source, sink = k + len(types), k + len(types) + 1
    size = sink + 1
    total = sum(costs, Fraction(0))
    infinite = total + 1
    graph: list[list[int]] = [[] for _ in range(size)]
    head: list[int] = []
    cap: list[Fraction] = []

    def add(u: int, v: int, c: Fraction) -> None:
        graph[u].append(len(head))
        head.append(v)
        cap.append(c)
        graph[v].append(len(head))
        head.append(u)
        cap.append(Fraction(0))

    for j, c in enumerate(costs):
        add(source, j, c)
    for t, (members, mult) in enumerate(types):
        for j in members:
            add(j, k + t, infinite)
        add(k + t, sink, lam * mult)

    flow = Fraction(0)
    while True:
        parent_edge = [-1] * size
        seen = [False] * size
        seen[source] = True
        queue = deque([source])
        while queue and not seen[sink]:
            u = queue.popleft()
            for e in graph[u]:
                v = head[e]
                if not seen[v] and cap[e] > 0:
                    seen[v] = True
                    parent_edge[v] = e
                    queue.append(v)
        if not seen[sink]:
            break
        push = infinite
        v = sink
        while v != source:
            e = parent_edge[v]
            push = min(push, cap[e])
            v = head[e ^ 1]
        v = sink
        while v != source:
            e = parent_edge[v]
            cap[e] -= push
            cap[e ^ 1] += push
            v = head[e ^ 1]
        flow += push
    # after the last search ``seen`` marks the source side of a minimum cut
    chosen = [j for j in range(k) if seen[j]]
    return total - flow, chosen


def optimal_max_load(projects: list[int], cols: Columns, voter_sets: dict[int, IntArray]) -> Fraction | None:
    """Smallest possible maximum voter load when funding ``projects``; None if one is unsupported."""
    if not projects:
        return Fraction(0)
    if any(len(voter_sets[p]) == 0 for p in projects):
        return None
    n = cols.num_voters
    words = (len(projects) + 62) // 63
    sig = np.zeros((n, words), dtype=np.int64)
    for pos, p in enumerate(projects):
        sig[voter_sets[p], pos // 63] |= np.int64(1) << np.int64(pos % 63)
    touched = np.flatnonzero(sig.any(axis=1))
    rows, counts = np.unique(sig[touched], axis=0, return_counts=True)
    types: list[tuple[list[int], int]] = []
    for row, mult in zip(rows.tolist(), counts.tolist(), strict=True):
        members = [pos for pos in range(len(projects)) if (row[pos // 63] >> (pos % 63)) & 1]
        types.append((members, int(mult)))
    costs = [cols.costs[p] for p in projects]
    lam = sum(costs, Fraction(0)) / len(touched)
    while True:
        value, chosen = _max_closure(costs, types, lam)
        if value <= 0 or not chosen:
            return lam
        picked = set(chosen)
        covered = sum(mult for members, mult in types if not picked.isdisjoint(members))
        lam = sum((costs[j] for j in chosen), Fraction(0)) / covered


def maximin_support(cols: Columns, budget: Fraction, ranks: IntArray) -> tuple[list[int], list[float]]:
    """Funded projects in order and the optimal max load after each round."""
    m = len(cols.costs)
    voter_sets = {p: cols.supporters(p) for p in range(m)}
    available = [p for p in range(m) if 0 <= cols.costs[p] <= budget]
    remaining = budget
    selected: list[int] = []
    loads: list[float] = []
    current = Fraction(0)
    covered = np.zeros(cols.num_voters, dtype=bool)
    broken = False  # an unsupported project was funded: every later load is infinite
    while True:
        available = [p for p in available if cols.costs[p] <= remaining]
        if not available:
            break
        if broken or all(len(voter_sets[p]) == 0 for p in available):
            best_p = min(available, key=lambda p: int(ranks[p]))
            best_load: Fraction | None = None
        else:
            spent = budget - remaining
            bounds: list[tuple[Fraction, int, int]] = []
            for p in available:
                sup = voter_sets[p]
                if len(sup) == 0:
                    continue
                newly = int(np.count_nonzero(~covered[sup]))
                reach = int(np.count_nonzero(covered)) + newly
                lb = max(current, cols.costs[p] / len(sup), (spent + cols.costs[p]) / reach)
                bounds.append((lb, int(ranks[p]), p))
            bounds.sort()
            best: tuple[Fraction, int, int] | None = None
            for lb, rank, p in bounds:
                if best is not None and lb > best[0]:
                    break
                load = optimal_max_load([*selected, p], cols, voter_sets)
                assert load is not None
                if best is None or (load, rank) < (best[0], best[1]):
                    best = (load, rank, p)
            assert best is not None
            best_p = best[2]
            best_load = best[0]
        selected.append(best_p)
        remaining -= cols.costs[best_p]
        available.remove(best_p)
        if best_load is None:
            broken = broken or len(voter_sets[best_p]) == 0
            loads.append(float("inf"))
        else:
            current = best_load
            covered[voter_sets[best_p]] = True
            loads.append(float(best_load))
    return selected, loads
