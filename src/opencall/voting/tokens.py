"""Device tokens: an HMAC-signed ticket that lets a phone vote in one live vote without an account.

The fast path checks a token with one keyed hash (BLAKE2b) and no database read. Format:
``<live_vote_id>.<device>.<user_id or 0>.<signature>``; the device is new for each anonymous voter
and ``u<user id>`` in sign-in-required mode, so a person has one ballot whatever device they use.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import re
import secrets
import time
from typing import NamedTuple

MAX_TOKEN_LENGTH = 160
_DEVICE = re.compile(r"u[0-9]{1,12}|[A-Za-z0-9_-]{16,40}")
# <live vote id>.<device>.<user id or 0>.<signature>: the signed payload is the first three.
_TOKEN = re.compile(r"(([0-9]{1,12})\.([^.]*)\.([0-9]{1,12}))\.([^.]*)")
_URLSAFE = bytes.maketrans(b"+/", b"-_")


class DeviceToken(NamedTuple):
    live_vote_id: int
    device: str
    user_id: int | None


def signing_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"opencall.voting.device-token:" + secret_key.encode()).digest()


@functools.lru_cache(maxsize=8)
def _keyed(key: bytes) -> hashlib.blake2b:
    """A keyed hash that has taken in its key already: copying it is cheaper than keying anew."""
    return hashlib.blake2b(key=key, digest_size=18)


def _signature(key: bytes, payload: str) -> bytes:
    """The payload's signature, URL-safe base64 as ASCII bytes. Keyed BLAKE2b is a MAC in its own
    right (RFC 7693 section 2.9) and a third of HMAC-SHA256's cost, which matters: every vote
    checks one, from a copy of the pre-keyed hash."""
    mac = _keyed(key).copy()
    mac.update(payload.encode())
    return binascii.b2a_base64(mac.digest(), newline=False).translate(_URLSAFE)


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
    return f"{payload}.{_signature(key, payload).decode()}"


def read_token(key: bytes, token: object) -> DeviceToken | None:
    """The token's contents if it is well formed and its signature checks, else None."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    payload, vote_part, device, user_part, signature = match.groups()
    if not (signature.isascii() and hmac.compare_digest(_signature(key, payload), signature.encode())):
        return None
    return DeviceToken(int(vote_part), device, int(user_part) or None)
