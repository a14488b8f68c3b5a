"""Django's SQLite backend with the "not now" errors mapped (opencall.core.unavailable)."""

from __future__ import annotations

import sqlite3
from typing import Any

from django.db.backends.sqlite3 import base
from django.utils.functional import cached_property

from opencall.core.unavailable import BRIEF_BUSY_TIMEOUT_MS, UnavailableErrors, recently_busy


class DatabaseWrapper(base.DatabaseWrapper):
    @cached_property
    def wrap_database_errors(self) -> UnavailableErrors:
        return UnavailableErrors(self)

    def get_new_connection(self, conn_params: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = super().get_new_connection(conn_params)
        if recently_busy():
            conn.execute(f"PRAGMA busy_timeout = {BRIEF_BUSY_TIMEOUT_MS}")
        return conn
