"""`opencall ledger verify`: exit 0 on a clean ledger, 1 and one line per problem on a tampered one."""

from __future__ import annotations

import pytest
from django.db import connection

from opencall.cli import main
from opencall.core.models import AuditEvent
from opencall.ledger.actions import post_transaction, reverse_transaction
from opencall.ledger.verify import verify_ledger
from tests.ledger.conftest import commit, top_up

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_process_django(monkeypatch):
    # the test database is already set up; the command must use it, not configure Django again
    monkeypatch.setattr("opencall.cli._django", lambda: None)


@pytest.fixture
def ledger(org, organiser):
    post_transaction(organisation=org, key="in", postings=top_up(org, 1000), by=organiser)
    post_transaction(organisation=org, key="hold", postings=commit(org, 600), by=organiser)
    post_transaction(organisation=org, key="in-2", postings=top_up(org, 50, "JPY"), by=organiser)
    reverse_transaction(organisation=org, target_key="in-2", key="in-2-undo", by=organiser)


def _insert_entry(key: str, kind: str, scope: str, currency: str, amount: int, position: int = 9) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_ledgerentry (transaction_id, position, account_kind, account_scope, currency, amount)"
            " SELECT id, %s, %s, %s, %s, %s FROM ledger_ledgertransaction WHERE key = %s",
            [position, kind, scope, currency, amount, key])


def test_a_clean_ledger_verifies(ledger, capsys):
    assert verify_ledger().problems == []
    assert main(["ledger", "verify"]) == 0
    out = capsys.readouterr().out
    assert "Ledger consistent: 4 transactions, 8 entries" in out


def test_an_empty_ledger_verifies(db, capsys):
    assert main(["ledger", "verify"]) == 0
    assert "0 transactions" in capsys.readouterr().out


def test_an_unbalanced_entry_slipped_in_by_sql_is_found(ledger, org, capsys):
    _insert_entry("hold", "escrow", "bounty:1", "USD", 1)
    assert main(["ledger", "verify"]) == 1
    out = capsys.readouterr().out
    assert "'hold'" in out and "sum to 1, not zero" in out
    assert "fingerprint" in out


def test_a_balanced_but_overdrawing_pair_is_found(ledger, org):
    _insert_entry("hold", "escrow", "bounty:1", "USD", -700, 8)
    _insert_entry("hold", "sponsor_funds", f"org:{org.pk}", "USD", 700, 9)
    problems = verify_ledger().problems
    assert any("may not go negative" in p for p in problems)
    assert any("fingerprint" in p for p in problems)


def test_a_transaction_written_around_the_action_has_no_audit_event(ledger, org, organiser):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_ledgertransaction (key, fingerprint, memo, at, organisation_id, created_by_id)"
            " VALUES ('sneak', '', '', CURRENT_TIMESTAMP, %s, %s)", [org.pk, organiser.pk])
    problems = verify_ledger().problems
    assert any("'sneak'" in p and "no audit event" in p for p in problems)
    assert any("'sneak'" in p and "at least two postings" in p for p in problems)


def test_a_broken_audit_chain_fails_the_ledger_check(ledger, capsys):
    AuditEvent.objects.filter(verb="ledger.post").order_by("seq").update(verb="tampered")
    assert main(["ledger", "verify"]) == 1
    assert "audit chain broken" in capsys.readouterr().out
