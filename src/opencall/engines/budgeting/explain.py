"""Per-project explanations of an outcome, in plain values.

For every project the rule considered: funded or not and why -- for greedy rules its score, its
place in the order and the budget left when its turn came; for Equal Shares the round it was
funded in, the price per unit of utility and how much its supporters paid (grouped by amount), or
the round in which its supporters could no longer afford it and by how much they fell short; for
Phragmén the load it put on its supporters. Linear in the number of projects plus payment groups.
"""

from __future__ import annotations

from fractions import Fraction

from opencall.engines.budgeting.model import Election, ProjectExplanation
from opencall.engines.budgeting.rules.equal_shares import MesResult
from opencall.engines.budgeting.rules.greedy import GreedyStep
from opencall.engines.budgeting.rules.phragmen import PhragmenResult


def _money(x: Fraction | float) -> float:
    return round(float(x), 6)


def explain_greedy(
    election: Election, steps: list[GreedyStep], *, per_cost: bool, phase: str = "greedy"
) -> dict[int, ProjectExplanation]:
    out: dict[int, ProjectExplanation] = {}
    unit = "votes per unit of cost" if per_cost else "votes"
    for place, step in enumerate(steps, start=1):
        p = election.projects[step.project]
        common: tuple[tuple[str, float | int | str], ...] = (
            ("phase", phase),
            ("score", step.score),
            ("place", place),
            ("budget_left", _money(step.remaining_before)),
            ("cost", _money(p.cost)),
        )
        if step.why == "funded":
            reason = f"funded in greedy order ({place}. by {unit}); it fit the budget left"
        elif step.why == "does-not-fit":
            reason = (
                f"did not fit: cost {_money(p.cost)} exceeded the {_money(step.remaining_before)} "
                f"left when its turn came ({place}. by {unit})"
            )
        elif step.why == "below-threshold":
            reason = f"score {step.score:g} is below the minimum score threshold"
        else:
            reason = "not reached: the rule stops at the first project that does not fit"
        out[step.project] = ProjectExplanation(
            project_id=p.project_id,
            funded=step.funded,
            reason=reason,
            shortfall=(_money(p.cost - step.remaining_before) if step.why == "does-not-fit" else None),
            details=common,
        )
    return out


def explain_mes(election: Election, result: MesResult, utility: str) -> dict[int, ProjectExplanation]:
    out: dict[int, ProjectExplanation] = {}
    per_voter = _money(result.budget_per_voter)
    for r, rnd in enumerate(result.rounds, start=1):
        p = election.projects[rnd.project]
        payers = sum(k for _, k in rnd.payments)
        parts = ", ".join(f"{k} paid {_money(a)}" for a, k in rnd.payments[:6])
        if len(rnd.payments) > 6:
            parts += f", and {len(rnd.payments) - 6} more groups"
        out[rnd.project] = ProjectExplanation(
            project_id=p.project_id,
            funded=True,
            reason=(f"funded in round {r} of Equal Shares: its {payers} supporters shared the cost ({parts})"),
            round=r,
            payments=_payment_groups(rnd.payments),
            details=(
                ("phase", "equal-shares"),
                ("rho", float(rnd.rho)),
                ("utility", utility),
                ("budget_per_voter", per_voter),
                ("supporters", payers),
            ),
        )
    for c, r in result.dropped_round.items():
        p = election.projects[c]
        short = result.dropped_shortfall.get(c, 0.0)
        out[c] = ProjectExplanation(
            project_id=p.project_id,
            funded=False,
            reason=(
                f"lost in round {r + 1} of Equal Shares: its supporters had "
                f"{_money(float(p.cost) - short)} left, {_money(short)} short of its cost "
                f"{_money(p.cost)}"
            ),
            round=r + 1,
            shortfall=_money(short),
            details=(("phase", "equal-shares"), ("budget_per_voter", per_voter)),
        )
    return out


def _payment_groups(payments: list[tuple[float, int]]) -> tuple[tuple[str, float], ...]:
    """(label, amount per voter) for each distinct rounded amount, largest first.

    The label names the number of voters and the amount, so two groups of the same size that
    paid different amounts stay apart when the pairs become a dict."""
    merged: dict[float, int] = {}
    for amount, count in payments:
        key = _money(amount)
        merged[key] = merged.get(key, 0) + count
    return tuple(
        (f"{count} {'voter' if count == 1 else 'voters'} paid {amount:g}", amount)
        for amount, count in sorted(merged.items(), reverse=True)
    )


def explain_phragmen(election: Election, result: PhragmenResult) -> dict[int, ProjectExplanation]:
    out: dict[int, ProjectExplanation] = {}
    for r, c in enumerate(result.selected, start=1):
        load = result.loads[r - 1] if r - 1 < len(result.loads) else 0.0
        out[c] = ProjectExplanation(
            project_id=election.projects[c].project_id,
            funded=True,
            reason=f"funded in round {r} of sequential Phragmén; its supporters' load rose to {float(load):.6g}",
            round=r,
            details=(("phase", "phragmen"), ("load", float(load))),
        )
    if result.stopped_by is not None:
        c = result.stopped_by
        p = election.projects[c]
        out[c] = ProjectExplanation(
            project_id=p.project_id,
            funded=False,
            reason=(
                f"had the lowest load in round {result.stop_round + 1} but did not fit the "
                f"budget, which ends sequential Phragmén"
            ),
            round=result.stop_round + 1,
            details=(("phase", "phragmen"),),
        )
    return out


def fill_missing(
    election: Election, explanations: dict[int, ProjectExplanation], default: str
) -> tuple[ProjectExplanation, ...]:
    """One explanation per project, in file order; ``default`` for projects never considered."""
    out = []
    for c, p in enumerate(election.projects):
        got = explanations.get(c)
        if got is None:
            got = ProjectExplanation(project_id=p.project_id, funded=False, reason=default)
        out.append(got)
    return tuple(out)
