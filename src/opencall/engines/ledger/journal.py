"""Double-entry journal: accounts, postings, transactions, the rules, balances, statements, verify.

Sign convention: a posting's amount is added to its account's balance. Every account but
``EXTERNAL`` holds money the platform keeps for someone (a sponsor, a bounty's escrow, a creator,
the platform itself), so their balances are >= 0; ``EXTERNAL`` is the other side of money entering
(top-up) and leaving (a paid payout or refund), so its balance is minus everything held. Because
each transaction sums to zero per currency, all balances together sum to zero per currency.

Complexity: ``validate`` and ``Journal.post`` O(p) for a transaction of p postings (dict lookups);
``balances_from`` and ``verify`` O(P) for P postings in all; ``statement`` O(P + l log l) for l lines.
"""

from __future__ import annotations

import enum
import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from opencall.engines.ledger.currencies import ISO_4217
from opencall.engines.ledger.errors import IdempotencyConflict, InvalidTransaction, UnknownTransaction

# Amounts and balances must fit a signed 64-bit column (the app stores them as BIGINT).
MAX_AMOUNT = 2**63 - 1


class AccountKind(enum.Enum):
    SPONSOR_FUNDS = "sponsor_funds"  # an organisation's topped-up money not yet committed; scope: the organisation
    ESCROW = "escrow"  # money held for one bounty or prize; scope: that bounty or prize
    CREATOR_PAYABLE = "creator_payable"  # earned by a creator (or prize winner), not yet paid out; scope: the person
    PLATFORM_FEES = "platform_fees"  # the platform's commission; scope: e.g. the organisation charged
    PAYOUTS_IN_TRANSIT = "payouts_in_transit"  # in a payout batch sent to the bank, not yet confirmed paid
    REFUNDS = "refunds"  # owed back to a sponsor (unused escrow), until the bank transfer is confirmed
    EXTERNAL = "external"  # outside the ledger: the other side of every top-up and every paid transfer


NON_NEGATIVE_KINDS: frozenset[AccountKind] = frozenset(
    {
        AccountKind.SPONSOR_FUNDS,
        AccountKind.ESCROW,
        AccountKind.CREATOR_PAYABLE,
        AccountKind.PLATFORM_FEES,
        AccountKind.PAYOUTS_IN_TRANSIT,
        AccountKind.REFUNDS,
    }
)
"""Kinds whose balance may never go below zero; a transaction that would take one there is refused."""


@dataclass(frozen=True, slots=True)
class Account:
    """An account is a kind and the owner or scope it belongs to ("org:12", "bounty:7", "user:3")."""

    kind: AccountKind
    scope: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.scope}"


@dataclass(frozen=True, slots=True)
class Posting:
    """One line of a transaction: ``amount`` minor units of ``currency`` added to ``account``."""

    account: Account
    currency: str
    amount: int


@dataclass(frozen=True, slots=True)
class Transaction:
    """A set of postings that happen together. ``key`` is both its identity and its idempotency key.

    ``at`` is when it happened (timezone-aware); ``reverses`` names the transaction this one undoes.
    Constructing one checks nothing: ``validate`` says what is wrong, so stored data that was
    tampered with can still be represented and reported by ``verify``.
    """

    key: str
    postings: tuple[Posting, ...]
    at: datetime
    memo: str = ""
    reverses: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.postings, tuple):
            object.__setattr__(self, "postings", tuple(self.postings))


