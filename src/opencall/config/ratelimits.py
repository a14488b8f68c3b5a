"""Which requests count against which rate limit, in one table, and the middleware that applies it.

Pages are named by URL name, API operations by method and path as the OpenAPI document writes them.
Every other POST/PUT/PATCH/DELETE counts as "write", so a write added later is limited from its first
day. The limits themselves are settings (OPENCALL_RATE_LIMITS); the counting is `opencall.core.ratelimit`.

A refused API call answers 429 problem+json with Retry-After. A refused form answers 429 with the page the
person was on and the reason as a message on it: the form's own page rendered as a GET, else the page
that sent the form (its Referer); an HTMX request gets the message swapped into the page's message area.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from opencall.accounts.api_auth import viewer
from opencall.core import ratelimit
from opencall.core.errors import DomainError
from opencall.voting.queries import DEVICE_COOKIE, browser_holds_device

log = logging.getLogger("opencall.ratelimit")

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READS = frozenset({"GET", "HEAD"})


def _url_kwarg(name: str) -> Callable[[HttpRequest, dict[str, Any]], str]:
    return lambda request, kwargs: str(kwargs.get(name, ""))


def _posted(name: str) -> Callable[[HttpRequest, dict[str, Any]], str]:
    return lambda request, kwargs: str(request.POST.get(name, "")).strip().lower()


def _mints_a_device(request: HttpRequest, kwargs: dict[str, Any]) -> bool:
    return not browser_holds_device(str(kwargs.get("code", "")), request.COOKIES.get(DEVICE_COOKIE, ""))


@dataclass(frozen=True)
class Limited:
    scope: str
    methods: frozenset[str] = UNSAFE
    # The "target" key, when the scope has one: the live vote a device joins, the address a reset goes to.
    target: Callable[[HttpRequest, dict[str, Any]], str] | None = None
    # Whether this request counts at all (None: every request of these methods does).
    when: Callable[[HttpRequest, dict[str, Any]], bool] | None = None


PAGES: dict[str, Limited] = {
    "ideas:create": Limited("idea"),
    "community:comment": Limited("comment"),
    "community:idea_report": Limited("report"),
    "community:comment_report": Limited("report"),
    "community:like": Limited("like"),
    "community:follow": Limited("follow"),
    "community:challenge_join": Limited("follow"),
    "review:compare": Limited("crowd-vote"),
    "funding:ballot": Limited("ballot"),
    "review:review": Limited("review"),
    "organisations:invite": Limited("invitation"),
    "ideas:team_invite": Limited("invitation"),
    "ideas:team_join": Limited("join-request"),
    "accounts:tokens": Limited("token"),
    "account_signup": Limited("sign-up"),
    "account_login": Limited("sign-in"),
    "admin:login": Limited("sign-in"),
    "account_reset_password": Limited("password-reset", target=_posted("email")),
    # The phone voter page mints a device token for a browser that does not hold this vote's device yet.
    "voting:vote": Limited("live-device", READS, target=_url_kwarg("code"), when=_mints_a_device),
}

API: dict[str, str] = {
    "POST /api/challenges/{slug}/ideas": "idea",
    "POST /api/ideas/{idea_id}/comments": "comment",
    "POST /api/ideas/{idea_id}/report": "report",
    "POST /api/comments/{comment_id}/report": "report",
    "POST /api/ideas/{idea_id}/like": "like",
    "DELETE /api/ideas/{idea_id}/like": "like",
    "POST /api/ideas/{idea_id}/follow": "follow",
    "DELETE /api/ideas/{idea_id}/follow": "follow",
    "POST /api/challenges/{slug}/follow": "follow",
    "DELETE /api/challenges/{slug}/follow": "follow",
    "POST /api/challenges/{slug}/pairs": "crowd-vote",
    "PUT /api/challenges/{slug}/budget-ballot": "ballot",
    "DELETE /api/challenges/{slug}/budget-ballot": "ballot",
    "PUT /api/reviews/assignments/{assignment_id}": "review",
    "POST /api/teams/{team_id}/invitations": "invitation",
    "POST /api/teams/{team_id}/join-requests": "join-request",
    "POST /api/me/tokens": "token",
}

# Never limited: leaving must always work.
EXEMPT = frozenset({"account_logout"})

_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def limit_for(request: HttpRequest) -> Limited | None:
    match = request.resolver_match
    method = request.method or "GET"
    if match is None or match.view_name in EXEMPT:
        return None
    if match.namespace == "api":
        path = _PARAM.sub(r"{\1}", match.route)
        scope = API.get(f"{method} /{path}")
        if scope is not None:
            return Limited(scope)
    else:
        page = PAGES.get(match.view_name)
        if page is not None and method in page.methods:
            return page
    return Limited("write") if method in UNSAFE else None


def _account(request: HttpRequest) -> str:
    if request.path.startswith("/api/"):
        try:
            who = viewer(request)
        except DomainError:  # a bad token or a missing CSRF header: the API refuses it anyway
            return ""
    else:
        who = getattr(request, "user", None)  # type: ignore[assignment]
    return str(who.pk) if who is not None and who.is_authenticated else ""


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        limited = limit_for(request)
        if limited is None or (limited.when is not None and not limited.when(request, kwargs)):
            return None
        identities = {
            ratelimit.ACCOUNT: _account(request),
            ratelimit.ADDRESS: ratelimit.client_address(request),
            ratelimit.TARGET: limited.target(request, kwargs) if limited.target else "",
        }
        refusal = ratelimit.hit(limited.scope, identities)
        if refusal is None:
            return None
        if request.path.startswith("/api/"):
            return ratelimit.too_many_problem(refusal)
        response = _refused_page(request, refusal)
        response["Retry-After"] = str(refusal.retry_after)
        return response


def _refused_page(request: HttpRequest, refusal: ratelimit.Refusal) -> HttpResponse:
    text = refusal.message
    if getattr(request, "htmx", False):
        response = render(request, "partials/rate_limited.html", {"message": text}, status=429)
        # The form stays as typed; the reason goes to the page's message area (base.html).
        response["HX-Retarget"] = "#messages"
        response["HX-Reswap"] = "innerHTML show:top"
        return response
    if request.method in UNSAFE:
        messages.error(request, text)
        page = _same_page(request)
        if page is not None:
            page.status_code = 429
            return page
        text = ""  # the message above already says it
    return render(request, "error.html", {"title": _("Too many requests"), "detail": text}, status=429)


def _same_page(request: HttpRequest) -> HttpResponse | None:
    """The page the refused form lives on, rendered as a plain GET, or None."""
    candidates = [request.path]
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        parts = urlsplit(referer)
        candidates.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    request.method = "GET"
    request.META["REQUEST_METHOD"] = "GET"
    request.POST = QueryDict()
    for candidate in candidates:
        path, _, query = candidate.partition("?")
        try:
            match = resolve(path)
        except Resolver404:
            continue
        if match.namespace == "api" or (match.view_name in PAGES and PAGES[match.view_name].methods == READS):
            continue
        request.GET = QueryDict(query)
        try:
            response: Any = match.func(request, *match.args, **match.kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
        except (Http404, DjangoPermissionDenied, DomainError):
            continue
        if isinstance(response, HttpResponse) and response.status_code == 200:
            return response
    return None
