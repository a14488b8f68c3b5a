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
shrink, so stale prices are lower bounds and a lazy heap re-evaluates only projects whose
supporters paid since they were priced. Floats drive the search; whenever two prices, or a budget
and a cost, are within 1e-9 relative of each other the decision is recomputed in exact rational
arithmetic from the recorded history of the groups (budget of a group = max(0, parent budget -
rho_exact * u)), so ties are decided exactly as with fractions throughout. One MES pass is about
O(R * (s_max + G) + E log E) for R rounds and E ballot entries; Add1U repeats the pass once per
unit of budget added.

The rule is written once: the pass (:func:`_run_pass`: first prices, lazy heap, ties, exact
tie-breaking, drops), the price and affordability test (:func:`_float_price`,
:func:`_exact_price`), what a voter keeps (:func:`_left_after`) and the Add1U completion
(:func:`_complete`). Budget groups are held in one of two ways that answer the same questions:
:class:`_ArrayGroups` (NumPy over project columns, any utilities) and :class:`_BitGroups` (voters
as bitmasks, one utility per project), which is faster on small approval profiles
(:func:`~opencall.engines.budgeting.rules.groups.bitmasks_pay_off`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from opencall.engines.budgeting.columns import Columns, project_columns
from opencall.engines.budgeting.model import Election, FloatArray, IntArray
from opencall.engines.budgeting.rules.groups import approval_bitmasks, bitmasks, bitmasks_pay_off, shift_counts

_REL_TOL = 1e-9  # floats closer than this (relative) are compared again exactly
_CAP_SLACK = 1e-12  # float slack when a price is checked against a class's budget per utility
_VECTOR_FROM = 25  # from this many supporter classes on, a float price is computed with NumPy
_INF = float("inf")

# A float, or a float array when a decision is taken for many classes at once: the functions below
# use only arithmetic and comparisons, so one definition serves both.
Num = Any


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
    state: _Groups | None = field(default=None, repr=False)

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


# ---- the rule's arithmetic, shared by both ways of holding budget groups ----------------------


def _too_close(total: float, cost: float) -> bool:
    """Whether floats cannot tell if supporters holding ``total`` afford ``cost``."""
    return abs(total - cost) <= _REL_TOL * max(cost, 1e-300)


def _unit_price(cost: Num, paid: Num, rich: Num) -> Num:
    """Price per unit of utility when the classes before pay all they hold (``paid``) and the
    others (total utility ``rich``) pay that price times their utility."""
    return (cost - paid) / rich


def _caps(rho: Num, ratio: Num) -> Num:
    """Whether price ``rho`` leaves a class holding ``ratio`` per unit of utility something: the
    first such class, in order of ``ratio``, fixes the price."""
    return rho <= ratio * (1 + _CAP_SLACK)


def _left_after(held: Num, pay: Num) -> Num:
    """What a voter keeps after paying: float dust below ``_REL_TOL`` of her budget counts as 0."""
    left = held - pay
    return left * (left > _REL_TOL * held)


def _float_price(classes: list[tuple[float, float, int]] | tuple[FloatArray, FloatArray, IntArray], cost: float) -> tuple[float, bool, float]:
    """Float price per unit of utility of a project whose supporters form ``classes`` (budget per
    voter, utility, voters): inf when they cannot afford it, whether that is too close to call in
    floats, and what they hold in total. Given as three arrays (many classes) it is computed with
    NumPy, given as a list of triples (a few classes) in plain Python, cheaper than NumPy calls."""
    if isinstance(classes, tuple):
        return _float_price_arrays(*classes, cost)
    items = sorted([(b / u, b, u, n) for b, u, n in classes])
    total = 0.0
    rich = 0.0
    for _, b, u, n in items:
        total += b * n
        rich += u * n
    close = _too_close(total, cost)
    if total < cost:
        return _INF, close, total
    paid = 0.0
    rho = _INF
    for ratio, b, u, n in items:
        rho = _unit_price(cost, paid, rich)
        if _caps(rho, ratio):
            break
        paid += b * n
        rich -= u * n
    return rho, close, total


def _float_price_arrays(beta: FloatArray, u: FloatArray, counts: IntArray, cost: float) -> tuple[float, bool, float]:
    w = counts.astype(np.float64)
    total = float(np.dot(w, beta))
    close = _too_close(total, cost)
    if total < cost:
        return _INF, close, total
    ratio = beta / u
    order = np.argsort(ratio, kind="stable")
    wb, wu = (w * beta)[order], (w * u)[order]
    rho = _unit_price(cost, np.cumsum(wb) - wb, np.cumsum(wu[::-1])[::-1])
    k = int(np.argmax(_caps(rho, ratio[order])))
    return float(rho[k]), close, total


def _exact_price(classes: list[tuple[Fraction, Fraction, int]], cost: Fraction) -> Fraction | None:
    """:func:`_float_price` in exact arithmetic; None when the supporters cannot afford it."""
    if sum((b * n for b, _, n in classes), Fraction(0)) < cost:
        return None
    classes = sorted(classes, key=lambda t: t[0] / t[1])
    paid = Fraction(0)
    rich = sum((u * n for _, u, n in classes), Fraction(0))
    for b, u, n in classes:
        rho: Fraction = _unit_price(cost, paid, rich)
        if rho * u <= b:
            return rho
        paid += b * n
        rich -= u * n
    return None  # pragma: no cover - unreachable when the total suffices


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


class _Groups(Protocol):
    """Budget groups held one way or another; the pass asks them only these questions."""

    def single_utility(self, c: int) -> float | None:
        """The utility every supporter of ``c`` draws, or None when they differ."""

    def float_price(self, c: int) -> tuple[float, bool, float]:
        """:func:`_float_price` of ``c`` with the supporters' current budgets."""

    def exact_price(self, c: int) -> Fraction | None:
        """:func:`_exact_price` of ``c`` with the supporters' current budgets."""

    def exact_rho_of_round(self, r: int) -> Fraction: ...

    def moved_since(self, c: int, rounds: int) -> bool:
        """Whether a supporter of ``c`` paid since ``rounds`` rounds were funded."""

    def retire(self, c: int) -> None:
        """``c`` is funded or dropped: its supporters need no longer be tracked for it."""

    def fund(self, c: int, rho: float, exact: Fraction | None) -> MesRound:
        """Charge ``c``'s supporters ``min(budget, rho * utility)`` (``exact``: rho exactly)."""


class _ArrayGroups:
    """Budget groups over project columns (NumPy): ``gid[v]`` is voter v's group, ``beta[g]``
    its budget per voter; funding a project gives each (group, utility) class that paid a new
    group. Any utilities; prices of projects that share no supporter with the funded one stay
    fresh (``overlap``)."""

    def __init__(self, cols: Columns, b0: Fraction, overlap: npt.NDArray[np.bool_]) -> None:
        self.cols = cols
        self.overlap = overlap
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
        self.r_classes: list[tuple[IntArray, IntArray, IntArray]] = []
        self.rho_exact: dict[int, Fraction] = {}
        self.moved = np.zeros(len(cols.costs), dtype=np.int64)  # rounds funded when a supporter last paid

    def single_utility(self, c: int) -> float | None:
        values = self.cols.values_float[c]
        return float(values[0]) if len(values) == 1 else None

    def _classes(self, c: int, *, of_each: bool = False) -> tuple[IntArray, IntArray, IntArray, IntArray | None]:
        """(group, utility code, count) of the supporters of ``c``, and (``of_each``) each
        supporter's class."""
        cols = self.cols
        lo, hi = int(cols.ptr[c]), int(cols.ptr[c + 1])
        g = self.gid[cols.voters[lo:hi]]
        nvals = len(cols.values_exact[c])
        # counting by group id costs O(G): once many groups exist, sort the few present instead
        if nvals <= 1 and 4 * (hi - lo) + 256 >= self.G:
            cnt = np.bincount(g, minlength=self.G)
            groups = np.flatnonzero(cnt)
            inverse = None
            if of_each:
                slot = np.empty(self.G, dtype=np.int64)
                slot[groups] = np.arange(len(groups), dtype=np.int64)
                inverse = slot[g]
            return groups, np.zeros(len(groups), dtype=np.int64), cnt[groups], inverse
        key = g * nvals + cols.codes[lo:hi]
        if not of_each:
            uniq, counts = np.unique(key, return_counts=True)
            return uniq // nvals, uniq % nvals, counts, None
        uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        return uniq // nvals, uniq % nvals, counts, inverse

    def float_price(self, c: int) -> tuple[float, bool, float]:
        groups, codes, counts, _ = self._classes(c)
        beta, u = self.beta[groups], self.cols.values_float[c][codes]
        cost = float(self.cols.costs_float[c])
        if len(groups) >= _VECTOR_FROM:
            return _float_price((beta, u, counts), cost)
        return _float_price(list(zip(beta.tolist(), u.tolist(), counts.tolist(), strict=True)), cost)

    def exact_beta(self, g: int) -> Fraction:
        return _exact_group_budget(
            g, self.beta_exact, self.g_parent, lambda h: self.exact_rho_of_round(self.g_round[h]) * self.g_u[h]
        )

    def _exact_price_of(self, c: int, groups: IntArray, codes: IntArray, counts: IntArray) -> Fraction | None:
        vals = self.cols.values_exact[c]
        return _exact_price(
            [(self.exact_beta(g), vals[k], n) for g, k, n in zip(groups.tolist(), codes.tolist(), counts.tolist(), strict=True)],
            self.cols.costs[c],
        )

    def exact_price(self, c: int) -> Fraction | None:
        groups, codes, counts, _ = self._classes(c)
        return self._exact_price_of(c, groups, codes, counts)

    def exact_rho_of_round(self, r: int) -> Fraction:
        got = self.rho_exact.get(r)
        if got is None:
            got = self._exact_price_of(self.r_project[r], *self.r_classes[r])
            assert got is not None  # a funded project was affordable
            self.rho_exact[r] = got
        return got

    def moved_since(self, c: int, rounds: int) -> bool:
        return bool(self.moved[c] > rounds)

    def retire(self, c: int) -> None:
        pass  # the overlap table already says whom a funding concerns

    def fund(self, c: int, rho: float, exact: Fraction | None) -> MesRound:
        cols = self.cols
        sup = cols.supporters(c)
        groups, codes, counts, inverse = self._classes(c, of_each=True)
        assert inverse is not None
        r = len(self.r_project)
        if exact is not None:
            self.rho_exact[r] = exact
        self.r_project.append(c)
        self.r_classes.append((groups, codes, counts))
        old = self.beta[groups]
        pay = np.minimum(old, rho * cols.values_float[c][codes])
        k = len(groups)
        if self.G + k > len(self.beta):
            grown = np.empty(max(2 * len(self.beta), self.G + k), dtype=np.float64)
            grown[: self.G] = self.beta[: self.G]
            self.beta = grown
        self.beta[self.G : self.G + k] = _left_after(old, pay)
        self.gid[sup] = np.arange(self.G, self.G + k, dtype=np.int64)[inverse]
        self.G += k
        self.g_parent.extend(groups.tolist())
        self.g_round.extend([r] * k)
        vals = cols.values_exact[c]
        self.g_u.extend(vals[x] for x in codes.tolist())
        self.moved[self.overlap[c]] = r + 1
        summary: dict[float, int] = {}
        for amount, n in zip(pay.tolist(), counts.tolist(), strict=True):
            summary[amount] = summary.get(amount, 0) + n
        return MesRound(project=c, rho=rho, payments=sorted(summary.items(), reverse=True))


class _Ballots:
    """Approval-type ballots as plain Python values for :class:`_BitGroups`, built once per call
    (every pass reads them): supporters of each project as a bitmask, one utility per project."""

    def __init__(
        self,
        n: int,
        sizes: list[int],
        mask: list[int],
        cost_x: tuple[Fraction, ...],
        u_x: list[Fraction],
    ) -> None:
        self.n = n
        self.sizes = sizes
        self.mask = mask
        self.cost_x = cost_x
        self.cost_f: list[float] = [num / den for num, den in (c.as_integer_ratio() for c in cost_x)]
        self.u_x = u_x
        self.u_f: list[float] = [float(u) for u in u_x]

    @classmethod
    def from_columns(cls, cols: Columns) -> _Ballots:
        m = len(cols.costs)
        owner = np.repeat(np.arange(m, dtype=np.int64), np.diff(cols.ptr))
        return cls(
            cols.num_voters,
            np.diff(cols.ptr).tolist(),
            bitmasks(m, cols.num_voters, owner, cols.voters),
            cols.costs,
            [v[0] if v else Fraction(0) for v in cols.values_exact],
        )

    @classmethod
    def from_election(cls, election: Election, utility: str) -> _Ballots:
        sizes, masks = approval_bitmasks(election)
        costs = tuple(p.cost for p in election.projects)
        return cls(election.num_voters, sizes, masks, costs, list(costs) if utility == "cost" else [Fraction(1)] * len(costs))


class _BitGroups:
    """Budget groups as bitmasks over voters, for one utility per project (approval ballots):
    no NumPy call, whose fixed cost dominates on the many small elections.

    Every live project keeps how many of its supporters each group holds: funding a project
    splits only the groups that paid, so the counts are updated with one AND and popcount per
    (project, split group) instead of a pass over voters. Group 1 holds every voter with nothing
    left (exactly 0) and is never counted. Every funding may move every price."""

    def __init__(self, data: _Ballots, b0: Fraction, eligible: list[int]) -> None:
        self.d = data
        self.gmask = [(1 << data.n) - 1, 0]
        self.beta = [float(b0), 0.0]
        self.g_parent = [-1, -1]
        self.g_round = [-1, -1]
        self.beta_exact: dict[int, Fraction] = {0: b0, 1: Fraction(0)}
        self.r_project: list[int] = []
        self.r_classes: list[list[tuple[int, int]]] = []
        self.rho_exact: dict[int, Fraction] = {}
        # live project -> {group (not 1): number of its supporters in the group}
        self.counts: dict[int, dict[int, int]] = {c: {0: data.sizes[c]} for c in eligible}

    def single_utility(self, c: int) -> float | None:
        return self.d.u_f[c]

    def retire(self, c: int) -> None:
        self.counts.pop(c, None)

    def moved_since(self, c: int, rounds: int) -> bool:
        return len(self.r_project) > rounds

    def float_price(self, c: int) -> tuple[float, bool, float]:
        u, beta = self.d.u_f[c], self.beta
        return _float_price([(beta[g], u, k) for g, k in self.counts[c].items()], self.d.cost_f[c])

    def exact_beta(self, g: int) -> Fraction:
        return _exact_group_budget(
            g,
            self.beta_exact,
            self.g_parent,
            lambda h: self.exact_rho_of_round(self.g_round[h]) * self.d.u_x[self.r_project[self.g_round[h]]],
        )

    def _exact_price_of(self, c: int, classes: list[tuple[int, int]]) -> Fraction | None:
        u = self.d.u_x[c]
        return _exact_price([(self.exact_beta(g), u, k) for g, k in classes], self.d.cost_x[c])

    def exact_price(self, c: int) -> Fraction | None:
        return self._exact_price_of(c, list(self.counts[c].items()))

    def exact_rho_of_round(self, r: int) -> Fraction:
        got = self.rho_exact.get(r)
        if got is None:
            got = self._exact_price_of(self.r_project[r], self.r_classes[r])
            assert got is not None  # a funded project was affordable
            self.rho_exact[r] = got
        return got

    def fund(self, c: int, rho: float, exact: Fraction | None) -> MesRound:
        classes = list(self.counts[c].items())
        self.retire(c)
        r = len(self.r_project)
        self.r_project.append(c)
        self.r_classes.append(classes)
        if exact is not None:
            self.rho_exact[r] = exact
        q = rho * self.d.u_f[c]  # what each supporter pays unless she holds less
        beta, gmask = self.beta, self.gmask
        paying = self.d.mask[c]
        splits: list[tuple[int, int, int]] = []  # (old group, new group or 1, voters moved)
        summary: dict[float, int] = {}
        payers = 0
        for g, k in classes:
            b = beta[g]
            # whether the group pays all it holds, exactly when floats are too close to tell
            close = _too_close(b, q)
            pays_all = self.exact_beta(g) <= self.exact_rho_of_round(r) * self.d.u_x[c] if close else b < q
            pay = b if pays_all else min(b, q)
            summary[pay] = summary.get(pay, 0) + k
            payers += k
            moved = gmask[g] & paying
            gmask[g] ^= moved
            if pays_all:
                gmask[1] |= moved
                splits.append((g, 1, moved))
                continue
            splits.append((g, len(beta), moved))
            beta.append(_left_after(b, pay))
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


def _run_pass(
    state: _Groups, eligible: list[int], sizes: Sequence[int], cost_f: Sequence[float], ranks: list[int], b0: Fraction
) -> MesResult:
    """One run of MES from ``b0`` per voter over the ``eligible`` projects (supported, cost > 0)."""
    rounds: list[MesRound] = []
    selected: list[int] = []
    dropped_round: dict[int, int] = {}
    shortfall: dict[int, float] = {}
    priced_at: dict[int, int] = {}  # project -> rounds funded when its heap price was computed
    held: dict[int, float] = {}  # project -> what its supporters held then

    def evaluate(c: int) -> float | None:
        """Fresh float price, settling affordability exactly when it is too close to call."""
        rho, close, total = state.float_price(c)
        held[c] = total
        priced_at[c] = len(rounds)
        if close:
            exact = state.exact_price(c)
            return None if exact is None else float(exact)
        return None if rho == _INF else rho

    def drop(c: int) -> None:
        dropped_round[c] = len(rounds)
        shortfall[c] = cost_f[c] - held[c]
        state.retire(c)

    def reprice(entry: tuple[float, int, int]) -> None:
        c = entry[2]
        rho = evaluate(c)
        if rho is None:
            drop(c)
        else:
            heapq.heappush(heap, (rho, entry[1], c))

    heap: list[tuple[float, int, int]] = []
    per_voter = float(b0)
    for c in eligible:
        # first round: everyone still holds b0, so when all supporters draw the same utility the
        # price is cost / total utility, unless affordability is too close to call
        u = state.single_utility(c)
        total = sizes[c] * per_voter
        if u is not None and not _too_close(total, cost_f[c]):
            held[c] = total
            priced_at[c] = 0
            if total < cost_f[c]:
                drop(c)
            else:
                heap.append((cost_f[c] / (sizes[c] * u), ranks[c], c))
            continue
        rho = evaluate(c)
        if rho is None:
            drop(c)
        else:
            heap.append((rho, ranks[c], c))
    heapq.heapify(heap)

    while heap:
        top = heapq.heappop(heap)
        if state.moved_since(top[2], priced_at[top[2]]):
            reprice(top)
            continue
        # top holds the smallest fresh price; gather everything that might tie with it
        limit = top[0] * (1 + _REL_TOL)
        tied = [top]
        while heap and heap[0][0] <= limit:
            entry = heapq.heappop(heap)
            if state.moved_since(entry[2], priced_at[entry[2]]):
                reprice(entry)
            else:
                tied.append(entry)
        w, win_rho, win_exact = top[2], top[0], None
        if len(tied) > 1:
            exact: list[tuple[Fraction, int, tuple[float, int, int]]] = []
            for entry in tied:
                value = state.exact_price(entry[2])
                assert value is not None
                exact.append((value, entry[1], entry))
            exact.sort(key=lambda t: (t[0], t[1]))  # the smallest price, then the smallest id
            win_exact, _, (_, _, w) = exact[0]
            win_rho = float(win_exact)
            for t in exact[1:]:
                heapq.heappush(heap, t[2])
        selected.append(w)
        rounds.append(state.fund(w, win_rho, win_exact))
    return MesResult(
        selected=selected,
        rounds=rounds,
        dropped_round=dropped_round,
        dropped_shortfall=shortfall,
        budget_per_voter=b0,
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


def _split_eligible(total_utility: Sequence[float | Fraction], costs: Sequence[Fraction]) -> tuple[list[int], list[int]]:
    """Projects MES may fund (supporters' total utility > 0, cost > 0) and supported free ones."""
    eligible: list[int] = []
    free: list[int] = []
    for c, total in enumerate(total_utility):
        if total > 0:
            (eligible if costs[c] > 0 else free).append(c)
    return eligible, free


def eligible_projects(cols: Columns) -> tuple[list[int], list[int]]:
    """Projects MES may fund (supported, positive cost) and supported zero-cost projects."""
    m = len(cols.costs)
    owner = np.repeat(np.arange(m, dtype=np.int64), np.diff(cols.ptr))
    total: list[float] = np.bincount(owner, weights=cols.util, minlength=m).tolist()
    return _split_eligible(total, cols.costs)


def equal_shares(
    cols: Columns,
    budget: Fraction,
    ranks: IntArray,
    *,
    increment: Fraction | None = None,
    max_runs: int | None = None,
    on_pass: Callable[[int], None] | None = None,
    groups: str | None = None,
) -> MesResult:
    """MES; with ``increment`` the Add1U-style completion of pabutools/equalshares.net.

    With ``increment`` the pass is repeated with ``budget/n + k * increment`` per voter for
    k = 0, 1, ... until the outcome is exhaustive (returned) or overspends ``budget`` (the
    previous outcome is returned). ``max_runs`` bounds the number of passes (None: unbounded).
    ``groups`` ("bits" or "arrays") forces how budget groups are held (default: the faster).
    """
    n = cols.num_voters
    if n == 0:
        return MesResult([], [], {}, {}, Fraction(0))
    eligible, free = eligible_projects(cols)
    rank_list: list[int] = ranks.tolist()
    sizes: list[int] = np.diff(cols.ptr).tolist()
    cost_f: list[float] = cols.costs_float.tolist()
    if groups is None:
        one_utility = all(len(cols.values_exact[c]) <= 1 for c in eligible)
        groups = "bits" if one_utility and bitmasks_pay_off("equal-shares", len(cols.voters), len(cols.costs)) else "arrays"
    if groups == "bits":
        data = _Ballots.from_columns(cols)

        def new_groups(b0: Fraction) -> _Groups:
            return _BitGroups(data, b0, eligible)

    else:
        overlap = _overlap(cols, eligible)

        def new_groups(b0: Fraction) -> _Groups:
            return _ArrayGroups(cols, b0, overlap)

    def run_pass(b0: Fraction) -> MesResult:
        return _run_pass(new_groups(b0), eligible, sizes, cost_f, rank_list, b0)

    return _complete(run_pass, budget / n, free, eligible, cols.costs, budget, rank_list, increment, max_runs, on_pass)


def equal_shares_of(
    election: Election,
    utility: str,
    *,
    increment: Fraction | None = None,
    on_pass: Callable[[int], None] | None = None,
) -> MesResult:
    """:func:`equal_shares` of ``election`` with ``utility`` "cost" or "approval" (points for
    cumulative ballots). Small approval profiles go to bitmask groups straight from the
    voter-major ballots, without building the project columns."""
    approval = election.vote_type in ("approval", "choose-1") and election.exact_points is None
    small = bitmasks_pay_off("equal-shares", len(election.indices), election.num_projects)
    if not (approval and small) or election.num_voters == 0:
        cols = project_columns(election, "cost" if utility == "cost" else "approval")
        return equal_shares(cols, election.budget, election.name_ranks(), increment=increment, on_pass=on_pass)
    data = _Ballots.from_election(election, utility)
    ranks = election.name_rank_list()
    eligible, free = _split_eligible([k * u for k, u in zip(data.sizes, data.u_x, strict=True)], data.cost_x)

    def run_pass(b0: Fraction) -> MesResult:
        return _run_pass(_BitGroups(data, b0, eligible), eligible, data.sizes, data.cost_f, ranks, b0)

    b = election.budget / election.num_voters
    return _complete(run_pass, b, free, eligible, data.cost_x, election.budget, ranks, increment, None, on_pass)


def _complete(
    run_pass: Callable[[Fraction], MesResult],
    b: Fraction,
    free: list[int],
    eligible: list[int],
    costs: tuple[Fraction, ...],
    budget: Fraction,
    ranks: list[int],
    increment: Fraction | None,
    max_runs: int | None,
    on_pass: Callable[[int], None] | None,
) -> MesResult:
    """The first pass, then (with ``increment``) the Add1U passes of :func:`equal_shares`.
    Supported free projects come first, by id."""
    free = sorted(free, key=ranks.__getitem__)
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
