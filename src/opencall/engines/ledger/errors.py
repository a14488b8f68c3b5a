"""The ledger's error types. Each carries what the caller needs to explain the refusal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opencall.engines.ledger.journal import Problem, Transaction


class LedgerError(Exception):
    """Base of every error the ledger engine raises."""


class UnknownCurrency(LedgerError, ValueError):
    def __init__(self, code: object) -> None:
        super().__init__(f"{code!r} is not an ISO 4217 currency code with a minor unit")
        self.code = code


class InvalidAmount(LedgerError, ValueError):
    """Text or a value that is not an exact amount of minor units."""


class InvalidTransaction(LedgerError):
    """The transaction breaks one or more rules; ``problems`` lists each (nothing was written)."""

    def __init__(self, key: object, problems: Sequence[Problem]) -> None:
        self.key = key
        self.problems = tuple(problems)
        details = "; ".join(problem.message for problem in self.problems)
        super().__init__(f"transaction {key!r} refused: {details}")


class IdempotencyConflict(LedgerError):
    """The key was already used for a transaction with different content."""

    def __init__(self, original: Transaction, attempted: Transaction) -> None:
        self.key = original.key
        self.original = original
        self.attempted = attempted
        super().__init__(
            f"idempotency key {original.key!r} was already used for a different transaction "
            "(a replay must repeat the same postings, memo and reversal target)"
        )


class UnknownTransaction(LedgerError, LookupError):
    def __init__(self, key: object) -> None:
        super().__init__(f"no transaction with key {key!r}")
        self.key = key
