"""Rule registry: one name per rule, each mapping an :class:`Election` to an :class:`Outcome`.

Names (as the CLI and the platform use them):

``greedy``             greedy by votes (points for cumulative/ordinal ballots), skipping misfits
``greedy-cost``        greedy by votes per unit of cost
``greedy-threshold``   greedy by votes over projects reaching META ``min_project_score_threshold``
``greedy-no-skip``     greedy by votes, stopping at the first project that does not fit
``mes``                Equal Shares, cost utilities, Add1U completion (equalshares.net; reproduces
                       the real outcomes of Assen 2024 and Świecie 2023)
``mes-add1u``          the same as ``mes``, by its explicit name
``mes-add1u-greedy``   ``mes``, then any budget left filled greedily by votes
``mes-greedy``         Equal Shares, cost utilities, completed greedily by votes
``mes-cost``           Equal Shares, cost utilities, no completion
``mes-approval``       Equal Shares, approval utilities (points for cumulative), no completion
``mes-approval-greedy`` Equal Shares, approval utilities, completed greedily by votes per cost
``phragmen``           sequential Phragmén (approval ballots)
``maximin-support``    maximin support (approval ballots)

Each module named below documents its method, source and complexity.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import partial

import numpy as np

from opencall.engines.budgeting import explain as explaining
from opencall.engines.budgeting.columns import project_columns
from opencall.engines.budgeting.model import Election, Outcome, ProjectExplanation
from opencall.engines.budgeting.rules.equal_shares import equal_shares_of
from opencall.engines.budgeting.rules.greedy import greedy
from opencall.engines.budgeting.rules.maximin import maximin_support
from opencall.engines.budgeting.rules.phragmen import phragmen_of

APPROVAL_TYPES = ("approval", "choose-1")
Progress = Callable[[int], None]


class RuleError(ValueError):
    """The rule cannot run on this election (for example Phragmén on cumulative ballots)."""


def exact_scores(election: Election) -> tuple[list[float], list[Fraction] | list[int]]:
    """Votes (approval) or points per project, as floats and exactly (ints when the points are
    whole numbers, which they are unless the election carries ``exact_points``)."""
    m = election.num_projects
    if election.exact_points is not None:
        totals = [Fraction(0)] * m
        for idx, pts in zip(election.indices.tolist(), election.exact_points, strict=True):
            totals[idx] += pts
        return [float(x) for x in totals], totals
    if election.vote_type in APPROVAL_TYPES:
        counts: list[int] = np.bincount(election.indices, minlength=m).tolist()
        return [float(x) for x in counts], counts
    floats: list[float] = election.point_totals().tolist()
    return floats, [round(x) for x in floats]


def _greedy_rule(
    election: Election,
    *,
    per_cost: bool,
    skip: bool = True,
    threshold: bool = False,
    explain_it: bool = True,
    progress: Progress | None = None,
) -> tuple[list[int], dict[int, ProjectExplanation]]:
    scores, exact = exact_scores(election)
    limit: float | None = None
    if threshold:
        raw = election.meta_value("min_project_score_threshold")
        if raw is None or not raw.strip():
            raise RuleError("greedy-threshold needs META min_project_score_threshold")
        try:
            limit = float(raw.replace(",", "."))
        except ValueError:
            raise RuleError(f"min_project_score_threshold {raw!r} is not a number") from None
    costs = tuple(p.cost for p in election.projects)
    selected, steps = greedy(
        scores,
        costs,
        election.budget,
        election.name_rank_list(),
        per_cost=per_cost,
        skip=skip,
        threshold=limit,
        exact_scores=exact,
        record=explain_it,
    )
    if not explain_it:
        return selected, {}
    return selected, explaining.explain_greedy(election, steps, per_cost=per_cost)


def _mes_rule(
    election: Election,
    *,
    utility: str,
    add1u: bool,
    fill: str | None,
    explain_it: bool = True,
    progress: Progress | None = None,
) -> tuple[list[int], dict[int, ProjectExplanation]]:
    increment = Fraction(1) if add1u else None
    result = equal_shares_of(election, utility, increment=increment, on_pass=progress)
    notes = explaining.explain_mes(election, result, utility) if explain_it else {}
    selected = list(result.selected)
    if fill is not None:
        scores, exact = exact_scores(election)
        costs = tuple(p.cost for p in election.projects)
        selected, steps = greedy(
            scores,
            costs,
            election.budget,
            election.name_rank_list(),
            per_cost=(fill == "votes-per-cost"),
            initial=tuple(selected),
            exact_scores=exact,
            record=explain_it,
        )
        if not explain_it:
            return selected, {}
        greedy_notes = explaining.explain_greedy(
            election, steps, per_cost=(fill == "votes-per-cost"), phase="greedy-completion"
        )
        for c, note in greedy_notes.items():
            if note.funded or c not in notes:
                notes[c] = note
            else:
                notes[c] = ProjectExplanation(
                    project_id=note.project_id,
                    funded=False,
                    reason=notes[c].reason + "; then in the greedy completion: " + note.reason,
                    round=notes[c].round,
                    shortfall=notes[c].shortfall,
                    details=notes[c].details + note.details,
                )
    return selected, notes


def _require_approval(election: Election, rule: str) -> None:
    if election.vote_type not in APPROVAL_TYPES:
        raise RuleError(f"{rule} needs approval ballots, this election has {election.vote_type}")


def _phragmen_rule(
    election: Election, *, explain_it: bool = True, progress: Progress | None = None
) -> tuple[list[int], dict[int, ProjectExplanation]]:
    _require_approval(election, "phragmen")
    result = phragmen_of(election)
    if not explain_it:
        return list(result.selected), {}
    return list(result.selected), explaining.explain_phragmen(election, result)


def _maximin_rule(
    election: Election, *, explain_it: bool = True, progress: Progress | None = None
) -> tuple[list[int], dict[int, ProjectExplanation]]:
    _require_approval(election, "maximin-support")
    cols = project_columns(election, "approval")
    selected, supports = maximin_support(cols, election.budget, election.name_ranks())
    notes = {
        c: ProjectExplanation(
            project_id=election.projects[c].project_id,
            funded=True,
            reason=f"funded in round {r} of maximin support (max load {supports[r - 1]:.6g})",
            round=r,
            details=(("phase", "maximin-support"), ("max_load", supports[r - 1])),
        )
        for r, c in enumerate(selected, start=1)
    }
    return selected, notes


RuleFn = Callable[..., tuple[list[int], dict[int, ProjectExplanation]]]

RULES: dict[str, RuleFn] = {
    "greedy": partial(_greedy_rule, per_cost=False),
    "greedy-cost": partial(_greedy_rule, per_cost=True),
    "greedy-threshold": partial(_greedy_rule, per_cost=False, threshold=True),
    "greedy-no-skip": partial(_greedy_rule, per_cost=False, skip=False),
    "mes": partial(_mes_rule, utility="cost", add1u=True, fill=None),
    "mes-add1u": partial(_mes_rule, utility="cost", add1u=True, fill=None),
    "mes-add1u-greedy": partial(_mes_rule, utility="cost", add1u=True, fill="votes"),
    "mes-greedy": partial(_mes_rule, utility="cost", add1u=False, fill="votes"),
    "mes-cost": partial(_mes_rule, utility="cost", add1u=False, fill=None),
    "mes-approval": partial(_mes_rule, utility="approval", add1u=False, fill=None),
    "mes-approval-greedy": partial(_mes_rule, utility="approval", add1u=False, fill="votes-per-cost"),
    "phragmen": _phragmen_rule,
    "maximin-support": _maximin_rule,
}


def run_rule(election: Election, rule: str, *, progress: Progress | None = None, explain: bool = True) -> Outcome:
    """Run ``rule`` (a key of :data:`RULES`) and explain every project.

    ``progress`` is called with the number of passes done by rules that iterate (Add1U);
    ``explain=False`` skips the explanations (``explanations`` is then empty), for recounts.
    """
    fn = RULES.get(rule)
    if fn is None:
        raise RuleError(f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")
    selected, notes = fn(election, explain_it=explain, progress=progress)
    if not explain:
        return Outcome(rule=rule, selected=tuple(selected), project_ids=tuple(p.project_id for p in election.projects))
    return Outcome(
        rule=rule,
        selected=tuple(selected),
        project_ids=tuple(p.project_id for p in election.projects),
        explanations=explaining.fill_missing(
            election, notes, "never eligible: nobody supported it or it costs more than the budget"
        ),
    )
