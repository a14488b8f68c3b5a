"""Phases as data: the one module that names phases, and the pages and shapes that ask it."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from opencall.challenges import phases, schemas
from opencall.challenges.phases import LIFECYCLE, ORDER, PhaseKind, facts, step_state

SRC = Path(phases.__file__).resolve().parents[1]


def test_lifecycle_is_the_plan_between_not_yet_open_and_closed():
    assert list(LIFECYCLE) == [PhaseKind.DRAFT, *ORDER, PhaseKind.CLOSED]
    assert set(LIFECYCLE) == set(PhaseKind)


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (PhaseKind.DRAFT, ["upcoming", "upcoming", "upcoming"]),
        (PhaseKind.SUBMISSION, ["current", "upcoming", "upcoming"]),
        # an unplanned phase still has its place in the order
        (PhaseKind.REVIEW, ["done", "upcoming", "upcoming"]),
        (PhaseKind.FUNDING, ["done", "current", "upcoming"]),
        (PhaseKind.TRACKING, ["done", "done", "current"]),
        (PhaseKind.CLOSED, ["done", "done", "done"]),
    ],
)
def test_step_state_places_each_planned_phase_on_the_timeline(current, expected):
    plan = [PhaseKind.SUBMISSION, PhaseKind.FUNDING, PhaseKind.TRACKING]
    assert [step_state(kind, current) for kind in plan] == expected


def test_facts_of_every_phase():
    table = {
        kind: (f.not_yet_open, f.closed, f.accepts_ideas, f.crowd_votes, f.budget_ballots, f.shows_results)
        for kind in PhaseKind
        for f in [facts(kind)]
    }
    assert table == {
        PhaseKind.DRAFT: (True, False, False, False, False, False),
        PhaseKind.SUBMISSION: (False, False, True, False, False, False),
        PhaseKind.COMMUNITY: (False, False, False, True, False, False),
        PhaseKind.REVIEW: (False, False, False, False, False, False),
        PhaseKind.FUNDING: (False, False, False, False, True, False),
        PhaseKind.RESULTS: (False, False, False, False, False, True),
        PhaseKind.TRACKING: (False, False, False, False, False, True),
        PhaseKind.CLOSED: (False, True, False, False, False, False),
    }


def test_api_phase_names_come_from_the_phase_module():
    assert typing.get_args(schemas.PhaseName) == tuple(k.value for k in ORDER)
    assert typing.get_args(schemas.CurrentPhaseName) == tuple(k.value for k in LIFECYCLE)


def test_no_template_compares_a_phase_with_a_name():
    """Templates ask `phase.<fact>` (phases.facts) instead of naming phases."""
    compare = re.compile(r"\bphase\s*(==|!=|in)\s*[\"']")
    offenders = [
        f"{path.relative_to(SRC)}:{n}"
        for path in sorted(SRC.rglob("*.html"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if compare.search(line)
    ]
    assert offenders == []
