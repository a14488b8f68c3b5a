"""Live-vote pages: organiser console, projector, phone voter page, results.

Votes themselves never come here: the phone posts them to the fast path (opencall.voting.live, served
as opencall.voting.fastpath:app), whose base URL is settings.OPENCALL_LIVE_URL (empty: same origin, with
/live/api/ routed to the fast path).
"""

from __future__ import annotations

import io
from typing import cast

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opencall.accounts.models import User
from opencall.core import ratelimit
from opencall.core.errors import DomainError, InvalidInput
from opencall.core.web import add_form_errors
from opencall.voting import actions, queries
from opencall.voting.forms import (
    ExtendForm,
    LiveVoteForm,
    RedeemForm,
    RewardGenerateForm,
    RewardUploadForm,
    StopForm,
)
from opencall.voting.models import LiveVote

# The anonymous device a browser holds for one live vote: the signed device token itself (the
# signature is what makes it unforgeable), kept for the voter page's path only.
DEVICE_COOKIE = queries.DEVICE_COOKIE
DEVICE_COOKIE_AGE = 3 * 24 * 3600  # longer than any live vote: 24 hours, plus extensions


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def live_url() -> str:
    return str(settings.OPENCALL_LIVE_URL)


def _qr_svg(url: str) -> SafeString:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = svg[svg.index("<svg") :]
    # Generated from our own URL by the qrcode package: no user markup inside.
    return mark_safe(svg)  # noqa: S308


