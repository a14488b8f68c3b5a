"""Funding pages: the budget ballot, the organiser's allocation runs, the published results."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.challenges.permissions import is_organiser
from opencall.challenges.queries import challenge_for
from opencall.core.errors import Conflict, InvalidInput
from opencall.core.money import format_money
from opencall.funding import actions, queries
from opencall.funding.charts import bar_chart
from opencall.funding.explanations import describe
from opencall.funding.forms import RULE_LABELS, FundingSettingsForm, RunForm
from opencall.funding.models import Allocation, BallotKind
from opencall.funding.permissions import can_cast_ballot


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _choices_from_post(request: HttpRequest, kind: str) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    if kind == BallotKind.CUMULATIVE:
        for key in request.POST:
            value = request.POST.get(key, "")
            if key.startswith("points-") and value.strip() not in ("", "0"):
                try:
                    pairs.append((int(key[7:]), int(value)))
                except ValueError as exc:
                    raise InvalidInput(_("Points must be whole numbers."),
                                       errors={"choices": [_("Points must be whole numbers.")]}) from exc
        return pairs
    for value in request.POST.getlist("idea"):
        try:
            pairs.append((int(value), 1))
        except ValueError as exc:
            raise InvalidInput(_("Unknown idea."), errors={"choices": [_("Unknown idea.")]}) from exc
    return pairs


def ballot(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _user(request)
    challenge = challenge_for(viewer, slug)
    conf = queries.settings_for(challenge)
    ideas = list(queries.fundable_ideas(challenge))
    mine = queries.ballot_of(challenge, viewer)
    chosen = {e.idea_id: e.points for e in mine.entries.all()} if mine else {}
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        if not viewer.is_authenticated:
            return redirect(f"/accounts/login/?next={request.path}")
        pairs: list[tuple[int, int]] = []
        try:
            pairs = _choices_from_post(request, conf.ballot_kind)
            actions.cast_ballot(challenge=challenge, by=viewer, choices=pairs)
        except InvalidInput as exc:
            errors = exc.errors.get("choices", [exc.detail])
            chosen = dict(pairs)  # show what the person tried, so they can fix it
            status = 422
        else:
            messages.success(request, _("Your ballot is recorded. You can change it until the phase closes."))
            return redirect("funding:ballot", slug=challenge.slug)
    context: dict[str, Any] = {
        "challenge": challenge,
        "conf": conf,
        "ideas": ideas,
        "chosen": chosen,
        "has_ballot": mine is not None,
        "can_vote": can_cast_ballot(viewer, challenge),
        "errors": errors,
        "budget_text": format_money(challenge.budget_minor, challenge.currency),
    }
    return render(request, "funding/ballot.html", context, status=status)


@login_required
def allocations(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _user(request)
    challenge = queries.allocation_desk_for(viewer, slug)
    conf = queries.settings_for(challenge)
    settings_form = FundingSettingsForm(initial={"ballot_kind": conf.ballot_kind, "max_choices": conf.max_choices,
                                                 "total_points": conf.total_points, "default_rule": conf.default_rule})
    run_form = RunForm(initial={"rule": conf.default_rule})
    if request.method == "POST":
        if "run" in request.POST:
            run_form = RunForm(request.POST)
            if run_form.is_valid():
                try:
                    allocation = actions.run_allocation(challenge=challenge, by=viewer,
                                                        rule=run_form.cleaned_data["rule"])
                except InvalidInput as exc:
                    run_form.add_error(None, exc.detail)
                else:
                    messages.success(request, _("Allocation computed."))
                    return redirect("funding:allocation", slug=challenge.slug, allocation_id=allocation.pk)
        else:
            settings_form = FundingSettingsForm(request.POST)
            if settings_form.is_valid():
                try:
                    actions.configure_funding(challenge=challenge, by=viewer, **settings_form.cleaned_data)
                except (InvalidInput, Conflict) as exc:
                    settings_form.add_error(None, exc.detail)
                else:
                    messages.success(request, _("Funding settings saved."))
                    return redirect("funding:allocations", slug=challenge.slug)
    context = {
        "challenge": challenge,
        "settings_form": settings_form,
        "run_form": run_form,
        "runs": list(queries.allocations_for(challenge)),
        "ballot_count": queries.ballots_for_count(challenge),
        "rule_labels": RULE_LABELS,
    }
    return render(request, "funding/allocations.html", context)


def _allocation_context(challenge: Challenge, allocation: Allocation) -> dict[str, Any]:
    ideas = {i.pk: i for i in queries.fundable_ideas(challenge)}
    rows = []
    for idea_id in allocation.inputs.get("ideas", []):
        idea = ideas.get(idea_id)
        expl = allocation.explanations.get(str(idea_id), {})
        cost = idea.requested_budget_minor if idea is not None else None
        rows.append({"id": idea_id, "idea": idea, "funded": idea_id in allocation.selected, "explanation": expl,
                     "why": describe(expl, cost_minor=cost, currency=challenge.currency)})
    rows.sort(key=lambda r: (not r["funded"], allocation.selected.index(r["id"]) if r["funded"] else 0))
    rules = list(allocation.comparison)
    spend = bar_chart(
        [str(RULE_LABELS.get(r, r)).split(",")[0] for r in rules],
        [allocation.comparison[r]["budget_used_minor"] / (allocation.budget_minor or 1) * 100 for r in rules],
        title=_("Share of the budget spent, by rule"), unit="%", maximum=100,
    )
    reach = bar_chart(
        [str(RULE_LABELS.get(r, r)).split(",")[0] for r in rules],
        [allocation.comparison[r]["voters_with_funded_idea"] for r in rules],
        title=_("Voters with at least one funded idea, by rule"), unit="", maximum=max(allocation.ballot_count, 1),
    )
    return {"challenge": challenge, "allocation": allocation, "rows": rows, "spend_chart": spend,
            "reach_chart": reach, "rule_label": RULE_LABELS.get(allocation.rule, allocation.rule),
            "share": round(allocation.budget_used_minor / (allocation.budget_minor or 1) * 100, 1)}


def allocation_detail(request: HttpRequest, slug: str, allocation_id: int) -> HttpResponse:
    viewer = _user(request)
    challenge = challenge_for(viewer, slug)
    allocation = queries.allocation_for(viewer, challenge, allocation_id)
    context = _allocation_context(challenge, allocation)
    context["organiser"] = is_organiser(viewer, challenge)
    return render(request, "funding/results.html", context)


def results(request: HttpRequest, slug: str) -> HttpResponse:
    challenge = challenge_for(_user(request), slug)
    allocation = queries.published_allocation(challenge)
    if allocation is None:
        return render(request, "funding/no_results.html", {"challenge": challenge}, status=404)
    context = _allocation_context(challenge, allocation)
    context["organiser"] = is_organiser(_user(request), challenge)
    return render(request, "funding/results.html", context)


@login_required
@require_POST
def publish(request: HttpRequest, slug: str, allocation_id: int) -> HttpResponse:
    viewer = _user(request)
    challenge = challenge_for(viewer, slug)
    allocation = queries.allocation_for(viewer, challenge, allocation_id)
    actions.publish_allocation(allocation=allocation, by=viewer)
    messages.success(request, _("The results are published and the funded teams notified."))
    return redirect("funding:results", slug=challenge.slug)
