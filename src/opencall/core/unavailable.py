"""A database that cannot serve now (locked, full, down, restarting) answers 503 with Retry-After, never 500.

The mapping happens once, where Django turns driver errors into its own (`UnavailableErrors`, used by the
backends in `opencall.core.dbbackends`): a driver error meaning "try again later" is raised as
`ServiceUnavailable`, which is both a `DomainError` (views re-show their form with its message, the API
answers problem+json) and Django's `OperationalError` (the transaction machinery rolls back and marks the
connection as for any database error, so nothing is half-saved and a broken connection is replaced).
Errors meaning a bug (IntegrityError, ProgrammingError, SQLite's "no such table") stay what they are.
A full disk on a file write (an upload) is the same condition and gets the same answer.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from types import TracebackType

from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import DatabaseErrorWrapper
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from opencall.core.errors import DomainError
from opencall.core.problem import problem

log = logging.getLogger("opencall.unavailable")

# How long a client should wait before trying again: a few of the short busy timeouts, and about what a
# PostgreSQL restart takes.
RETRY_AFTER_SECONDS = 5

# SQLite primary result codes that mean "not now" rather than "wrong SQL" (SQLITE_ERROR, which also
# covers "no such table", is left out on purpose).
_SQLITE_NOT_NOW = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_NOMEM,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PROTOCOL,
}
# PostgreSQL SQLSTATE classes: 08 connection exception, 53 insufficient resources (disk full, too many
# connections), 57 operator intervention (shutdown, "starting up", statement timeout), 58 system error.
_PG_NOT_NOW_CLASSES = {"08", "53", "57", "58"}
# lock_not_available (our lock_timeout), serialization failure, deadlock: all worth a retry.
_PG_NOT_NOW_STATES = {"55P03", "40001", "40P01"}
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class ServiceUnavailable(DomainError, OperationalError):
    status = 503
    code = "service-unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or message())
        self.retry_after = RETRY_AFTER_SECONDS


def message() -> str:
    return _(
        "The site cannot use its database right now (it is busy, full or restarting), so nothing was saved. "
        "Please try again in a few seconds."
    )


def is_not_now(exc: BaseException, vendor: str) -> bool:
    """Whether a driver error means the database cannot serve now, rather than a bug in the query."""
    if vendor == "sqlite":
        code = getattr(exc, "sqlite_errorcode", None)
        return isinstance(exc, sqlite3.OperationalError) and code is not None and code & 0xFF in _SQLITE_NOT_NOW
    if vendor == "postgresql":
        import psycopg

        if isinstance(exc, psycopg.InterfaceError):
            return True  # the connection is closed or was lost
        if not isinstance(exc, psycopg.OperationalError):
            return False
        state: str | None = getattr(exc, "sqlstate", None)
        # No SQLSTATE: the client library failed to connect or lost the server (refused, timed out, closed).
        return state is None or state[:2] in _PG_NOT_NOW_CLASSES or state in _PG_NOT_NOW_STATES
    return False


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _DISK_FULL


# A process-wide note that SQLite's write lock was found held a moment ago. While it lasts, new
# connections wait only briefly for it: requests that would each sit out the full busy timeout would
# otherwise take every server thread and leave none for readers.
_busy_until = 0.0
BRIEF_BUSY_TIMEOUT_MS = 200
# Bookkeeping on a read waits this long for the lock, enough for ordinary writes to finish.
BOOKKEEPING_BUSY_TIMEOUT_MS = 100
_bookkeeping: ContextVar[bool] = ContextVar("opencall_bookkeeping", default=False)


def note_busy() -> None:
    global _busy_until
    _busy_until = time.monotonic() + RETRY_AFTER_SECONDS


def recently_busy() -> bool:
    return time.monotonic() < _busy_until


def forget_busy() -> None:
    global _busy_until
    _busy_until = 0.0


class UnavailableErrors(DatabaseErrorWrapper):
    """Django's driver-error translation, raising `ServiceUnavailable` for the "not now" errors."""

    def __init__(self, wrapper: BaseDatabaseWrapper) -> None:
        super().__init__(wrapper)
        self.db = wrapper

    def __exit__(
        self, exc_type: type[BaseException] | None, exc_value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if exc_value is not None and not isinstance(exc_value, ServiceUnavailable) and is_not_now(
            exc_value, self.db.vendor
        ):
            self.db.errors_occurred = True  # as Django does: the connection is checked before reuse
            busy = getattr(exc_value, "sqlite_errorcode", 0) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            # A bookkeeping write gave up after a very short wait: that says nothing of a lock held for long.
            if busy and not _bookkeeping.get():
                note_busy()
            raise ServiceUnavailable().with_traceback(traceback) from exc_value
        super().__exit__(exc_type, exc_value, traceback)


@contextlib.contextmanager
def unless_busy() -> Iterator[None]:
    """For bookkeeping writes made while serving a read (a token's last use): skipped after a very short
    wait when the database cannot take them, so the read is still answered at once."""
    if connection.in_atomic_block:
        # A failed statement would leave the surrounding transaction unusable on PostgreSQL: let it fail.
        yield
        return
    raw = None
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection  # raw: a pragma is not one of the request's queries
        (previous,) = raw.execute("PRAGMA busy_timeout").fetchone()
        raw.execute(f"PRAGMA busy_timeout = {BOOKKEEPING_BUSY_TIMEOUT_MS}")
    token = _bookkeeping.set(True)
    try:
        with contextlib.suppress(ServiceUnavailable):
            yield
    finally:
        _bookkeeping.reset(token)
        if raw is not None:
            raw.execute(f"PRAGMA busy_timeout = {int(previous)}")


def _page(request: HttpRequest, exc: BaseException) -> HttpResponse:
    log.warning("Answered 503 to %s %s: %s", request.method, request.path, exc.__cause__ or exc)
    if request.path.startswith("/api/"):
        response = problem(503, _("Service unavailable"), message(), code="service-unavailable")
    else:
        # Not the request's context: its user, session and notifications would ask the database again.
        context = {"title": _("Service unavailable"), "detail": message(), "retry_after": RETRY_AFTER_SECONDS,
                   "posted": request.method == "POST"}
        response = HttpResponse(render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    """The 503 answer for an unavailable database or a full disk, or None for any other error."""
    if isinstance(exc, ServiceUnavailable) or is_disk_full(exc):
        return _page(request, exc)
    return None


class ServiceUnavailableMiddleware:
    """A page whose view met an unavailable database or a full disk answers 503 with Retry-After.

    Views that catch DomainError around their action have already re-shown the form with the message;
    this is for the rest. List it after DomainErrorMiddleware so it sees the exception first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None  # the API maps its own errors (config.api)
        return unavailable_response(request, exc)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database failing inside a middleware (loading the session or the user) is a 503 too."""
    import sys

    from django.views.defaults import server_error as django_server_error

    exc = sys.exc_info()[1]
    answer = unavailable_response(request, exc) if exc is not None else None
    return answer if answer is not None else django_server_error(request)
