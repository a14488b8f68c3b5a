"""Append-only ledger tables: one row per transaction, one per posting (entry).

A stored row is never changed or removed: ``save()`` refuses an update, ``delete()`` refuses, the
querysets refuse ``update()`` and ``delete()``, and database triggers (migration 0002) refuse UPDATE
and DELETE on both tables. The sums are not a database constraint (a CHECK sees one row); the action
validates every transaction with the engine before writing it, and ``opencall ledger verify``
recomputes everything from the entries.
"""

from __future__ import annotations

from typing import Any, NoReturn, TypeVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opencall.engines.ledger import AccountKind
from opencall.organisations.models import Organisation


class AppendOnlyError(Exception):
    """A programming error: code tried to change or remove a stored ledger row."""


def _refuse(what: str) -> NoReturn:
    raise AppendOnlyError(f"ledger rows are append-only: {what} refused; post a reversal instead")


_M = TypeVar("_M", bound=models.Model)


class AppendOnlyQuerySet(models.QuerySet[_M]):
    def update(self, **kwargs: Any) -> int:
        _refuse("update()")

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse("delete()")


class AppendOnlyManager(models.Manager[_M]):
    def get_queryset(self) -> AppendOnlyQuerySet[_M]:
        return AppendOnlyQuerySet(self.model, using=self._db)


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse("save() of a stored row")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        _refuse("delete()")


ACCOUNT_KINDS = [(kind.value, kind.value.replace("_", " ")) for kind in AccountKind]


class LedgerTransaction(AppendOnly):
    """One engine ``Transaction``: ``key`` is its identity and idempotency key; ``fingerprint`` is
    the engine's SHA-256 of its content, stored so that a replay is compared and tampering shows."""

    key = models.CharField(_("key"), max_length=200, unique=True)
    fingerprint = models.CharField(max_length=64)
    memo = models.CharField(_("memo"), max_length=500, blank=True)
    at = models.DateTimeField(_("time"))
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="ledger_transactions")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AppendOnlyManager["LedgerTransaction"]()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.key


class LedgerEntry(AppendOnly):
    """One posting: ``amount`` minor units of ``currency`` added to the account (kind, scope)."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    position = models.PositiveSmallIntegerField()
    account_kind = models.CharField(max_length=24, choices=ACCOUNT_KINDS)
    account_scope = models.CharField(max_length=120)
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField()

    objects = AppendOnlyManager["LedgerEntry"]()

    class Meta:
        ordering = ["transaction_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "position"], name="ledger_entry_position"),
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_entry_not_zero"),
            models.CheckConstraint(
                condition=models.Q(account_kind__in=[k.value for k in AccountKind]), name="ledger_entry_kind"
            ),
        ]
        indexes = [models.Index(fields=["account_kind", "account_scope", "currency"], name="ledger_entry_account")]

    def __str__(self) -> str:
        return f"{self.account_kind}:{self.account_scope} {self.amount} {self.currency}"
