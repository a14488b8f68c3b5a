from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from opencall.engines.ledger import (
    ISO_4217,
    NON_NEGATIVE_KINDS,
    Account,
    AccountKind,
    IdempotencyConflict,
    InvalidAmount,
    InvalidTransaction,
    Journal,
    Posting,
    ProblemCode,
    Transaction,
    UnknownCurrency,
    UnknownTransaction,
    apply,
    balances_from,
    fingerprint,
    format_minor_units,
    minor_units,
    postings_of,
    reverse,
    statement,
    to_minor_units,
    validate,
    verify,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
BANK = Account(AccountKind.EXTERNAL, "bank")
ORG = Account(AccountKind.SPONSOR_FUNDS, "org:1")
ESCROW = Account(AccountKind.ESCROW, "bounty:7")
CREATOR = Account(AccountKind.CREATOR_PAYABLE, "user:3")
FEES = Account(AccountKind.PLATFORM_FEES, "org:1")
TRANSIT = Account(AccountKind.PAYOUTS_IN_TRANSIT, "batch:1")
REFUNDS = Account(AccountKind.REFUNDS, "org:1")


def txn(key: str, *postings: tuple[Account, str, int], at: datetime = T0, memo: str = "") -> Transaction:
    return Transaction(key, tuple(Posting(a, c, n) for a, c, n in postings), at, memo)


def codes(problems: object) -> list[str]:
    return [str(p.code) for p in problems]  # type: ignore[attr-defined]


def bounty_journal() -> Journal:
    """Top-up 1000.00 EUR, 600.00 into escrow, release 500.00 of which 50.00 fee, pay 450.00 out."""
    j = Journal()
    j.post(txn("topup", (BANK, "EUR", -100_000), (ORG, "EUR", 100_000)))
    j.post(txn("fund", (ORG, "EUR", -60_000), (ESCROW, "EUR", 60_000), at=T0 + timedelta(days=1)))
    j.post(
        txn(
            "release",
            (ESCROW, "EUR", -50_000),
            (CREATOR, "EUR", 45_000),
            (FEES, "EUR", 5_000),
            at=T0 + timedelta(days=2),
            memo="accepted delivery 1",
        )
    )
    j.post(txn("batch", (CREATOR, "EUR", -45_000), (TRANSIT, "EUR", 45_000), at=T0 + timedelta(days=3)))
    j.post(txn("paid", (TRANSIT, "EUR", -45_000), (BANK, "EUR", 45_000), at=T0 + timedelta(days=4)))
    return j


def test_a_bounty_lifecycle_gives_exact_balances() -> None:
    j = bounty_journal()
    assert dict(j.balances) == {
        (BANK, "EUR"): -55_000,
        (ORG, "EUR"): 40_000,
        (ESCROW, "EUR"): 10_000,
        (CREATOR, "EUR"): 0,
        (FEES, "EUR"): 5_000,
        (TRANSIT, "EUR"): 0,
    }
    assert balances_from(postings_of(j.transactions)) == {
        (BANK, "EUR"): -55_000,
        (ORG, "EUR"): 40_000,
        (ESCROW, "EUR"): 10_000,
        (FEES, "EUR"): 5_000,
    }
    assert j.verify(j.balances) == []


def test_currencies_are_kept_apart() -> None:
    j = Journal()
    j.post(txn("a", (BANK, "EUR", -500), (ORG, "EUR", 500), (BANK, "JPY", -7), (ORG, "JPY", 7)))
    assert j.balance(ORG, "EUR") == 500
    assert j.balance(ORG, "JPY") == 7
    assert j.balance(ORG, "USD") == 0
    with pytest.raises(InvalidTransaction) as caught:
        j.post(txn("b", (ORG, "EUR", -100), (ESCROW, "JPY", 100)))
    assert codes(caught.value.problems) == ["unbalanced", "unbalanced"]
    assert [p.message for p in caught.value.problems] == [
        "postings in EUR sum to -100, not zero",
        "postings in JPY sum to 100, not zero",
    ]


@pytest.mark.parametrize(
    ("postings", "expected"),
    [
        ((), ["too_few_postings"]),
        (((BANK, "EUR", 0),), ["too_few_postings", "zero_amount"]),
        (((BANK, "EUR", -5), (ORG, "EUR", 5), (FEES, "EUR", 0)), ["zero_amount"]),
        (((BANK, "EUR", -1.5), (ORG, "EUR", 1.5)), ["not_an_integer", "not_an_integer"]),
        (((BANK, "EUR", -1), (ORG, "EUR", True)), ["not_an_integer", "unbalanced"]),
        (((BANK, "eur", -1), (ORG, "eur", 1)), ["unknown_currency", "unknown_currency"]),
        (((BANK, "XAU", -1), (ORG, "XAU", 1)), ["unknown_currency", "unknown_currency"]),
        (((BANK, "HRK", -1), (ORG, "HRK", 1)), ["unknown_currency", "unknown_currency"]),
        (((BANK, "EUR", -(2**63)), (ORG, "EUR", 2**63)), ["amount_too_large", "amount_too_large"]),
        ((("bank", "EUR", -1), (ORG, "EUR", 1)), ["not_an_account"]),
        (((BANK, "EUR", -3), (ORG, "EUR", 2)), ["unbalanced"]),
    ],
)
def test_bad_postings_are_named(postings: tuple[tuple[Account, str, object], ...], expected: list[str]) -> None:
    bad = Transaction("k", tuple(Posting(a, c, n) for a, c, n in postings), T0)  # type: ignore[arg-type]
    assert codes(validate(bad, {})) == expected
    j = Journal()
    with pytest.raises(InvalidTransaction):
        j.post(bad)
    assert len(j) == 0
    assert dict(j.balances) == {}


def test_key_and_time_zone_are_required() -> None:
    bad = Transaction("", (Posting(BANK, "EUR", -1), Posting(ORG, "EUR", 1)), datetime(2026, 1, 1))
    assert codes(validate(bad, {})) == ["no_key", "no_time_zone"]
    other_zone = Transaction("k", bad.postings, datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8))))
    assert validate(other_zone, {}) == []