class ProblemCode(enum.StrEnum):
    NO_KEY = "no_key"
    TOO_FEW_POSTINGS = "too_few_postings"
    NOT_A_POSTING = "not_a_posting"
    NOT_AN_ACCOUNT = "not_an_account"
    UNKNOWN_CURRENCY = "unknown_currency"
    NOT_AN_INTEGER = "not_an_integer"
    ZERO_AMOUNT = "zero_amount"
    AMOUNT_TOO_LARGE = "amount_too_large"
    UNBALANCED = "unbalanced"
    NO_TIME_ZONE = "no_time_zone"
    WOULD_GO_NEGATIVE = "would_go_negative"
    BALANCE_TOO_LARGE = "balance_too_large"
    UNKNOWN_REVERSAL_TARGET = "unknown_reversal_target"
    ALREADY_REVERSED = "already_reversed"
    REVERSES_A_REVERSAL = "reverses_a_reversal"
    NOT_THE_NEGATION = "not_the_negation"
    DUPLICATE_KEY = "duplicate_key"


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule. ``code`` is stable (the app translates by it); ``message`` is plain English."""

    code: ProblemCode
    message: str
    posting: int | None = None  # index into the transaction's postings
    account: Account | None = None
    currency: str | None = None


Balances = Mapping[tuple[Account, str], int]
"""(account, currency) -> balance in minor units. A missing entry is a zero balance."""


def _is_int(value: object) -> bool:
    # bool is an int subclass: True would silently post 1 minor unit.
    return isinstance(value, int) and not isinstance(value, bool)


def validate(
    txn: Transaction, balances: Balances, *, non_negative: frozenset[AccountKind] = NON_NEGATIVE_KINDS
) -> list[Problem]:
    """Every rule ``txn`` breaks on its own and against ``balances`` (empty list: it may be applied).

    Checks the key, the time zone, each posting (an ``Account``, an ISO 4217 currency, a non-zero
    int that fits 64 bits), at least two postings, a zero sum per currency, and that no account of
    a ``non_negative`` kind would end below zero. Rules needing the journal (replays, reversal
    targets) are ``Journal.check``'s.
    """
    problems: list[Problem] = []
    if not isinstance(txn.key, str) or not txn.key:
        problems.append(Problem(ProblemCode.NO_KEY, "a transaction needs a non-empty text key"))
    if not isinstance(txn.at, datetime) or txn.at.utcoffset() is None:
        problems.append(Problem(ProblemCode.NO_TIME_ZONE, "the transaction's time must be timezone-aware"))
    if len(txn.postings) < 2:
        problems.append(
            Problem(ProblemCode.TOO_FEW_POSTINGS, f"a transaction needs at least two postings, not {len(txn.postings)}")
        )
    sums: dict[str, int] = {}
    deltas: dict[tuple[Account, str], int] = {}
    for index, posting in enumerate(txn.postings):
        if not isinstance(posting, Posting):
            problems.append(Problem(ProblemCode.NOT_A_POSTING, f"posting {index} is not a Posting", posting=index))
            continue
        account, currency, amount = posting.account, posting.currency, posting.amount
        sound = True
        if (
            not isinstance(account, Account)
            or not isinstance(account.kind, AccountKind)
            or not isinstance(account.scope, str)
        ):
            problems.append(
                Problem(ProblemCode.NOT_AN_ACCOUNT, f"posting {index}: {account!r} is not an account", posting=index)
            )
            sound = False
        if not isinstance(currency, str) or currency not in ISO_4217:
            problems.append(
                Problem(
                    ProblemCode.UNKNOWN_CURRENCY,
                    f"posting {index}: {currency!r} is not an ISO 4217 currency code with a minor unit",
                    posting=index,
                )
            )
            sound = False
        if not _is_int(amount):
            problems.append(
                Problem(
                    ProblemCode.NOT_AN_INTEGER,
                    f"posting {index}: amount {amount!r} is not an integer number of minor units",
                    posting=index,
                )
            )
            continue
        if amount == 0:
            problems.append(Problem(ProblemCode.ZERO_AMOUNT, f"posting {index}: amount is zero", posting=index))
        elif abs(amount) > MAX_AMOUNT:
            problems.append(
                Problem(
                    ProblemCode.AMOUNT_TOO_LARGE,
                    f"posting {index}: amount {amount} does not fit 64 bits",
                    posting=index,
                )
            )
            sound = False
        if isinstance(currency, str):
            sums[currency] = sums.get(currency, 0) + amount
        if sound:
            deltas[account, currency] = deltas.get((account, currency), 0) + amount
    for currency, total in sorted(sums.items()):
        if total != 0:
            problems.append(
                Problem(
                    ProblemCode.UNBALANCED,
                    f"postings in {currency} sum to {total}, not zero",
                    currency=currency,
                )
            )
    for (account, currency), delta in deltas.items():
        after = balances.get((account, currency), 0) + delta
        if after < 0 and account.kind in non_negative:
            problems.append(
                Problem(
                    ProblemCode.WOULD_GO_NEGATIVE,
                    f"{account} would go to {after} {currency}; an account of kind {account.kind.value} may not go negative",
                    account=account,
                    currency=currency,
                )
            )
        elif abs(after) > MAX_AMOUNT:
            problems.append(
                Problem(
                    ProblemCode.BALANCE_TOO_LARGE,
                    f"{account} would hold {after} {currency}, beyond 64 bits",
                    account=account,
                    currency=currency,
                )
            )
    return problems


def _add_into(balances: MutableMapping[tuple[Account, str], int], postings: Iterable[Posting]) -> None:
    for posting in postings:
        slot = (posting.account, posting.currency)
        balances[slot] = balances.get(slot, 0) + posting.amount


def apply_into(balances: MutableMapping[tuple[Account, str], int], txn: Transaction) -> None:
    """Add ``txn``'s postings to ``balances`` in place (for a caller keeping one working dict)."""
    _add_into(balances, txn.postings)


