from __future__ import annotations

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
    assert a is not None and b is not None and a.device != b.device and len(a.device) == 22
