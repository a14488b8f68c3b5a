"""API for the caller's own account: profile, personal tokens, notifications; public profiles.

Also defines `user_auth`, the authentication every router uses for calls that need a person.
"""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.security.base import AuthBase

from opencall.accounts import actions, queries
from opencall.accounts.api_auth import require_user, viewer
from opencall.accounts.models import User
from opencall.accounts.schemas import (
    MarkedOut,
    MarkReadIn,
    MeOut,
    NotificationFilters,
    NotificationPage,
    ProfileIn,
    ProfileOut,
    TokenCreatedOut,
    TokenIn,
    TokenPage,
    UnreadOut,
)
from opencall.core.pagination import page_of
from opencall.core.schemas import FilterSchema, IdPath


class UserAuth(AuthBase):
    """A personal token (`Authorization: Bearer oc_…`) or the UI's session with its CSRF token."""

    openapi_type = "http"
    openapi_scheme = "bearer"
    openapi_description = "A personal API token, `oc_…`. The web UI's session (with X-CSRFToken) works too."

    def __call__(self, request: HttpRequest) -> User:
        return require_user(request)


user_auth = UserAuth()

router = Router(tags=["people"])


def caller(request: HttpRequest) -> User:
    """The authenticated caller, as resolved by `user_auth` for this operation."""
    user: User = request.auth  # type: ignore[attr-defined]
    return user


def visitor(request: HttpRequest) -> User:
    """The caller or AnonymousUser (which answers the same questions: is_authenticated, pk…)."""
    return cast(User, viewer(request))


def page(filters: FilterSchema, rows: Any) -> dict[str, Any]:
    count, items = page_of(rows, limit=filters.limit, offset=filters.offset)
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": items}


@router.get("/me", response=MeOut, auth=user_auth, summary="Your profile")
def me(request: HttpRequest) -> User:
    return queries.own_profile(caller(request))


@router.patch("/me", response=MeOut, auth=user_auth, summary="Change your profile")
def update_me(request: HttpRequest, payload: ProfileIn) -> User:
    user = caller(request)
    sent = payload.model_dump(exclude_unset=True)

    def value(name: str, current: Any, empty: Any = "") -> Any:
        # Left out: keep the current value; sent as null: clear it.
        if name not in sent:
            return current
        return empty if sent[name] is None else sent[name]

    actions.update_profile(
        user=user,
        by=user,
        display_name=value("display_name", user.display_name),
        bio=value("bio", user.bio),
        skills=value("skills", [s.name for s in user.skills.all()], []),
        languages=value("languages", user.languages),
        timezone_name=value("timezone", user.timezone),
    )
    return me(request)


@router.get("/people/{user_id}", response=ProfileOut, summary="A person's public profile")
def person(request: HttpRequest, user_id: IdPath) -> User:
    visitor(request)
    return queries.person_for(user_id)


@router.get("/me/tokens", response=TokenPage, auth=user_auth, summary="Your active API tokens")
def tokens(request: HttpRequest, filters: Query[FilterSchema]) -> dict[str, Any]:
    return page(filters, queries.active_tokens(caller(request)))


@router.post(
    "/me/tokens",
    response={201: TokenCreatedOut},
    auth=user_auth,
    summary="Create an API token (its value is returned once)",
)
def create_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    token, clear = actions.issue_token(user=caller(request), label=payload.label)
    return Status(
        201,
        {
            "id": token.pk,
            "label": token.label,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "last_used_at": token.last_used_at,
            "token": clear,
        },
    )


@router.delete("/me/tokens/{token_id}", response={204: None}, auth=user_auth, summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: IdPath) -> Status[None]:
    actions.revoke_token(token_id=token_id, by=caller(request))
    return Status(204, None)


@router.get(
    "/notifications",
    response=NotificationPage,
    auth=user_auth,
    tags=["notifications"],
    summary="Your notifications, newest first",
)
def notifications(request: HttpRequest, filters: Query[NotificationFilters]) -> dict[str, Any]:
    return page(filters, queries.notifications_for(caller(request), unread_only=filters.unread))


@router.get(
    "/notifications/unread-count",
    response=UnreadOut,
    auth=user_auth,
    tags=["notifications"],
    summary="How many notifications are unread",
)
def unread_count(request: HttpRequest) -> dict[str, int]:
    return {"unread": queries.unread_notification_count(caller(request))}


@router.post(
    "/notifications/read",
    response=MarkedOut,
    auth=user_auth,
    tags=["notifications"],
    summary="Mark notifications as read (all, or the given ids)",
)
def mark_read(request: HttpRequest, payload: MarkReadIn | None = None) -> dict[str, int]:
    user = caller(request)
    marked = actions.mark_notifications_read(user=user, ids=payload.ids if payload else None)
    return {"marked": marked, "unread": queries.unread_notification_count(user)}