def apply(balances: Balances, txn: Transaction) -> dict[tuple[Account, str], int]:
    """New balances after ``txn`` (the input is not changed). Apply only what ``validate`` passed."""
    result = dict(balances)
    _add_into(result, txn.postings)
    return result


def balances_from(postings: Iterable[Posting]) -> dict[tuple[Account, str], int]:
    """Balance per (account, currency), summed from the postings; zero balances are left out."""
    result: dict[tuple[Account, str], int] = {}
    _add_into(result, postings)
    return {slot: amount for slot, amount in result.items() if amount != 0}


def reverse(txn: Transaction, *, key: str, at: datetime, memo: str | None = None) -> Transaction:
    """A new transaction undoing ``txn``: every posting negated, ``reverses`` pointing at it."""
    return Transaction(
        key=key,
        postings=tuple(Posting(p.account, p.currency, -p.amount) for p in txn.postings),
        at=at,
        memo=f"reversal of {txn.key}" if memo is None else memo,
        reverses=txn.key,
    )


def _content_line(posting: Posting) -> str:
    # repr, not ==: True == 1 and 1.0 == 1, but a replay carrying them is not the same request.
    if isinstance(posting, Posting) and isinstance(posting.account, Account):
        account = f"{posting.account.kind!r}\t{posting.account.scope!r}"
        return f"{account}\t{posting.currency!r}\t{posting.amount!r}"
    return repr(posting)


def content(txn: Transaction) -> tuple[object, ...]:
    """What makes two transactions under one key the same request: postings (in any order), memo,
    reversal target. The time is left out: a retry is sent later than the original."""
    return (tuple(sorted(_content_line(p) for p in txn.postings)), repr(txn.memo), repr(txn.reverses))


def fingerprint(txn: Transaction) -> str:
    """SHA-256 of ``content(txn)``, a fixed-length form to store beside the key."""
    return hashlib.sha256(repr(content(txn)).encode()).hexdigest()


def _negation_matches(reversal: Transaction, target: Transaction) -> bool:
    wanted = Counter((p.account, p.currency, -p.amount) for p in target.postings)
    return Counter((p.account, p.currency, p.amount) for p in reversal.postings) == wanted


@dataclass(frozen=True, slots=True)
class StatementLine:
    key: str
    at: datetime
    amount: int  # net effect of the transaction on the account
    balance: int  # running balance after it
    memo: str


@dataclass(frozen=True, slots=True)
class Statement:
    account: Account
    currency: str
    start: datetime | None
    end: datetime | None
    opening: int
    lines: tuple[StatementLine, ...]
    closing: int


