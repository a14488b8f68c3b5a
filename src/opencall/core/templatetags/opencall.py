"""Template filters shared by every app's pages: Markdown, money, phases, small form helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from opencall.core.markdown import render_markdown
from opencall.core.money import format_money

register = template.Library()

# core sits below challenges, so it cannot import the phase module; the challenges app hands its
# labels over when it is ready (ChallengesConfig.ready) and this filter only looks them up.
_PHASE_LABELS: dict[str, Any] = {}


def use_phase_labels(labels: Mapping[Any, Any]) -> None:
    """Called once by the challenges app with `phases.LABELS`."""
    _PHASE_LABELS.clear()
    _PHASE_LABELS.update({str(k): v for k, v in labels.items()})


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> SafeString:
    """User Markdown rendered through the one sanitiser; safe to output unescaped."""
    return mark_safe(render_markdown(text or ""))  # noqa: S308 -- render_markdown sanitises with nh3


@register.filter(name="money")
def money(amount_minor: int | None, currency: str = "EUR") -> str:
    """`{{ challenge.budget_minor|money:challenge.currency }}` → "12,500.00 EUR"; empty when None."""
    return format_money(amount_minor, currency or "EUR")


@register.filter(name="phase_label")
def phase_label(phase: str | None) -> str:
    """The translated name of a phase kind ("submission" → "Submission")."""
    if not phase:
        return ""
    return str(_PHASE_LABELS.get(str(phase), phase))


@register.filter(name="get_item")
def get_item(mapping: Any, key: Any) -> Any:
    """`{{ counts|get_item:phase }}` for dicts in templates; None when missing."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter(name="add_class")
def add_class(field: Any, css: str) -> Any:
    """Render a bound field's widget with an extra CSS class."""
    return field.as_widget(attrs={"class": css})


@register.filter(name="oneline", is_safe=True)
def oneline(value: Any) -> str:
    """Collapse runs of whitespace (e.g. an indented block used as a page title) to single spaces."""
    return " ".join(str(value).split())
