"""Organisation pages: parse the request, call one query or action, render."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opencall.accounts.models import User
from opencall.core.errors import Conflict, EmailNotVerified, InvalidInput
from opencall.core.web import add_form_errors
from opencall.organisations import actions, queries
from opencall.organisations.forms import InviteForm, OrganisationForm, RoleChangeForm
from opencall.organisations.models import Role
from opencall.organisations.permissions import (
    can_change_roles,
    can_create_challenge,
    can_manage_organisation,
    can_view_members,
)

PAGE_SIZE = 24
ROLE_RANK: dict[str, int] = {Role.OWNER: 0, Role.ORGANISER: 1, Role.MEMBER: 2}  # owners listed first


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def organisation_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.organisations(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "organisations/list.html",
        {"page": page, "organisations": page.object_list, "query": ""},
    )


@login_required
def organisation_create(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = actions.create_organisation(by=_user(request), **form.cleaned_data)
        except InvalidInput as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Organisation created. You are its owner."))
            return redirect("organisations:detail", org.slug)
    return render(request, "organisations/form.html", {"form": form}, status=422 if form.errors else 200)


def organisation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _user(request)
    org = queries.organisation_for(viewer, slug)
    show_members = can_view_members(viewer, org)
    manage = can_manage_organisation(viewer, org)
    members = sorted(queries.members_of(viewer, org), key=lambda m: ROLE_RANK.get(m.role, 9)) if show_members else []
    context = {
        "organisation": org,
        "my_role": queries.role_in(viewer, org.pk),
        "members": members,
        "show_members": show_members,
        "can_manage": manage,
        "can_change_roles": can_change_roles(viewer, org),
        "can_create_challenge": can_create_challenge(viewer, org),
        "invitations": list(queries.pending_invitations(org)) if manage else [],
        "invite_form": InviteForm() if manage else None,
        "roles": Role.choices,
    }
    return render(request, "organisations/detail.html", context)


@login_required
def organisation_invite(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _user(request)
    org = queries.organisation_for(viewer, slug, manage=True)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            inv = actions.invite_member(
                org=org, email=form.cleaned_data["email"], role=form.cleaned_data["role"], by=viewer
            )
        except (InvalidInput, Conflict) as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": inv.email})
            return redirect("organisations:detail", org.slug)
    return render(
        request,
        "organisations/invite.html",
        {"form": form, "organisation": org},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def member_role(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    org = queries.organisation_for(_user(request), slug)
    membership = queries.membership_in(org, membership_id)
    form = RoleChangeForm(request.POST)
    if not form.is_valid():
        raise InvalidInput(_("Choose owner, organiser or member."), errors={"role": [_("Unknown role.")]})
    try:
        actions.change_role(membership=membership, role=form.cleaned_data["role"], by=_user(request))
    except Conflict as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            _("%(name)s is now %(role)s.") % {"name": membership.user, "role": membership.get_role_display()},
        )
    return redirect("organisations:detail", org.slug)


@login_required
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = queries.invitation_for(token)
    refusal = actions.acceptance_refusal(invitation=invitation, by=_user(request))
    if request.method == "POST":
        try:
            actions.accept_invitation(token=token, by=_user(request))
        except EmailNotVerified as exc:
            refusal = exc  # the page itself says how to verify, with the button to resend the link
        else:
            messages.success(request, _("Welcome to %(org)s.") % {"org": invitation.organisation.name})
            return redirect("organisations:detail", invitation.organisation.slug)
    return render(
        request,
        "organisations/accept.html",
        {
            "invitation": invitation,
            "refusal": refusal.detail if refusal else "",
            "refusal_code": refusal.code if refusal else "",
        },
        status=refusal.status if refusal and request.method == "POST" else 200,
    )
