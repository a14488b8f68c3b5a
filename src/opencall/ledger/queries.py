"""Reads of the ledger: stored rows as engine transactions, balances, statements, and their gates."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.core.errors import NotFound, PermissionDenied
from opencall.engines.ledger import Account, AccountKind, Posting, Statement, Transaction, statement
from opencall.ledger.models import LedgerEntry, LedgerTransaction
from opencall.organisations.models import Organisation

Slot = tuple[Account, str]


def posting(kind: str, scope: str, currency: str, amount: int) -> Posting:
    """One stored entry's columns as the engine's posting."""
    return Posting(Account(AccountKind(kind), scope), currency, amount)


def as_engine(rows: Iterable[LedgerTransaction]) -> Iterator[Transaction]:
    """Stored transactions as the engine's, postings in their stored order. Pass rows fetched with
    ``prefetch_related("entries")`` and ``select_related("reverses")`` to read them in two queries."""
    for row in rows:
        postings = tuple(
            posting(e.account_kind, e.account_scope, e.currency, e.amount)
            for e in sorted(row.entries.all(), key=lambda e: e.position)
        )
        yield Transaction(
            key=row.key, postings=postings, at=row.at, memo=row.memo,
            reverses=row.reverses.key if row.reverses is not None else None,
        )


def with_entries(rows: QuerySet[LedgerTransaction]) -> QuerySet[LedgerTransaction]:
    return rows.select_related("reverses").prefetch_related("entries").order_by("id")


def transaction_by_key(key: str) -> LedgerTransaction | None:
    return with_entries(LedgerTransaction.objects.filter(key=key)).first()


def balances_of(slots: Iterable[Slot], *, organisation: Organisation | None = None) -> dict[Slot, int]:
    """The stored balance of each (account, currency), summed by the database; missing means zero.

    With ``organisation``, only that organisation's transactions count."""
    wanted = set(slots)
    if not wanted:
        return {}
    which = Q()
    for account, currency in wanted:
        which |= Q(account_kind=account.kind.value, account_scope=account.scope, currency=currency)
    entries = LedgerEntry.objects.filter(which)
    if organisation is not None:
        entries = entries.filter(transaction__organisation=organisation)
    return _sums(entries)


def all_balances(*, organisation: Organisation | None = None) -> dict[Slot, int]:
    """Every (account, currency) with a non-zero stored balance, summed by the database."""
    entries = LedgerEntry.objects.all()
    if organisation is not None:
        entries = entries.filter(transaction__organisation=organisation)
    return {slot: amount for slot, amount in _sums(entries).items() if amount != 0}


def _sums(entries: QuerySet[LedgerEntry]) -> dict[Slot, int]:
    rows = (
        entries.order_by()
        .values_list("account_kind", "account_scope", "currency")
        .annotate(total=Sum("amount"))
    )
    return {(Account(AccountKind(kind), scope), currency): int(total) for kind, scope, currency, total in rows}


def _readable(viewer: User, organisation: Organisation) -> None:
    from opencall.ledger.permissions import can_read_ledger

    if not can_read_ledger(viewer, organisation):
        raise PermissionDenied(_("Only members of %(organisation)s can see its ledger.")
                               % {"organisation": organisation.name})


def balances_for(viewer: User, organisation: Organisation) -> dict[Slot, int]:
    """The gate for an organisation's balances: each account's sum over the organisation's own
    transactions (non-zero only). PermissionDenied for anyone but its members and staff."""
    _readable(viewer, organisation)
    return all_balances(organisation=organisation)


def statement_for(
    viewer: User, organisation: Organisation, account: Account, currency: str,
    *, start: datetime | None = None, end: datetime | None = None,
) -> Statement:
    """The gate for one account's statement over the organisation's transactions (engine
    ``statement``: opening balance, lines by time, running balance). NotFound for an account the
    organisation never posted to, PermissionDenied for non-members."""
    _readable(viewer, organisation)
    touching = LedgerTransaction.objects.filter(
        organisation=organisation,
        entries__account_kind=account.kind.value, entries__account_scope=account.scope, entries__currency=currency,
    ).values("id")
    rows = list(with_entries(LedgerTransaction.objects.filter(id__in=touching)))
    if not rows:
        raise NotFound(_("No such account, or it is not visible to you."))
    return statement(as_engine(rows), account, currency, start=start, end=end)
