"""Challenge pages: parse the request, call one query or action, render."""

from __future__ import annotations

from decimal import Decimal
from pathlib import PurePath
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from opencall.accounts.models import User
from opencall.accounts.queries import verified_users_by_emails
from opencall.challenges import actions, queries
from opencall.challenges.forms import (
    ChallengeForm,
    ChallengeSearchForm,
    CoverForm,
    CustomFieldFormSet,
    PhasePlanForm,
    RoleForm,
    split_list,
)
from opencall.challenges.models import Challenge, FieldKind
from opencall.challenges.permissions import (
    can_advance_phase,
    can_participate,
    can_submit_idea,
    is_organiser,
)
from opencall.challenges.phases import facts, next_phase, step_state
from opencall.core.errors import Conflict, InvalidInput
from opencall.core.media import upload_response
from opencall.core.money import minor_digits
from opencall.core.web import add_form_errors, parse_id
from opencall.organisations.models import Organisation
from opencall.organisations.queries import (
    organisation_for,
    organisations,
    organisations_by_slugs,
)

PAGE_SIZE = 12


def _user(request: HttpRequest) -> User:
    """The viewer; AnonymousUser quacks like a User for every query and predicate."""
    return cast(User, request.user)


def home(request: HttpRequest) -> HttpResponse:
    viewer = _user(request)
    return render(
        request,
        "challenges/home.html",
        {"challenges": queries.open_challenge_cards(viewer), "joined": queries.joined_challenges(viewer)},
    )


