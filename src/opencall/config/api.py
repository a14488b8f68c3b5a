"""The root API: one NinjaAPI, a router per app, problem+json for every error."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from opencall.core.errors import DomainError
from opencall.core.problem import problem

api = NinjaAPI(title="Opencall API", version="1", urls_namespace="api", docs_url="/docs",
               openapi_url="/openapi.json")


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem(exc.status, exc.title, exc.detail, code=exc.code, errors=exc.errors)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path"))
        errors.setdefault(loc or "request", []).append(str(err.get("msg", "invalid")))
    return problem(422, "Invalid input", "The request does not match the expected shape.", code="invalid-input",
                   errors=errors)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(401, "Authentication required", "Sign in or send a personal API token.", code="not-authenticated")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(exc.status_code, "Error", str(exc), code="http-error")
