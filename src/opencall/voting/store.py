"""The fast path's own database access: one group-committed upsert per batch of votes.

The fast path does not use the ORM: it keeps two raw DB-API connections (one for the writer
thread, one for reads) to the database Django is configured with, SQLite (WAL; an acknowledged batch
is on disk, see `sync_wal`) or PostgreSQL. The upsert implements exactly the rules of
`opencall.engines.tally` so the database and the engine always agree.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from opencall.engines.tally import Ballot, Decision, VoteEvent, apply_event

logger = logging.getLogger("opencall.voting.store")

BALLOTS = "voting_liveballot"
LIVE_VOTES = "voting_livevote"
FINALISTS = "voting_livevote_finalists"
COUNTS = "voting_livecount"
# The WAL file is cut back to this size when it starts over (it may grow past it while a long
# read keeps the old frames in use).
WAL_SIZE_LIMIT = 64 * 1024 * 1024
# The restart, which holds the batch lock, waits for passive steps to leave at most this many
# frames to copy (about 1 MB), so that batches queue behind it for a few milliseconds at most.
RESTART_FRAMES = 256

# Statements both databases run, with "{ph}" for their placeholder ("?" or "%s").
_WINDOW = f"SELECT state, opens_at, closes_at FROM {LIVE_VOTES} WHERE id = {{ph}}"  # noqa: S608
_FINALISTS = f"SELECT idea_id FROM {COUNTS} WHERE live_vote_id = {{ph}} ORDER BY idea_id"  # noqa: S608
_COUNTERS = (
    f"UPDATE {COUNTS} SET votes = votes + {{ph}}, writes = writes + {{ph}} "  # noqa: S608
    "WHERE live_vote_id = {ph} AND idea_id = {ph}"
)
# SQLite, see BallotStore._write_sqlite.
_SQLITE_WINDOW, _SQLITE_FINALISTS, _SQLITE_COUNTERS = (sql.format(ph="?") for sql in (_WINDOW, _FINALISTS, _COUNTERS))
_SQLITE_NEW_BALLOT = (
    f"INSERT INTO {BALLOTS} (live_vote_id, device, idea_id, client_vote_id, seq, user_id, changes, "  # noqa: S608
    "cast_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?7, ?7)"
)
# PostgreSQL's general path (BallotStore._read_state and _apply).
_PG_WINDOW, _PG_FINALISTS, _PG_COUNTERS = (sql.format(ph="%s") for sql in (_WINDOW, _FINALISTS, _COUNTERS))

# PostgreSQL, see BallotStore._write_postgres. Rows: [device, idea, vote_id, seq, user_id].
# {conflict} is empty (a ballot the device already has aborts the statement with a unique
# violation) or _PG_SKIP_HELD (such a vote is left out and goes through the general path).
_PG_NEW_BALLOTS = f"""
WITH open_vote AS (
    SELECT id FROM {LIVE_VOTES}
    WHERE id = %(lv)s AND state = 'open' AND opens_at <= %(at)s AND closes_at > %(at)s
    FOR SHARE
), counters AS (
    SELECT idea_id FROM {COUNTS} WHERE live_vote_id = (SELECT id FROM open_vote)
    ORDER BY idea_id FOR UPDATE
), inserted AS (
    INSERT INTO {BALLOTS} (live_vote_id, device, idea_id, client_vote_id, seq, user_id, changes, cast_at, updated_at)
    SELECT %(lv)s, r->>0, (r->>1)::bigint, r->>2, (r->>3)::bigint, (r->>4)::bigint, 0, %(at)s, %(at)s
    FROM jsonb_array_elements(%(rows)s::jsonb) AS r
    WHERE (r->>1)::bigint IN (SELECT idea_id FROM counters)
    {{conflict}}
    RETURNING device, idea_id
), counted AS (
    UPDATE {COUNTS} AS c SET votes = c.votes + n.added, writes = c.writes + n.added
    FROM (SELECT idea_id, count(*) AS added FROM inserted GROUP BY idea_id) AS n
    WHERE c.live_vote_id = %(lv)s AND c.idea_id = n.idea_id
)
SELECT count(*), CASE WHEN count(*) < %(n)s THEN coalesce(json_agg(device), '[]'::json) END FROM inserted
"""  # noqa: S608 - table names are constants
_PG_SKIP_HELD = "ON CONFLICT (live_vote_id, device) DO NOTHING"
_PG_INSERT_ONLY = _PG_NEW_BALLOTS.format(conflict="")
_PG_INSERT_OR_SKIP = _PG_NEW_BALLOTS.format(conflict=_PG_SKIP_HELD)
# After a held ballot stops the new devices' plain insert, this many batches skip held ballots
# (PostgreSQL: _PG_INSERT_OR_SKIP) or go through the general path (SQLite).
SKIP_HELD_BATCHES = 64
# The two statements as prepared on the event loop's connection (see BallotStore._send_prepared).
_PG_PREPARED_ARGS = {"lv": "$1", "at": "$2", "rows": "$3", "n": "$4"}
_PG_PREPARED = {
    sql: (
        f"opencall_new_ballots_{k}".encode(),
        f"PREPARE opencall_new_ballots_{k} (bigint, timestamptz, jsonb, bigint) AS {sql % _PG_PREPARED_ARGS}",
    )
    for k, sql in (("insert", _PG_INSERT_ONLY), ("skip", _PG_INSERT_OR_SKIP))
}


@dataclass(frozen=True, slots=True)
class LiveVoteInfo:
    id: int
    code: str
    state: str
    opens_at: float | None
    closes_at: float | None
    finalists: frozenset[int]
    sign_in_required: bool

    def accepts(self, at: float) -> bool:
        return (
            self.state == "open"
            and self.opens_at is not None
            and self.closes_at is not None
            and self.opens_at <= at < self.closes_at
        )


class PendingVote(NamedTuple):
    live_vote_id: int
    device: str
    idea: int
    vote_id: str
    seq: int
    user_id: int | None
    received_at: float


class DatabaseBusy(Exception):
    """Another connection is writing to the SQLite database; nothing was written."""


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Per-vote outcome ("new", "change", "duplicate", "stale", "closed", "invalid") and deltas."""

    outcomes: list[str]
    deltas: dict[int, dict[int, int]]
    turnout: dict[int, int]
    accepted: dict[int, int]


