"""Shared fixtures: where the real evaluation data lives (never copied into the repository)."""

from __future__ import annotations

from pathlib import Path

from tests.shared_data import SHARED_DATA as SHARED
from tests.shared_data import shared_dir

REPO = Path(__file__).resolve().parents[3]
__all__ = ["REPO", "SHARED", "shared_dir"]
