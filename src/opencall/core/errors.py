"""Domain errors. Actions raise these; the API maps them to problem+json, views to messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: dict[str, list[str]] = {k: [str(m) for m in v] for k, v in (errors or {}).items()}


class NotAuthenticated(DomainError):
    status = 401
    code = "not-authenticated"
    title = "Authentication required"


class PermissionDenied(DomainError):
    status = 403
    code = "permission-denied"
    title = "Permission denied"


class EmailNotVerified(PermissionDenied):
    """Something was granted to an address, and the caller has not yet proved that it is theirs."""

    code = "email-not-verified"
    title = "Email address not verified"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PhaseClosed(Conflict):
    code = "phase-closed"
    title = "Not allowed in the current phase"


class InvalidInput(DomainError):
    status = 422
    code = "invalid-input"
    title = "Invalid input"