def _merge(votes: Sequence[PendingVote], first: BatchResult, rest: list[int], more: BatchResult) -> BatchResult:
    """`first` (every vote, some undecided) completed by `more` (the votes at `rest`, in order)."""
    outcomes = list(first.outcomes)
    for i, outcome in zip(rest, more.outcomes, strict=True):
        outcomes[i] = outcome
    deltas = {k: dict(d) for k, d in first.deltas.items()}
    for live_vote_id, delta in more.deltas.items():
        merged = deltas.setdefault(live_vote_id, {})
        for idea, step in delta.items():
            merged[idea] = merged.get(idea, 0) + step
    turnout, accepted = dict(first.turnout), dict(first.accepted)
    for live_vote_id, count in more.turnout.items():
        turnout[live_vote_id] = turnout.get(live_vote_id, 0) + count
    for live_vote_id, count in more.accepted.items():
        accepted[live_vote_id] = accepted.get(live_vote_id, 0) + count
    return BatchResult(
        [o or "closed" for o in outcomes],
        {k: {i: n for i, n in d.items() if n} for k, d in deltas.items()},
        turnout,
        accepted,
    )


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _window_open(row: Sequence[Any] | None, now: float) -> bool:
    """Whether a live vote's (state, opens_at, closes_at) row takes votes at `now`."""
    if row is None or row[0] != "open":
        return False
    opens, closes = _epoch(row[1]), _epoch(row[2])
    return opens is not None and closes is not None and opens <= now < closes


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