def test_non_negative_kinds_are_explicit_and_enforced() -> None:
    assert set(AccountKind) - NON_NEGATIVE_KINDS == {AccountKind.EXTERNAL}
    j = bounty_journal()
    with pytest.raises(InvalidTransaction) as caught:
        j.post(txn("over", (ESCROW, "EUR", -10_001), (CREATOR, "EUR", 10_001)))
    assert [(p.code, p.account, p.currency) for p in caught.value.problems] == [
        (ProblemCode.WOULD_GO_NEGATIVE, ESCROW, "EUR")
    ]
    assert str(caught.value) == (
        "transaction 'over' refused: escrow:bounty:7 would go to -1 EUR; an account of kind escrow may not go negative"
    )
    assert j.balance(ESCROW, "EUR") == 10_000
    assert len(j) == 5
    # the same move within the balance passes; EXTERNAL may go as negative as money held
    j.post(txn("ok", (ESCROW, "EUR", -10_000), (CREATOR, "EUR", 10_000)))
    assert j.balance(ESCROW, "EUR") == 0


def test_a_journal_may_choose_its_own_non_negative_kinds() -> None:
    lax = Journal(non_negative=frozenset())
    lax.post(txn("credit", (ORG, "EUR", -5), (ESCROW, "EUR", 5)))
    assert lax.balance(ORG, "EUR") == -5


def test_replaying_a_key_with_the_same_content_is_a_no_op() -> None:
    j = bounty_journal()
    before = dict(j.balances)
    original = j.get("release")
    replay = Transaction(
        "release",
        tuple(reversed(original.postings)),  # order does not matter
        T0 + timedelta(days=9),  # nor does the time: a retry comes later
        "accepted delivery 1",
    )
    assert j.post(replay) is original
    assert dict(j.balances) == before
    assert len(j) == 5
    assert fingerprint(replay) == fingerprint(original)


@pytest.mark.parametrize(
    "change",
    [
        {"memo": "something else"},
        {"postings": (Posting(ESCROW, "EUR", -50_000), Posting(CREATOR, "EUR", 50_000))},
        {
            "postings": (
                Posting(ESCROW, "EUR", -50_000),
                Posting(CREATOR, "EUR", 45_000),
                Posting(FEES, "EUR", 5_000),
                Posting(ORG, "EUR", -1),
                Posting(BANK, "EUR", 1),
            )
        },
    ],
)
def test_replaying_a_key_with_other_content_is_an_error(change: dict[str, object]) -> None:
    j = bounty_journal()
    original = j.get("release")
    fields = {"key": "release", "postings": original.postings, "at": original.at, "memo": original.memo} | change
    attempted = Transaction(**fields)  # type: ignore[arg-type]
    with pytest.raises(IdempotencyConflict) as caught:
        j.post(attempted)
    assert caught.value.original is original
    assert "'release' was already used for a different transaction" in str(caught.value)
    assert len(j) == 5
    assert fingerprint(attempted) != fingerprint(original)


