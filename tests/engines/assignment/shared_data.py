"""Where the read-only evaluation data lives (never copied into the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def assignment_data() -> Path:
    """``../shared/data/assignment`` next to the repository, or $OPENCALL_SHARED_DATA/assignment.

    Skips the calling test when the data is absent.
    """
    default = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
    root = Path(os.environ.get("OPENCALL_SHARED_DATA", default)) / "assignment"
    if not root.is_dir():
        pytest.skip(f"shared evaluation data not found at {root} (set OPENCALL_SHARED_DATA)")
    return root
