"""Account pages: profile, notifications, API tokens. Parse, call one query or action, render."""

from __future__ import annotations

import zoneinfo
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opencall.accounts import actions, queries
from opencall.accounts.forms import ProfileForm, TokenForm
from opencall.accounts.models import User
from opencall.core.errors import InvalidInput
from opencall.core.web import add_form_errors, local_url, parse_id

PAGE_SIZE = 25


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _optional_url(name: str, *args: object) -> str:
    """A URL another app may or may not provide yet (the profile's idea list lives in `ideas`)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def profile(request: HttpRequest, user_id: int) -> HttpResponse:
    person = queries.person_for(user_id)
    context = {
        "person": person,
        "skills": list(person.skills.all()),
        "languages": [lang.strip() for lang in person.languages.split(",") if lang.strip()],
        "is_me": request.user.is_authenticated and request.user.pk == person.pk,
        "ideas_url": _optional_url("ideas:user_ideas", person.pk),
    }
    return render(request, "accounts/profile.html", context)


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    me = _user(request)
    if request.method == "POST":
        form = ProfileForm(request.POST)
    else:
        form = ProfileForm(
            initial={
                "display_name": me.display_name,
                "bio": me.bio,
                "languages": me.languages,
                "timezone": me.timezone,
                "skills": ", ".join(s.name for s in me.skills.all()),
            }
        )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_profile(
                user=me,
                by=me,
                display_name=form.cleaned_data["display_name"],
                bio=form.cleaned_data["bio"],
                skills=form.skill_list(),
                languages=form.cleaned_data["languages"],
                timezone_name=form.cleaned_data["timezone"],
            )
        except InvalidInput as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("accounts:profile", me.pk)
    return render(
        request,
        "accounts/profile_edit.html",
        {"form": form, "timezones": sorted(zoneinfo.available_timezones())},
        status=422 if form.errors else 200,
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    rows = queries.notifications_for(_user(request), unread_only=unread_only)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/notifications.html",
        {
            "page": page,
            "notifications": page.object_list,
            "unread_only": unread_only,
            "query": "unread=1&" if unread_only else "",
        },
    )


@login_required
@require_POST
def notifications_read(request: HttpRequest) -> HttpResponse:
    raw = request.POST.getlist("id")
    ids = [i for i in map(parse_id, raw) if i is not None] if raw else None
    count = actions.mark_notifications_read(user=_user(request), ids=ids)
    if count:
        messages.success(request, _("Marked %(n)s as read.") % {"n": count})
    return redirect(local_url(request, request.POST.get("next", ""), reverse("accounts:notifications")))


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    me = _user(request)
    form = TokenForm(request.POST or None)
    clear = ""
    if request.method == "POST" and form.is_valid():
        try:
            _token, clear = actions.issue_token(user=me, label=form.cleaned_data["label"])
        except InvalidInput as exc:
            add_form_errors(form, exc)
        else:
            form = TokenForm()
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": list(queries.active_tokens(me)), "clear_token": clear},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    actions.revoke_token(token_id=token_id, by=_user(request))
    messages.success(request, _("Token revoked. Integrations using it stop working now."))
    return redirect("accounts:tokens")