def test_true_is_not_a_replay_of_one() -> None:
    j = Journal()
    j.post(txn("k", (BANK, "EUR", -1), (ORG, "EUR", 1)))
    with pytest.raises(IdempotencyConflict):
        j.post(Transaction("k", (Posting(BANK, "EUR", -1), Posting(ORG, "EUR", True)), T0))  # type: ignore[arg-type]


def test_reversal_negates_and_is_refused_twice() -> None:
    j = bounty_journal()
    j.post(txn("fund2", (ORG, "EUR", -1_000), (ESCROW, "EUR", 1_000), memo="second slot"))
    undo = j.reverse("fund2", key="undo-fund2", at=T0 + timedelta(days=5))
    assert undo.reverses == "fund2"
    assert undo.memo == "reversal of fund2"
    assert undo.postings == (Posting(ORG, "EUR", 1_000), Posting(ESCROW, "EUR", -1_000))
    assert j.balance(ESCROW, "EUR") == 10_000
    assert j.reversed_by("fund2") == "undo-fund2"
    # replaying the reversal's own key is a no-op, not a second reversal
    assert j.reverse("fund2", key="undo-fund2", at=T0 + timedelta(days=6)) is undo
    with pytest.raises(InvalidTransaction) as caught:
        j.reverse("fund2", key="undo-fund2-again", at=T0 + timedelta(days=6))
    assert codes(caught.value.problems) == ["already_reversed"]
    assert "'fund2' was already reversed by 'undo-fund2'" in str(caught.value)
    with pytest.raises(InvalidTransaction) as caught:
        j.reverse("undo-fund2", key="redo", at=T0 + timedelta(days=6))
    assert codes(caught.value.problems) == ["reverses_a_reversal"]
    assert j.balance(ESCROW, "EUR") == 10_000
    assert j.verify(j.balances) == []


def test_a_reversal_that_would_overdraw_is_refused() -> None:
    j = bounty_journal()
    # the creator's 450.00 left in the batch: undoing the release would take the payable below zero
    with pytest.raises(InvalidTransaction) as caught:
        j.reverse("release", key="undo-release", at=T0 + timedelta(days=5))
    assert [(p.code, p.account) for p in caught.value.problems] == [(ProblemCode.WOULD_GO_NEGATIVE, CREATOR)]
    assert j.reversed_by("release") is None


def test_hand_made_reversals_must_match_their_target() -> None:
    j = bounty_journal()
    wrong = Transaction("r", (Posting(ORG, "EUR", 1), Posting(ESCROW, "EUR", -1)), T0, reverses="fund")
    assert codes(j.check(wrong)) == ["not_the_negation"]
    ghost = Transaction("r2", (Posting(ORG, "EUR", 1), Posting(ESCROW, "EUR", -1)), T0, reverses="nope")
    assert codes(j.check(ghost)) == ["unknown_reversal_target"]
    with pytest.raises(UnknownTransaction, match="no transaction with key 'nope'"):
        j.reverse("nope", key="r3", at=T0)


def test_pure_functions_do_not_touch_their_inputs() -> None:
    start = {(ORG, "EUR"): 10}
    move = txn("m", (ORG, "EUR", -4), (ESCROW, "EUR", 4))
    assert apply(start, move) == {(ORG, "EUR"): 6, (ESCROW, "EUR"): 4}
    assert start == {(ORG, "EUR"): 10}
    back = reverse(move, key="m-back", at=T0, memo="oops")
    assert (back.memo, back.reverses) == ("oops", "m")
    assert apply(apply(start, move), back) == {(ORG, "EUR"): 10, (ESCROW, "EUR"): 0}


def test_statement_between_dates_with_running_balance() -> None:
    j = bounty_journal()
    s = j.statement(ESCROW, "EUR", start=T0 + timedelta(days=1), end=T0 + timedelta(days=3))
    assert (s.opening, s.closing) == (0, 10_000)
    assert [(line.key, line.amount, line.balance, line.memo) for line in s.lines] == [
        ("fund", 60_000, 60_000, ""),
        ("release", -50_000, 10_000, "accepted delivery 1"),
    ]
    later = statement(j.transactions, ORG, "EUR", start=T0 + timedelta(hours=1))
    assert (later.opening, [line.key for line in later.lines], later.closing) == (100_000, ["fund"], 40_000)
    assert statement(j.transactions, CREATOR, "EUR", end=T0 + timedelta(days=2)).lines == ()


