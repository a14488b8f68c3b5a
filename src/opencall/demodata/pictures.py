"""Small generated pictures for the demo: challenge covers and an idea sketch (PNG via Pillow)."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw


def cover_png(
    rng: random.Random, start: tuple[int, int, int], end: tuple[int, int, int], size: tuple[int, int] = (960, 320)
) -> bytes:
    """A horizontal gradient with a few translucent circles: calm, recognisable, a few kilobytes."""
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for x in range(width):
        t = x / (width - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(start, end, strict=True))
        draw.line([(x, 0), (x, height)], fill=colour)
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    shapes = ImageDraw.Draw(overlay)
    for _ in range(7):
        r = rng.randint(height // 6, height // 2)
        cx, cy = rng.randint(0, width), rng.randint(0, height)
        shapes.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 255, 255, rng.randint(18, 48)))
    image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def sketch_png(rng: random.Random, bars: int = 6) -> bytes:
    """A small bar chart, as a team would attach to show pilot figures."""
    width, height = 480, 280
    image = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(image)
    draw.line([(40, 240), (460, 240)], fill=(60, 60, 60), width=2)
    draw.line([(40, 20), (40, 240)], fill=(60, 60, 60), width=2)
    step = 400 // bars
    value = rng.randint(60, 120)
    for i in range(bars):
        value = max(20, min(210, value + rng.randint(-15, 35)))
        x0 = 50 + i * step
        draw.rectangle([x0, 240 - value, x0 + step - 14, 239], fill=(46, 125, 110))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
