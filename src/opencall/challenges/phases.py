"""The one place that knows phase names, their order and what each phase allows.

Every permission that depends on time asks `allows(phase, action)`; pages ask `facts(phase)`; API
shapes take their names from `ORDER` and `LIFECYCLE`. Nothing else names a phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class PhaseKind(StrEnum):
    DRAFT = "draft"  # the challenge is being prepared and is not yet open
    SUBMISSION = "submission"
    COMMUNITY = "community"
    REVIEW = "review"
    FUNDING = "funding"
    RESULTS = "results"
    TRACKING = "tracking"
    CLOSED = "closed"


class Action(StrEnum):
    SUBMIT = "submit"  # create and submit new ideas
    EDIT = "edit"  # teams edit submitted ideas
    COMMENT = "comment"
    VOTE = "vote"  # likes and crowd votes
    REVIEW = "review"
    FUND = "fund"  # budget ballots


ORDER: tuple[PhaseKind, ...] = (
    PhaseKind.SUBMISSION,
    PhaseKind.COMMUNITY,
    PhaseKind.REVIEW,
    PhaseKind.FUNDING,
    PhaseKind.RESULTS,
    PhaseKind.TRACKING,
)

# Every phase a challenge passes through, first to last: the planned ones between "not yet open"
# and "closed".
LIFECYCLE: tuple[PhaseKind, ...] = (PhaseKind.DRAFT, *ORDER, PhaseKind.CLOSED)

# The plan a challenge gets when its organiser gives none.
DEFAULT_PLAN: tuple[PhaseKind, ...] = (PhaseKind.SUBMISSION, PhaseKind.COMMUNITY, PhaseKind.REVIEW, PhaseKind.RESULTS)

# Phases whose pages point to the published funding results.
_SHOWS_RESULTS = frozenset({PhaseKind.RESULTS, PhaseKind.TRACKING})

LABELS = {
    PhaseKind.DRAFT: _("Not yet open"),
    PhaseKind.SUBMISSION: _("Submission"),
    PhaseKind.COMMUNITY: _("Community"),
    PhaseKind.REVIEW: _("Review"),
    PhaseKind.FUNDING: _("Funding"),
    PhaseKind.RESULTS: _("Results"),
    PhaseKind.TRACKING: _("Tracking"),
    PhaseKind.CLOSED: _("Closed"),
}

_ALLOWED: dict[PhaseKind, frozenset[Action]] = {
    PhaseKind.DRAFT: frozenset(),
    PhaseKind.SUBMISSION: frozenset({Action.SUBMIT, Action.EDIT, Action.COMMENT}),
    PhaseKind.COMMUNITY: frozenset({Action.EDIT, Action.COMMENT, Action.VOTE}),
    PhaseKind.REVIEW: frozenset({Action.COMMENT, Action.REVIEW}),
    PhaseKind.FUNDING: frozenset({Action.COMMENT, Action.FUND}),
    PhaseKind.RESULTS: frozenset({Action.COMMENT}),
    PhaseKind.TRACKING: frozenset({Action.COMMENT}),
    PhaseKind.CLOSED: frozenset(),
}


def allows(phase: str, action: Action) -> bool:
    return action in _ALLOWED[PhaseKind(phase)]


def allowed_actions(phase: str) -> frozenset[Action]:
    return _ALLOWED[PhaseKind(phase)]


StepState = Literal["done", "current", "upcoming"]


def step_state(kind: str, current: str) -> StepState:
    """Where a planned phase stands on a challenge's timeline while `current` is the phase."""
    here, there = LIFECYCLE.index(PhaseKind(kind)), LIFECYCLE.index(PhaseKind(current))
    if here == there:
        return "current"
    return "done" if here < there else "upcoming"


@dataclass(frozen=True)
class PhaseFacts:
    """What pages show about a phase, so that no template compares phase names."""

    kind: PhaseKind
    not_yet_open: bool  # being prepared, visible to its organisers only
    closed: bool
    accepts_ideas: bool
    crowd_votes: bool  # likes, crowd votes and pairwise comparisons
    budget_ballots: bool
    shows_results: bool  # the published funding results are the news


def facts(phase: str) -> PhaseFacts:
    kind = PhaseKind(phase)
    allowed = _ALLOWED[kind]
    return PhaseFacts(
        kind=kind,
        not_yet_open=kind == PhaseKind.DRAFT,
        closed=kind == PhaseKind.CLOSED,
        accepts_ideas=Action.SUBMIT in allowed,
        crowd_votes=Action.VOTE in allowed,
        budget_ballots=Action.FUND in allowed,
        shows_results=kind in _SHOWS_RESULTS,
    )


def next_phase(current: str, plan: list[str]) -> PhaseKind:
    """The phase after `current` in a plan (a subsequence of ORDER); CLOSED after the last."""
    kinds = [PhaseKind(p) for p in plan]
    if current == PhaseKind.DRAFT:
        return kinds[0] if kinds else PhaseKind.CLOSED
    if current == PhaseKind.CLOSED:
        return PhaseKind.CLOSED
    cur = PhaseKind(current)
    later = [k for k in kinds if ORDER.index(k) > ORDER.index(cur)]
    return later[0] if later else PhaseKind.CLOSED


def validate_plan(plan: Sequence[str]) -> list[str]:
    """Errors in a plan: unknown kinds, repeats, or out of order."""
    errors: list[str] = []
    seen: list[PhaseKind] = []
    for p in plan:
        try:
            kind = PhaseKind(p)
        except ValueError:
            errors.append(gettext("Unknown phase %(phase)r.") % {"phase": str(p)})
            continue
        if kind not in ORDER:
            errors.append(gettext("%(phase)r cannot be planned.") % {"phase": str(p)})
        elif kind in seen:
            errors.append(gettext("Phase %(phase)r appears twice.") % {"phase": str(p)})
        elif seen and ORDER.index(kind) < ORDER.index(seen[-1]):
            errors.append(gettext("Phase %(phase)r is out of order.") % {"phase": str(p)})
        else:
            seen.append(kind)
    if not seen:
        errors.append(gettext("A plan needs at least one phase."))
    return errors
