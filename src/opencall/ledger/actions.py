"""Writes to the ledger: post a transaction, reverse one. Each checks the permission, validates with
the engine against the current balances of the accounts it touches, and writes the transaction, its
entries and an audit event in one database transaction, or nothing.

Concurrency: two posts touching one account must not both read the balance before either writes
(both could spend the same money). On PostgreSQL each post first takes a transaction-scoped advisory
lock per (account, currency) it touches and one for its key, in a fixed order (no deadlock); the
balances are read after the locks, by a new statement, so they include every post committed before.
Row locks (``SELECT ... FOR UPDATE``) on the existing entries would not do: under READ COMMITTED they
do not see the entries a concurrent post inserts. On SQLite every write transaction begins
IMMEDIATE (settings), so writers are serialised at BEGIN.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opencall.accounts.models import User
from opencall.core import audit
from opencall.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from opencall.engines.ledger import Posting, Problem, ProblemCode, Transaction, fingerprint, reverse, validate
from opencall.ledger.models import LedgerEntry, LedgerTransaction
from opencall.ledger.permissions import can_post_to_ledger
from opencall.ledger.queries import as_engine, balances_of, transaction_by_key
from opencall.organisations.models import Organisation

KEY_LENGTH = 200
MEMO_LENGTH = 500
SCOPE_LENGTH = 120

_MESSAGES = {
    ProblemCode.NO_KEY: gettext_lazy("A transaction needs a key."),
    ProblemCode.TOO_FEW_POSTINGS: gettext_lazy("A transaction needs at least two postings."),
    ProblemCode.NOT_A_POSTING: gettext_lazy("Posting %(posting)s is not a posting."),
    ProblemCode.NOT_AN_ACCOUNT: gettext_lazy("Posting %(posting)s does not name an account."),
    ProblemCode.UNKNOWN_CURRENCY: gettext_lazy("Posting %(posting)s: %(currency)s is not a known currency."),
    ProblemCode.NOT_AN_INTEGER: gettext_lazy(
        "Posting %(posting)s: the amount must be a whole number of the currency's smallest unit."),
    ProblemCode.ZERO_AMOUNT: gettext_lazy("Posting %(posting)s: the amount is zero."),
    ProblemCode.AMOUNT_TOO_LARGE: gettext_lazy("Posting %(posting)s: the amount is too large."),
    ProblemCode.UNBALANCED: gettext_lazy("The postings in %(currency)s do not add up to zero."),
    ProblemCode.NO_TIME_ZONE: gettext_lazy("The transaction's time needs a time zone."),
    ProblemCode.WOULD_GO_NEGATIVE: gettext_lazy("Not enough money: %(account)s would go below zero in %(currency)s."),
    ProblemCode.BALANCE_TOO_LARGE: gettext_lazy("%(account)s would hold more %(currency)s than can be recorded."),
}
# Problems of the ledger's state rather than of the request: answered 409, not 422.
_CONFLICTS = {ProblemCode.WOULD_GO_NEGATIVE, ProblemCode.BALANCE_TOO_LARGE}


def _explain(problem: Problem, txn: Transaction) -> str:
    currency: object = problem.currency
    if currency is None and problem.posting is not None and isinstance(txn.postings[problem.posting], Posting):
        currency = txn.postings[problem.posting].currency
    template = _MESSAGES.get(problem.code)
    if template is None:
        return problem.message
    return str(template) % {"posting": problem.posting, "currency": currency, "account": problem.account}


def _refuse(problems: Sequence[Problem], txn: Transaction) -> None:
    if not problems:
        return
    messages = [_explain(p, txn) for p in problems]
    if all(p.code in _CONFLICTS for p in problems):
        raise Conflict(" ".join(messages), errors={"postings": messages})
    raise InvalidInput(" ".join(messages), errors={"postings": messages})


def _refuse_unless_allowed(by: User, organisation: Organisation) -> None:
    if not can_post_to_ledger(by, organisation):
        raise PermissionDenied(_("Only owners and organisers of %(organisation)s can move its money.")
                               % {"organisation": organisation.name})


def _check_request(key: object, memo: object, postings: Sequence[Posting]) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > KEY_LENGTH:
        raise InvalidInput(_("A transaction needs a key of 1-%(n)s characters.") % {"n": KEY_LENGTH},
                           errors={"key": [_("1-%(n)s characters.") % {"n": KEY_LENGTH}]})
    if not isinstance(memo, str) or len(memo) > MEMO_LENGTH:
        raise InvalidInput(_("The memo may have at most %(n)s characters.") % {"n": MEMO_LENGTH},
                           errors={"memo": [_("At most %(n)s characters.") % {"n": MEMO_LENGTH}]})
    for posting in postings:
        scope = getattr(getattr(posting, "account", None), "scope", "")
        if isinstance(scope, str) and len(scope) > SCOPE_LENGTH:
            raise InvalidInput(_("An account's owner key may have at most %(n)s characters.") % {"n": SCOPE_LENGTH})


def _lock(names: set[str]) -> None:
    """Serialise posts touching the same accounts or key (PostgreSQL; SQLite writers already are)."""
    if connection.vendor != "postgresql":
        return
    ids = sorted(int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True) for name in names)
    with connection.cursor() as cursor:
        for lock_id in ids:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def _lock_names(txn: Transaction) -> set[str]:
    names = {f"key\t{txn.key}"}
    for p in txn.postings:
        if isinstance(p, Posting):
            names.add(f"slot\t{p.account}\t{p.currency}")
    return names


def _replayed(txn: Transaction, organisation: Organisation) -> LedgerTransaction | None:
    """The stored transaction if ``txn`` repeats it; Conflict if its key was used for something else."""
    existing = LedgerTransaction.objects.filter(key=txn.key).first()
    if existing is None:
        return None
    if existing.organisation_id != organisation.pk or existing.fingerprint != fingerprint(txn):
        raise Conflict(_("The key %(key)s was already used for a different transaction.") % {"key": txn.key},
                       errors={"key": [_("Already used for a different transaction.")]})
    return existing


def _write(txn: Transaction, *, organisation: Organisation, by: User, verb: str,
           target: LedgerTransaction | None = None) -> LedgerTransaction:
    """Inside the caller's atomic block and locks: validate against current balances, then write."""
    slots = {(p.account, p.currency) for p in txn.postings if isinstance(p, Posting)}
    problems = validate(txn, balances_of(slots))
    _refuse(problems, txn)
    row = LedgerTransaction.objects.create(
        key=txn.key, fingerprint=fingerprint(txn), memo=txn.memo, at=txn.at,
        reverses=target, organisation=organisation, created_by=by if by.is_authenticated else None,
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(transaction=row, position=i, account_kind=p.account.kind.value,
                    account_scope=p.account.scope, currency=p.currency, amount=p.amount)
        for i, p in enumerate(txn.postings)
    )
    data: dict[str, Any] = {
        "key": txn.key, "fingerprint": row.fingerprint, "organisation": organisation.pk,
        "postings": [[str(p.account), p.currency, p.amount] for p in txn.postings],
    }
    if target is not None:
        data["reverses"] = target.key
    audit.record(actor=by, verb=verb, obj=row, data=data)
    return row


