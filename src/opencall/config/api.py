"""The root API: one NinjaAPI, a router per app, problem+json (RFC 9457) for every error.

Every way a request can fail under /api/ answers `application/problem+json`: domain errors from
actions, request-shape errors (422), unparsable bodies (400), unknown routes (404), wrong methods
(405), oversized requests (413). Unexpected exceptions are logged and answered with a bare 500
problem that reveals nothing of the server.

Failures Django answers before any API view runs (a CSRF refusal, a disallowed Host header, a body
too large for a middleware to read, an exception in a middleware) go through the project's error
views below, which answer a problem under /api/ and Django's usual page elsewhere; and
`ApiProblemMiddleware` rewrites whatever error still reaches an API client as HTML (DEBUG's
technical pages) into a problem with the same status.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ninja
from django.core.exceptions import DisallowedHost, RequestDataTooBig, SuspiciousOperation
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.urls import URLPattern, URLResolver, re_path, reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import csrf as django_csrf
from django.views import defaults as django_defaults
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import DocsBase

from opencall.accounts.api import router as accounts_router
from opencall.challenges.api import router as challenges_router
from opencall.community.api import router as community_router
from opencall.core.errors import DomainError
from opencall.core.problem import problem
from opencall.core.unavailable import ServiceUnavailable, unavailable_response
from opencall.funding.api import router as funding_router
from opencall.ideas.api import router as ideas_router
from opencall.organisations.api import router as organisations_router
from opencall.review.api import router as review_router

log = logging.getLogger("opencall.api")

DESCRIPTION = """\
The Opencall JSON API: challenges, ideas, teams, comments, likes, follows and notifications.

**Authentication.** Integrations send a personal token, `Authorization: Bearer oc_…` (create one
with `POST /api/me/tokens`; it is shown once). The web UI's session cookie works too; writes made
with the session must carry the CSRF token in the `X-CSRFToken` header. Reads of public content
need no authentication.

**Lists** take `limit` (1-100, default 20) and `offset` and answer `{"count", "limit", "offset",
"items"}`.

**Errors** are `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail` and,
for invalid input, `errors` mapping each field to its messages.

**Rate limits.** Writes are limited per account and per client address; past a limit the answer is
429 with a `Retry-After` header (seconds).
"""

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages per field, for invalid input.",
        },
    },
    "required": ["type", "title", "status", "detail"],
}

_ERROR_DESCRIPTIONS = {
    "400": "Malformed request",
    "401": "Authentication required",
    "403": "Permission denied",
    "404": "Not found",
    "409": "Conflict with the current state (e.g. the phase does not allow it)",
    "422": "Invalid input",
    "503": "The database is busy, full or restarting: nothing was saved; retry after `Retry-After` seconds",
}

_TOO_MANY: dict[str, Any] = {
    "description": "Rate limited: too many of these requests from your account or network; retry after "
    "`Retry-After` seconds",
    "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}


class OpencallAPI(NinjaAPI):
    """NinjaAPI whose URL table also answers unknown routes and wrong methods with problems."""

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls: list[URLResolver | URLPattern] = []
        for pattern in super()._get_urls():
            if isinstance(pattern, URLPattern) and pattern.name == "api-root":
                pattern = URLPattern(pattern.pattern, _index, pattern.default_args, pattern.name)
            elif isinstance(pattern, URLPattern):
                pattern = URLPattern(
                    pattern.pattern, _problem_405(pattern.callback), pattern.default_args, pattern.name
                )
            urls.append(pattern)
        urls.append(re_path(r"^docs/assets/(?P<name>[\w.-]+)$", _docs_asset, name="docs-asset"))
        urls.append(re_path(r"^.*$", _unknown_route, name="unknown-route"))
        return urls

    def validation_error_from_error_contexts(self, error_contexts: list[Any]) -> ValidationError:
        # ninja drops each error's input (it may be long or secret); keep only whether it was null, so a
        # null sent for a field that may be left out but not cleared gets a plain message.
        nulls = [
            err.get("input", "") is None
            for context in error_contexts
            for err in context.pydantic_validation_error.errors(include_url=False)
        ]
        error = super().validation_error_from_error_contexts(error_contexts)
        for err, was_null in zip(error.errors, nulls, strict=True):
            if was_null:
                err["null_input"] = True
        return error

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
        ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for code, text in _ERROR_DESCRIPTIONS.items():
                    if code == "401" and not operation.get("security"):
                        continue
                    responses.setdefault(code, {"description": text, "content": ref})
                # Every write is rate limited (opencall.config.ratelimits).
                if method.lower() in {"post", "put", "patch", "delete"}:
                    responses.setdefault("429", _TOO_MANY | {"content": ref})
        return schema


_ASSETS = Path(ninja.__file__).parent / "static" / "ninja"
_ASSET_TYPES = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-init.js": "text/javascript",
    "favicon.png": "image/png",
}
_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <link rel="stylesheet" href="{css}">
  <link rel="icon" href="{icon}" type="image/png">
</head>
<body data-csrf-token="{token}" data-api-csrf="true">
  <script type="application/json" id="swagger-settings">{settings}</script>
  <div id="swagger-ui"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"""


