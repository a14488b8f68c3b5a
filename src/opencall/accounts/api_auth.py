"""Who is calling the API: a personal token (Authorization: Bearer oc_…) or the UI's session.

Session writes must carry the CSRF token, exactly as forms do; token calls need none.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _

from opencall.accounts.actions import user_for_token
from opencall.accounts.models import User
from opencall.core.errors import NotAuthenticated, PermissionDenied

_SAFE = {"GET", "HEAD", "OPTIONS"}


def _csrf_ok(request: HttpRequest) -> bool:
    def _noop(request: HttpRequest) -> Any:
        return None

    check = CsrfViewMiddleware(_noop)
    check.process_request(request)
    return check.process_view(request, None, (), {}) is None  # type: ignore[arg-type]


def viewer(request: HttpRequest) -> User | AnonymousUser:
    """The caller, or AnonymousUser. A bad token is an error, not a silent anonymous call."""
    cached = getattr(request, "_opencall_viewer", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    who: User | AnonymousUser
    if header:
        scheme, _sep, credential = header.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise NotAuthenticated(_("Use 'Authorization: Bearer <token>'."))
        user = user_for_token(credential.strip())
        if user is None:
            raise NotAuthenticated(_("The API token is unknown or revoked."))
        who = user
    else:
        session_user = getattr(request, "user", None)
        who = session_user if session_user is not None and session_user.is_authenticated else AnonymousUser()
        if who.is_authenticated and request.method not in _SAFE and not _csrf_ok(request):
            raise PermissionDenied(_("CSRF check failed: send the X-CSRFToken header with session requests."))
    request._opencall_viewer = who  # type: ignore[attr-defined]
    return who


def require_user(request: HttpRequest) -> User:
    who = viewer(request)
    if not who.is_authenticated:
        raise NotAuthenticated(_("Sign in or send a personal API token."))
    assert isinstance(who, User)
    return who
