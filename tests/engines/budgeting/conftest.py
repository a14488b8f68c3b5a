"""Shared fixtures: where the real evaluation data lives (never copied into the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("OPENCALL_SHARED_DATA", REPO / ".." / "shared" / "data"))


def shared_dir(name: str) -> Path:
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"shared evaluation data {path} is absent; set OPENCALL_SHARED_DATA to run this")
    return path