class BallotStore:
    """Raw access for the fast path. `settings_dict` is a Django DATABASES entry."""

    def __init__(self, settings_dict: Mapping[str, Any]) -> None:
        engine = str(settings_dict["ENGINE"])
        self.sqlite = "sqlite3" in engine
        self.settings = dict(settings_dict)
        self._writer: Any = None
        self._lock_fd: int | None = None
        self._wal_fd: int | None = None
        self._async_writer: Any = None
        # Batches left that skip held ballots (see _new_ballots_sql and _write_sqlite).
        self._skip_held_batches = 0
        self._reader: Any = None
        self._read_lock = threading.Lock()
        self._checkpointer: Any = None
        self.ph = "?" if self.sqlite else "%s"

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> Any:
        if self.sqlite:
            conn = sqlite3.connect(
                str(self.settings["NAME"]), isolation_level=None, check_same_thread=False, timeout=30
            )
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: the WAL is fsynced at every commit, i.e. once per batch. An acknowledged vote
            # therefore survives a power cut, not only a process crash.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
            return conn
        import psycopg

        return psycopg.connect(**self._pg_params(), autocommit=False)

    def _pg_params(self) -> dict[str, Any]:
        s = self.settings
        return {
            "dbname": s["NAME"],
            "user": s.get("USER") or None,
            "password": s.get("PASSWORD") or None,
            "host": s.get("HOST") or None,
            "port": s.get("PORT") or None,
            "connect_timeout": 5,
        }

    def close(self) -> None:
        for conn in (self._writer, self._reader, self._checkpointer):
            if conn is not None:
                with contextlib.suppress(Exception):  # closing a broken connection may fail too
                    conn.close()
        self._writer = self._reader = self._checkpointer = None
        for fd in (self._lock_fd, self._wal_fd):
            if fd is not None:
                os.close(fd)
        self._lock_fd = self._wal_fd = None

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        with self._read_lock:
            if self._reader is None:
                self._reader = self._connect()
                if not self.sqlite:
                    self._reader.autocommit = True
            try:
                yield self._reader
            except Exception:
                try:
                    self._reader.close()
                finally:
                    self._reader = None
                raise

    # -- reads -------------------------------------------------------------------------------
    def live_vote(self, code: str) -> LiveVoteInfo | None:
        ph = self.ph
        with self._reading() as conn:
            cur = conn.cursor()
            cur.execute(
                f"SELECT id, code, state, opens_at, closes_at, sign_in_required FROM {LIVE_VOTES} "  # noqa: S608
                f"WHERE code = {ph}",
                (code,),
            )
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(f"SELECT idea_id FROM {FINALISTS} WHERE livevote_id = {ph}", (row[0],))  # noqa: S608
            finalists = frozenset(int(r[0]) for r in cur.fetchall())
        return LiveVoteInfo(
            int(row[0]), str(row[1]), str(row[2]), _epoch(row[3]), _epoch(row[4]), finalists, bool(row[5])
        )

    def counts(self, live_vote_id: int) -> tuple[dict[int, int], int, int]:
        """(votes per finalist, turnout, accepted votes so far including changes)."""
        with self._reading() as conn:
            cur = conn.cursor()
            cur.execute(
                f"SELECT idea_id, votes, writes FROM {COUNTS} WHERE live_vote_id = {self.ph}",  # noqa: S608
                (live_vote_id,),
            )
            rows = cur.fetchall()
        counts = {int(i): int(v) for i, v, _ in rows}
        return counts, sum(counts.values()), sum(int(w) for _, _, w in rows)

    def ballots(self, live_vote_id: int) -> list[Ballot]:
        ph = self.ph
        with self._reading() as conn:
            cur = conn.cursor()
            cur.execute(
                f"SELECT device, client_vote_id, seq, idea_id FROM {BALLOTS} "  # noqa: S608
                f"WHERE live_vote_id = {ph}",
                (live_vote_id,),
            )
            return [Ballot(str(d), str(v), int(s), int(i)) for d, v, s, i in cur.fetchall()]

    # -- the write path ----------------------------------------------------------------------
    def _timestamp(self, at: float) -> Any:
        moment = datetime.fromtimestamp(at, UTC)
        if self.sqlite:
            # Django's SQLite backend stores aware datetimes as naive UTC text.
            return moment.replace(tzinfo=None).isoformat(" ")
        return moment

    def write_batch(self, votes: Sequence[PendingVote]) -> BatchResult:
        """Commit a batch in one transaction and see it on disk. Safe to call again with the same
        votes after a failure whose outcome is unknown: every vote is then a duplicate. Blocks
        until the database can be written (any thread)."""
        self.lock()
        try:
            result = self.write_locked(votes, wait=True)
        finally:
            self.unlock()
        self.sync_wal()
        return result

    def sync_wal(self) -> None:
        """SQLite: put every batch committed so far on disk (fdatasync of the WAL file).

        The writer commits with synchronous=NORMAL, which writes the batch's frames to the WAL
        but does not sync them, so that the disk's flush is not waited for while the batch lock
        (and SQLite's write lock) is held: the other worker's batch goes ahead meanwhile. The
        votes are acknowledged only after this call returns, so an acknowledged vote survives a
        power cut as with synchronous=FULL. Frames a checkpoint has moved on are synced in the
        database file by the checkpoint itself (its connection syncs fully). No-op on PostgreSQL.
        """
        if not self.sqlite:
            return
        path = f"{self.settings['NAME']}-wal"
        if self._wal_fd is not None and os.fstat(self._wal_fd).st_ino != os.stat(path).st_ino:
            os.close(self._wal_fd)  # the WAL file was removed and made anew (all connections closed)
            self._wal_fd = None
        if self._wal_fd is None:
            self._wal_fd = os.open(path, os.O_RDONLY)
        os.fdatasync(self._wal_fd)

    # SQLite: writers in other worker processes queue on a lock file and wake the moment it is
    # released; SQLite's own busy handler would make them sleep in growing steps. On PostgreSQL
    # the row locks taken inside the transaction order the batches instead, and these do nothing.
    def _open_lock_file(self) -> int:
        return os.open(f"{self.settings['NAME']}.live-lock", os.O_RDWR | os.O_CREAT, 0o600)

    def _lock_file(self) -> int:
        if self._lock_fd is None:
            self._lock_fd = self._open_lock_file()
        return self._lock_fd

    def try_lock(self) -> bool:
        """Take the batch lock if no other process holds it (never blocks)."""
        if not self.sqlite:
            return True
        try:
            fcntl.flock(self._lock_file(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def lock(self) -> None:
        """Wait for the batch lock (from a thread other than the event loop's)."""
        if self.sqlite:
            fcntl.flock(self._lock_file(), fcntl.LOCK_EX)

    def unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def write_locked(self, votes: Sequence[PendingVote], *, wait: bool) -> BatchResult:
        """`write_batch` for a caller holding the batch lock. With wait=False it never blocks on
        another connection: if something else (a page of the site) is writing to the SQLite
        database right now, it raises DatabaseBusy at once and nothing is written."""
        if self.sqlite:
            self._begin(self._writer_connection(), wait=wait)
            return self._on_writer(self._write_sqlite, votes)
        return self._on_writer(self._write_postgres, votes)

    def _writer_connection(self) -> Any:
        if self._writer is None:
            self._writer = self._connect()
            if self.sqlite:
                # SQLite would otherwise copy the WAL into the database inside the COMMIT of
                # whichever batch crosses 1000 pages, holding the write lock meanwhile: every vote
                # queued behind it waits. `checkpoint()` does that work beside the writers instead.
                self._writer.execute("PRAGMA wal_autocheckpoint=0")
                # Waiting for the database lock is done here, in `_begin`, so that a caller on the
                # event loop is never put to sleep by SQLite's busy handler.
                self._writer.execute("PRAGMA busy_timeout=0")
                # Commits are synced by `sync_wal`, outside the locks.
                self._writer.execute("PRAGMA synchronous=NORMAL")
                # Applied by the writer when it starts the WAL over after a restart.
                self._writer.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        return self._writer

    def _on_writer(
        self, write: Callable[[Any, Sequence[PendingVote]], BatchResult], votes: Sequence[PendingVote]
    ) -> BatchResult:
        """Run `write` on the writer connection; a connection that failed is closed and made anew next time."""
        conn = self._writer_connection()
        try:
            return write(conn, votes)
        except Exception:
            try:
                conn.close()
            finally:
                self._writer = None
            raise

    @staticmethod
    def _begin(conn: Any, *, wait: bool) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if not wait:
                    raise DatabaseBusy from exc
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.002)

    def checkpoint(self) -> tuple[int, int]:
        """SQLite only: keep the WAL small and reused while batches keep committing.

        First a PASSIVE checkpoint copies committed frames into the database file without taking
        any lock. On its own that never lets the WAL start over, since new batches append while
        it runs: the file then grew by ~30 MB a second under load, and every commit appended to
        it (a costlier sync than overwriting) and every page read searched a growing WAL index.
        So then, holding the batch lock for the moment it takes to copy the few frames added
        meanwhile (passive steps first catch up to at most RESTART_FRAMES; if they cannot, the
        restart waits for next time), a RESTART checkpoint makes the next batch write from the
        WAL's start. If a page of the site is reading or writing just then, the restart is skipped
        until next time.
        Called from its own thread. Returns (frames in the WAL, frames copied) of the passive
        step; (0, 0) on PostgreSQL.
        """
        if not self.sqlite:
            return 0, 0
        if self._checkpointer is None:
            self._checkpointer = self._connect()
            self._checkpointer.execute("PRAGMA busy_timeout=0")
        conn = self._checkpointer
        try:
            _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            for _ in range(3):  # catch up with what landed meanwhile, still without any lock
                if frames - copied <= RESTART_FRAMES:
                    break
                _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if frames and frames - copied <= RESTART_FRAMES:  # else the restart waits for next time
                # A lock of its own (another open file): taken on the batch writers' shared
                # descriptor, it would count as theirs and let both in at once.
                fd = self._open_lock_file()
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                finally:
                    os.close(fd)  # releases the lock
        except Exception:
            with contextlib.suppress(Exception):
                conn.close()
            self._checkpointer = None
            raise
        return int(frames), int(copied)

    def _apply(self, conn: Any, planned: list[tuple[list[tuple[Any, ...]], list[tuple[int, int, int, int]]]]) -> None:
        """Write the ballots and move the counters, then commit (one round trip on PostgreSQL)."""
        if self.sqlite:
            cur = conn.cursor()
            for rows, counter_rows in planned:
                self._upsert(cur, rows)
                cur.executemany(_SQLITE_COUNTERS, counter_rows)
            conn.execute("COMMIT")
            return
        cur = conn.cursor()
        with conn.pipeline():
            for rows, counter_rows in planned:
                self._upsert(cur, rows)
                cur.executemany(_PG_COUNTERS, counter_rows)
            conn.commit()

    def _held(self, cur: Any, live_vote_id: int, devices: list[str], *, fetch: bool = True) -> list[tuple[Any, ...]]:
        """The current ballots of these devices (locked on PostgreSQL)."""
        if not self.sqlite:
            # Lists travel as one JSON text: parsed by PostgreSQL in C, where psycopg would
            # adapt a Python list element by element. One index lookup per device (LATERAL), whatever the planner believes about the table:
            # during a live vote it grows faster than its statistics, and a plan that scans the
            # live vote's ballots would make every batch cost O(ballots so far).
            cur.execute(
                "SELECT b.device, b.client_vote_id, b.seq, b.idea_id "  # noqa: S608 - table name constant
                "FROM jsonb_array_elements_text(%s::jsonb) AS d(device) CROSS JOIN LATERAL "
                f"(SELECT device, client_vote_id, seq, idea_id FROM {BALLOTS} "
                "WHERE live_vote_id = %s AND device = d.device FOR UPDATE) AS b",
                (json.dumps(devices), live_vote_id),
            )
            return list(cur.fetchall()) if fetch else []
        # SQLite: one statement and one result row for the whole batch. Each row a statement
        # steps through lets go of the GIL and takes it back, and this thread shares the GIL with
        # the event loop answering votes: hundreds of hand-overs per batch cost more than the rows.
        # CROSS JOIN keeps the device list outside: one index lookup per device, never a scan.
        (found,) = cur.execute(
            "SELECT json_group_array(json_array(b.device, b.client_vote_id, b.seq, b.idea_id)) "  # noqa: S608
            f"FROM json_each(?) AS d CROSS JOIN {BALLOTS} AS b ON b.live_vote_id = ? AND b.device = d.value",
            (json.dumps(devices), live_vote_id),
        ).fetchone()
        return [tuple(r) for r in json.loads(found)]

    def _upsert(self, cur: Any, rows: list[tuple[Any, ...]]) -> None:
        """One upsert for the batch. The WHERE clause is the tally engine's rule: a different vote
        id with a higher seq replaces the ballot; a redelivery or an older vote changes nothing."""
        conflict = (
            "ON CONFLICT (live_vote_id, device) DO UPDATE SET idea_id = excluded.idea_id, "
            "client_vote_id = excluded.client_vote_id, seq = excluded.seq, "
            f"changes = {BALLOTS}.changes + excluded.changes, updated_at = excluded.updated_at "
            f"WHERE excluded.seq > {BALLOTS}.seq AND excluded.client_vote_id <> {BALLOTS}.client_vote_id"
        )
        columns = "live_vote_id, device, idea_id, client_vote_id, seq, user_id, changes, cast_at, updated_at"
        # One statement over the whole batch, the rows sent as one JSON text (parsed in C by the
        # database, and on SQLite one GIL hand-over instead of one per row).
        live_vote_id, stamp = rows[0][0], rows[0][7]
        batch = json.dumps([[r[1], r[2], r[3], r[4], r[5], r[6]] for r in rows])
        if self.sqlite:
            fields = ", ".join(f"json_extract(r.value, '$[{n}]')" for n in range(6))
            cur.execute(
                f"INSERT INTO {BALLOTS} ({columns}) SELECT ?, {fields}, ?, ? FROM json_each(?) AS r "  # noqa: S608
                f"WHERE true {conflict}",  # "WHERE true": SQLite would read ON CONFLICT as a join's ON
                (live_vote_id, stamp, stamp, batch),
            )
            return
        cur.execute(
            f"INSERT INTO {BALLOTS} ({columns}) SELECT %s, r->>0, (r->>1)::bigint, r->>2, (r->>3)::bigint, "  # noqa: S608
            f"(r->>4)::bigint, (r->>5)::int, %s, %s FROM jsonb_array_elements(%s::jsonb) AS r {conflict}",
            (live_vote_id, stamp, stamp, batch),
        )

    @staticmethod
    def _window_and_finalists(cur: Any, live_vote_id: int) -> tuple[tuple[Any, ...] | None, set[int]]:
        """SQLite: the live vote's (state, opens_at, closes_at) row and its finalists' ids."""
        row = cur.execute(_SQLITE_WINDOW, (live_vote_id,)).fetchone()
        return row, {int(r[0]) for r in cur.execute(_SQLITE_FINALISTS, (live_vote_id,)).fetchall()}

    def _write_sqlite(self, conn: Any, votes: Sequence[PendingVote]) -> BatchResult:
        """SQLite, in the transaction `write_locked` began: first votes of new devices by a plain
        insert, the rest (a vote the device's client counts as a change, a second vote in the
        batch) through `_write`; one commit for both.

        As on PostgreSQL (`_write_postgres`), a device's first vote (client seq 1) is NEW by the
        tally rules whatever it holds, so nothing is read for it but the window and the finalists,
        and its ballot goes in by a plain insert of bound rows: no ballot lookup per device, no
        tally bookkeeping in Python, no JSON for SQLite to parse (a third less of the writer's CPU
        per vote, measured in bench/live). A device that has a ballot after all (a first vote
        resent after its answer was lost) makes the insert fail on the primary key: the
        savepoint undoes whatever it had inserted, and this batch and the next SKIP_HELD_BATCHES
        go through `_write`, which reads every ballot first.
        """
        if self._skip_held_batches:
            self._skip_held_batches -= 1
            return self._write(conn, votes)
        try:
            tried = self._insert_new_devices(conn, votes)
        except sqlite3.IntegrityError:
            self._skip_held_batches = SKIP_HELD_BATCHES
            return self._write(conn, votes)
        except BaseException:
            with contextlib.suppress(Exception):  # the original error matters, not this one
                conn.execute("ROLLBACK")
            raise
        result, rest = self._after_new_devices(votes, tried)
        if rest:
            return _merge(votes, result, rest, self._write(conn, [votes[i] for i in rest]))
        conn.execute("COMMIT")
        return result

    def _insert_new_devices(
        self, conn: Any, votes: Sequence[PendingVote]
    ) -> list[tuple[int, list[int], set[str] | None]]:
        """SQLite: insert the ballots of the devices' first votes that `_first_votes` picks, for the
        live votes open now and the finalists' ideas, and move the counters by them; (live vote,
        indexes inserted, None) per live vote. Raises IntegrityError, with nothing inserted, if
        a device has a ballot already."""
        now = time.time()
        stamp = self._timestamp(now)
        cur = conn.cursor()
        tried: list[tuple[int, list[int], set[str] | None]] = []
        cur.execute("SAVEPOINT new_devices")
        try:
            for live_vote_id, indexes in self._first_votes(votes):
                row, finalists = self._window_and_finalists(cur, live_vote_id)
                if not _window_open(row, now):
                    continue  # `_write` answers them: closed
                fresh = [i for i in indexes if votes[i].idea in finalists]
                if not fresh:
                    continue
                added: dict[int, int] = defaultdict(int)
                rows = []
                for i in fresh:
                    vote = votes[i]
                    added[vote.idea] += 1
                    rows.append((live_vote_id, vote.device, vote.idea, vote.vote_id, vote.seq, vote.user_id, stamp))
                cur.executemany(_SQLITE_NEW_BALLOT, rows)
                cur.executemany(_SQLITE_COUNTERS, [(n, n, live_vote_id, idea) for idea, n in sorted(added.items())])
                tried.append((live_vote_id, fresh, None))
        except sqlite3.IntegrityError:
            cur.execute("ROLLBACK TO new_devices")
            cur.execute("RELEASE new_devices")
            raise
        cur.execute("RELEASE new_devices")
        return tried

    @staticmethod
    def _first_votes(votes: Sequence[PendingVote]) -> list[tuple[int, list[int]]]:
        """(live vote, indexes) for every live vote in the batch, in live vote order: each device's
        first vote in the batch if its client numbers it 1 (the device's first ever). Live votes
        with none are left out."""
        by_vote: dict[int, dict[str, int]] = defaultdict(dict)
        for index, vote in enumerate(votes):
            if vote.device not in by_vote[vote.live_vote_id]:
                by_vote[vote.live_vote_id][vote.device] = index
        # In live vote order, as `_write`: two batches lock the counters of several live votes in
        # the same order (PostgreSQL), so they queue instead of deadlocking.
        picked = []
        for live_vote_id, first in sorted(by_vote.items()):
            indexes = [i for i in first.values() if votes[i].seq == 1]
            if indexes:
                picked.append((live_vote_id, indexes))
        return picked

    def _read_state(
        self, conn: Any, live_vote_id: int, devices: list[str]
    ) -> tuple[tuple[Any, ...] | None, set[int], list[tuple[Any, ...]]]:
        """(window row, finalists, current ballots of these devices), read inside the transaction.

        Reading the window here matters: the stop action takes the live vote row FOR UPDATE, so
        every acknowledged vote commits before the close does (PostgreSQL); on SQLite the database
        lock orders them the same way. Locking the counters orders the batches of one live vote
        across processes, so the ballots read are the latest and the count deltas are exact.
        """
        if self.sqlite:
            cur = conn.cursor()
            row, finalists = self._window_and_finalists(cur, live_vote_id)
            return row, finalists, self._held(cur, live_vote_id, devices)
        # PostgreSQL: the three reads go out in one round trip (pipeline mode), since under load
        # every round trip waits for the database backend to be scheduled again.
        c1, c2, c3 = conn.cursor(), conn.cursor(), conn.cursor()
        with conn.pipeline():
            c1.execute(_PG_WINDOW + " FOR SHARE", (live_vote_id,))
            c2.execute(_PG_FINALISTS + " FOR UPDATE", (live_vote_id,))
            self._held(c3, live_vote_id, devices, fetch=False)
        return c1.fetchone(), {int(r[0]) for r in c2.fetchall()}, list(c3.fetchall())

    def _write_postgres(self, conn: Any, votes: Sequence[PendingVote]) -> BatchResult:
        """PostgreSQL: first votes of new devices in one statement and one round trip, the rest
        (a vote the device's client counts as a change, a second vote in the batch, a vote the
        statement refused) through `_write`.

        The statement takes the same locks as `_write`, in the same order (the live vote's row to
        share, then its counters in idea order), inserts every vote a client sends as its
        device's first (seq 1) as a new ballot and moves the counters by what it inserted. It is
        committed in the same round trip, so the locks are held only while PostgreSQL works,
        never while the answer travels back to this process and waits here for the GIL. A new
        device's first vote is NEW by the tally rules whatever its contents, so no ballot needs
        to be read. A device that has a ballot after all (a resent first vote) makes the insert
        fail on the unique index: see `_new_ballots_sql` for what happens then.
        """
        import psycopg

        statements = self._new_device_statements(votes)
        tried: list[tuple[int, list[int], set[str] | None]] = []
        while statements:
            sql = self._new_ballots_sql()
            cursors = []
            try:
                with conn.pipeline():
                    for live_vote_id, indexes, params in statements:
                        cur = conn.cursor()
                        cur.execute(sql, params)
                        cursors.append((live_vote_id, indexes, cur))
                    conn.commit()
            except psycopg.errors.UniqueViolation:
                conn.rollback()
                if not self._held_ballot_found(sql):
                    raise
                continue
            tried = [(lv, indexes, self._inserted(cur.fetchone())) for lv, indexes, cur in cursors]
            break
        result, rest = self._after_new_devices(votes, tried)
        if not rest:
            return result
        return _merge(votes, result, rest, self._write(conn, [votes[i] for i in rest]))

    def _new_ballots_sql(self) -> str:
        """The new devices' statement for the next batch.

        A plain insert costs PostgreSQL about a third less per vote than one with ON CONFLICT DO
        NOTHING (no speculative insertion, no extra WAL record per row), and clients number a
        device's first vote seq 1, so the plain insert nearly always succeeds. When it does not
        (a first vote resent after its answer was lost, another worker inserting the same
        device, a client that numbers badly), the transaction is rolled back with nothing
        written and the batch runs again with ON CONFLICT, as do the next SKIP_HELD_BATCHES
        batches, so that a stream of such votes costs one wasted statement per that many batches.
        The count is kept by whoever writes the new devices' statements: in the fast path, the
        event loop alone.
        """
        if self._skip_held_batches:
            self._skip_held_batches -= 1
            return _PG_INSERT_OR_SKIP
        return _PG_INSERT_ONLY

    def _held_ballot_found(self, sql: str) -> bool:
        """Whether a unique violation is the plain insert meeting a ballot a device already has
        (then this batch and the next ones skip such ballots instead)."""
        if sql is _PG_INSERT_ONLY:
            self._skip_held_batches = SKIP_HELD_BATCHES + 1  # this batch's rerun, then the next ones
            return True
        return False

    async def write_batch_async(self, votes: Sequence[PendingVote]) -> BatchResult:
        """PostgreSQL, from the event loop: `write_batch` with the new devices' statement sent on
        an asyncio connection, so that neither a thread nor the GIL sits between the loop and
        the database; the rest of the batch (rare) goes through `_write` in a thread.

        The connection is in autocommit mode: a batch for one live vote (the usual case) is one
        statement, which PostgreSQL commits on its own. It goes out as a prepared statement
        straight through libpq (`_send_prepared`), with no BEGIN, COMMIT or pipeline around it
        and without psycopg's cursor machinery: per batch of 25 that is 250 instead of 380 us of
        CPU here, and 700 with a pipeline and COMMIT. Several live votes' statements go in one
        transaction through psycopg.
        """
        import psycopg

        conn = await self._async_connection()
        statements = self._new_device_statements(votes)
        tried: list[tuple[int, list[int], set[str] | None]] = []
        while statements:
            sql = self._new_ballots_sql()
            try:
                try:
                    if len(statements) == 1:
                        live_vote_id, indexes, params = statements[0]
                        row = await self._send_prepared(conn, sql, params)
                        tried = [(live_vote_id, indexes, self._inserted(row))]
                    else:
                        cursors = []
                        async with conn.transaction(), conn.pipeline():
                            for live_vote_id, indexes, params in statements:
                                cur = conn.cursor()
                                await cur.execute(sql, params)
                                cursors.append((live_vote_id, indexes, cur))
                        tried = [(lv, indexes, self._inserted(await cur.fetchone())) for lv, indexes, cur in cursors]
                except psycopg.errors.UniqueViolation:
                    # Nothing was written: the statement (or the transaction) was rolled back.
                    if not self._held_ballot_found(sql):
                        raise
                    continue
                break
            except BaseException:
                # Including a cancellation (a worker stopping) while a statement is in flight: its
                # result is unread and the connection unusable, so it goes.
                self._async_writer = None
                with contextlib.suppress(BaseException):
                    await conn.close()
                raise
        result, rest = self._after_new_devices(votes, tried)
        if not rest:
            return result
        try:
            more = await asyncio.to_thread(self.write_general, [votes[i] for i in rest])
        except Exception:
            # The first part is committed: keep its outcome and counts (the live counters follow
            # them) and let the rest be sent again (503), rather than retrying the whole batch.
            logger.warning("live votes left after the new devices' statement not written", exc_info=True)
            more = BatchResult(["unavailable"] * len(rest), {}, {}, {})
        return _merge(votes, result, rest, more)

    async def _async_connection(self) -> Any:
        """The event loop's connection (autocommit), with the new devices' statements prepared."""
        import psycopg

        if self._async_writer is None:
            # prepare_threshold=None: psycopg prepares nothing of its own on this connection, so it
            # never sends DEALLOCATE ALL (which it does on a rollback once it has prepared
            # something), which would drop our two statements as well.
            conn = await psycopg.AsyncConnection.connect(**self._pg_params(), autocommit=True, prepare_threshold=None)
            try:
                for _, prepare in _PG_PREPARED.values():
                    await conn.execute(prepare)
            except BaseException:
                await conn.close()
                raise
            self._async_writer = conn
        return self._async_writer

    async def _send_prepared(self, conn: Any, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run one of the new devices' statements (prepared by `_async_connection`) through
        libpq's asynchronous calls, waiting on the event loop for the socket; its first row, as
        (count, devices as JSON text or None). An error comes back as psycopg's exception for its
        SQLSTATE (a unique violation as psycopg.errors.UniqueViolation)."""
        import psycopg
        from psycopg import pq

        name = _PG_PREPARED[sql][0]
        pgconn = conn.pgconn
        at = params["at"].isoformat().encode()
        pgconn.send_query_prepared(
            name, [str(params["lv"]).encode(), at, params["rows"].encode(), str(params["n"]).encode()]
        )
        while pgconn.flush():
            await self._socket_ready(pgconn.socket, write=True)
        first = None
        while True:
            pgconn.consume_input()
            if pgconn.is_busy():
                await self._socket_ready(pgconn.socket)
                continue
            result = pgconn.get_result()
            if result is None:
                break
            if first is None:
                first = result
        if first is None:
            raise psycopg.OperationalError("no answer to the new ballots' statement")
        if first.status != pq.ExecStatus.TUPLES_OK:
            sqlstate = (first.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
            message = (first.error_message or b"").decode(errors="replace").strip()
            try:
                error_class = psycopg.errors.lookup(sqlstate)
            except KeyError:  # no SQLSTATE, or one this psycopg does not know
                error_class = psycopg.DatabaseError
            raise error_class(message or "the new ballots' statement failed")
        if first.ntuples == 0:
            return None
        count, devices = first.get_value(0, 0), first.get_value(0, 1)
        return (int(count or 0), None if devices is None else devices.decode())

    @staticmethod
    async def _socket_ready(fd: int, *, write: bool = False) -> None:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        (loop.add_writer if write else loop.add_reader)(fd, _set_done, ready)
        try:
            await ready
        finally:
            (loop.remove_writer if write else loop.remove_reader)(fd)

    async def aclose(self) -> None:
        """Close the asyncio connection (then `close` for the rest)."""
        if self._async_writer is not None:
            with contextlib.suppress(Exception):
                await self._async_writer.close()
            self._async_writer = None

    def write_general(self, votes: Sequence[PendingVote]) -> BatchResult:
        """PostgreSQL: a batch through `_write` only (reads every ballot), on the thread's connection."""
        return self._on_writer(self._write, votes)

    def _new_device_statements(self, votes: Sequence[PendingVote]) -> list[tuple[int, list[int], dict[str, Any]]]:
        """(live vote, indexes of its devices' first votes, parameters of _PG_NEW_BALLOTS) per live
        vote, for the votes `_first_votes` picks."""
        stamp = self._timestamp(time.time())
        statements = []
        for live_vote_id, indexes in self._first_votes(votes):
            rows = json.dumps([votes[i][1:6] for i in indexes])  # device, idea, vote id, seq, user
            params = {"lv": live_vote_id, "at": stamp, "rows": rows, "n": len(indexes)}
            statements.append((live_vote_id, indexes, params))
        return statements

    @staticmethod
    def _after_new_devices(
        votes: Sequence[PendingVote], tried: list[tuple[int, list[int], set[str] | None]]
    ) -> tuple[BatchResult, list[int]]:
        """The outcome of the new devices' statement, and the indexes of the votes it left. A
        statement's set of inserted devices is None when it inserted every one it was given."""
        outcomes: list[str] = [""] * len(votes)
        deltas: dict[int, dict[int, int]] = {}
        turnout: dict[int, int] = {}
        for live_vote_id, indexes, inserted in tried:
            delta: dict[int, int] = defaultdict(int)
            for i in indexes:
                if inserted is None or votes[i].device in inserted:
                    outcomes[i] = "new"
                    delta[votes[i].idea] += 1
            deltas[live_vote_id] = dict(delta)
            turnout[live_vote_id] = sum(delta.values())
        rest = [i for i, outcome in enumerate(outcomes) if not outcome]
        return BatchResult(outcomes, deltas, turnout, dict(turnout)), rest

    @staticmethod
    def _inserted(row: Sequence[Any] | None) -> set[str] | None:
        """The devices a new devices' statement inserted, from its row (count, devices or NULL)."""
        if row is None:
            return set()
        devices = row[1]
        if devices is None:
            return None
        return set(json.loads(devices) if isinstance(devices, str | bytes) else devices)

    def _write(self, conn: Any, votes: Sequence[PendingVote]) -> BatchResult:
        now = time.time()
        outcomes = ["closed"] * len(votes)
        by_vote: dict[int, list[int]] = defaultdict(list)
        for index, vote in enumerate(votes):
            by_vote[vote.live_vote_id].append(index)
        deltas: dict[int, dict[int, int]] = {}
        turnout: dict[int, int] = {}
        accepted: dict[int, int] = {}
        writes_planned: list[tuple[list[tuple[Any, ...]], list[tuple[int, int, int, int]]]] = []
        try:
            for live_vote_id, indexes in sorted(by_vote.items()):
                devices = sorted({votes[i].device for i in indexes})
                row, finalists, held = self._read_state(conn, live_vote_id, devices)
                if not _window_open(row, now):
                    continue
                current = {d: Ballot(d, v, int(s), int(i)) for d, v, s, i in held}
                touched: dict[str, PendingVote] = {}
                changed: dict[str, int] = defaultdict(int)
                delta: dict[int, int] = defaultdict(int)
                writes: dict[int, int] = defaultdict(int)
                new = 0
                for i in indexes:
                    vote = votes[i]
                    if vote.idea not in finalists:
                        outcomes[i] = "invalid"
                        continue
                    before = current.get(vote.device)
                    if before is None:
                        # A device without a ballot: by the tally rules its vote is NEW, +1 for
                        # its idea (apply_event(None, ...) says so; a test holds them together).
                        outcomes[i] = "new"
                        current[vote.device] = Ballot(vote.device, vote.vote_id, vote.seq, vote.idea)
                        touched[vote.device] = vote
                        writes[vote.idea] += 1
                        delta[vote.idea] += 1
                        new += 1
                        continue
                    event = VoteEvent(vote.device, vote.vote_id, vote.seq, vote.idea)
                    decision, ballot, moves = apply_event(before, event)
                    outcomes[i] = decision.value
                    if decision in (Decision.NEW, Decision.CHANGE):
                        assert ballot is not None
                        current[vote.device] = ballot
                        touched[vote.device] = vote
                        writes[vote.idea] += 1
                        if decision is Decision.CHANGE:
                            changed[vote.device] += 1
                        else:
                            new += 1
                        for idea, step in moves:
                            delta[idea] += step
                if touched:
                    stamp = self._timestamp(now)
                    rows = [
                        (live_vote_id, d, v.idea, v.vote_id, v.seq, v.user_id, changed[d], stamp, stamp)
                        for d, v in touched.items()
                    ]
                    counter_rows = [
                        (delta.get(idea, 0), writes.get(idea, 0), live_vote_id, idea)
                        for idea in sorted(set(delta) | set(writes))
                    ]
                    writes_planned.append((rows, counter_rows))
                deltas[live_vote_id] = {k: v for k, v in delta.items() if v}
                turnout[live_vote_id] = new
                accepted[live_vote_id] = sum(writes.values())
            self._apply(conn, writes_planned)
        except BaseException:
            with contextlib.suppress(Exception):  # the original error matters, not this one
                if self.sqlite:
                    conn.execute("ROLLBACK")
                else:
                    conn.rollback()
            raise
        return BatchResult(outcomes, deltas, turnout, accepted)
