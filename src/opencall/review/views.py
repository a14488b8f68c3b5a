"""Review pages: the organiser's review desk, the judge's dashboard and review form, crowd pairwise voting."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from opencall.accounts.models import User
from opencall.challenges.queries import challenge_for
from opencall.core.errors import Conflict, DomainError, InvalidInput, NotFound
from opencall.core.web import add_form_errors, parse_id
from opencall.review import actions, queries
from opencall.review.crowd import candidates, crowd_ranking, next_pair_for, pairwise_settings
from opencall.review.forms import AddAssignmentForm, ConflictForm, PairwiseSettingsForm, RoundForm, RubricForm
from opencall.review.permissions import can_compare, can_write_review, sees_team_names
from opencall.review.scoring import combined_ranking


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


@login_required
def desk(request: HttpRequest, slug: str) -> HttpResponse:
    """The organiser's review desk: rubrics, rounds, crowd voting settings."""
    viewer = _user(request)
    challenge = queries.review_desk_for(viewer, slug)
    rubrics = list(queries.rubrics_of(challenge))
    rubric_form = RubricForm(prefix="rubric")
    round_form = RoundForm(prefix="round", rubrics=[(r.pk, r.name) for r in rubrics])
    conf = pairwise_settings(challenge)
    pairwise_form = PairwiseSettingsForm(prefix="pairwise", initial={"enabled": conf.enabled, "top_k": conf.top_k,
                                                                     "focus": conf.focus})
    if request.method == "POST":
        which = request.POST.get("form")
        if which == "rubric":
            rubric_form = RubricForm(request.POST, prefix="rubric")
            if rubric_form.is_valid():
                try:
                    actions.create_rubric(challenge=challenge, by=viewer, name=rubric_form.cleaned_data["name"],
                                          criteria=rubric_form.cleaned_data["criteria"])
                except InvalidInput as exc:
                    add_form_errors(rubric_form, exc)
                else:
                    messages.success(request, _("Rubric saved."))
                    return redirect("review:desk", slug=challenge.slug)
        elif which == "round":
            round_form = RoundForm(request.POST, prefix="round", rubrics=[(r.pk, r.name) for r in rubrics])
            if round_form.is_valid():
                data = dict(round_form.cleaned_data)
                rubric = queries.rubric_for(challenge, data.pop("rubric"))
                try:
                    if rubric is None:
                        raise InvalidInput(_("Choose a rubric."), errors={"rubric": [_("Unknown rubric.")]})
                    rnd = actions.open_round(challenge=challenge, by=viewer, rubric=rubric, **data)
                except InvalidInput as exc:
                    add_form_errors(round_form, exc)
                else:
                    messages.success(request, _("Round opened. Now assign the judges."))
                    return redirect("review:round", slug=challenge.slug, number=rnd.number)
        elif which == "pairwise":
            pairwise_form = PairwiseSettingsForm(request.POST, prefix="pairwise")
            if pairwise_form.is_valid():
                try:
                    actions.configure_pairwise(challenge=challenge, by=viewer, **pairwise_form.cleaned_data)
                except InvalidInput as exc:
                    add_form_errors(pairwise_form, exc)
                else:
                    messages.success(request, _("Crowd voting settings saved."))
                    return redirect("review:desk", slug=challenge.slug)
    return render(request, "review/desk.html", {
        "challenge": challenge, "rubrics": rubrics, "rounds": list(queries.rounds_of(challenge)),
        "rubric_form": rubric_form, "round_form": round_form, "pairwise_form": pairwise_form,
        "judges": list(queries.judges_of(challenge)),
    })


