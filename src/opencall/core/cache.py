"""The shared cache: Django's database cache with an atomic increment, and its table kept in place.

Django's DatabaseCache implements `incr` as a read then a write, so two workers counting the same
rate-limit key can both read 4 and both write 5. Here the read and the write happen in one transaction
holding the row: `SELECT ... FOR UPDATE` where the database has it (PostgreSQL), and on SQLite the
write lock that Opencall's IMMEDIATE transactions take at BEGIN. The expiry is left as it was (Django's
`incr` would reset it to the default timeout, stretching or shortening a rate window).
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.core.management import call_command
from django.db import connections, router, transaction


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        made = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self._table)  # type: ignore[attr-defined]
        with transaction.atomic(using=db), connection.cursor() as cursor:
            if connection.features.has_select_for_update:
                cursor.execute(
                    f"SELECT {quote('cache_key')} FROM {table} WHERE {quote('cache_key')} = %s FOR UPDATE",  # noqa: S608 -- quoted names, the key is a parameter
                    [made],
                )
            value = self.get(key, version=version)
            if value is None:
                raise ValueError(f"Key '{key}' not found")
            value += delta
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {quote('value')} = %s WHERE {quote('cache_key')} = %s",  # noqa: S608 -- as above
                [encoded, made],
            )
        return value

    def decr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        return self.incr(key, -delta, version)


def create_cache_tables(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """post_migrate: every `migrate` (`opencall migrate`, `opencall serve`, `make run`) also creates the
    database cache's table, so the rate limiter works on a fresh clone with nothing else to run."""
    if any(str(conf["BACKEND"]).endswith("DatabaseCache") for conf in settings.CACHES.values()):
        call_command("createcachetable", database=using, verbosity=0)
