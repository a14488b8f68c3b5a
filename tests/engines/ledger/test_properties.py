"""Random sequences of money movements against an independent model of the balances."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from opencall.engines.ledger import (
    NON_NEGATIVE_KINDS,
    Account,
    AccountKind,
    IdempotencyConflict,
    InvalidTransaction,
    Journal,
    Posting,
    Transaction,
    reverse,
    validate,
    verify,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
BANK = Account(AccountKind.EXTERNAL, "bank")
ORGS = [Account(AccountKind.SPONSOR_FUNDS, f"org:{i}") for i in (1, 2)]
ESCROWS = [Account(AccountKind.ESCROW, f"bounty:{i}") for i in (1, 2)]
CREATORS = [Account(AccountKind.CREATOR_PAYABLE, f"user:{i}") for i in (1, 2)]
FEES = Account(AccountKind.PLATFORM_FEES, "platform")
TRANSIT = Account(AccountKind.PAYOUTS_IN_TRANSIT, "batches")
REFUNDS = [Account(AccountKind.REFUNDS, f"org:{i}") for i in (1, 2)]
CURRENCIES = ["EUR", "JPY", "KWD"]

amounts = st.integers(min_value=1, max_value=5_000)


def sums_per_currency(txn: Transaction) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for p in txn.postings:
        totals[p.currency] += p.amount
    return dict(totals)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.journal = Journal()
        self.model: dict[tuple[Account, str], int] = defaultdict(int)
        self.reversed: set[str] = set()
        self.steps = 0

    def _next(self) -> tuple[str, datetime]:
        self.steps += 1
        return f"t{self.steps}", T0 + timedelta(minutes=self.steps)

    def _move(self, *postings: tuple[Account, str, int], reverses: str | None = None) -> None:
        key, at = self._next()
        txn = Transaction(key, tuple(Posting(a, c, n) for a, c, n in postings if n), at, reverses=reverses)
        self._submit(txn)

    def _submit(self, txn: Transaction) -> None:
        after = dict(self.model)
        for p in txn.postings:
            after[p.account, p.currency] = after.get((p.account, p.currency), 0) + p.amount
        allowed = all(v >= 0 for (a, _), v in after.items() if a.kind in NON_NEGATIVE_KINDS)
        if txn.reverses is not None and txn.reverses in self.reversed:
            allowed = False
        count = len(self.journal)
        if allowed:
            assert self.journal.post(txn) is txn
            self.model.update(after)
            if txn.reverses is not None:
                self.reversed.add(txn.reverses)
            assert len(self.journal) == count + 1
        else:
            with pytest.raises(InvalidTransaction):
                self.journal.post(txn)
            assert len(self.journal) == count

    @rule(org=st.sampled_from(ORGS), currency=st.sampled_from(CURRENCIES), amount=amounts)
    def top_up(self, org: Account, currency: str, amount: int) -> None:
        self._move((BANK, currency, -amount), (org, currency, amount))

    @rule(
        org=st.sampled_from(ORGS),
        escrow=st.sampled_from(ESCROWS),
        currency=st.sampled_from(CURRENCIES),
        amount=amounts,
        fee=st.integers(min_value=0, max_value=500),
    )
    def fund_escrow_with_fee(self, org: Account, escrow: Account, currency: str, amount: int, fee: int) -> None:
        self._move((org, currency, -(amount + fee)), (escrow, currency, amount), (FEES, currency, fee))

    @rule(
        escrow=st.sampled_from(ESCROWS),
        creator=st.sampled_from(CREATORS),
        currency=st.sampled_from(CURRENCIES),
        amount=amounts,
    )
    def release(self, escrow: Account, creator: Account, currency: str, amount: int) -> None:
        self._move((escrow, currency, -amount), (creator, currency, amount))

    @rule(creator=st.sampled_from(CREATORS), currency=st.sampled_from(CURRENCIES), amount=amounts)
    def payout_batch(self, creator: Account, currency: str, amount: int) -> None:
        self._move((creator, currency, -amount), (TRANSIT, currency, amount))

    @rule(currency=st.sampled_from(CURRENCIES), amount=amounts)
    def payout_paid(self, currency: str, amount: int) -> None:
        self._move((TRANSIT, currency, -amount), (BANK, currency, amount))

    @rule(which=st.integers(0, 1), currency=st.sampled_from(CURRENCIES), amount=amounts)
    def refund(self, which: int, currency: str, amount: int) -> None:
        self._move((ESCROWS[which], currency, -amount), (REFUNDS[which], currency, amount))

    @rule(which=st.integers(0, 1), currency=st.sampled_from(CURRENCIES), amount=amounts)
    def refund_paid(self, which: int, currency: str, amount: int) -> None:
        self._move((REFUNDS[which], currency, -amount), (BANK, currency, amount))

    @rule(data=st.data())
    def reversal(self, data: st.DataObject) -> None:
        originals = [t for t in self.journal.transactions if t.reverses is None]
        if not originals:
            return
        target = data.draw(st.sampled_from(originals))
        key, at = self._next()
        self._submit(reverse(target, key=key, at=at))

    @rule(data=st.data())
    def replayed_key(self, data: st.DataObject) -> None:
        if not len(self.journal):
            return
        original = data.draw(st.sampled_from(self.journal.transactions))
        before = dict(self.journal.balances)
        count = len(self.journal)
        again = Transaction(
            original.key, original.postings[::-1], original.at + timedelta(hours=1), original.memo, original.reverses
        )
        assert self.journal.post(again) is original
        changed = Transaction(
            original.key,
            (*original.postings, Posting(BANK, "EUR", -1), Posting(ORGS[0], "EUR", 1)),
            original.at,
            original.memo,
            original.reverses,
        )
        with pytest.raises(IdempotencyConflict):
            self.journal.post(changed)
        assert dict(self.journal.balances) == before
        assert len(self.journal) == count

    @invariant()
    def every_transaction_sums_to_zero_per_currency(self) -> None:
        for txn in self.journal.transactions:
            assert set(sums_per_currency(txn).values()) <= {0}
            assert len(txn.postings) >= 2

    @invariant()
    def balances_match_the_model_and_never_go_negative(self) -> None:
        nonzero = {k: v for k, v in self.journal.balances.items() if v}
        assert nonzero == {k: v for k, v in self.model.items() if v}
        for (account, _), value in self.journal.balances.items():
            if account.kind in NON_NEGATIVE_KINDS:
                assert value >= 0
        per_currency: dict[str, int] = defaultdict(int)
        for (_, currency), value in self.journal.balances.items():
            per_currency[currency] += value
        assert set(per_currency.values()) <= {0}

    @invariant()
    def verify_finds_nothing_and_then_what_was_planted(self) -> None:
        stored = self.journal.transactions
        balances = dict(self.journal.balances)
        assert verify(stored, balances) == []
        if not stored:
            return
        slot = next(iter(balances))
        tampered = balances | {slot: balances[slot] + 1}
        assert [(d.what, d.account, d.currency) for d in verify(stored, tampered)] == [("balance", *slot)]
        victim = stored[-1]
        first = victim.postings[0]
        changed = Transaction(
            victim.key,
            (Posting(first.account, first.currency, first.amount + 1), *victim.postings[1:]),
            victim.at,
            victim.memo,
            victim.reverses,
        )
        found = [d.what for d in verify([*stored[:-1], changed], balances)]
        assert "unbalanced" in found
        assert "balance" in found


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


any_account = st.builds(Account, st.sampled_from(list(AccountKind)), st.sampled_from(["a", "b"]))
any_amount = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64), st.booleans(), st.floats(allow_nan=False), st.none()
)
any_posting = st.builds(Posting, any_account, st.sampled_from(["EUR", "JPY", "eur", "XAU", ""]), any_amount)


@settings(max_examples=300, deadline=None)
@given(
    postings=st.lists(any_posting, max_size=5),
    start=st.dictionaries(st.tuples(any_account, st.just("EUR")), st.integers(0, 50)),
)
def test_post_accepts_exactly_what_validate_passes(
    postings: list[Posting], start: dict[tuple[Account, str], int]
) -> None:
    txn = Transaction("k", tuple(postings), T0)
    problems = validate(txn, start)
    journal = Journal(non_negative=frozenset())
    seed = [Posting(account, "EUR", amount) for (account, _), amount in start.items() if amount]
    if seed:
        journal.post(Transaction("seed", (*seed, Posting(BANK, "EUR", -sum(p.amount for p in seed))), T0))
    strict = Journal(list(journal.transactions))
    assert strict.check(txn) == problems
    if problems:
        with pytest.raises(InvalidTransaction):
            strict.post(txn)
        assert len(strict) == len(journal)
    else:
        strict.post(txn)
        ints = [p.amount for p in postings]
        assert all(type(n) is int and n != 0 for n in ints)
        assert set(sums_per_currency(txn).values()) == {0}
        assert len(postings) >= 2
        assert all(v >= 0 for (a, _), v in strict.balances.items() if a.kind in NON_NEGATIVE_KINDS)