@login_required
def round_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    viewer = _user(request)
    rnd = queries.round_for(viewer, slug, number)
    challenge = rnd.challenge
    ideas = list(queries.round_ideas(rnd))
    judges = list(queries.judges_of(challenge))
    add_form = AddAssignmentForm(judges=[(j.pk, str(j)) for j in judges], ideas=[(i.pk, i.title) for i in ideas])
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "assign":
                report = actions.run_assignment(rnd=rnd, by=viewer)
                messages.success(request, _("Judges assigned: %(pairs)s reviews, optimality gap %(gap)s.") % report)
            elif op == "add":
                add_form = AddAssignmentForm(request.POST, judges=[(j.pk, str(j)) for j in judges],
                                             ideas=[(i.pk, i.title) for i in ideas])
                if not add_form.is_valid():
                    raise InvalidInput(_("Choose a judge and an idea."))
                judge = queries.judge_in(challenge, add_form.cleaned_data["judge"])
                idea = queries.idea_in_round(rnd, add_form.cleaned_data["idea"])
                if judge is None or idea is None:
                    raise InvalidInput(_("Choose a judge and an idea of this round."))
                actions.add_assignment(rnd=rnd, judge=judge, idea=idea, by=viewer)
                messages.success(request, _("Assignment added."))
            elif op == "remove":
                found = queries.assignment_in_round(rnd, parse_id(request.POST.get("assignment", "")))
                actions.remove_assignment(assignment=found, by=viewer)
                messages.success(request, _("Assignment removed."))
            elif op == "decide":
                advance = [i for i in map(parse_id, request.POST.getlist("advance")) if i is not None]
                reject = [i for i in map(parse_id, request.POST.getlist("reject")) if i is not None]
                count = actions.decide_ideas(rnd=rnd, by=viewer, advance=advance, reject=reject)
                messages.success(request, ngettext("%(n)s decision recorded; the team is notified.",
                                                   "%(n)s decisions recorded; the teams are notified.", count)
                                 % {"n": count})
            elif op == "close":
                actions.close_round(rnd=rnd, by=viewer)
                messages.success(request, _("Round closed."))
            else:
                raise InvalidInput(_("Unknown operation."))
        except (InvalidInput, Conflict, NotFound) as exc:
            messages.error(request, exc.detail)
        else:
            return redirect("review:round", slug=challenge.slug, number=rnd.number)
    by_idea: dict[int, list[Any]] = {i.pk: [] for i in ideas}
    for a in queries.assignments_of(rnd):
        by_idea.setdefault(a.idea_id, []).append(a)
    return render(request, "review/round.html", {
        "challenge": challenge, "round": rnd, "ideas": ideas, "by_idea": by_idea, "add_form": add_form,
        "ranking": combined_ranking(rnd), "criteria": queries.criteria_of(rnd),
    })


@login_required
def judge_dashboard(request: HttpRequest) -> HttpResponse:
    rows = list(queries.assignments_for_judge(_user(request)))
    done = sum(1 for a in rows if getattr(getattr(a, "review", None), "submitted_at", None))
    return render(request, "review/dashboard.html", {"assignments": rows, "done": done, "total": len(rows)})


@login_required
def review_form(request: HttpRequest, assignment_id: int) -> HttpResponse:
    viewer = _user(request)
    assignment = queries.assignment_for(viewer, assignment_id)
    rnd = assignment.round
    criteria = queries.criteria_of(rnd)
    review = queries.review_of(assignment)
    errors: dict[str, list[str]] = {}
    values: dict[int, str] = {int(k): str(v) for k, v in review.scores.items()} if review else {}
    note = review.note if review else ""
    recommendation = review.recommendation if review else ""
    status = 200
    if request.method == "POST":
        values = {c.pk: request.POST.get(f"score-{c.pk}", "") for c in criteria}
        note = request.POST.get("note", "")
        recommendation = request.POST.get("recommendation", "")
        scores: dict[int, int] = {}
        for c in criteria:
            raw = values[c.pk].strip()
            if raw:
                # ASCII digits only, and few of them: "²" passes isdigit() but not int(), and int()
                # refuses strings of thousands of digits.
                digits = raw.removeprefix("-")
                if digits.isascii() and digits.isdigit() and len(digits) <= 9:
                    scores[c.pk] = int(raw)
                else:
                    errors[f"scores.{c.pk}"] = [_("A whole number, please.")]
        final = "submit" in request.POST
        try:
            if errors:
                raise InvalidInput(_("The review has errors."), errors=errors)
            actions.submit_review(assignment=assignment, by=viewer, scores=scores, note=note,
                                  recommendation=recommendation, final=final)
        except InvalidInput as exc:
            errors = exc.errors or {"form": [exc.detail]}
            status = 422
        else:
            messages.success(request, _("Review submitted.") if final else _("Draft saved."))
            return redirect("review:dashboard")
    return render(request, "review/review_form.html", {
        "assignment": assignment, "idea": assignment.idea, "round": rnd, "criteria": criteria,
        "values": values, "note": note, "recommendation": recommendation, "errors": errors,
        "submitted": bool(review and review.submitted_at), "can_write": can_write_review(viewer, assignment),
        "show_team": sees_team_names(viewer, rnd), "conflict_form": ConflictForm(),
        "team_members": [m.user for m in assignment.idea.team.members.all()] if sees_team_names(viewer, rnd) else [],
    }, status=status)