def post_transaction(*, organisation: Organisation, key: str, postings: Sequence[Posting], memo: str = "",
                     by: User) -> LedgerTransaction:
    """Post ``postings`` (engine ``Posting``s) as one transaction of ``organisation`` under ``key``.

    A replay of ``key`` with the same postings and memo returns the stored transaction and writes
    nothing; with other content, Conflict. Invalid postings: InvalidInput (422); not enough money in
    an account that may not go negative: Conflict (409). Nothing is written unless all is well."""
    _refuse_unless_allowed(by, organisation)
    _check_request(key, memo, postings)
    txn = Transaction(key=key, postings=tuple(postings), at=timezone.now(), memo=memo)
    with transaction.atomic():
        _lock(_lock_names(txn))
        existing = _replayed(txn, organisation)
        if existing is not None:
            return existing
        return _write(txn, organisation=organisation, by=by, verb="ledger.post")


def reverse_transaction(*, organisation: Organisation, target_key: str, key: str, memo: str | None = None,
                        by: User) -> LedgerTransaction:
    """Post the reversal of the transaction ``target_key`` under ``key``: every posting negated.

    NotFound if the organisation has no such transaction; Conflict if it is itself a reversal or was
    already reversed, or if the accounts no longer hold what the reversal takes back. Idempotent on
    ``key`` like ``post_transaction``."""
    _refuse_unless_allowed(by, organisation)
    _check_request(key, memo or "", ())
    target = transaction_by_key(target_key) if isinstance(target_key, str) else None
    if target is None or target.organisation_id != organisation.pk:
        raise NotFound(_("No such transaction, or it is not visible to you."))
    original = next(as_engine([target]))
    txn = reverse(original, key=key, at=timezone.now(), memo=memo)
    with transaction.atomic():
        _lock(_lock_names(txn) | _lock_names(original))
        existing = _replayed(txn, organisation)
        if existing is not None:
            return existing
        if target.reverses_id is not None:
            raise Conflict(_("A reversal cannot itself be reversed; post the original again instead."))
        if LedgerTransaction.objects.filter(reverses=target).exists():
            raise Conflict(_("The transaction %(key)s was already reversed.") % {"key": target.key})
        return _write(txn, organisation=organisation, by=by, verb="ledger.reverse", target=target)
