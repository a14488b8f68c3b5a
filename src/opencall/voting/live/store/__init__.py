"""The fast path's database access, one implementation per database behind `BallotStore`:
`sqlite.py` and `postgres.py`, sharing `base.py`. `open_store` picks one for a DATABASES entry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opencall.voting.live.store.base import BallotStore, BatchResult, DatabaseBusy, LiveVoteInfo, PendingVote
from opencall.voting.live.store.postgres import PostgresBallotStore
from opencall.voting.live.store.sqlite import SqliteBallotStore

__all__ = [
    "BallotStore",
    "BatchResult",
    "DatabaseBusy",
    "LiveVoteInfo",
    "PendingVote",
    "PostgresBallotStore",
    "SqliteBallotStore",
    "open_store",
]


def open_store(settings_dict: Mapping[str, Any]) -> BallotStore:
    """The store for a Django DATABASES entry (SQLite or PostgreSQL)."""
    if "sqlite3" in str(settings_dict["ENGINE"]):
        return SqliteBallotStore(settings_dict)
    return PostgresBallotStore(settings_dict)
