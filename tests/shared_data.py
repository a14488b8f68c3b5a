"""Where the read-only evaluation data lives: ``../shared/data`` beside the repository, or
$OPENCALL_SHARED_DATA. Read in place, never copied into the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("OPENCALL_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))


def shared_dir(name: str) -> Path:
    """One data set's folder; skips the calling test when it is absent."""
    path = SHARED_DATA / name
    if not path.is_dir():
        pytest.skip(f"shared evaluation data {path} is absent; set OPENCALL_SHARED_DATA to run this")
    return path
