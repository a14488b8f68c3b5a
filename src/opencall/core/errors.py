"""Domain errors. Actions raise these; the API maps them to problem+json, views to messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DomainError(Exception):
    """`detail` is the translated message for this case; `title` names the kind of error (translated
    when shown: the API's problem+json and the web's error page)."""

    status = 400
    code = "bad-request"
    title: StrOrPromise = _("Bad request")

    def __init__(self, detail: str, *, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: dict[str, list[str]] = {k: [str(m) for m in v] for k, v in (errors or {}).items()}


class NotAuthenticated(DomainError):
    status = 401
    code = "not-authenticated"
    title = _("Authentication required")


class PermissionDenied(DomainError):
    status = 403
    code = "permission-denied"
    title = _("Permission denied")


class EmailNotVerified(PermissionDenied):
    """Something was granted to an address, and the caller has not yet proved that it is theirs."""

    code = "email-not-verified"
    title = _("Email address not verified")


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = _("Not found")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = _("Conflict")


class PhaseClosed(Conflict):
    code = "phase-closed"
    title = _("Not allowed in the current phase")


class InvalidInput(DomainError):
    status = 422
    code = "invalid-input"
    title = _("Invalid input")
