"""Device tokens: an HMAC-signed ticket that lets a phone vote in one live vote without an account.

The fast path checks a token with one keyed hash (BLAKE2b) and no database read. Format:
``<live_vote_id>.<device>.<user_id or 0>.<signature>``; the device is new for each anonymous voter
and ``u<user id>`` in sign-in-required mode, so a person has one ballot whatever device they use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from typing import NamedTuple

MAX_TOKEN_LENGTH = 160
_DEVICE = re.compile(r"u[0-9]{1,12}|[A-Za-z0-9_-]{16,40}")


class DeviceToken(NamedTuple):
    live_vote_id: int
    device: str
    user_id: int | None


def signing_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"opencall.voting.device-token:" + secret_key.encode()).digest()


def _sign(key: bytes, payload: str) -> str:
    # Keyed BLAKE2b is a MAC in its own right (RFC 7693 section 2.9) and a third of HMAC-SHA256's
    # cost, which matters: every vote checks one.
    mac = hashlib.blake2b(payload.encode(), key=key, digest_size=18).digest()
    return base64.urlsafe_b64encode(mac).decode()


def new_device_id() -> str:
    """A new anonymous device: the time of issue in milliseconds (11 hex digits, so the ids sort
    by it) followed by 96 random bits.

    Ballots are keyed by device. With purely random ids every vote of a batch lands on a
    different leaf page of that index, and each page goes to the write-ahead log at commit; with
    ids that grow with time, phones that joined together vote together and their ballots share
    a few pages (half the write time per vote on SQLite, measured in bench/live).
    """
    return f"{time.time_ns() // 1_000_000:011x}{secrets.token_urlsafe(12)}"


def issue_token(key: bytes, live_vote_id: int, *, user_id: int | None = None, device: str | None = None) -> str:
    if device is None:
        device = f"u{user_id}" if user_id is not None else new_device_id()
    if not _DEVICE.fullmatch(device):
        raise ValueError("bad device id")
    payload = f"{live_vote_id}.{device}.{user_id or 0}"
    return f"{payload}.{_sign(key, payload)}"


def read_token(key: bytes, token: object) -> DeviceToken | None:
    """The token's contents if it is well formed and its signature checks, else None."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    payload, dot, signature = token.rpartition(".")
    if not dot:
        return None
    parts = payload.split(".")
    if len(parts) != 3:
        return None
    vote_part, _, user_part = parts
    if not (
        vote_part.isascii()
        and vote_part.isdigit()
        and user_part.isascii()
        and user_part.isdigit()
        and len(vote_part) <= 12
        and len(user_part) <= 12
    ):
        return None
    if not hmac.compare_digest(_sign(key, payload), signature):
        return None
    return DeviceToken(int(vote_part), parts[1], int(user_part) or None)
