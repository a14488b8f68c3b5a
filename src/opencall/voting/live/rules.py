"""The rules of a live vote that the fast path, the store, the actions and the pages share.

Each rule is written once here, in plain Python with no Django, so the hot path can use it:

- **open**: a live vote takes votes while its state is ``open`` and ``opens_at <= at < closes_at``
  (`is_open`). The store's SQL says the same in `open_sql`, generated beside it; a test runs both
  over the same rows on SQLite and PostgreSQL and compares them.
- **finalist**: a vote counts only for one of the live vote's finalists (`is_finalist`).
- **token**: a device token is good for a live vote if it is signed by this installation and names
  that live vote (`device_token`); a sign-in vote also needs the account inside it (`may_vote`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TypeVar

from opencall.voting.tokens import DeviceToken, read_token

# The state in which a live vote may take votes (LiveState.OPEN is defined from it).
OPEN = "open"
CLOSED = "closed"

# A moment as the callers hold it: seconds since the epoch (the fast path) or an aware datetime
# (the ORM). Both sides of every comparison are of the same kind.
Moment = TypeVar("Moment", float, datetime)


def is_open(state: str, opens_at: Moment | None, closes_at: Moment | None, at: Moment) -> bool:
    """Whether a live vote in `state` with this window takes votes at `at`."""
    return state == OPEN and opens_at is not None and closes_at is not None and opens_at <= at < closes_at


def open_sql(at: str) -> str:
    """`is_open` as a condition on a row of the live votes' table, `at` being the placeholder (or
    expression) of the moment. NULL windows compare as unknown, i.e. not open, as in `is_open`."""
    return f"state = '{OPEN}' AND opens_at <= {at} AND closes_at > {at}"


def shown_state(state: str, opens_at: float | None, closes_at: float | None, at: float) -> str:
    """The state the projector and the voter page show: ``open`` only within the window, ``closed``
    once an open vote's window ran out (before the organiser stops it), else the stored state."""
    if is_open(state, opens_at, closes_at, at):
        return OPEN
    return CLOSED if state == OPEN else state


def is_finalist(idea_id: int, finalists: Collection[int]) -> bool:
    """Whether a vote for `idea_id` counts in a live vote with these finalists."""
    return idea_id in finalists


def is_for(token: DeviceToken, live_vote_id: int) -> bool:
    """Whether a (signature-checked) device token was issued for this live vote."""
    return token.live_vote_id == live_vote_id


def device_token(key: bytes, text: str, live_vote_id: int) -> DeviceToken | None:
    """The device token in `text` if it is signed with `key` and is for this live vote, else None."""
    token = read_token(key, text) if text else None
    if token is None or not is_for(token, live_vote_id):
        return None
    return token


def may_vote(token: DeviceToken, *, sign_in_required: bool) -> bool:
    """Whether a token for the live vote may cast a vote: a sign-in vote needs an account's token."""
    return not sign_in_required or token.user_id is not None