class VendoredSwagger(DocsBase):
    """Swagger UI from the copy shipped inside django-ninja (no CDN), sending the session's CSRF
    token with "Try it out" requests so a signed-in person can call writes from the page."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        def asset(name: str) -> str:
            return reverse(f"{api.urls_namespace}:docs-asset", kwargs={"name": name})

        # validatorUrl None: Swagger UI would otherwise show a badge image fetched from
        # validator.swagger.io with our document's URL, which the CSP (img-src) refuses anyway.
        settings = json.dumps(
            {"layout": "BaseLayout", "deepLinking": True, "url": self.get_openapi_url(api, kwargs),
             "validatorUrl": None}
        ).replace("<", "\\u003c")
        return HttpResponse(
            _DOCS_PAGE.format(
                title=escape(api.title),
                css=asset("swagger-ui.css"),
                icon=asset("favicon.png"),
                token=escape(get_token(request)),
                settings=settings,
                bundle=asset("swagger-ui-bundle.js"),
                init=asset("swagger-ui-init.js"),
            )
        )


def _docs_asset(request: HttpRequest, name: str) -> HttpResponseBase:
    if name not in _ASSET_TYPES:
        return _unknown_route(request)
    response = FileResponse((_ASSETS / name).open("rb"), content_type=_ASSET_TYPES[name])
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _problem_405(view: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.method == "HEAD":
            # HEAD is GET without the body (RFC 9110); ninja only routes the methods it was given.
            request.method = "GET"
            response = view(request, *args, **kwargs)
            request.method = "HEAD"
            if not isinstance(response, HttpResponseNotAllowed):
                if not response.streaming:
                    response["Content-Length"] = str(len(response.content))
                    response.content = b""
                return response
        else:
            response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = ", ".join(sorted(response["Allow"].split(", ")))
            answer = problem(
                405,
                _("Method not allowed"),
                _("%(method)s is not allowed here; use %(allowed)s.") % {"method": request.method, "allowed": allowed},
                code="method-not-allowed",
            )
            answer["Allow"] = allowed
            return answer
        return response

    wrapped.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapped


def _index(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        answer: HttpResponse = _problem_405(lambda r: HttpResponseNotAllowed(["GET"]))(request)
        return answer
    return JsonResponse(
        {
            "title": api.title,
            "version": api.version,
            "openapi": reverse("api:openapi-json"),
            "docs": reverse("api:openapi-view"),
        }
    )


# Exempt from CSRF so that a write to a path no endpoint matches (`/api/challenges/%C3%A9x/follow`, whose
# slug the route refuses) is told the truth, 404, rather than a CSRF refusal about a request that could
# never have done anything.
@csrf_exempt
def _unknown_route(request: HttpRequest) -> HttpResponse:
    detail = _("There is no API endpoint at %(path)s.") % {"path": request.path}
    return problem(404, _("Not found"), detail, code="no-such-endpoint")


api = OpencallAPI(
    title="Opencall API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    docs=VendoredSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("", accounts_router)
api.add_router("", organisations_router)
api.add_router("", challenges_router)
api.add_router("", ideas_router)
api.add_router("", community_router)
api.add_router("", funding_router)
api.add_router("", review_router)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = problem(exc.status, str(exc.title), exc.detail, code=exc.code, errors=exc.errors)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="opencall"'
    return response


_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}
_WRAPPERS = {"payload", "filters", "upload"}


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """`('body', 'payload', 'answers', 'size')` → `answers.size`: the name the client sent."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if parts and parts[0] in _WRAPPERS:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        msg = str(err.get("msg", _("Invalid value.")))
        if err.get("type") == "missing":
            msg = _("This field is required.")
        elif err.get("type") == "extra_forbidden":
            msg = _("Unknown field.")
        elif err.get("null_input"):
            # A field that may be left out but not cleared: the document does not declare it nullable.
            msg = _("This field cannot be null.")
        errors.setdefault(_field_name(err.get("loc", ())), []).append(msg)
    fields = ", ".join(sorted(errors))
    detail = _("Check these fields: %(fields)s.") % {"fields": fields}
    return problem(422, _("Invalid input"), detail, code="invalid-input", errors=errors)


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem(
        401, _("Authentication required"), _("Sign in or send a personal API token."), code="not-authenticated"
    )
    response["WWW-Authenticate"] = 'Bearer realm="opencall"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        return problem(
            400, _("Malformed request body"), _("The request body is not valid JSON."), code="malformed-body"
        )
    return problem(exc.status_code, _("Error"), str(exc), code="http-error")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(404, _("Not found"), _("No such resource."), code="not-found")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return problem(
        413, _("Request too large"), _("The request body is larger than the server accepts."), code="too-large"
    )


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return problem(400, _("Malformed request body"), _("The multipart body could not be read."), code="malformed-body")


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    return problem(400, _("Bad request"), _("The request was refused as malformed."), code="bad-request")


