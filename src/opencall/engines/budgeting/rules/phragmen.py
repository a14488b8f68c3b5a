"""Sequential Phragmén for participatory budgeting (approval ballots).

Method: Phragmén's sequential rule as generalised to costs by Los, Christoff, Grossi, "Proportional
Budget Allocations: Towards a Systematization" (IJCAI 2022); semantics of pabutools
``sequential_phragmen``: funding project c spreads its cost over its supporters so that all of them
end at the same load ``(sum of their loads + cost_c) / supporters_c``; each round funds the project
with the smallest such load (ties: smallest id) and the rule stops as soon as that project no
longer fits in the budget. A voter's load is always the load of the last round that funded one of
her projects, so exact loads are rebuilt from the per-round loads when floats cannot separate a tie.
Complexity O(R * E) for R rounds over E ballot entries (one weighted bincount per round).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from opencall.engines.budgeting.columns import Columns
from opencall.engines.budgeting.model import IntArray

_REL_TOL = 1e-9


@dataclass
class PhragmenResult:
    selected: list[int]
    loads: list[Fraction]  # load after each funded round
    stopped_by: int | None  # project whose turn came but did not fit
    stop_round: int


def sequential_phragmen(
    cols: Columns, budget: Fraction, ranks: IntArray, *, initial: tuple[int, ...] = ()
) -> PhragmenResult:
    m = len(cols.costs)
    n = cols.num_voters
    score = np.diff(cols.ptr)  # supporters per project
    entry_project = np.repeat(np.arange(m, dtype=np.int64), score)
    last_round = np.full(n, -1, dtype=np.int64)  # index into round_loads, -1 = load 0
    round_loads: list[Fraction] = []
    load_f = np.zeros(n, dtype=np.float64)
    spent = sum((cols.costs[c] for c in initial), Fraction(0))
    remaining = [c for c in range(m) if c not in set(initial) and cols.costs[c] <= budget]
    selected = list(initial)
    costs_f = cols.costs_float

    def exact_new_load(c: int) -> Fraction | None:
        if score[c] == 0:
            return None
        sup = cols.supporters(c)
        counts = np.bincount(last_round[sup] + 1, minlength=len(round_loads) + 1)
        total = sum(
            (int(k) * round_loads[r] for r, k in enumerate(counts[1:].tolist()) if k),
            Fraction(0),
        )
        return (total + cols.costs[c]) / int(score[c])

    while remaining:
        sums = np.bincount(entry_project, weights=load_f[cols.voters], minlength=m)
        rem = np.asarray(remaining, dtype=np.int64)
        with np.errstate(divide="ignore"):
            new = np.where(score[rem] > 0, (sums[rem] + costs_f[rem]) / np.maximum(score[rem], 1), np.inf)
        best = float(new.min())
        if best == np.inf:
            tied = [int(c) for c in rem]
            best_exact: Fraction | None = None
        else:
            near = rem[new <= best * (1 + _REL_TOL)]
            if len(near) > 1:
                exact = {int(c): exact_new_load(int(c)) for c in near}
                low = min(v for v in exact.values() if v is not None)
                tied = [c for c, v in exact.items() if v == low]
                best_exact = low
            else:
                tied = [int(near[0])]
                best_exact = exact_new_load(tied[0])
        tied.sort(key=lambda c: int(ranks[c]))
        if any(spent + cols.costs[c] > budget for c in tied):
            return PhragmenResult(selected, round_loads, tied[0], len(round_loads))
        chosen = tied[0]
        selected.append(chosen)
        spent += cols.costs[chosen]
        remaining.remove(chosen)
        if best_exact is not None:
            sup = cols.supporters(chosen)
            last_round[sup] = len(round_loads)
            load_f[sup] = float(best_exact)
            round_loads.append(best_exact)
        else:
            round_loads.append(round_loads[-1] if round_loads else Fraction(0))
    return PhragmenResult(selected, round_loads, None, len(round_loads))