@login_required
@require_POST
def declare_conflict(request: HttpRequest, assignment_id: int) -> HttpResponse:
    viewer = _user(request)
    assignment = queries.assignment_for(viewer, assignment_id)
    form = ConflictForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why you should not review this idea."))
        return redirect("review:review", assignment_id=assignment.pk)
    try:
        actions.declare_conflict(challenge=assignment.round.challenge, judge=viewer, idea=assignment.idea, by=viewer,
                                 reason=form.cleaned_data["reason"])
    except (InvalidInput, Conflict) as exc:
        messages.error(request, exc.detail)
        return redirect("review:review", assignment_id=assignment.pk)
    messages.success(request, _("Conflict declared; the idea was taken off your list."))
    return redirect("review:dashboard")


def compare(request: HttpRequest, slug: str) -> HttpResponse:
    """Crowd pairwise voting: "which idea is stronger?", with can't decide and skip."""
    viewer = _user(request)
    challenge = challenge_for(viewer, slug)
    enabled = pairwise_settings(challenge).enabled
    error = ""
    if request.method == "POST":
        if not viewer.is_authenticated:
            return redirect(f"/accounts/login/?next={request.path}")
        ideas = {i.pk: i for i in candidates(challenge)}
        try:
            first = ideas.get(int(request.POST.get("first", "0") or 0))
            second = ideas.get(int(request.POST.get("second", "0") or 0))
            if first is None or second is None:
                raise InvalidInput(_("That pair is no longer on offer."))
            actions.cast_pairwise(challenge=challenge, by=viewer, first=first, second=second,
                                  outcome=request.POST.get("outcome", ""))
        except ValueError:
            error = _("That pair is no longer on offer.")
        except DomainError as exc:
            error = exc.detail
    pair = next_pair_for(challenge, viewer) if viewer.is_authenticated and can_compare(viewer, challenge, enabled) \
        else None
    context = {"challenge": challenge, "pair": pair, "error": error,
               "open": can_compare(viewer, challenge, enabled), "enabled": enabled}
    template = "review/_pair.html" if request.headers.get("HX-Request") else "review/compare.html"
    return render(request, template, context, status=422 if error else 200)


def crowd(request: HttpRequest, slug: str) -> HttpResponse:
    """The live crowd ranking with 95% intervals (embedded on the challenge page with HTMX)."""
    challenge = challenge_for(_user(request), slug)
    ranking = crowd_ranking(challenge)
    scale = max([abs(r.low) for r in ranking.ideas] + [abs(r.high) for r in ranking.ideas] + [1.0])
    rows = [{"entry": r, "left": 50 + 50 * r.low / scale, "width": max(1.0, 50 * (r.high - r.low) / scale),
             "mid": 50 + 50 * r.score / scale} for r in ranking.ideas]
    template = "review/_crowd.html" if request.headers.get("HX-Request") else "review/crowd.html"
    return render(request, template, {"challenge": challenge, "ranking": ranking, "rows": rows})
