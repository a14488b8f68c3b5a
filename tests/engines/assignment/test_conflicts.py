from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencall.engines.assignment import conflict_mask, shared_id_conflicts


def test_every_rule_contributes_to_the_mask() -> None:
    mask = conflict_mask(
        3,
        2,
        judge_orgs=[{"acme"}, {"globex"}, set()],
        idea_orgs=[{"globex", "initech"}, {"acme"}],
        judge_people=[{101}, {102}, {103, 201}],
        idea_members=[{201}, {202}],
        declared=[(1, 1)],
    )
    assert mask.tolist() == [[False, True], [True, True], [True, False]]


def test_no_information_means_no_conflict() -> None:
    assert conflict_mask(2, 3).tolist() == [[False] * 3] * 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"judge_orgs": [set(), set()]}, "give both"),
        ({"judge_orgs": [set()], "idea_orgs": [set(), set()]}, "expected 2 judge sets"),
        ({"declared": [(2, 0)]}, "out of range"),
    ],
)
def test_bad_input_is_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        conflict_mask(2, 2, **kwargs)  # type: ignore[arg-type]


@given(
    st.lists(st.frozensets(st.integers(0, 6), max_size=3), max_size=6),
    st.lists(st.frozensets(st.integers(0, 6), max_size=3), max_size=6),
)
def test_shared_ids_match_set_intersection(judges: list[frozenset[int]], ideas: list[frozenset[int]]) -> None:
    mask = shared_id_conflicts(judges, ideas)
    expected = np.array([[bool(j & i) for i in ideas] for j in judges], dtype=bool)
    assert mask.shape == (len(judges), len(ideas))
    assert np.array_equal(mask, expected.reshape(len(judges), len(ideas)))
