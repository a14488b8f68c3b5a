"""Stored ledger rows are never changed or removed: the models refuse, and so does the database."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from opencall.ledger.actions import post_transaction
from opencall.ledger.models import AppendOnlyError, LedgerEntry, LedgerTransaction
from tests.ledger.conftest import top_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(org, organiser):
    return post_transaction(organisation=org, key="t", postings=top_up(org, 1000), by=organiser)


def test_the_models_refuse_updates_and_deletes(posted):
    entry = posted.entries.first()
    posted.memo = "changed"
    with pytest.raises(AppendOnlyError):
        posted.save()
    entry.amount = 1
    with pytest.raises(AppendOnlyError):
        entry.save()
    for refused in (posted.delete, entry.delete, LedgerEntry.objects.all().delete,
                    LedgerTransaction.objects.filter(pk=posted.pk).delete,
                    lambda: LedgerEntry.objects.update(amount=5),
                    lambda: LedgerTransaction.objects.filter(pk=posted.pk).update(memo="x"),
                    lambda: posted.entries.update(amount=5)):
        with pytest.raises(AppendOnlyError):
            refused()
    assert sorted(LedgerEntry.objects.values_list("amount", flat=True)) == [-1000, 1000]


@pytest.mark.parametrize("sql", [
    "UPDATE ledger_ledgerentry SET amount = amount + 1",
    "DELETE FROM ledger_ledgerentry",
    "UPDATE ledger_ledgertransaction SET memo = 'changed'",
    "DELETE FROM ledger_ledgertransaction",
])
def test_the_database_refuses_updates_and_deletes(posted, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert sorted(LedgerEntry.objects.values_list("amount", flat=True)) == [-1000, 1000]
    assert LedgerTransaction.objects.get().memo == ""


def test_the_database_still_accepts_new_rows(posted):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_ledgerentry (transaction_id, position, account_kind, account_scope, currency, amount)"
            " VALUES (%s, 9, 'escrow', 'bounty:1', 'USD', 5)", [posted.pk])
    assert LedgerEntry.objects.count() == 3
