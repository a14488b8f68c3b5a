"""The root API: one NinjaAPI, a router per app, problem+json (RFC 9457) for every error.

Every way a request can fail under /api/ answers `application/problem+json`: domain errors from
actions, request-shape errors (422), unparsable bodies (400), unknown routes (404), wrong methods
(405), oversized requests (413). Unexpected exceptions are logged and answered with a bare 500
problem that reveals nothing of the server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ninja
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.urls import URLPattern, URLResolver, re_path, reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import DocsBase

from opencall.accounts.api import router as accounts_router
from opencall.challenges.api import router as challenges_router
from opencall.community.api import router as community_router
from opencall.core.errors import DomainError
from opencall.core.problem import problem
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

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
        ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for code, text in _ERROR_DESCRIPTIONS.items():
                    if code == "401" and not operation.get("security"):
                        continue
                    responses.setdefault(code, {"description": text, "content": ref})
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
    response = problem(exc.status, exc.title, exc.detail, code=exc.code, errors=exc.errors)
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


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("Unhandled error in %s %s", request.method, request.path)
    return problem(
        500, _("Server error"), _("Something went wrong on our side; it has been logged."), code="server-error"
    )