def statement(
    transactions: Iterable[Transaction],
    account: Account,
    currency: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Statement:
    """One account's movements in one currency with ``start <= at < end``, ordered by time (then by
    journal order), with the opening balance (everything before ``start``) and a running balance."""
    opening = 0
    touched: list[tuple[datetime, int, Transaction, int]] = []
    for order, txn in enumerate(transactions):
        net = 0
        hit = False
        for p in txn.postings:
            if p.account == account and p.currency == currency:
                net += p.amount
                hit = True
        if not hit or (end is not None and txn.at >= end):
            continue
        if start is not None and txn.at < start:
            opening += net
        else:
            touched.append((txn.at, order, txn, net))
    touched.sort(key=lambda row: (row[0], row[1]))
    running = opening
    lines: list[StatementLine] = []
    for at, _, txn, net in touched:
        running += net
        lines.append(StatementLine(key=txn.key, at=at, amount=net, balance=running, memo=txn.memo))
    return Statement(account, currency, start, end, opening, tuple(lines), running)


@dataclass(frozen=True, slots=True)
class Difference:
    """Something ``verify`` found wrong: a stored transaction breaking a rule (``what`` is the
    problem code), or a claimed balance that is not the one the postings give (``what`` "balance")."""

    what: str
    message: str
    key: str | None = None
    account: Account | None = None
    currency: str | None = None
    claimed: int | None = None
    computed: int | None = None


def verify(
    transactions: Iterable[Transaction],
    claimed_balances: Balances,
    *,
    non_negative: frozenset[AccountKind] = NON_NEGATIVE_KINDS,
) -> list[Difference]:
    """Replay ``transactions`` in order and report every difference (empty list: all is well).

    Each transaction is checked as ``Journal.check`` would have checked it at its turn (so an
    unbalanced, duplicated, overdrawing or wrongly reversing one is reported), yet applied anyway:
    the computed balances are the sums of the stored postings. Then every (account, currency) in
    either the computed or the claimed balances is compared, a missing entry counting as zero.
    """
    differences: list[Difference] = []
    state = _State(non_negative)
    for txn in transactions:
        for problem in state.check(txn, replay_ok=False):
            differences.append(
                Difference(
                    what=str(problem.code),
                    message=f"transaction {txn.key!r}: {problem.message}",
                    key=txn.key,
                    account=problem.account,
                    currency=problem.currency,
                )
            )
        state.record(txn)
    computed = state.balances
    slots = set(computed) | set(claimed_balances)
    for account, currency in sorted(slots, key=lambda s: (s[0].kind.value, s[0].scope, s[1])):
        have = computed.get((account, currency), 0)
        said = claimed_balances.get((account, currency), 0)
        if have != said:
            differences.append(
                Difference(
                    what="balance",
                    message=f"{account} {currency}: claimed {said}, the postings give {have}",
                    account=account,
                    currency=currency,
                    claimed=said,
                    computed=have,
                )
            )
    return differences


@dataclass(slots=True)
class _State:
    """The journal's working state, shared by ``Journal`` and ``verify``."""

    non_negative: frozenset[AccountKind]
    transactions: list[Transaction] = field(default_factory=list)
    by_key: dict[str, Transaction] = field(default_factory=dict)
    reversed_by: dict[str, str] = field(default_factory=dict)
    balances: dict[tuple[Account, str], int] = field(default_factory=dict)

    def check(self, txn: Transaction, *, replay_ok: bool = True) -> list[Problem]:
        if txn.key in self.by_key:
            if replay_ok:
                return []
            return [Problem(ProblemCode.DUPLICATE_KEY, f"key {txn.key!r} is stored more than once")]
        problems = validate(txn, self.balances, non_negative=self.non_negative)
        if txn.reverses is not None:
            problems.extend(self._check_reversal(txn))
        return problems

    def _check_reversal(self, txn: Transaction) -> list[Problem]:
        target = self.by_key.get(txn.reverses) if isinstance(txn.reverses, str) else None
        if target is None:
            return [
                Problem(
                    ProblemCode.UNKNOWN_REVERSAL_TARGET, f"it reverses {txn.reverses!r}, which is not in the journal"
                )
            ]
        problems: list[Problem] = []
        if target.reverses is not None:
            problems.append(
                Problem(
                    ProblemCode.REVERSES_A_REVERSAL,
                    f"{target.key!r} is itself a reversal; post the original again under a new key instead",
                )
            )
        if target.key in self.reversed_by:
            problems.append(
                Problem(
                    ProblemCode.ALREADY_REVERSED,
                    f"{target.key!r} was already reversed by {self.reversed_by[target.key]!r}",
                )
            )
        if not _negation_matches(txn, target):
            problems.append(
                Problem(ProblemCode.NOT_THE_NEGATION, f"its postings are not exactly those of {target.key!r} negated")
            )
        return problems

    def record(self, txn: Transaction) -> None:
        self.transactions.append(txn)
        self.by_key.setdefault(txn.key, txn)
        if txn.reverses is not None:
            self.reversed_by.setdefault(txn.reverses, txn.key)
        _add_into(self.balances, txn.postings)


class Journal:
    """An append-only journal held in memory: post, reverse, read balances and statements, verify.

    Nothing posted is ever changed or removed. ``post`` either appends the whole transaction or
    raises and changes nothing. The app keeps the same transactions in append-only tables and uses
    ``validate``/``verify`` (or a ``Journal`` loaded from the tables) before and after writing.
    """

    def __init__(
        self, transactions: Iterable[Transaction] = (), *, non_negative: frozenset[AccountKind] = NON_NEGATIVE_KINDS
    ) -> None:
        self._state = _State(frozenset(non_negative))
        for txn in transactions:
            self.post(txn)

    @property
    def non_negative(self) -> frozenset[AccountKind]:
        return self._state.non_negative

    @property
    def transactions(self) -> tuple[Transaction, ...]:
        return tuple(self._state.transactions)

    def __len__(self) -> int:
        return len(self._state.transactions)

    def __iter__(self) -> Iterator[Transaction]:
        return iter(tuple(self._state.transactions))

    @property
    def balances(self) -> Mapping[tuple[Account, str], int]:
        """A read-only live view; accounts whose postings net to zero show 0."""
        return MappingProxyType(self._state.balances)

    def balance(self, account: Account, currency: str) -> int:
        return self._state.balances.get((account, currency), 0)

    def get(self, key: str) -> Transaction:
        try:
            return self._state.by_key[key]
        except KeyError:
            raise UnknownTransaction(key) from None

    def __contains__(self, key: object) -> bool:
        return key in self._state.by_key

    def reversed_by(self, key: str) -> str | None:
        """The key of the transaction that reversed ``key``, if any."""
        return self._state.reversed_by.get(key)

    def check(self, txn: Transaction) -> list[Problem]:
        """What ``post`` would refuse ``txn`` for; a replay of a stored key is not a problem here
        (``post`` decides whether it is the same request or a conflict)."""
        return self._state.check(txn)

    def post(self, txn: Transaction) -> Transaction:
        """Append ``txn`` and return it; for a key already posted with the same content, change
        nothing and return the original. Raises ``IdempotencyConflict`` (same key, other content)
        or ``InvalidTransaction`` (any rule broken; nothing is appended)."""
        original = self._state.by_key.get(txn.key) if isinstance(txn.key, str) else None
        if original is not None:
            if content(original) == content(txn):
                return original
            raise IdempotencyConflict(original, txn)
        problems = self._state.check(txn)
        if problems:
            raise InvalidTransaction(txn.key, problems)
        self._state.record(txn)
        return txn

    def reverse(self, target: str, *, key: str, at: datetime, memo: str | None = None) -> Transaction:
        """Post the reversal of the transaction ``target`` under ``key`` (same rules as ``post``)."""
        return self.post(reverse(self.get(target), key=key, at=at, memo=memo))

    def statement(
        self, account: Account, currency: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> Statement:
        return statement(self._state.transactions, account, currency, start=start, end=end)

    def verify(self, claimed_balances: Balances) -> list[Difference]:
        return verify(self._state.transactions, claimed_balances, non_negative=self.non_negative)


def postings_of(transactions: Sequence[Transaction]) -> Iterator[Posting]:
    """Every posting of ``transactions``, in order (to feed ``balances_from``)."""
    for txn in transactions:
        yield from txn.postings
