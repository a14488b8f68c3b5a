"""Where the read-only evaluation data lives (never copied into the repository)."""

from __future__ import annotations

from pathlib import Path

from tests.shared_data import shared_dir


def assignment_data() -> Path:
    """The assignment data sets; skips the calling test when they are absent."""
    return shared_dir("assignment")
