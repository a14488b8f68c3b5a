"""Plain data for participatory-budgeting elections and their outcomes.

An :class:`Election` is one Pabulib-style instance: the META key/values, the projects with exact
costs, and the ballots stored column-wise in CSR form (``indptr``/``indices``/``points``) so the
rules can work on NumPy arrays without per-voter Python objects. Building the CSR arrays is
O(total ballot length); every accessor here is O(1) or O(total ballot length).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt

VoteType = Literal["approval", "choose-1", "cumulative", "scoring", "ordinal"]
VOTE_TYPES: tuple[str, ...] = ("approval", "choose-1", "cumulative", "scoring", "ordinal")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Project:
    """One project: its id as written in the file, its exact cost and its other columns."""

    project_id: str
    cost: Fraction
    fields: tuple[tuple[str, str], ...] = ()
    categories: frozenset[str] = frozenset()
    targets: frozenset[str] = frozenset()
    selected: int | None = None

    def field(self, key: str, default: str = "") -> str:
        for k, v in self.fields:
            if k == key:
                return v
        return default


@dataclass(frozen=True, eq=False)
class Election:
    """An instance and its profile. ``points`` is 1.0 for approval ballots.

    For ordinal ballots the entries of a voter keep the voter's ranking order and ``points``
    holds the column ``points`` when the file has one, else the positional score
    ``length - position`` (first choice gets ``length``).
    """

    meta: tuple[tuple[str, str], ...]
    projects: tuple[Project, ...]
    budget: Fraction
    vote_type: str
    voter_ids: tuple[str, ...]
    indptr: IntArray
    indices: IntArray
    points: FloatArray
    project_header: tuple[str, ...] = ("project_id", "cost")
    voter_header: tuple[str, ...] = ("voter_id", "vote")
    voter_fields: tuple[tuple[str, ...], ...] = ()
    has_points_column: bool = False
    exact_points: tuple[Fraction, ...] | None = field(default=None)

    @property
    def num_voters(self) -> int:
        return len(self.voter_ids)

    @property
    def num_projects(self) -> int:
        return len(self.projects)

    def meta_value(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.meta:
            if k == key:
                return v
        return default

    def ballot(self, voter: int) -> tuple[tuple[int, float], ...]:
        """Project indices and points of one voter, in file order."""
        lo, hi = int(self.indptr[voter]), int(self.indptr[voter + 1])
        return tuple((int(p), float(x)) for p, x in zip(self.indices[lo:hi], self.points[lo:hi], strict=True))

    def voter_of_entry(self) -> IntArray:
        """For every CSR entry, the index of its voter."""
        counts = np.diff(self.indptr)
        return np.repeat(np.arange(self.num_voters, dtype=np.int64), counts)

    def approval_counts(self) -> IntArray:
        """Number of voters who put each project on their ballot."""
        return np.bincount(self.indices, minlength=self.num_projects).astype(np.int64)

    def point_totals(self) -> FloatArray:
        """Sum of points per project (equals approval counts for approval ballots)."""
        totals: FloatArray = np.bincount(self.indices, weights=self.points, minlength=self.num_projects).astype(
            np.float64
        )
        return totals

    def index_of(self, project_id: str) -> int:
        for i, p in enumerate(self.projects):
            if p.project_id == project_id:
                return i
        raise KeyError(project_id)

    def name_ranks(self) -> IntArray:
        """Rank of each project when ids are compared as strings (pabutools' lexicographic order)."""
        return np.asarray(self.name_rank_list(), dtype=np.int64)

    def name_rank_list(self) -> list[int]:
        """:meth:`name_ranks` as a list (for the rules that work in plain Python)."""
        ids = [p.project_id for p in self.projects]
        ranks = [0] * len(ids)
        for rank, i in enumerate(sorted(range(len(ids)), key=ids.__getitem__)):
            ranks[i] = rank
        return ranks


@dataclass(frozen=True)
class ProjectExplanation:
    """Why one project was or was not funded, in plain values."""

    project_id: str
    funded: bool
    reason: str
    round: int | None = None
    payments: tuple[tuple[str, float], ...] = ()
    shortfall: float | None = None
    details: tuple[tuple[str, float | int | str], ...] = ()

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "funded": self.funded,
            "reason": self.reason,
        }
        if self.round is not None:
            out["round"] = self.round
        if self.payments:
            out["payments"] = dict(self.payments)
        if self.shortfall is not None:
            out["shortfall"] = self.shortfall
        for k, v in self.details:
            out[k] = v
        return out


@dataclass(frozen=True)
class Outcome:
    """The projects a rule funds, in the order it funded them, with one explanation each."""

    rule: str
    selected: tuple[int, ...]
    project_ids: tuple[str, ...]
    explanations: tuple[ProjectExplanation, ...] = ()

    @property
    def selected_ids(self) -> tuple[str, ...]:
        return tuple(self.project_ids[i] for i in self.selected)


def election_from_ballots(
    costs: list[Fraction] | list[int],
    budget: Fraction | int,
    ballots: list[list[int]] | list[dict[int, Fraction]],
    *,
    vote_type: str = "approval",
    project_ids: list[str] | None = None,
) -> Election:
    """Build an election from plain lists (approval: lists of project indices; otherwise
    dicts project index -> points, in the voter's order)."""
    m = len(costs)
    ids = project_ids if project_ids is not None else [str(i) for i in range(m)]
    projects = tuple(Project(project_id=ids[i], cost=Fraction(costs[i])) for i in range(m))
    indptr = [0]
    indices: list[int] = []
    exact: list[Fraction] = []
    for ballot in ballots:
        if isinstance(ballot, dict):
            for p, x in ballot.items():
                indices.append(int(p))
                exact.append(Fraction(x))
        else:
            for p in dict.fromkeys(ballot):
                indices.append(int(p))
                exact.append(Fraction(1))
        indptr.append(len(indices))
    integral = all(x.denominator == 1 for x in exact)
    return Election(
        meta=(("budget", str(Fraction(budget))), ("vote_type", vote_type)),
        projects=projects,
        budget=Fraction(budget),
        vote_type=vote_type,
        voter_ids=tuple(str(v) for v in range(len(ballots))),
        indptr=np.asarray(indptr, dtype=np.int64),
        indices=np.asarray(indices, dtype=np.int64),
        points=np.asarray([float(x) for x in exact], dtype=np.float64),
        voter_fields=tuple(() for _ in ballots),
        has_points_column=vote_type in ("cumulative", "scoring"),
        exact_points=None if integral else tuple(exact),
    )