def test_statement_orders_by_time_then_journal_order() -> None:
    j = Journal()
    j.post(txn("late", (BANK, "EUR", -5), (ORG, "EUR", 5), at=T0 + timedelta(hours=2)))
    j.post(txn("early", (BANK, "EUR", -7), (ORG, "EUR", 7), at=T0))
    j.post(txn("same", (BANK, "EUR", -1), (ORG, "EUR", 1), at=T0))
    s = j.statement(ORG, "EUR")
    assert [(line.key, line.balance) for line in s.lines] == [("early", 7), ("same", 8), ("late", 13)]


def test_verify_finds_a_tampered_balance_and_a_changed_posting() -> None:
    j = bounty_journal()
    claimed = dict(j.balances)
    claimed[FEES, "EUR"] = 5_001
    claimed[Account(AccountKind.ESCROW, "bounty:99"), "EUR"] = 0  # a zero claim for an unused account is fine
    [difference] = verify(j.transactions, claimed)
    assert (difference.what, difference.account, difference.claimed, difference.computed) == (
        "balance",
        FEES,
        5_001,
        5_000,
    )
    assert difference.message == "platform_fees:org:1 EUR: claimed 5001, the postings give 5000"

    stored = list(j.transactions)
    fee = stored[2]
    stored[2] = Transaction(fee.key, (*fee.postings[:2], Posting(FEES, "EUR", 4_000)), fee.at, fee.memo)
    found = verify(stored, j.balances)
    assert [(d.what, d.key, d.account, d.claimed, d.computed) for d in found] == [
        ("unbalanced", "release", None, None, None),
        ("balance", None, FEES, 5_000, 4_000),
    ]


def test_verify_finds_duplicates_overdrafts_and_double_reversals_in_stored_data() -> None:
    j = bounty_journal()
    stored = list(j.transactions)
    overdraw = txn("x", (ESCROW, "EUR", -20_000), (CREATOR, "EUR", 20_000))
    undo = reverse(stored[1], key="u1", at=T0)
    undo_again = reverse(stored[1], key="u2", at=T0)
    tampered = [*stored, stored[0], overdraw]
    found = verify(tampered, balances_from(postings_of(tampered)))
    assert [(d.what, d.key) for d in found] == [("duplicate_key", "topup"), ("would_go_negative", "x")]
    found = verify([*stored, undo, undo_again], balances_from(postings_of([*stored, undo, undo_again])))
    assert [d.what for d in found] == ["would_go_negative", "would_go_negative", "already_reversed"]


def test_iso_4217_table() -> None:
    assert (minor_units("USD"), minor_units("EUR"), minor_units("JPY"), minor_units("KWD"), minor_units("CLF")) == (
        2,
        2,
        0,
        3,
        4,
    )
    assert (minor_units("XCG"), minor_units("ZWG"), minor_units("SLE"), minor_units("UGX"), minor_units("ISK")) == (
        2,
        2,
        2,
        0,
        0,
    )
    assert all(len(code) == 3 and code.isascii() and code.isupper() for code in ISO_4217)
    assert len(ISO_4217) == 165
    for withdrawn_or_unitless in ("ANG", "HRK", "SLL", "VEF", "XAU", "XDR", "XXX", "XTS", "usd", "US"):
        with pytest.raises(UnknownCurrency):
            minor_units(withdrawn_or_unitless)


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1234.50", "USD", 123450),
        ("-3", "EUR", -300),
        ("0.125", "KWD", 125),
        ("7", "JPY", 7),
        ("7.000", "JPY", 7),
        ("0.0001", "CLF", 1),
        (" 12.3 ", "USD", 1230),
    ],
)
def test_text_to_minor_units_and_back(text: str, currency: str, minor: int) -> None:
    assert to_minor_units(text, currency) == minor
    assert to_minor_units(format_minor_units(minor, currency), currency) == minor


def test_formatting() -> None:
    assert [
        format_minor_units(n, c) for n, c in [(5, "USD"), (-5, "KWD"), (123450, "USD"), (7, "JPY"), (0, "EUR")]
    ] == [
        "0.05",
        "-0.005",
        "1234.50",
        "7",
        "0.00",
    ]


@pytest.mark.parametrize("text", ["1.005", "1,00", "1e3", "", "-", ".5", "1.", "NaN", "１"])
def test_inexact_or_odd_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidAmount):
        to_minor_units(text, "USD")


def test_floats_do_not_format() -> None:
    with pytest.raises(InvalidAmount):
        format_minor_units(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        format_minor_units(True, "USD")
