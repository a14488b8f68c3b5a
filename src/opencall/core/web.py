"""How views present domain errors: field errors on the form, or a message, never a 500."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from opencall.core.errors import DomainError
from opencall.core.schemas import MAX_ID


def add_form_errors(form: forms.Form, exc: DomainError) -> None:
    """Put an action's errors on the matching form fields; the rest become non-field errors."""
    placed = False
    for key, messages in exc.errors.items():
        name = key.replace("answers.", "field_") if key.startswith("answers.") else key
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, exc.detail)


def parse_id(raw: object) -> int | None:
    """A database id typed into a form ("12"), or None for anything else: words, "²" (a digit to
    `str.isdigit` that `int` refuses), or numbers no key column holds (which crash the query)."""
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def local_url(request: HttpRequest, target: str, default: str) -> str:
    """`target` if it is a path on this site (a `next` parameter), else `default`."""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def error_page(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(request, "error.html", {"title": exc.title, "detail": exc.detail}, status=exc.status)


class DomainErrorMiddleware:
    """A DomainError escaping a view becomes a page with its status (403, 404, 409, ...)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, DomainError) and not request.path.startswith("/api/"):
            return error_page(request, exc)
        return None
