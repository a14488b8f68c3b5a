"""Conflict-of-interest masks for judge assignment, built from plain id sets.

Method: a judge j and an idea i conflict when any rule holds: they share an organisation, the
judge is on (or is a declared co-member/collaborator of someone on) the idea's team, or the
pair was declared. Each "shares an id" rule is a sparse incidence product: with J (judges x
ids) and I (ideas x ids) 0/1 matrices, the conflicting pairs are the non-zeros of J @ I.T.
This is the usual conflict model of conference matchers (e.g. OpenReview's "domain" and
co-authorship conflicts); here ids are opaque hashables chosen by the caller.

Complexity: O(total ids + number of conflicting pairs) with sparse products, plus the
n_judges x n_ideas boolean output.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

BoolArray = NDArray[np.bool_]


def _incidence(sets: Sequence[Collection[Hashable]], index: dict[Hashable, int]) -> sparse.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    for row, members in enumerate(sets):
        for item in members:
            rows.append(row)
            cols.append(index.setdefault(item, len(index)))
    data = np.ones(len(rows), dtype=np.int64)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(sets), max(len(index), 1)))


def shared_id_conflicts(
    judge_ids: Sequence[Collection[Hashable]], idea_ids: Sequence[Collection[Hashable]]
) -> BoolArray:
    """True at ``[j, i]`` when judge j's id set and idea i's id set intersect."""
    index: dict[Hashable, int] = {}
    judges = _incidence(judge_ids, index)
    ideas = _incidence(idea_ids, index)
    width = max(len(index), 1)
    judges.resize((len(judge_ids), width))
    ideas.resize((len(idea_ids), width))
    overlap = (judges @ ideas.T).tocoo()
    mask = np.zeros((len(judge_ids), len(idea_ids)), dtype=np.bool_)
    mask[overlap.row, overlap.col] = overlap.data > 0
    return mask


def conflict_mask(
    n_judges: int,
    n_ideas: int,
    *,
    judge_orgs: Sequence[Collection[Hashable]] | None = None,
    idea_orgs: Sequence[Collection[Hashable]] | None = None,
    judge_people: Sequence[Collection[Hashable]] | None = None,
    idea_members: Sequence[Collection[Hashable]] | None = None,
    declared: Iterable[tuple[int, int]] = (),
) -> BoolArray:
    """The combined boolean conflict mask (judges x ideas) used by the assignment.

    - ``judge_orgs[j]`` / ``idea_orgs[i]``: organisation ids of the judge and of the idea's
      team (its members' organisations, the submitting organisation): shared org -> conflict.
    - ``judge_people[j]``: person ids the judge must not review: the judge's own id plus the
      co-members/collaborators they are tied to; ``idea_members[i]``: the idea's team member
      ids. Any overlap -> conflict (own team, or a team with a co-member).
    - ``declared``: explicit ``(judge, idea)`` conflicts (declared by either side).
    """
    mask = np.zeros((n_judges, n_ideas), dtype=np.bool_)
    for left, right, what in (
        (judge_orgs, idea_orgs, "organisations"),
        (judge_people, idea_members, "people"),
    ):
        if (left is None) != (right is None):
            raise ValueError(f"give both the judges' and the ideas' {what}, or neither")
        if left is None or right is None:
            continue
        if len(left) != n_judges or len(right) != n_ideas:
            raise ValueError(
                f"{what}: expected {n_judges} judge sets and {n_ideas} idea sets, got {len(left)} and {len(right)}"
            )
        mask |= shared_id_conflicts(left, right)
    for judge, idea in declared:
        if not (0 <= judge < n_judges and 0 <= idea < n_ideas):
            raise ValueError(f"declared conflict ({judge}, {idea}) is out of range")
        mask[judge, idea] = True
    return mask
