"""Budget ballots, allocation runs, publication and recount."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.challenges.phases import Action, allows
from opencall.core import audit
from opencall.core.errors import Conflict, InvalidInput, PermissionDenied, PhaseClosed
from opencall.core.money import format_money, minor_digits
from opencall.engines.budgeting.model import Election, Outcome
from opencall.engines.budgeting.registry import RULES, RuleError, run_rule
from opencall.funding.adapters import challenge_election
from opencall.funding.models import Allocation, BallotEntry, BallotKind, BudgetBallot, FundingSettings
from opencall.funding.permissions import can_cast_ballot, can_run_allocation
from opencall.funding.queries import fundable_ideas, settings_for
from opencall.ideas.actions import decide_status
from opencall.ideas.models import IdeaStatus

# Rules shown side by side on the results page.
COMPARED_RULES = ("mes", "greedy", "phragmen")


def configure_funding(*, challenge: Challenge, by: User, ballot_kind: str, max_choices: int = 5,
                      total_points: int = 10, default_rule: str = "mes") -> FundingSettings:
    if not can_run_allocation(by, challenge):
        raise PermissionDenied(_("Only organisers configure the funding phase."))
    errors: dict[str, list[str]] = {}
    if ballot_kind not in BallotKind.values:
        errors["ballot_kind"] = [_("One of %(kinds)s.") % {"kinds": ", ".join(BallotKind.values)}]
    if not 1 <= max_choices <= 100:
        errors["max_choices"] = [_("Between 1 and 100.")]
    if not 1 <= total_points <= 1000:
        errors["total_points"] = [_("Between 1 and 1000.")]
    if default_rule not in RULES:
        errors["default_rule"] = [_("Unknown rule %(rule)r.") % {"rule": default_rule}]
    if errors:
        raise InvalidInput(_("The funding settings have errors."), errors=errors)
    with transaction.atomic():
        if challenge.budget_ballots.exists():
            raise Conflict(_("Ballots were cast already; the ballot form can no longer change."))
        found, _created = FundingSettings.objects.update_or_create(
            challenge=challenge,
            defaults={"ballot_kind": ballot_kind, "max_choices": max_choices, "total_points": total_points,
                      "default_rule": default_rule},
        )
        audit.record(actor=by, verb="funding.configure", obj=found, data={"kind": ballot_kind})
    return found


def cast_ballot(*, challenge: Challenge, by: User,
                choices: Mapping[int, int] | Sequence[tuple[int, int]]) -> BudgetBallot:
    """Record or replace a person's ballot: (idea id, points) pairs, points 1 for knapsack and approval.

    Checked on the server whatever the page did: phase, eligibility, budget, number of choices, points,
    and an idea named twice.
    """
    pairs = list(choices.items()) if isinstance(choices, Mapping) else list(choices)
    seen = [i for i, _points in pairs]
    if len(set(seen)) != len(seen):
        raise InvalidInput(_("The ballot was not recorded."), errors={"choices": [_("An idea is chosen twice.")]})
    choices = dict(pairs)
    if not can_cast_ballot(by, challenge):
        if by.is_authenticated and not allows(challenge.phase, Action.FUND):
            raise PhaseClosed(_("Budget ballots are accepted only during the funding phase."))
        raise PermissionDenied(_("You cannot vote in this challenge."))
    conf = settings_for(challenge)
    ideas = {idea.pk: idea for idea in fundable_ideas(challenge)}
    errors: list[str] = []
    unknown = [i for i in choices if i not in ideas]
    if unknown:
        errors.append(_("Not on this ballot: %(ideas)s.") % {"ideas": ", ".join(map(str, sorted(unknown)))})
    if not choices:
        errors.append(_("Choose at least one idea."))
    if any(not isinstance(p, int) or isinstance(p, bool) or p < 1 for p in choices.values()):
        errors.append(_("Points must be whole numbers of at least 1."))
    if not errors:
        if conf.ballot_kind == BallotKind.KNAPSACK:
            if any(p != 1 for p in choices.values()):
                errors.append(_("Pick each idea once."))
            cost = sum(ideas[i].requested_budget_minor or 0 for i in choices)
            if challenge.budget_minor is not None and cost > challenge.budget_minor:
                errors.append(_("Over budget: %(chosen)s chosen, %(available)s available.") % {
                    "chosen": format_money(cost, challenge.currency),
                    "available": format_money(challenge.budget_minor, challenge.currency)})
        elif conf.ballot_kind == BallotKind.APPROVAL:
            if any(p != 1 for p in choices.values()):
                errors.append(_("Pick each idea once."))
            if len(choices) > conf.max_choices:
                errors.append(_("Too many choices: at most %(most)s.") % {"most": conf.max_choices})
        elif sum(choices.values()) > conf.total_points:
            errors.append(_("Too many points: %(given)s given, %(available)s available.")
                          % {"given": sum(choices.values()), "available": conf.total_points})
    if errors:
        raise InvalidInput(_("The ballot was not recorded."), errors={"choices": errors})
    with transaction.atomic():
        ballot, created = BudgetBallot.objects.select_for_update().get_or_create(
            challenge=challenge, voter=by, defaults={"kind": conf.ballot_kind})
        if not created:
            BallotEntry.objects.filter(ballot=ballot).delete()
            ballot.revision += 1
            ballot.kind = conf.ballot_kind
            ballot.save(update_fields=["revision", "kind", "updated_at"])
        BallotEntry.objects.bulk_create([
            BallotEntry(ballot=ballot, idea_id=i, points=p, position=n) for n, (i, p) in enumerate(choices.items())
        ])
        audit.record(actor=by, verb="ballot.cast", obj=ballot,
                     data={"revision": ballot.revision, "choices": {str(k): v for k, v in choices.items()}})
    return ballot


def withdraw_ballot(*, challenge: Challenge, by: User) -> None:
    if not can_cast_ballot(by, challenge):
        raise PhaseClosed(_("Ballots can be withdrawn only during the funding phase."))
    with transaction.atomic():
        deleted, _rows = BudgetBallot.objects.filter(challenge=challenge, voter=by).delete()
        if not deleted:
            raise Conflict(_("You have no ballot here."))
        audit.record(actor=by, verb="ballot.withdraw", obj=challenge)


def _voters_with_funded(election: Election, chosen: set[int]) -> int:
    return sum(1 for v in range(election.num_voters) if any(p in chosen for p, _cost in election.ballot(v)))


def run_allocation(*, challenge: Challenge, by: User, rule: str | None = None) -> Allocation:
    """Run a rule over the current ballots and store inputs, outcome, explanations, and the same ballots
    under the compared rules for the side-by-side chart."""
    if not can_run_allocation(by, challenge):
        raise PermissionDenied(_("Only organisers run allocations."))
    if challenge.budget_minor is None:
        raise InvalidInput(_("Set the challenge's budget first."),
                           errors={"budget_minor": [_("Required for funding.")]})
    conf = settings_for(challenge)
    rule = rule or conf.default_rule
    if rule not in RULES:
        raise InvalidInput(_("Unknown rule %(rule)r.") % {"rule": rule},
                           errors={"rule": [_("One of %(rules)s.") % {"rules": ", ".join(sorted(RULES))}]})
    ce = challenge_election(challenge)
    unit = 10 ** minor_digits(challenge.currency)
    outcomes: dict[str, Outcome] = {}
    for name in dict.fromkeys((rule, *COMPARED_RULES)):
        try:
            outcomes[name] = run_rule(ce.election, name)
        except RuleError as exc:
            if name == rule:
                raise InvalidInput(
                    _("The rule %(rule)s cannot run on %(kind)s ballots: %(reason)s")
                    % {"rule": rule, "kind": conf.ballot_kind, "reason": exc},
                    errors={"rule": [_("Not applicable to these ballots.")]}) from exc
    comparison: dict[str, dict[str, Any]] = {
        name: {
            "selected": [ce.idea_ids[i] for i in out.selected],
            "budget_used_minor": int(sum(ce.election.projects[i].cost for i in out.selected) * unit),
            "voters_with_funded_idea": _voters_with_funded(ce.election, set(out.selected)),
        }
        for name, out in outcomes.items()
    }
    chosen = outcomes[rule]
    with transaction.atomic():
        allocation = Allocation.objects.create(
            challenge=challenge, rule=rule, created_by=by, ballots_digest=ce.digest,
            ballot_count=ce.election.num_voters, budget_minor=challenge.budget_minor,
            inputs={"ideas": list(ce.idea_ids), "ballot_kind": conf.ballot_kind},
            selected=comparison[rule]["selected"],
            explanations={e.project_id: e.as_dict() for e in chosen.explanations},
            comparison=comparison, budget_used_minor=comparison[rule]["budget_used_minor"],
        )
        audit.record(actor=by, verb="allocation.run", obj=allocation,
                     data={"rule": rule, "selected": allocation.selected, "digest": allocation.ballots_digest})
    return allocation


def publish_allocation(*, allocation: Allocation, by: User) -> Allocation:
    """Publish a run: the funded ideas are marked funded and their teams told."""
    challenge = allocation.challenge
    if not can_run_allocation(by, challenge):
        raise PermissionDenied(_("Only organisers publish results."))
    if allows(challenge.phase, Action.FUND):
        raise PhaseClosed(_("Close the funding phase before publishing, so no ballot changes afterwards."))
    with transaction.atomic():
        locked = Allocation.objects.select_for_update().get(pk=allocation.pk)
        if locked.published_at is not None:
            raise Conflict(_("This allocation is published already."))
        locked.published_at = timezone.now()
        locked.save(update_fields=["published_at"])
        for idea in fundable_ideas(challenge).filter(pk__in=locked.selected):
            if idea.status != IdeaStatus.FUNDED:
                decide_status(idea=idea, status=IdeaStatus.FUNDED, by=by, reason=f"allocation {locked.pk}")
        audit.record(actor=by, verb="allocation.publish", obj=locked,
                     data={"selected": locked.selected, "digest": locked.ballots_digest})
    return locked


def recount(*, allocation: Allocation) -> dict[str, object]:
    """Recompute an allocation from the ballots as they are now and say whether it matches."""
    ce = challenge_election(allocation.challenge)
    outcome = run_rule(ce.election, allocation.rule)
    selected = [ce.idea_ids[i] for i in outcome.selected]
    return {
        "allocation": allocation.pk,
        "rule": allocation.rule,
        "ballots_match": ce.digest == allocation.ballots_digest,
        "outcome_matches": selected == list(allocation.selected),
        "selected": selected,
        "recorded": list(allocation.selected),
    }
