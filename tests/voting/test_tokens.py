from __future__ import annotations

import pytest

from opencall.voting import tokens
from opencall.voting.tokens import DeviceToken, issue_token, read_token, signing_key

KEY = signing_key("k" * 50)


def test_token_round_trip_anonymous_and_signed_in() -> None:
    token = issue_token(KEY, 12, device="abcdefghijklmnopqrstuv")
    assert token.startswith("12.abcdefghijklmnopqrstuv.0.")
    assert read_token(KEY, token) == DeviceToken(12, "abcdefghijklmnopqrstuv", None)
    member = issue_token(KEY, 12, user_id=7)
    assert read_token(KEY, member) == DeviceToken(12, "u7", 7)


def test_tampered_or_foreign_tokens_are_refused() -> None:
    token = issue_token(KEY, 12, device="abcdefghijklmnopqrstuv")
    assert read_token(KEY, token.replace("12.", "13.", 1)) is None
    assert read_token(signing_key("other" * 10), token) is None
    assert read_token(KEY, token + "x") is None
    assert read_token(KEY, "1.2.3") is None
    assert read_token(KEY, 12) is None
    assert read_token(KEY, "9" * 200) is None
    assert read_token(KEY, "x.abcdefghijklmnopqrstuv.0.sig") is None


def test_fresh_tokens_are_distinct_devices() -> None:
    a, b = read_token(KEY, issue_token(KEY, 1)), read_token(KEY, issue_token(KEY, 1))
    assert a is not None and b is not None and a.device != b.device and len(a.device) == 33


def test_device_ids_sort_by_time_of_issue(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ballots are keyed by device: ids issued later sort later, so a batch's ballots share index pages.
    clock = iter([1_700_000_000_000_000_000, 1_700_000_000_009_000_000, 1_700_000_001_000_000_000])
    monkeypatch.setattr(tokens.time, "time_ns", lambda: next(clock))
    ids = [tokens.new_device_id() for _ in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert ids[0][:11] == f"{1_700_000_000_000:011x}"
    assert all(read_token(KEY, issue_token(KEY, 1, device=d)) is not None for d in ids)


def test_the_pre_keyed_signature_is_keyed_blake2b() -> None:
    """Tokens are signed and checked with copies of one pre-keyed hash: each copy must sign as a
    hash keyed from scratch does, call after call."""
    import base64
    import hashlib

    for live_vote in (1, 42, 999_999_999_999):
        for user in (None, 5):
            token = issue_token(KEY, live_vote, user_id=user)
            payload, _, signature = token.rpartition(".")
            fresh = hashlib.blake2b(payload.encode(), key=KEY, digest_size=18).digest()
            assert base64.urlsafe_b64encode(fresh) == signature.encode() == tokens._signature(KEY, payload)
            assert read_token(KEY, token) == DeviceToken(live_vote, payload.split(".")[1], user)
    other = signing_key("other" * 10)
    token = issue_token(other, 3, device="abcdefghijklmnopqrstuv")
    assert read_token(other, token) is not None and read_token(KEY, token) is None


def test_malformed_tokens_are_refused() -> None:
    good = issue_token(KEY, 12, device="abcdefghijklmnopqrstuv")
    payload, _, signature = good.rpartition(".")
    assert read_token(KEY, f"{payload}.{signature}.extra") is None  # a fourth dot
    assert read_token(KEY, good.replace("12.", "\u0661\u0662.", 1)) is None  # non-ASCII digits
    assert read_token(KEY, good.replace(".0.", ".-1.", 1)) is None
    assert read_token(KEY, f"{payload}.{signature[:-1]}\u00e9") is None  # non-ASCII signature
    assert read_token(KEY, "1" * 13 + ".abcdefghijklmnopqrstuv.0." + signature) is None
