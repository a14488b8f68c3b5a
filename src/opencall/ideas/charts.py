"""Geometry for the dashboard's "ideas over time" chart, drawn as inline SVG by a template.

Daily submission counts become bars (left axis) and a cumulative line (right axis). Spans longer
than `WEEKLY_AFTER_DAYS` are grouped by ISO week so bars stay readable. O(days); month names follow the active language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.formats import date_format

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 44, 48, 16, 36
WEEKLY_AFTER_DAYS = 90


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    cumulative: int


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    weekly: bool
    bars: list[Bar]
    line: str  # SVG polyline points of the cumulative count
    y_ticks: list[Tick]  # per-bucket counts, left axis
    y2_ticks: list[Tick]  # cumulative counts, right axis
    x_ticks: list[Tick]
    total: int
    peak: int


def _nice_max(value: int) -> int:
    """Round an axis maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 1:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def _buckets(per_day: list[tuple[date, int]]) -> tuple[list[tuple[date, int]], bool]:
    counts = dict(per_day)
    first, last = min(counts), max(counts)
    weekly = (last - first).days > WEEKLY_AFTER_DAYS
    if weekly:
        first -= timedelta(days=first.weekday())
        step = timedelta(days=7)
    else:
        step = timedelta(days=1)
    out: list[tuple[date, int]] = []
    day = first
    while day <= last:
        out.append((day, sum(counts.get(day + timedelta(days=i), 0) for i in range(step.days))))
        day += step
    return out, weekly


def submissions_chart(per_day: list[tuple[date, int]]) -> Chart | None:
    """Chart geometry for (day, ideas submitted that day) pairs; None when there are none."""
    per_day = [(d, n) for d, n in per_day if n > 0]
    if not per_day:
        return None
    buckets, weekly = _buckets(per_day)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    peak = max(n for _, n in buckets)
    total = sum(n for _, n in buckets)
    y_max = _nice_max(peak)
    y2_max = _nice_max(total)
    slot = plot_w / len(buckets)
    bar_w = max(slot * 0.7, 1.0)
    bars: list[Bar] = []
    points: list[str] = []
    running = 0
    for i, (day, n) in enumerate(buckets):
        running += n
        h = plot_h * n / y_max
        x = LEFT + i * slot + (slot - bar_w) / 2
        bars.append(
            Bar(
                x=round(x, 1),
                y=round(TOP + plot_h - h, 1),
                width=round(bar_w, 1),
                height=round(h, 1),
                label=day.isoformat(),
                value=n,
                cumulative=running,
            )
        )
        cx = LEFT + (i + 0.5) * slot
        cy = TOP + plot_h - plot_h * running / y2_max
        points.append(f"{cx:.1f},{cy:.1f}")
    y_ticks = [
        Tick(pos=round(TOP + plot_h - plot_h * v / y_max, 1), label=str(v)) for v in sorted({0, y_max // 2, y_max})
    ]
    y2_ticks = [
        Tick(pos=round(TOP + plot_h - plot_h * v / y2_max, 1), label=str(v)) for v in sorted({0, y2_max // 2, y2_max})
    ]
    every = max(1, len(buckets) // 6)
    x_ticks = [
        Tick(pos=round(LEFT + (i + 0.5) * slot, 1), label=date_format(day, "j M"))
        for i, (day, _) in enumerate(buckets)
        if i % every == 0
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=TOP + plot_h,
        weekly=weekly,
        bars=bars,
        line=" ".join(points),
        y_ticks=y_ticks,
        y2_ticks=y2_ticks,
        x_ticks=x_ticks,
        total=total,
        peak=peak,
    )
