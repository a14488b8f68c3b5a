"""``opencall ledger verify``: check the stored ledger end to end.

1. Every transaction is rebuilt from its entries and replayed through the engine's ``verify``, which
   reports any transaction that does not sum to zero per currency, breaks a posting rule, takes an
   account that may not go negative below zero, or reverses wrongly.
2. The balances the engine computes from the entries are compared with the balances the database
   sums (``queries.all_balances``, what pages and actions read).
3. Each stored fingerprint is compared with the one recomputed from the entries (a changed amount,
   account, memo or reversal link shows).
4. Each transaction must have its audit event, and the audit hash chain must be intact
   (``core.audit.verify_chain``, as ``opencall verify-audit``).

Reads the ledger in one pass, in key order of insertion; memory O(transactions + accounts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from opencall.core.audit import verify_chain
from opencall.core.models import AuditEvent
from opencall.engines.ledger import Posting, Transaction, fingerprint, verify
from opencall.ledger.models import LedgerEntry, LedgerTransaction
from opencall.ledger.queries import all_balances, posting

AUDIT_VERBS = ("ledger.post", "ledger.reverse")


@dataclass
class LedgerReport:
    problems: list[str] = field(default_factory=list)
    transactions: int = 0
    entries: int = 0
    accounts: int = 0
    audit_events: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _stored() -> Iterator[tuple[Transaction, str, int]]:
    """(engine transaction, stored fingerprint, id) per stored transaction, in insertion order."""
    keys = dict(LedgerTransaction.objects.values_list("id", "key"))
    entries = (
        LedgerEntry.objects.order_by("transaction_id", "position")
        .values_list("transaction_id", "account_kind", "account_scope", "currency", "amount")
        .iterator(chunk_size=5000)
    )
    pending = next(entries, None)
    rows = (
        LedgerTransaction.objects.order_by("id")
        .values_list("id", "key", "fingerprint", "memo", "at", "reverses_id")
        .iterator(chunk_size=5000)
    )
    for txn_id, key, stored_fingerprint, memo, at, reverses_id in rows:
        postings: list[Posting] = []
        while pending is not None and pending[0] <= txn_id:
            if pending[0] == txn_id:
                postings.append(posting(*pending[1:]))
            pending = next(entries, None)
        reverses = keys.get(reverses_id) if reverses_id is not None else None
        yield Transaction(key=key, postings=tuple(postings), at=at, memo=memo, reverses=reverses), \
            stored_fingerprint, txn_id


def verify_ledger() -> LedgerReport:
    """Every difference between what the ledger stores and what it should (empty: all is well)."""
    report = LedgerReport()
    transactions: list[Transaction] = []
    ids: list[int] = []
    for txn, stored_fingerprint, txn_id in _stored():
        transactions.append(txn)
        ids.append(txn_id)
        report.entries += len(txn.postings)
        if fingerprint(txn) != stored_fingerprint:
            report.problems.append(f"transaction {txn.key!r}: its entries no longer match its stored fingerprint")
    report.transactions = len(transactions)
    claimed = all_balances()
    report.accounts = len(claimed)
    report.problems += [difference.message for difference in verify(transactions, claimed)]

    audited = set(
        AuditEvent.objects.filter(object_type=LedgerTransaction._meta.label_lower, verb__in=AUDIT_VERBS)
        .values_list("object_id", flat=True)
    )
    report.problems += [
        f"transaction {txn.key!r}: no audit event records it"
        for txn, txn_id in zip(transactions, ids, strict=True)
        if str(txn_id) not in audited
    ]
    ok, checked, broken = verify_chain()
    report.audit_events = checked
    if not ok:
        report.problems.append(f"audit chain broken at event #{broken} (after {checked} good events)")
    return report
