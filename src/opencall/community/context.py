"""Template context every page's navigation needs from this app."""

from __future__ import annotations

from functools import partial
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from opencall.accounts.models import User
from opencall.community.queries import can_moderate_any


def navigation(request: HttpRequest) -> dict[str, Any]:
    """`can_moderate`: whether the Moderation link is shown, by the very predicate the moderation page
    checks, so the link never leads to a 403. A callable: templates evaluate it only where the link is
    drawn (HTMX fragments never pay for its queries)."""
    user = cast(User, getattr(request, "user", None) or AnonymousUser())
    return {"can_moderate": partial(can_moderate_any, user)}