def challenge_list(request: HttpRequest) -> HttpResponse:
    viewer = _user(request)
    form = ChallengeSearchForm(
        request.GET or None,
        organisations=[(o.slug, o.name) for o in organisations()],
        categories=queries.category_names(viewer),
    )
    filters = form.filters() if request.GET else {}
    page = Paginator(queries.challenge_cards(viewer, **filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "challenges": page.object_list,
        "query": f"{query.urlencode()}&" if query else "",
        "filtered": any(filters.values()),
        # embedded in another page (the organisation page): no counter, no "clear filters"
        "embedded": bool(request.headers.get("HX-Request")) and request.headers.get("HX-Target") != "results",
    }
    template = "challenges/_results.html" if request.headers.get("HX-Request") else "challenges/list.html"
    return render(request, template, context)


def challenge_detail(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _user(request)
    challenge = queries.challenge_for(viewer, slug)
    phases = queries.phases_of(challenge)
    current = challenge.phase
    phase = facts(current)
    organiser = is_organiser(viewer, challenge)
    context: dict[str, Any] = {
        "challenge": challenge,
        "phase": phase,
        "timeline": [{"phase": p, "state": step_state(p.kind, current)} for p in phases],
        "categories": list(challenge.categories.all()),
        "sponsors": list(challenge.sponsors.all()),
        "organiser": organiser,
        "can_participate": can_participate(viewer, challenge),
        "can_submit": can_submit_idea(viewer, challenge),
        "following": queries.is_following(viewer, challenge),
        "can_advance": can_advance_phase(viewer, challenge),
        "next_phase": None if phase.closed else next_phase(current, [p.kind for p in phases]),
    }
    if organiser:
        context["roles"] = list(queries.roles_of(viewer, challenge))
        context["role_form"] = RoleForm()
        context["partners"] = queries.partners_of(challenge)
    return render(request, "challenges/detail.html", context)


def _field_specs(formset: Any) -> list[actions.FieldSpec]:
    specs = []
    for f in formset.forms:
        data = f.cleaned_data
        if not data or data.get("DELETE"):
            continue
        specs.append(
            actions.FieldSpec(
                key=data["key"],
                label=data["label"],
                kind=data["kind"],
                required=bool(data.get("required")),
                choices=tuple(split_list(data.get("choices", ""))) if data["kind"] == FieldKind.CHOICE else (),
                help_text=data.get("help_text", ""),
            )
        )
    return specs


def _resolve_partners(form: ChallengeForm, organiser_org: Organisation) -> dict[str, Any] | None:
    """Turn slugs and emails into rows, putting unknown ones on the form; None when any failed."""
    sponsors, missing_sponsors = organisations_by_slugs(form.sponsor_slugs())
    invited_orgs, missing_orgs = organisations_by_slugs(form.invited_org_slugs())
    # Access by address goes only to an account that has verified it, never to one that only typed it.
    users, missing_users = verified_users_by_emails(form.invited_email_list())
    if missing_sponsors:
        form.add_error("sponsors", _("Unknown organisation: %(list)s") % {"list": ", ".join(missing_sponsors)})
    if missing_orgs:
        form.add_error(
            "invited_organisations",
            _("Unknown organisation: %(list)s") % {"list": ", ".join(missing_orgs)},
        )
    if missing_users:
        form.add_error(
            "invited_emails",
            _("No account has verified these addresses: %(list)s") % {"list": ", ".join(missing_users)},
        )
    if missing_sponsors or missing_orgs or missing_users:
        return None
    return {"sponsors": sponsors, "invited_organisations": invited_orgs, "invited_users": users}


@login_required
def challenge_create(request: HttpRequest, org_slug: str) -> HttpResponse:
    viewer = _user(request)
    org = organisation_for(viewer, org_slug, manage=True)
    form = ChallengeForm(request.POST or None, request.FILES or None)
    fields = CustomFieldFormSet(request.POST or None, prefix="fields")
    if request.method == "POST" and form.is_valid() and fields.is_valid():
        partners = _resolve_partners(form, org)
        if partners is not None:
            try:
                challenge = actions.create_challenge(
                    organisation=org,
                    by=viewer,
                    title=form.cleaned_data["title"],
                    summary=form.cleaned_data["summary"],
                    description=form.cleaned_data["description"],
                    terms=form.cleaned_data["terms"],
                    budget_minor=form.budget_minor(),
                    currency=form.cleaned_data["currency"],
                    visibility=form.cleaned_data["visibility"],
                    categories=form.category_list(),
                    custom_fields=_field_specs(fields),
                    cover_image=form.cleaned_data.get("cover_image"),
                    **partners,
                )
            except InvalidInput as exc:
                add_form_errors(form, exc)
            else:
                messages.success(request, _("Challenge created. Plan its phases, then open it."))
                return redirect("challenges:phases", challenge.slug)
    return render(
        request,
        "challenges/form.html",
        {"form": form, "fields": fields, "organisation": org, "challenge": None},
        status=422 if form.errors or fields.total_error_count() else 200,
    )


def _initial(challenge: Challenge) -> dict[str, Any]:
    budget = None
    if challenge.budget_minor is not None:
        budget = Decimal(challenge.budget_minor).scaleb(-minor_digits(challenge.currency))
    partners = queries.partners_of(challenge)
    return {
        "title": challenge.title,
        "summary": challenge.summary,
        "description": challenge.description,
        "terms": challenge.terms,
        "budget": budget,
        "currency": challenge.currency,
        "visibility": challenge.visibility,
        "categories": ", ".join(c.name for c in challenge.categories.all()),
        "sponsors": ", ".join(o.slug for o in challenge.sponsors.all()),
        "invited_organisations": ", ".join(o.slug for o in cast(list[Organisation], partners["organisations"])),
        "invited_emails": ", ".join(u.email for u in cast(list[User], partners["users"])),
    }


@login_required
def challenge_edit(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _user(request)
    challenge = queries.challenge_for(viewer, slug, manage=True)
    field_initial = [
        {
            "key": f.key,
            "label": f.label,
            "kind": f.kind,
            "required": f.required,
            "choices": ", ".join(f.choices),
            "help_text": f.help_text,
        }
        for f in challenge.custom_fields.all()
    ]
    if request.method == "POST":
        form = ChallengeForm(request.POST, request.FILES)
        fields = CustomFieldFormSet(request.POST, prefix="fields")
    else:
        form = ChallengeForm(initial=_initial(challenge))
        fields = CustomFieldFormSet(initial=field_initial, prefix="fields")
    if request.method == "POST" and form.is_valid() and fields.is_valid():
        partners = _resolve_partners(form, challenge.organisation)
        if partners is not None:
            try:
                changes = {
                    k: form.cleaned_data[k]
                    for k in ("title", "summary", "description", "terms", "currency", "visibility")
                }
                actions.edit_challenge(
                    challenge=challenge,
                    by=viewer,
                    changes={
                        **changes,
                        "budget_minor": form.budget_minor(),
                        "categories": form.category_list(),
                    },
                    custom_fields=_field_specs(fields),
                    cover_image=form.cleaned_data.get("cover_image"),
                    **partners,
                )
            except InvalidInput as exc:
                add_form_errors(form, exc)
            else:
                messages.success(request, _("Challenge saved."))
                return redirect("challenges:detail", challenge.slug)
    return render(
        request,
        "challenges/form.html",
        {
            "form": form,
            "fields": fields,
            "organisation": challenge.organisation,
            "challenge": challenge,
        },
        status=422 if form.errors or fields.total_error_count() else 200,
    )


@login_required
def challenge_phases(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _user(request)
    challenge = queries.challenge_for(viewer, slug, manage=True)
    if request.method == "POST":
        form = PhasePlanForm(request.POST)
    else:
        initial: dict[str, Any] = {}
        tz = timezone.get_current_timezone()
        for p in queries.phases_of(challenge):
            initial[f"{p.kind}_on"] = True
            initial[f"{p.kind}_start"] = p.starts_at.astimezone(tz) if p.starts_at else None
            initial[f"{p.kind}_end"] = p.ends_at.astimezone(tz) if p.ends_at else None
        form = PhasePlanForm(initial=initial)
    if request.method == "POST" and form.is_valid():
        plan = [actions.PhaseSpec(kind, start, end) for kind, start, end in form.plan()]
        try:
            actions.set_phase_plan(challenge=challenge, by=viewer, plan=plan)
        except (InvalidInput, Conflict) as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Phase plan saved."))
            return redirect("challenges:detail", challenge.slug)
    return render(
        request,
        "challenges/phases.html",
        {"form": form, "challenge": challenge, "timezone": timezone.get_current_timezone_name()},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def challenge_advance(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _user(request)
    challenge = queries.challenge_for(viewer, slug)
    updated = actions.advance_phase(challenge=challenge, by=viewer)
    messages.success(
        request,
        _("The challenge is now in the %(phase)s phase.") % {"phase": updated.get_phase_display()},
    )
    return redirect("challenges:detail", challenge.slug)


@login_required
def challenge_roles(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _user(request)
    challenge = queries.challenge_for(viewer, slug, manage=True)
    remove = request.POST.get("remove", "")
    if remove:
        # An id that is no number names no role: the action answers NotFound for it as for any other.
        actions.remove_role(challenge=challenge, role_id=parse_id(remove) or 0, by=viewer)
        messages.success(request, _("Role removed."))
        return redirect("challenges:roles", challenge.slug)
    form = RoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        found, _missing = verified_users_by_emails([form.cleaned_data["email"]])
        if not found:
            form.add_error("email", _("No account has verified this email address."))
        else:
            try:
                role = actions.assign_role(
                    challenge=challenge, user=found[0], kind=form.cleaned_data["kind"], by=viewer
                )
            except (InvalidInput, Conflict) as exc:
                add_form_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(name)s is now a %(role)s of this challenge.")
                    % {"name": role.user, "role": role.get_kind_display()},
                )
                return redirect(reverse("challenges:detail", args=[challenge.slug]) + "#organiser")
    return render(
        request,
        "challenges/roles.html",
        {"form": form, "challenge": challenge, "roles": list(queries.roles_of(viewer, challenge))},
        status=422 if form.errors else 200,
    )


@require_safe
def cover_image(request: HttpRequest, slug: str) -> HttpResponseBase:
    """The cover picture, only for those who may see the challenge (the same 404 for everyone else)."""
    viewer = _user(request)
    challenge = queries.cover_for(viewer, slug)
    ext = PurePath(challenge.cover_image.name or "").suffix.lower().lstrip(".")
    # Passing the gate signed out means the challenge is public, and so is its cover.
    return upload_response(request, challenge.cover_image, content_type=actions.COVER_TYPES.get(ext, ""),
                           filename=f"{challenge.slug}.{ext}", inline=True, public=not viewer.is_authenticated)


@login_required
def challenge_cover(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _user(request)
    challenge = queries.challenge_for(viewer, slug, manage=True)
    form = CoverForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_cover_image(challenge=challenge, by=viewer, upload=form.cleaned_data["cover_image"])
        except InvalidInput as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Cover image updated."))
            return redirect("challenges:detail", challenge.slug)
    return render(
        request,
        "challenges/cover.html",
        {"form": form, "challenge": challenge},
        status=422 if form.errors else 200,
    )