# -- A busy, full or unreachable database (docs/decisions/0010) -------------------------------------
# ServiceUnavailable is raised by our database backends for the errors that mean "try again later";
# a full disk on an upload is the same condition. Every other OSError is unexpected (500).
@api.exception_handler(ServiceUnavailable)
def _service_unavailable(request: HttpRequest, exc: ServiceUnavailable) -> HttpResponse:
    answer = unavailable_response(request, exc)
    assert answer is not None
    return answer


@api.exception_handler(OSError)
def _os_error(request: HttpRequest, exc: OSError) -> HttpResponse:
    return unavailable_response(request, exc) or _unexpected(request, exc)


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("Unhandled error in %s %s", request.method, request.path)
    return _server_error_problem()


# Errors answered outside the API's views ----------------------------------------------------------


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a 403 problem under /api/ (the same answer the API's own session check
    gives), Django's page elsewhere."""
    if is_api_request(request):
        return problem(
            403,
            _("Permission denied"),
            _("CSRF check failed: send the X-CSRFToken header with session requests."),
            code="permission-denied",
        )
    return django_csrf.csrf_failure(request, reason)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: Django's answer to SuspiciousOperation (DisallowedHost, a body too large or with too
    many fields for a middleware to read, a malformed multipart body) raised outside a view."""
    if not is_api_request(request):
        return django_defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return _too_big(request, exception)
    if isinstance(exception, DisallowedHost):
        return problem(400, _("Bad request"), _("The Host header names a site this server does not serve."),
                       code="bad-request")
    if isinstance(exception, MultiPartParserError):
        return _bad_multipart(request, exception)
    return problem(400, _("Bad request"), _("The request was refused as malformed."), code="bad-request")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: Django's PermissionDenied raised outside the API's views."""
    if not is_api_request(request):
        return django_defaults.permission_denied(request, exception)
    return problem(403, _("Permission denied"), _("You may not do this."), code="permission-denied")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: Http404 raised outside the API's views (unknown API routes have their own view)."""
    if not is_api_request(request):
        return django_defaults.page_not_found(request, exception)
    return _unknown_route(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an exception that escaped a middleware (the API's views catch their own). A database
    that failed there (loading the session or the user) answers 503 with Retry-After, not 500."""
    exc = sys.exc_info()[1]
    unavailable = unavailable_response(request, exc) if exc is not None else None
    if unavailable is not None:
        return unavailable
    if not is_api_request(request):
        return django_defaults.server_error(request)
    return _server_error_problem()


def _server_error_problem(status: int = 500) -> HttpResponse:
    return problem(
        status, _("Server error"), _("Something went wrong on our side; it has been logged."), code="server-error"
    )


_PROBLEM_TYPE = "application/problem+json"
_TITLES = {
    400: _lazy("Bad request"),
    403: _lazy("Permission denied"),
    404: _lazy("Not found"),
    405: _lazy("Method not allowed"),
    413: _lazy("Request too large"),
}


class ApiProblemMiddleware:
    """Last line: an error answer under /api/ that is not a problem yet (DEBUG's technical 400/404/500
    pages, or anything a future middleware answers in HTML) becomes a bare problem with its status.

    It goes first in MIDDLEWARE so it sees the answers of every other middleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not is_api_request(request)
            or response.get("Content-Type", "").startswith(_PROBLEM_TYPE)
        ):
            return response
        if response.status_code >= 500:
            answer = _server_error_problem(response.status_code)
        else:
            answer = problem(
                response.status_code,
                str(_TITLES.get(response.status_code, _("Error"))),
                _("The request could not be handled (HTTP %(status)s).") % {"status": response.status_code},
                code="http-error",
            )
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                answer[header] = response[header]
        return answer
