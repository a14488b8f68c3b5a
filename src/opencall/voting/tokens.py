"""Device tokens: an HMAC-signed ticket that lets a phone vote in one live vote without an account.

The fast path checks a token with one keyed hash (BLAKE2b) and no database read. Format:
``<live_vote_id>.<device>.<user_id or 0>.<signature>``; the device is new for each anonymous voter
and ``u<user id>`` in sign-in-required mode, so a person has one ballot whatever device they use.

An anonymous device id also carries, under the signature, when it was issued and a keyed hash of
the network it was issued to (see `network_tag`): the organiser's console reads both back from the
ballots to show votes concentrating on one network, with no write when a device is issued and
without the address itself ever being stored.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import ipaddress
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


NETWORK_TAG_LENGTH = 6  # base64 characters: 36 bits
DEVICE_ID_LENGTH = 11 + NETWORK_TAG_LENGTH + 16


def _derived_key(purpose: bytes, secret_key: str) -> bytes:
    """A key for one purpose, derived from the installation's secret. There is deliberately no
    fallback: a key derived from an empty or published value would let anyone forge tokens."""
    if not secret_key:
        raise ValueError("SECRET_KEY is empty: no key can be derived from it")
    return hashlib.sha256(b"opencall.voting." + purpose + b":" + secret_key.encode()).digest()


def signing_key(secret_key: str) -> bytes:
    return _derived_key(b"device-token", secret_key)


def network_key(secret_key: str) -> bytes:
    """The key of the network tags: not the signing key, so that neither reveals the other."""
    return _derived_key(b"network-tag", secret_key)


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


def client_network(address: str) -> str:
    """The network a client address belongs to, as the unit a person controls cheaply: the /24 of
    an IPv4 address (an IPv4-mapped IPv6 address counts as IPv4) and the /64 of an IPv6 one (one
    home or phone usually gets a whole /64). Anything unparseable is "unknown"."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def network_tag(key: bytes, live_vote_id: int, network: str) -> str:
    """A short keyed hash of (live vote, network): equal for two devices of one network in one live
    vote, unrelated across live votes, and not reversible without the key. 36 bits: two of a
    vote's networks share a tag rarely enough for a warning, and a tag names no single network."""
    mac = hashlib.blake2b(f"{live_vote_id}|{network}".encode(), key=key, digest_size=6)
    return binascii.b2a_base64(mac.digest(), newline=False).translate(_URLSAFE)[:NETWORK_TAG_LENGTH].decode()


def device_network_tag(device: str) -> str | None:
    """The network tag inside an anonymous device id, or None (a member's device, an older id)."""
    if len(device) != DEVICE_ID_LENGTH or device.startswith("u"):
        return None
    return device[11 : 11 + NETWORK_TAG_LENGTH]


def new_device_id(network_tag: str = "") -> str:
    """A new anonymous device: the time of issue in milliseconds (11 hex digits, so the ids sort
    by it), the network tag of the client it was issued to (random when unknown: such a device
    counts as a network of its own) and 96 random bits.

    Ballots are keyed by device. With purely random ids every vote of a batch lands on a
    different leaf page of that index, and each page goes to the write-ahead log at commit; with
    ids that grow with time, phones that joined together vote together and their ballots share
    a few pages (half the write time per vote on SQLite, measured in bench/live).
    """
    tag = network_tag or secrets.token_urlsafe(6)[:NETWORK_TAG_LENGTH]
    if len(tag) != NETWORK_TAG_LENGTH:
        raise ValueError("bad network tag")
    return f"{time.time_ns() // 1_000_000:011x}{tag}{secrets.token_urlsafe(12)}"


def issue_token(
    key: bytes,
    live_vote_id: int,
    *,
    user_id: int | None = None,
    device: str | None = None,
    network_tag: str = "",
) -> str:
    if device is None:
        device = f"u{user_id}" if user_id is not None else new_device_id(network_tag)
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
