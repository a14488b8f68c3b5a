"""The one place that knows phase order and what each phase allows.

Every permission that depends on time asks `allows(phase, action)`; nothing else decides it.
"""

from __future__ import annotations

from enum import StrEnum

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


def validate_plan(plan: list[str]) -> list[str]:
    """Errors in a plan: unknown kinds, repeats, or out of order."""
    errors: list[str] = []
    seen: list[PhaseKind] = []
    for p in plan:
        try:
            kind = PhaseKind(p)
        except ValueError:
            errors.append(f"Unknown phase {p!r}.")
            continue
        if kind not in ORDER:
            errors.append(f"{p!r} cannot be planned.")
        elif kind in seen:
            errors.append(f"Phase {p!r} appears twice.")
        elif seen and ORDER.index(kind) < ORDER.index(seen[-1]):
            errors.append(f"Phase {p!r} is out of order.")
        else:
            seen.append(kind)
    if not seen:
        errors.append("A plan needs at least one phase.")
    return errors
