"""Django's PostgreSQL backend with the "not now" errors mapped (opencall.core.unavailable)."""

from __future__ import annotations

from django.db.backends.postgresql import base
from django.utils.functional import cached_property

from opencall.core.unavailable import UnavailableErrors


class DatabaseWrapper(base.DatabaseWrapper):
    @cached_property
    def wrap_database_errors(self) -> UnavailableErrors:
        return UnavailableErrors(self)
