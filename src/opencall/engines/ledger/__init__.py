"""Ledger engine: double-entry bookkeeping in integer minor units, per ISO 4217 currency.

Method: the double-entry journal (Pacioli, *Summa de arithmetica*, 1494, "De computis et
scripturis"), in the form used by plain-text accounting (Ledger, hledger, Beancount): a
transaction is a set of signed postings that sum to zero per currency; balances, statements and
checks are all derived from the postings, never stored apart from them. Corrections are new
transactions (a reversal negates every posting of its target; it is never edited or deleted), and
a request carries an idempotency key so a retry adds nothing (the "idempotent receiver", Hohpe &
Woolf, *Enterprise Integration Patterns*, 2003). Amounts are Python ints in the currency's minor
unit (ISO 4217:2015 exponents: USD 2, JPY 0, KWD 3, CLF 4); floats and bools are refused.

Rules: at least two postings, none zero, each an ISO currency with a minor unit and a 64-bit
amount; zero sum per currency; accounts of the kinds in ``NON_NEGATIVE_KINDS`` (all but
``EXTERNAL``) never below zero; a key replayed with the same content returns the original, with
other content raises ``IdempotencyConflict``; a transaction is reversed at most once, a reversal is
not itself reversed, and its postings are exactly the target's negated.

Complexity: validating and posting a transaction of p postings is O(p); ``balances_from`` and
``verify`` are O(P) for P postings; ``statement`` O(P + l log l) for l lines. Memory O(P).

Pure Python; no I/O; deterministic.
"""

from opencall.engines.ledger.currencies import (
    ISO_4217,
    format_minor_units,
    is_currency,
    minor_units,
    to_minor_units,
)
from opencall.engines.ledger.errors import (
    IdempotencyConflict,
    InvalidAmount,
    InvalidTransaction,
    LedgerError,
    UnknownCurrency,
    UnknownTransaction,
)
from opencall.engines.ledger.journal import (
    MAX_AMOUNT,
    NON_NEGATIVE_KINDS,
    Account,
    AccountKind,
    Balances,
    Difference,
    Journal,
    Posting,
    Problem,
    ProblemCode,
    Statement,
    StatementLine,
    Transaction,
    apply,
    apply_into,
    balances_from,
    content,
    fingerprint,
    postings_of,
    reverse,
    statement,
    validate,
    verify,
)

__all__ = [
    "ISO_4217",
    "MAX_AMOUNT",
    "NON_NEGATIVE_KINDS",
    "Account",
    "AccountKind",
    "Balances",
    "Difference",
    "IdempotencyConflict",
    "InvalidAmount",
    "InvalidTransaction",
    "Journal",
    "LedgerError",
    "Posting",
    "Problem",
    "ProblemCode",
    "Statement",
    "StatementLine",
    "Transaction",
    "UnknownCurrency",
    "UnknownTransaction",
    "apply",
    "apply_into",
    "balances_from",
    "content",
    "fingerprint",
    "format_minor_units",
    "is_currency",
    "minor_units",
    "postings_of",
    "reverse",
    "statement",
    "to_minor_units",
    "validate",
    "verify",
]
