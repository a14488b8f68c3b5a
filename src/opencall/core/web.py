"""How views present domain errors: field errors on the form, or a message, never a 500."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from opencall.core.errors import DomainError


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
