"""What a vote request says: the client's address, the bearer token and the vote's fields, in the
compact form (query string plus Authorization header, what the voter page sends) or as a JSON body.
Shapes only; whether the vote counts is for `rules`, the store and the live vote."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, NamedTuple

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

MAX_BODY = 2048
VOTE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_SEQ = 2**53
_DECODER = json.JSONDecoder()
_COMPACT_FIELDS = frozenset({"idea", "vote_id", "seq"})
# The compact form as the voter page writes it; anything else goes through the general checks.
# At most 15 digits and no leading zero: a positive number below MAX_SEQ.
CANONICAL = re.compile(rb"idea=([1-9][0-9]{0,14})&vote_id=([A-Za-z0-9_-]{8,64})&seq=([1-9][0-9]{0,14})")


class VoteFields(NamedTuple):
    idea: int
    vote_id: str
    seq: int
    token: str


class Unreadable(NamedTuple):
    """Why a request is not a vote, for the problem answer (code "" for a client that went away)."""

    status: int
    code: str
    title: str
    detail: str
    errors: dict[str, list[str]] | None = None


GONE = Unreadable(400, "", "", "")


def read_headers(scope: Scope, trusted_proxies: frozenset[str]) -> tuple[str, str | None]:
    """(the client's address, the bearer token or None) in one pass over the headers."""
    forwarded = authorization = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if authorization is None:
                authorization = value
        elif name == b"x-forwarded-for":
            forwarded = value
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    ip = peer
    if forwarded is not None and peer in trusted_proxies:
        ip = forwarded.decode("latin-1").rsplit(",", 1)[-1].strip() or peer
    token = None
    if authorization is not None:
        scheme, _, value = authorization.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            token = value.strip()
    return ip, token


def compact_vote(query: bytes, bearer: str | None) -> dict[str, Any] | None:
    """The fields of a body-less vote as the JSON form would carry them, or None if the query
    string is not one. Numbers stay text unless they are plain digits, so that a bad value meets
    the same field checks (and messages) as in the JSON form."""
    data: dict[str, Any] = {}
    if len(query) > MAX_BODY:
        return None
    try:
        text = query.decode("ascii")
    except UnicodeDecodeError:
        return None
    for part in text.split("&"):
        name, sep, value = part.partition("=")
        if not sep or name not in _COMPACT_FIELDS or name in data:
            return None
        data[name] = int(value) if name != "vote_id" and value.isdigit() and len(value) < 17 else value
    if bearer is not None:
        data["token"] = bearer
    return data


async def read_fields(receive: Receive, query: bytes, bearer: str | None) -> VoteFields | Unreadable:
    """The fields of a vote in any accepted form, or why there are none."""
    if query:
        # The compact form: fields in the query string, the device token in the Authorization
        # header, no body. It spares the server's body read, which costs a vote more than all of
        # its own checks (see bench/live). A body sent along with it is not read.
        data = compact_vote(query, bearer)
        if data is None:
            return Unreadable(
                400,
                "malformed",
                "Malformed request",
                "The query string must be idea=<id>&vote_id=<id>&seq=<n>, each at most once.",
            )
    else:
        message = await receive()
        if message["type"] == "http.disconnect":
            return GONE
        body: bytes | bytearray = message.get("body", b"")
        if message.get("more_body"):  # the body came in several pieces: gather them
            body = bytearray(body)
            more = True
            while more and len(body) <= MAX_BODY:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return GONE
                body += message.get("body", b"")
                more = bool(message.get("more_body"))
        if len(body) > MAX_BODY:
            return Unreadable(
                413, "too-large", "Request too large", f"A vote is a small JSON object (at most {MAX_BODY} bytes)."
            )
        try:
            data = _DECODER.decode(body.decode())
        except (ValueError, UnicodeDecodeError):
            return Unreadable(400, "malformed", "Malformed request", "The body must be a JSON object.")
        if not isinstance(data, dict):
            return Unreadable(400, "malformed", "Malformed request", "The body must be a JSON object.")
    return check_fields(data)


def check_fields(data: dict[str, Any]) -> VoteFields | Unreadable:
    """The vote's fields if each has its shape, else every field's problem."""
    errors: dict[str, list[str]] = {}
    idea = data.get("idea")
    if not isinstance(idea, int) or isinstance(idea, bool) or not 0 < idea < MAX_SEQ:
        errors["idea"] = ["Must be the id of a finalist (a positive integer)."]
    vote_id = data.get("vote_id")
    if not isinstance(vote_id, str) or not VOTE_ID.fullmatch(vote_id):
        errors["vote_id"] = ["Must be 8 to 64 characters: letters, digits, '-' or '_'."]
    seq = data.get("seq", 1)
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < MAX_SEQ:
        errors["seq"] = ["Must be a positive integer that grows each time this device votes again."]
    if not isinstance(data.get("token"), str):
        errors["token"] = [
            "Required: the device token from the voting page (in the body, or as "
            "'Authorization: Bearer <token>' with the compact form)."
        ]
    if errors or not isinstance(idea, int) or not isinstance(vote_id, str):
        return Unreadable(422, "invalid-input", "Invalid input", "The vote is not valid.", errors)
    return VoteFields(idea, vote_id, seq, data["token"])