@login_required
def live_list(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _user(request)
    challenge = queries.organised_challenge_for(viewer, slug)
    live_votes = queries.live_votes_of(viewer, challenge)
    form = LiveVoteForm(request.POST or None, candidates=queries.finalist_candidates(viewer, challenge))
    if request.method == "POST" and form.is_valid():
        try:
            live_vote = actions.create_live_vote(
                challenge=challenge,
                by=viewer,
                title=form.cleaned_data["title"],
                finalist_ids=[i.pk for i in form.cleaned_data["finalists"]],
                duration_seconds=form.cleaned_data["duration_seconds"],
                sign_in_required=form.cleaned_data["sign_in_required"],
            )
        except InvalidInput as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Live vote created. Start it from its console when the show begins."))
            return redirect("voting:console", live_vote.code)
    return render(
        request,
        "voting/list.html",
        {"challenge": challenge, "live_votes": live_votes, "form": form},
        status=422 if form.errors else 200,
    )


def _console_context(request: HttpRequest, live_vote: LiveVote) -> dict[str, object]:
    viewer = _user(request)
    return {
        "live_vote": live_vote,
        "stats": queries.live_stats(viewer, live_vote),
        "concentration": queries.vote_concentration(viewer, live_vote),
        "rewards": queries.reward_stats(viewer, live_vote),
        "extend_form": ExtendForm(),
        "upload_form": RewardUploadForm(),
        "generate_form": RewardGenerateForm(),
        "redeem_form": RedeemForm(),
        "short_link": request.build_absolute_uri(f"/v/{live_vote.code}/"),
        "live_url": live_url(),
    }


@login_required
def console(request: HttpRequest, code: str) -> HttpResponse:
    live_vote = queries.live_vote_for(_user(request), code, manage=True)
    return render(request, "voting/console.html", _console_context(request, live_vote))


def _console_action(request: HttpRequest, code: str, run: str) -> HttpResponse:
    viewer = _user(request)
    live_vote = queries.live_vote_for(viewer, code, manage=True)
    if run == "open":
        actions.open_live_vote(live_vote=live_vote, by=viewer)
        messages.success(request, _("Voting is open."))
    elif run == "publish":
        actions.publish_live_results(live_vote=live_vote, by=viewer)
        messages.success(request, _("Results published."))
    return redirect("voting:console", code)


@login_required
@require_POST
def open_vote(request: HttpRequest, code: str) -> HttpResponse:
    return _console_action(request, code, "open")


@login_required
def stop_vote(request: HttpRequest, code: str) -> HttpResponse:
    """Two steps, with or without JavaScript: GET asks for confirmation, and the POST stops voting
    only with the confirmation that page sends (an organiser's stray click ends nothing)."""
    viewer = _user(request)
    live_vote = queries.live_vote_for(viewer, code, manage=True)
    form = StopForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        actions.stop_live_vote(live_vote=live_vote, by=viewer)
        messages.success(request, _("Voting is closed and the final tally recorded."))
        return redirect("voting:console", code)
    actions.ensure_stoppable(live_vote)  # nothing to confirm otherwise: 409 with the reason
    context = {"live_vote": live_vote, "stats": queries.live_stats(viewer, live_vote), "form": form}
    return render(request, "voting/stop.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def publish_results(request: HttpRequest, code: str) -> HttpResponse:
    return _console_action(request, code, "publish")


@login_required
@require_POST
def extend_vote(request: HttpRequest, code: str) -> HttpResponse:
    viewer = _user(request)
    live_vote = queries.live_vote_for(viewer, code, manage=True)
    form = ExtendForm(request.POST)
    if form.is_valid():
        try:
            actions.extend_live_vote(live_vote=live_vote, by=viewer, seconds=form.cleaned_data["seconds"])
        except InvalidInput as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Voting time extended."))
            return redirect("voting:console", code)
    context = _console_context(request, live_vote) | {"extend_form": form}
    return render(request, "voting/console.html", context, status=422)


@login_required
@require_POST
def add_rewards(request: HttpRequest, code: str) -> HttpResponse:
    viewer = _user(request)
    live_vote = queries.live_vote_for(viewer, code, manage=True)
    generating = "count" in request.POST
    form: RewardGenerateForm | RewardUploadForm = (RewardGenerateForm if generating else RewardUploadForm)(request.POST)
    if form.is_valid():
        try:
            if isinstance(form, RewardGenerateForm):
                added = actions.generate_reward_codes(live_vote=live_vote, by=viewer, count=form.cleaned_data["count"])
            else:
                added = actions.upload_reward_codes(live_vote=live_vote, by=viewer, codes=form.cleaned_data["codes"])
        except InvalidInput as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("%(n)d reward codes added.") % {"n": added})
            return redirect("voting:console", code)
    key = "generate_form" if generating else "upload_form"
    return render(request, "voting/console.html", _console_context(request, live_vote) | {key: form}, status=422)


@login_required
@require_POST
def redeem(request: HttpRequest, code: str) -> HttpResponse:
    viewer = _user(request)
    live_vote = queries.live_vote_for(viewer, code, manage=True)
    form = RedeemForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            actions.redeem_reward_code(live_vote=live_vote, by=viewer, code=form.cleaned_data["code"])
        except DomainError as exc:
            add_form_errors(form, exc)
            status = exc.status
        else:
            messages.success(request, _("Code %(code)s redeemed.") % {"code": form.cleaned_data["code"]})
            return redirect("voting:console", code)
    return render(
        request, "voting/console.html", _console_context(request, live_vote) | {"redeem_form": form}, status=status
    )


def projector(request: HttpRequest, code: str) -> HttpResponse:
    live_vote = queries.live_vote_for(_user(request), code)
    short_link = request.build_absolute_uri(f"/v/{live_vote.code}/")
    return render(
        request,
        "voting/projector.html",
        {
            "live_vote": live_vote,
            "short_link": short_link,
            "qr": _qr_svg(short_link),
            "live_url": live_url(),
            "finalists": list(live_vote.finalists.all()),
        },
    )


def voter(request: HttpRequest, code: str) -> HttpResponse:
    viewer = _user(request)
    live_vote = queries.live_vote_for(viewer, code)
    if live_vote.sign_in_required and not viewer.is_authenticated:
        return redirect(f"{settings.LOGIN_URL}?next=/v/{live_vote.code}/")
    # A browser without this live vote's device gets a new one, tagged with its network for the console.
    # A client that drops its cookies comes back for one every time, so minting is capped per client
    # address and per live vote (the "live-device" rate limit, opencall.config.ratelimits).
    token = queries.device_for(
        viewer, live_vote, held=request.COOKIES.get(DEVICE_COOKIE, ""), address=ratelimit.client_ip(request)
    )
    response = render(
        request,
        "voting/voter.html",
        {
            "live_vote": live_vote,
            "token": token,
            "live_url": live_url(),
            "finalists": list(live_vote.finalists.all()),
            "has_rewards": queries.rewards_available(live_vote),
        },
    )
    if not live_vote.sign_in_required:
        # Reloading the page, or coming back to it, keeps the browser's one device (and ballot).
        response.set_cookie(
            DEVICE_COOKIE,
            token,
            max_age=DEVICE_COOKIE_AGE,
            path=f"/v/{live_vote.code}/",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response


@require_POST
def claim_reward(request: HttpRequest, code: str) -> HttpResponse:
    live_vote = queries.live_vote_for(_user(request), code)
    try:
        reward = actions.claim_reward_code(live_vote=live_vote, token=request.POST.get("token", ""))
    except DomainError as exc:
        return render(request, "voting/reward.html", {"error": exc.detail}, status=exc.status)
    return render(request, "voting/reward.html", {"reward": reward})


def results(request: HttpRequest, code: str) -> HttpResponse:
    viewer = _user(request)
    live_vote = queries.live_vote_for(viewer, code)
    return render(
        request,
        "voting/results.html",
        {
            "live_vote": live_vote,
            "rows": queries.final_results(viewer, live_vote),
            "events": queries.audit_trail(viewer, live_vote),
        },
    )
