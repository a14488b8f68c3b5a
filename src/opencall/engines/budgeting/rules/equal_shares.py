"""Method of Equal Shares (MES) with Add1U and greedy completion.

Method: Peters, Pierczyński, Skowron, "Proportional Participatory Budgeting with Additive
Utilities" (NeurIPS 2021); the variant and completions as specified on equalshares.net
(``Add1U``: raise every voter's budget by one currency unit and rerun until the outcome is
exhaustive, keeping the last outcome that did not overspend). Semantics match pabutools
``method_of_equal_shares`` (lexicographic tie-breaking on project ids, ``voter_budget_increment``).

Every voter starts with ``budget / n``. A project ``c`` is affordable at price ``rho`` when its
supporters can pay ``sum_i min(b_i, rho * u_ic) = cost_c``; each round funds the project with the
smallest ``rho`` (ties: smallest id), charges its supporters and repeats until no project is
affordable.

Implementation. Voters who support the same funded projects (with the same utilities) always
hold the same budget, so they are kept in *budget groups* that split as projects are funded; a
project's price is then found from the few (group, utility) classes among its supporters by one
sort -- O(s_c + G) per evaluation for s_c supporters and G groups. Prices only grow as budgets
shrink, so stale prices are lower bounds and a lazy heap re-evaluates only projects that share a
supporter with the last funded one. Floats drive the search; whenever two prices, or a budget and
a cost, are within 1e-9 relative of each other the decision is recomputed in exact rational
arithmetic from the recorded history of the groups (budget of a group = max(0, parent budget -
rho_exact * u)), so ties are decided exactly as with fractions throughout. One MES pass is about
O(R * (s_max + G) + E log E) for R rounds and E ballot entries; Add1U repeats the pass once per
unit of budget added.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from opencall.engines.budgeting.columns import Columns
from opencall.engines.budgeting.model import Election, IntArray
from opencall.engines.budgeting.rules.groups import shift_counts

_REL_TOL = 1e-9
_SMALL = 24  # below this many supporter classes a price is computed without NumPy
_INF = float("inf")


@dataclass
class MesRound:
    """What happened to one funded project."""

    project: int
    rho: Fraction | float
    payments: list[tuple[float, int]]  # (amount paid per voter, number of voters)


@dataclass
class MesResult:
    selected: list[int]
    rounds: list[MesRound]
    dropped_round: dict[int, int]  # project -> round in which it became unaffordable
    dropped_shortfall: dict[int, float]  # cost minus what its supporters still held
    budget_per_voter: Fraction
    runs: int = 1
    state: _Pass | _SmallPass | None = field(default=None, repr=False)

    def exact_rhos(self) -> list[Fraction]:
        """Exact price per unit of utility of every funded round (computed on demand)."""
        if self.state is None:
            return []
        return [self.state.exact_rho_of_round(r) for r in range(len(self.rounds))]

    def exact_payments(self, cols: Columns) -> dict[tuple[int, int], Fraction]:
        """What each voter paid for each funded project, exactly (O(E) Fractions: small inputs)."""
        budgets: dict[int, Fraction] = {}
        out: dict[tuple[int, int], Fraction] = {}
        for rnd, rho in zip(self.rounds, self.exact_rhos(), strict=True):
            c = rnd.project
            lo, hi = int(cols.ptr[c]), int(cols.ptr[c + 1])
            vals = cols.values_exact[c]
            for v, code in zip(cols.voters[lo:hi].tolist(), cols.codes[lo:hi].tolist(), strict=True):
                held = budgets.get(v, self.budget_per_voter)
                pay = min(held, rho * vals[code])
                budgets[v] = held - pay
                out[(v, c)] = pay
        return out


def _exact_group_budget(
    g: int, known: dict[int, Fraction], parent: list[int], paid: Callable[[int], Fraction]
) -> Fraction:
    """Group g's remaining budget per voter in exact arithmetic, filling `known` along the way: a
    group's budget is its parent's less what its voters paid (`paid(h)`) when it split off, never
    below zero. Only the groups near a tie are ever asked for, so most stay floats."""
    chain: list[int] = []
    while g not in known:
        chain.append(g)
        g = parent[g]
    value = known[g]
    for h in reversed(chain):
        value = max(Fraction(0), value - paid(h))
        known[h] = value
    return value


class _Pass:
    """One MES pass with a fixed initial budget per voter."""

    def __init__(self, cols: Columns, b0: Fraction, ranks: IntArray) -> None:
        self.cols = cols
        self.b0 = b0
        self.ranks = ranks
        n = cols.num_voters
        self.gid = np.zeros(n, dtype=np.int64)
        self.beta = np.empty(64, dtype=np.float64)
        self.beta[0] = float(b0)
        self.G = 1
        # group history for exact reconstruction
        self.g_parent: list[int] = [-1]
        self.g_round: list[int] = [-1]
        self.g_u: list[Fraction] = [Fraction(0)]
        self.beta_exact: dict[int, Fraction] = {0: b0}
        # per round: the (group, code) classes that paid, for exact price recomputation
        self.r_project: list[int] = []
        self.r_groups: list[IntArray] = []
        self.r_codes: list[IntArray] = []
        self.r_counts: list[IntArray] = []
        self.r_rho_float: list[float] = []
        self.rho_exact: dict[int, Fraction] = {}

    # ---- classes of supporters -------------------------------------------------------------
    def _classes(self, c: int) -> tuple[IntArray, IntArray, IntArray]:
        """(group, utility code, count) of the supporters of ``c``."""
        cols = self.cols
        lo, hi = int(cols.ptr[c]), int(cols.ptr[c + 1])
        g = self.gid[cols.voters[lo:hi]]
        nvals = len(cols.values_exact[c])
        # counting by group id costs O(G): once many groups exist, sort the few present instead
        if nvals <= 1 and 4 * (hi - lo) + 256 >= self.G:
            cnt = np.bincount(g, minlength=self.G)
            nz = np.flatnonzero(cnt)
            return nz, np.zeros(len(nz), dtype=np.int64), cnt[nz]
        key = g * nvals + cols.codes[lo:hi]
        uniq, counts = np.unique(key, return_counts=True)
        return uniq // nvals, uniq % nvals, counts

    # ---- float price -----------------------------------------------------------------------
    def price(self, c: int) -> tuple[float, bool, float]:
        """Float price of ``c`` (inf when unaffordable), whether the affordability call is too
        close to tell in floats, and what its supporters hold in total."""
        groups, codes, counts = self._classes(c)
        cost = float(self.cols.costs_float[c])
        if len(groups) <= _SMALL:
            return self._price_small(c, groups, codes, counts, cost)
        beta = self.beta[groups]
        u = self.cols.values_float[c][codes]
        w = counts.astype(np.float64)
        total = float(np.dot(w, beta))
        close = abs(total - cost) <= _REL_TOL * max(cost, 1e-300)
        if total < cost:
            return _INF, close, total
        ratio = beta / u
        order = np.argsort(ratio, kind="stable")
        wb = (w * beta)[order]
        wu = (w * u)[order]
        paid_before = np.cumsum(wb) - wb
        rich_util = np.cumsum(wu[::-1])[::-1]
        rho = (cost - paid_before) / rich_util
        ok = rho <= ratio[order] * (1 + 1e-12)
        k = int(np.argmax(ok))
        return float(rho[k]), close, total

    def _price_small(
        self, c: int, groups: IntArray, codes: IntArray, counts: IntArray, cost: float
    ) -> tuple[float, bool, float]:
        """The same computation in plain Python: cheaper than NumPy calls for a few classes."""
        vals = self.cols.values_float[c]
        beta = self.beta
        items = sorted(
            (float(beta[g]) / float(vals[k]), float(beta[g]), float(vals[k]), n)
            for g, k, n in zip(groups.tolist(), codes.tolist(), counts.tolist(), strict=True)
        )
        total = sum(b * n for _, b, _, n in items)
        close = abs(total - cost) <= _REL_TOL * max(cost, 1e-300)
        if total < cost:
            return _INF, close, total
        paid = 0.0
        rich = sum(u * n for _, _, u, n in items)
        rho = _INF
        for ratio, b, u, n in items:
            rho = (cost - paid) / rich
            if rho <= ratio * (1 + 1e-12):
                return rho, close, total
            paid += b * n
            rich -= u * n
        return rho, close, total

    # ---- exact values ----------------------------------------------------------------------
    def exact_beta(self, g: int) -> Fraction:
        return _exact_group_budget(
            g, self.beta_exact, self.g_parent, lambda h: self.exact_rho_of_round(self.g_round[h]) * self.g_u[h]
        )

    def exact_rho_of_round(self, r: int) -> Fraction:
        got = self.rho_exact.get(r)
        if got is None:
            c = self.r_project[r]
            got = self._exact_price_from(c, self.r_groups[r], self.r_codes[r], self.r_counts[r])
            assert got is not None  # a funded project was affordable
            self.rho_exact[r] = got
        return got

    def _exact_price_from(self, c: int, groups: IntArray, codes: IntArray, counts: IntArray) -> Fraction | None:
        vals = self.cols.values_exact[c]
        items = [(self.exact_beta(int(g)), vals[int(k)], int(n)) for g, k, n in zip(groups, codes, counts, strict=True)]
        cost = self.cols.costs[c]
        if sum((b * n for b, _, n in items), Fraction(0)) < cost:
            return None
        items.sort(key=lambda t: t[0] / t[1])
        paid = Fraction(0)
        rich = sum((u * n for _, u, n in items), Fraction(0))
        for b, u, n in items:
            rho = (cost - paid) / rich
            if rho * u <= b:
                return rho
            paid += b * n
            rich -= u * n
        return None  # pragma: no cover - unreachable when the total suffices

    def exact_price(self, c: int) -> Fraction | None:
        groups, codes, counts = self._classes(c)
        return self._exact_price_from(c, groups, codes, counts)

    def available(self, c: int) -> float:
        groups, _, counts = self._classes(c)
        return float(np.dot(counts.astype(np.float64), self.beta[groups]))

    # ---- funding ---------------------------------------------------------------------------
    def fund(self, c: int, rho: float, exact: Fraction | None = None) -> MesRound:
        cols = self.cols
        lo, hi = int(cols.ptr[c]), int(cols.ptr[c + 1])
        sup = cols.voters[lo:hi]
        g = self.gid[sup]
        nvals = len(cols.values_exact[c])
        dense = nvals <= 1 and 4 * (hi - lo) + 256 >= self.G
        if dense:
            cnt = np.bincount(g, minlength=self.G)
            groups = np.flatnonzero(cnt)
            counts = cnt[groups]
            slot = np.empty(self.G, dtype=np.int64)
            slot[groups] = np.arange(len(groups), dtype=np.int64)
            inverse = slot[g]
            codes = np.zeros(len(groups), dtype=np.int64)
        else:
            key = g * nvals + cols.codes[lo:hi]
            uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
            groups = uniq // nvals
            codes = uniq % nvals
        uniq = groups
        r = len(self.r_project)
        if exact is not None:
            self.rho_exact[r] = exact
        self.r_project.append(c)
        self.r_groups.append(groups)
        self.r_codes.append(codes)
        self.r_counts.append(counts)
        self.r_rho_float.append(rho)
        old = self.beta[groups]
        pay = np.minimum(old, rho * cols.values_float[c][codes])
        new = old - pay
        new[new <= _REL_TOL * np.maximum(old, 1e-300)] = 0.0
        k = len(uniq)
        if self.G + k > len(self.beta):
            grown = np.empty(max(2 * len(self.beta), self.G + k), dtype=np.float64)
            grown[: self.G] = self.beta[: self.G]
            self.beta = grown
        ids = np.arange(self.G, self.G + k, dtype=np.int64)
        self.beta[self.G : self.G + k] = new
        self.G += k
        self.gid[sup] = ids[inverse]
        self.g_parent.extend(groups.tolist())
        self.g_round.extend([r] * k)
        vals = cols.values_exact[c]
        if nvals <= 1:
            self.g_u.extend([vals[0]] * k)
        else:
            self.g_u.extend(vals[x] for x in codes.tolist())
        summary: dict[float, int] = {}
        for amount, n in zip(pay.tolist(), counts.tolist(), strict=True):
            summary[amount] = summary.get(amount, 0) + n
        return MesRound(project=c, rho=rho, payments=sorted(summary.items(), reverse=True))


class _SmallData:
    """What every pass over approval-type columns needs, as plain Python values (built once per
    call): the supporters of each project as a bitmask over voters (a Python int)."""

    def __init__(
        self,
        n: int,
        sizes: list[int],
        mask: list[int],
        cost_x: tuple[Fraction, ...],
        u_x: list[Fraction],
        ranks: list[int],
        eligible: list[int],
    ) -> None:
        self.n = n
        self.sizes = sizes
        self.mask = mask
        self.cost_x = cost_x
        self.cost_f: list[float] = [num / den for num, den in (c.as_integer_ratio() for c in cost_x)]
        self.u_x = u_x
        self.u_f: list[float] = [float(u) for u in u_x]
        self.ranks = ranks
        self.eligible = eligible

    @classmethod
    def from_columns(cls, cols: Columns, ranks: IntArray, eligible: list[int]) -> _SmallData:
        m = len(cols.costs)
        owner = np.repeat(np.arange(m, dtype=np.int64), np.diff(cols.ptr))
        return cls(
            cols.num_voters,
            np.diff(cols.ptr).tolist(),
            bitmasks(m, cols.num_voters, owner, cols.voters),
            cols.costs,
            [v[0] if v else Fraction(0) for v in cols.values_exact],
            ranks.tolist(),
            eligible,
        )


def bitmasks(m: int, n: int, projects: IntArray, voters: IntArray) -> list[int]:
    """For each project, the set of its voters as the bits of a Python int."""
    incidence = np.zeros((m, n), dtype=np.bool_)
    incidence[projects, voters] = True
    rows = np.packbits(incidence, axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in rows]


class _SmallPass:
    """One MES pass in plain Python for columns with one utility per project (approval ballots).

    The same method as :class:`_Pass` -- budget groups, lazy prices, floats with an exact
    decision whenever two numbers are within ``_REL_TOL`` of each other -- without NumPy calls,
    whose fixed cost dominates on the many small elections. A group's voters are a bitmask, and
    every live project keeps how many of its supporters each group holds: funding a project
    splits only the groups that paid, so the counts are updated with one AND and popcount per
    (project, split group) instead of a pass over voters. Group 1 holds every voter with nothing
    left (exactly 0) and is never counted. With one utility ``u`` per project, a price is a cap
    ``q = rho * u`` on what each supporter pays: supporters are sorted by budget alone.
    """

    def __init__(self, data: _SmallData, b0: Fraction) -> None:
        self.d = data
        self.b0 = b0
        self.gmask = [(1 << data.n) - 1, 0]
        self.beta = [float(b0), 0.0]
        self.g_parent = [-1, -1]
        self.g_round = [-1, -1]
        self.beta_exact: dict[int, Fraction] = {0: b0, 1: Fraction(0)}
        self.r_project: list[int] = []
        self.r_classes: list[list[tuple[int, int]]] = []
        self.q_exact: dict[int, Fraction] = {}
        # live project -> {group (not 1): number of its supporters in the group}
        self.counts: dict[int, dict[int, int]] = {c: {0: data.sizes[c]} for c in data.eligible}

    def retire(self, c: int) -> None:
        """``c`` was funded or dropped: its counts are no longer kept up to date."""
        self.counts.pop(c, None)

    def classes(self, c: int) -> list[tuple[int, int]]:
        return list(self.counts[c].items())

    def price(self, c: int) -> tuple[float, bool, float]:
        """Float price of ``c`` (inf when unaffordable), whether affordability is too close to
        call in floats, and what its supporters hold."""
        beta = self.beta
        items = sorted((beta[g], k) for g, k in self.counts[c].items())
        total = 0.0
        rich = 0
        for b, k in items:
            total += b * k
            rich += k
        cost = self.d.cost_f[c]
        close = abs(total - cost) <= _REL_TOL * max(cost, 1e-300)
        if total < cost:
            return _INF, close, total
        paid = 0.0
        q = _INF
        for b, k in items:
            q = (cost - paid) / rich
            if q <= b * (1 + 1e-12):
                break
            paid += b * k
            rich -= k
        return q / self.d.u_f[c], close, total

    def exact_beta(self, g: int) -> Fraction:
        return _exact_group_budget(g, self.beta_exact, self.g_parent, lambda h: self.exact_q_of_round(self.g_round[h]))

    def _exact_q(self, c: int, classes: list[tuple[int, int]]) -> Fraction | None:
        items = sorted((self.exact_beta(g), k) for g, k in classes if g != 1)
        cost = self.d.cost_x[c]
        if sum((b * k for b, k in items), Fraction(0)) < cost:
            return None
        paid = Fraction(0)
        rich = sum(k for _, k in items)
        for b, k in items:
            q = (cost - paid) / rich
            if q <= b:
                return q
            paid += b * k
            rich -= k
        return None  # pragma: no cover - unreachable when the total suffices

    def exact_q_of_round(self, r: int) -> Fraction:
        got = self.q_exact.get(r)
        if got is None:
            got = self._exact_q(self.r_project[r], self.r_classes[r])
            assert got is not None  # a funded project was affordable
            self.q_exact[r] = got
        return got

    def exact_rho_of_round(self, r: int) -> Fraction:
        return self.exact_q_of_round(r) / self.d.u_x[self.r_project[r]]

    def exact_price(self, c: int) -> Fraction | None:
        q = self._exact_q(c, self.classes(c))
        return None if q is None else q / self.d.u_x[c]

    def fund(self, c: int, rho: float, exact: Fraction | None = None) -> MesRound:
        classes = self.classes(c)
        self.retire(c)
        r = len(self.r_project)
        self.r_project.append(c)
        self.r_classes.append(classes)
        if exact is not None:
            self.q_exact[r] = exact * self.d.u_x[c]
        q = rho * self.d.u_f[c]
        beta, gmask = self.beta, self.gmask
        paying = self.d.mask[c]
        splits: list[tuple[int, int, int]] = []  # (old group, new group or 1, voters moved)
        summary: dict[float, int] = {}
        payers = 0
        for g, k in classes:
            b = beta[g]
            if b < q * (1 - _REL_TOL):
                pays_all = True
            elif b > q * (1 + _REL_TOL):
                pays_all = False
            else:
                pays_all = self.exact_beta(g) <= self.exact_q_of_round(r)
            pay = b if pays_all else min(b, q)
            summary[pay] = summary.get(pay, 0) + k
            payers += k
            moved = gmask[g] & paying
            gmask[g] ^= moved
            if pays_all:
                gmask[1] |= moved
                splits.append((g, 1, moved))
                continue
            left = b - q
            splits.append((g, len(beta), moved))
            beta.append(left if left > _REL_TOL * b else 0.0)
            gmask.append(moved)
            self.g_parent.append(g)
            self.g_round.append(r)
        if payers < self.d.sizes[c]:  # supporters who had nothing left
            summary[0.0] = summary.get(0.0, 0) + self.d.sizes[c] - payers
        masks = self.d.mask
        moves = [(g, moved, None if h == 1 else h) for g, h, moved in splits]  # group 1 is not counted
        for d, held in self.counts.items():
            shift_counts(held, masks[d], moves)
        return MesRound(project=c, rho=rho, payments=sorted(summary.items(), reverse=True))


def _small_mes_pass(data: _SmallData, budget_per_voter: Fraction) -> MesResult:
    """:func:`mes_pass` on :class:`_SmallPass`: every funded round makes all prices stale (no
    overlap matrix to build), and a stale price is refreshed only when it reaches the top."""
    state = _SmallPass(data, budget_per_voter)
    cost_f, ranks, sizes = data.cost_f, data.ranks, data.sizes
    rounds: list[MesRound] = []
    selected: list[int] = []
    dropped_round: dict[int, int] = {}
    shortfall: dict[int, float] = {}
    fresh_at: dict[int, int] = {}  # project -> number of rounds when its heap price was computed
    held: dict[int, float] = {}

    def evaluate(c: int) -> float | None:
        rho, close, total = state.price(c)
        held[c] = total
        fresh_at[c] = len(rounds)
        if close:
            exact = state.exact_price(c)
            return None if exact is None else float(exact)
        return None if rho == _INF else rho

    def drop(c: int) -> None:
        dropped_round[c] = len(rounds)
        shortfall[c] = cost_f[c] - held[c]
        state.retire(c)

    b0 = float(budget_per_voter)
    heap: list[tuple[float, int, int]] = []
    for c in data.eligible:
        s = sizes[c]
        total = s * b0
        cost = cost_f[c]
        if abs(total - cost) > _REL_TOL * cost:
            held[c] = total
            fresh_at[c] = 0
            if total < cost:
                drop(c)
                continue
            heap.append((cost / s / data.u_f[c], ranks[c], c))
            continue
        rho = evaluate(c)
        if rho is None:
            drop(c)
        else:
            heap.append((rho, ranks[c], c))
    heapq.heapify(heap)

    def refresh(entry: tuple[float, int, int]) -> None:
        c = entry[2]
        rho = evaluate(c)
        if rho is None:
            drop(c)
        else:
            heapq.heappush(heap, (rho, entry[1], c))

    while heap:
        top = heapq.heappop(heap)
        if fresh_at[top[2]] != len(rounds):
            refresh(top)
            continue
        limit = top[0] * (1 + _REL_TOL)
        tied = [top]
        while heap and heap[0][0] <= limit:
            entry = heapq.heappop(heap)
            if fresh_at[entry[2]] != len(rounds):
                refresh(entry)
            else:
                tied.append(entry)
        if len(tied) > 1:
            exact = []
            for entry in tied:
                value = state.exact_price(entry[2])
                assert value is not None
                exact.append((value, entry[1], entry))
            exact.sort(key=lambda t: (t[0], t[1]))
            w = exact[0][2][2]
            win_exact: Fraction | None = exact[0][0]
            win_rho = float(exact[0][0])
            for t in exact[1:]:
                heapq.heappush(heap, t[2])
        else:
            w = top[2]
            win_exact = None
            win_rho = top[0]
        selected.append(w)
        rounds.append(state.fund(w, win_rho, win_exact))
    return MesResult(
        selected=selected,
        rounds=rounds,
        dropped_round=dropped_round,
        dropped_shortfall=shortfall,
        budget_per_voter=budget_per_voter,
        state=state,
    )


def mes_pass(
    cols: Columns,
    budget_per_voter: Fraction,
    ranks: IntArray,
    eligible: list[int],
    overlap: npt.NDArray[np.bool_] | None = None,
) -> MesResult:
    """One run of MES from equal budgets over the ``eligible`` projects (supported, cost > 0)."""
    state = _Pass(cols, budget_per_voter, ranks)
    m = len(cols.costs)
    # projects sharing a supporter with c are the only ones whose price moves when c is funded
    if overlap is None:
        overlap = _overlap(cols, eligible)
    heap: list[tuple[float, int, int]] = []
    stale = np.zeros(m, dtype=bool)
    dropped_round: dict[int, int] = {}
    shortfall: dict[int, float] = {}
    alive = np.zeros(m, dtype=bool)
    rounds: list[MesRound] = []
    selected: list[int] = []

    held = np.zeros(m, dtype=np.float64)

    def drop(c: int) -> None:
        alive[c] = False
        dropped_round[c] = len(rounds)
        shortfall[c] = float(cols.costs_float[c]) - float(held[c])

    def evaluate(c: int) -> float | None:
        """Fresh float price, settling affordability exactly when it is too close to call."""
        rho, close, total = state.price(c)
        held[c] = total
        if close:
            exact = state.exact_price(c)
            if exact is None:
                return None
            return float(exact)
        return None if rho == _INF else rho

    b0 = float(budget_per_voter)
    # first round: everyone still holds b0, so a project whose supporters all draw the same
    # utility costs cost / total utility when it is affordable -- vectorised over projects
    el = np.asarray(eligible, dtype=np.int64)
    sizes = (cols.ptr[el + 1] - cols.ptr[el]).astype(np.float64)
    first_u = cols.util[np.minimum(cols.ptr[el], max(len(cols.util) - 1, 0))] if len(el) else sizes
    costs_el = cols.costs_float[el]
    totals = sizes * b0
    held[el] = totals
    rhos = costs_el / (sizes * first_u)
    clear = np.abs(totals - costs_el) > _REL_TOL * costs_el
    for c, rho0, ok, affordable, rank in zip(
        eligible,
        rhos.tolist(),
        clear.tolist(),
        (totals >= costs_el).tolist(),
        ranks[el].tolist(),
        strict=True,
    ):
        simple = ok and len(cols.values_exact[c]) <= 1
        rho: float | None = (rho0 if affordable else None) if simple else evaluate(c)
        if rho is None:
            drop(c)
            continue
        alive[c] = True
        heap.append((rho, rank, c))
    heapq.heapify(heap)

    while heap:
        rho, rank, c = heap[0]
        if not alive[c]:
            heapq.heappop(heap)
            continue
        if stale[c]:
            heapq.heappop(heap)
            stale[c] = False
            fresh = evaluate(c)
            if fresh is None:
                drop(c)
            else:
                heapq.heappush(heap, (fresh, rank, c))
            continue
        # c holds the smallest fresh price; gather everything that might tie with it
        best = heapq.heappop(heap)
        limit = best[0] * (1 + _REL_TOL)
        tied = [best]
        while heap and heap[0][0] <= limit:
            entry = heapq.heappop(heap)
            d = entry[2]
            if not alive[d]:
                continue
            if stale[d]:
                stale[d] = False
                fresh = evaluate(d)
                if fresh is None:
                    drop(d)
                else:
                    heapq.heappush(heap, (fresh, entry[1], d))
                continue
            tied.append(entry)
        if len(tied) > 1:
            exact = []
            for entry in tied:
                value = state.exact_price(entry[2])
                assert value is not None
                exact.append((value, entry[1], entry[2], entry))
            exact.sort(key=lambda t: (t[0], t[1]))
            winner = exact[0][3]
            win_exact: Fraction | None = exact[0][0]
            win_rho = float(exact[0][0])
            for t in exact[1:]:
                heapq.heappush(heap, t[3])
        else:
            winner = best
            win_exact = None
            win_rho = best[0]
        w = winner[2]
        alive[w] = False
        selected.append(w)
        rounds.append(state.fund(w, win_rho, win_exact))
        stale |= overlap[w]
    return MesResult(
        selected=selected,
        rounds=rounds,
        dropped_round=dropped_round,
        dropped_shortfall=shortfall,
        budget_per_voter=budget_per_voter,
        state=state,
    )


def _overlap(cols: Columns, eligible: list[int]) -> npt.NDArray[np.bool_]:
    """``out[c, d]``: eligible projects c != d share at least one supporter."""
    m = len(cols.costs)
    out = np.zeros((m, m), dtype=bool)
    if not eligible:
        return out
    n = cols.num_voters
    k = len(eligible)
    el = np.asarray(eligible, dtype=np.int64)
    if n * k > 2_000_000:
        for c, others in _overlap_bits(cols, eligible).items():
            out[c, others] = True
        return out
    inc = np.zeros((n, k), dtype=np.float32)
    column = np.full(m, -1, dtype=np.int64)
    column[el] = np.arange(k, dtype=np.int64)
    of_entry = column[np.repeat(np.arange(m, dtype=np.int64), np.diff(cols.ptr))]
    keep = of_entry >= 0
    inc[cols.voters[keep], of_entry[keep]] = 1.0
    out[np.ix_(el, el)] = (inc.T @ inc) > 0
    out[el, el] = False
    return out


def _overlap_bits(cols: Columns, eligible: list[int]) -> dict[int, list[int]]:
    n = cols.num_voters
    if not eligible:
        return {}
    # incidence as a dense boolean (voters x eligible) is too big for 90k x 200; use per-voter
    # bitsets over the eligible projects instead (eligible <= 64 per word, several words).
    words = (len(eligible) + 63) // 64
    bits = np.zeros((n, words), dtype=np.uint64)
    pos = {c: k for k, c in enumerate(eligible)}
    for c in eligible:
        k = pos[c]
        sup = cols.supporters(c)
        bits[sup, k // 64] |= np.uint64(1) << np.uint64(k % 64)
    out: dict[int, list[int]] = {}
    for c in eligible:
        sup = cols.supporters(c)
        union = np.bitwise_or.reduce(bits[sup], axis=0) if len(sup) else np.zeros(words, np.uint64)
        found = []
        for wi in range(words):
            word = int(union[wi])
            while word:
                low = word & -word
                k = wi * 64 + low.bit_length() - 1
                found.append(eligible[k])
                word ^= low
        out[c] = [d for d in found if d != c]
    return out


def eligible_projects(cols: Columns) -> tuple[list[int], list[int]]:
    """Projects MES may fund (supported, positive cost) and supported zero-cost projects."""
    m = len(cols.costs)
    owner = np.repeat(np.arange(m, dtype=np.int64), np.diff(cols.ptr))
    total = np.bincount(owner, weights=cols.util, minlength=m)
    eligible: list[int] = []
    free: list[int] = []
    for c in np.flatnonzero(total > 0).tolist():
        if cols.costs[c] > 0:
            eligible.append(c)
        else:
            free.append(c)
    return eligible, free


SMALL_ENTRIES = 2_500  # ballot entries up to which the plain-Python pass is used (measured crossover)


SMALL_PROJECTS = 12  # ... or up to this many projects (few rounds, few budget groups)


def small_enough(entries: int, projects: int) -> bool:
    """Whether the plain-Python pass beats the NumPy one (measured on the Pabulib files)."""
    return entries <= SMALL_ENTRIES or projects <= SMALL_PROJECTS


def _use_small(cols: Columns, eligible: list[int]) -> bool:
    """The plain-Python pass handles one utility per project; NumPy wins on large profiles."""
    return small_enough(len(cols.voters), len(cols.costs)) and all(len(cols.values_exact[c]) <= 1 for c in eligible)


def equal_shares(
    cols: Columns,
    budget: Fraction,
    ranks: IntArray,
    *,
    increment: Fraction | None = None,
    max_runs: int | None = None,
    on_pass: Callable[[int], None] | None = None,
) -> MesResult:
    """MES; with ``increment`` the Add1U-style completion of pabutools/equalshares.net.

    With ``increment`` the pass is repeated with ``budget/n + k * increment`` per voter for
    k = 0, 1, ... until the outcome is exhaustive (returned) or overspends ``budget`` (the
    previous outcome is returned). ``max_runs`` bounds the number of passes (None: unbounded).
    """
    n = cols.num_voters
    eligible, free = eligible_projects(cols)
    free.sort(key=lambda c: int(ranks[c]))
    if n == 0:
        return MesResult([], [], {}, {}, Fraction(0))
    if _use_small(cols, eligible):
        data = _SmallData.from_columns(cols, ranks, eligible)

        def run_pass(per_voter: Fraction) -> MesResult:
            return _small_mes_pass(data, per_voter)

    else:
        overlap = _overlap(cols, eligible)

        def run_pass(per_voter: Fraction) -> MesResult:
            return mes_pass(cols, per_voter, ranks, eligible, overlap)

    return _complete(run_pass, budget / n, free, eligible, cols.costs, budget, increment, max_runs, on_pass)


def equal_shares_approval(
    election: Election,
    utility: str,
    *,
    increment: Fraction | None = None,
    max_runs: int | None = None,
    on_pass: Callable[[int], None] | None = None,
) -> MesResult | None:
    """:func:`equal_shares` on ``project_columns(election, utility)`` for approval ballots with
    at most :data:`SMALL_ENTRIES` entries, straight from the voter-major ballots (the columns
    are not needed by the plain-Python pass); None when the election is not such a case."""
    if election.vote_type not in ("approval", "choose-1") or election.exact_points is not None:
        return None
    if not small_enough(len(election.indices), election.num_projects) or election.num_voters == 0:
        return None
    m, n = election.num_projects, election.num_voters
    sizes: list[int] = np.bincount(election.indices, minlength=m).tolist()
    costs = tuple(p.cost for p in election.projects)
    one = Fraction(1)
    utils = list(costs) if utility == "cost" else [one] * m
    ranks = election.name_rank_list()
    eligible: list[int] = []
    free: list[int] = []
    for c in range(m):
        if sizes[c] and utils[c] > 0:  # the supporters' total utility is positive
            (eligible if costs[c] > 0 else free).append(c)
    free.sort(key=ranks.__getitem__)
    voters = np.repeat(np.arange(n, dtype=np.int64), np.diff(election.indptr))
    data = _SmallData(n, sizes, bitmasks(m, n, election.indices, voters), costs, utils, ranks, eligible)

    def run_pass(per_voter: Fraction) -> MesResult:
        return _small_mes_pass(data, per_voter)

    return _complete(
        run_pass, election.budget / n, free, eligible, costs, election.budget, increment, max_runs, on_pass
    )


def _complete(
    run_pass: Callable[[Fraction], MesResult],
    b: Fraction,
    free: list[int],
    eligible: list[int],
    costs: tuple[Fraction, ...],
    budget: Fraction,
    increment: Fraction | None,
    max_runs: int | None,
    on_pass: Callable[[int], None] | None,
) -> MesResult:
    """The first pass, then (with ``increment``) the Add1U passes of :func:`equal_shares`."""
    result = run_pass(b)
    result.selected = free + result.selected
    if increment is None:
        return result
    previous = MesResult(list(free), [], {}, {}, b)
    runs = 1
    # money as integers on a common denominator: exact and cheap to add up on every pass
    scale = math.lcm(budget.denominator, *(c.denominator for c in costs))
    cost_units = [int(c * scale) for c in costs]
    budget_units = int(budget * scale)
    while True:
        spent = sum(cost_units[c] for c in result.selected)
        if spent > budget_units:
            previous.runs = runs
            return previous
        chosen = set(result.selected)
        if all(c in chosen or spent + cost_units[c] > budget_units for c in eligible):
            result.runs = runs
            return result
        if max_runs is not None and runs >= max_runs:
            result.runs = runs
            return result
        previous = result
        b += increment
        result = run_pass(b)
        result.selected = free + result.selected
        runs += 1
        if on_pass is not None:
            on_pass(runs)
