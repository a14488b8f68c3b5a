"""Small server-drawn SVG charts: accessible (title, labels, a table beside) and no JavaScript."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = "",
              maximum: float | None = None, width: int = 560) -> SafeString:
    bar_h, gap, label_w = 26, 10, 190
    top = max(maximum or 0, *values, 1) if values else 1
    height = len(values) * (bar_h + gap) + gap
    span = width - label_w - 70
    parts = [f'<svg role="img" aria-labelledby="t" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for n, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = gap + n * (bar_h + gap)
        w = max(1, round(span * value / top))
        shown = f"{value:.0f}{unit}" if unit == "%" else f"{value:g}{unit}"
        parts.append(f'<text x="0" y="{y + 18}" font-size="13">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#0b5cad" rx="3"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 18}" font-size="13">{escape(shown)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every text node above is escaped
