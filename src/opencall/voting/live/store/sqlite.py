"""The ballot store on SQLite (WAL): batches written on the event loop's thread, under a lock file
shared by the worker processes, synced to disk after the lock is let go (an acknowledged batch is on
disk, see `sync_wal`), and a checkpointer that keeps the WAL small and reused."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from opencall.voting.live import rules
from opencall.voting.live.store.base import (
    BALLOT_COLUMNS,
    BALLOTS,
    SKIP_HELD_BATCHES,
    UPSERT_CONFLICT,
    BallotStore,
    BatchResult,
    DatabaseBusy,
    PendingVote,
    Tried,
    merge,
    window_open,
)

logger = logging.getLogger("opencall.voting.live.store")

# The WAL file is cut back to this size when it starts over (it may grow past it while a long
# read keeps the old frames in use).
WAL_SIZE_LIMIT = 64 * 1024 * 1024
# The restart, which holds the batch lock, waits for passive steps to leave at most this many
# frames to copy (about 1 MB), so that batches queue behind it for a few milliseconds at most.
RESTART_FRAMES = 256

_NEW_BALLOT = f"INSERT INTO {BALLOTS} ({BALLOT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 0, ?7, ?7)"  # noqa: S608
# One statement over the whole batch, the rows sent as one JSON text (one GIL hand-over instead of
# one per row). "WHERE true": SQLite would read ON CONFLICT as a join's ON.
_UPSERT = (
    f"INSERT INTO {BALLOTS} ({BALLOT_COLUMNS}) SELECT ?, "  # noqa: S608
    + ", ".join(f"json_extract(r.value, '$[{n}]')" for n in range(6))
    + f", ?, ? FROM json_each(?) AS r WHERE true {UPSERT_CONFLICT}"
)
# One statement and one result row for the whole batch. Each row a statement steps through lets go
# of the GIL and takes it back, and this thread shares the GIL with the event loop answering votes:
# hundreds of hand-overs per batch cost more than the rows. CROSS JOIN keeps the device list
# outside: one index lookup per device, never a scan.
_HELD = (
    "SELECT json_group_array(json_array(b.device, b.client_vote_id, b.seq, b.idea_id)) "  # noqa: S608
    f"FROM json_each(?) AS d CROSS JOIN {BALLOTS} AS b ON b.live_vote_id = ? AND b.device = d.value"
)


class SqliteBallotStore(BallotStore):
    ph = "?"
    checkpoints = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock_fd: int | None = None
        self._wal_fd: int | None = None
        self._checkpointer: Any = None

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> Any:
        conn = sqlite3.connect(str(self.settings["NAME"]), isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: the WAL is fsynced at every commit, i.e. once per batch. An acknowledged vote
        # therefore survives a power cut, not only a process crash.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    def _connect_writer(self) -> Any:
        conn = self._connect()
        # SQLite would otherwise copy the WAL into the database inside the COMMIT of whichever
        # batch crosses 1000 pages, holding the write lock meanwhile: every vote queued behind it
        # waits. `checkpoint()` does that work beside the writers instead.
        conn.execute("PRAGMA wal_autocheckpoint=0")
        # Waiting for the database lock is done in `_begin`, so that a caller on the event loop is
        # never put to sleep by SQLite's busy handler.
        conn.execute("PRAGMA busy_timeout=0")
        # Commits are synced by `sync_wal`, outside the locks.
        conn.execute("PRAGMA synchronous=NORMAL")
        # Applied by the writer when it starts the WAL over after a restart.
        conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        return conn

    def close(self) -> None:
        if self._checkpointer is not None:
            with contextlib.suppress(Exception):
                self._checkpointer.close()
            self._checkpointer = None
        super().close()
        for fd in (self._lock_fd, self._wal_fd):
            if fd is not None:
                os.close(fd)
        self._lock_fd = self._wal_fd = None

    def _timestamp(self, at: float) -> Any:
        # Django's SQLite backend stores aware datetimes as naive UTC text.
        return datetime.fromtimestamp(at, UTC).replace(tzinfo=None).isoformat(" ")

    # -- batches -----------------------------------------------------------------------------
    def write_batch(self, votes: Sequence[PendingVote]) -> BatchResult:
        self.lock()
        try:
            result = self.write_locked(votes, wait=True)
        finally:
            self.unlock()
        self.sync_wal()
        return result

    async def write_batch_async(self, votes: Sequence[PendingVote]) -> BatchResult:
        """The batch written on the event loop's own thread.

        A writer thread shares this process's GIL with the loop, and SQLite gives the GIL up at
        every call: while the loop was busy answering votes, the writer waited up to a switch
        interval (5 ms) each time it wanted it back, holding the batch lock meanwhile, so the
        other worker's writer waited too (measured: 7 ms per batch for 2 ms of work). Here the
        batch runs in one stretch. Only waiting goes to a thread: for the other worker's batch
        lock, for the disk's flush, or, when a page of the site is writing to the database, the
        whole batch.
        """
        if not self.try_lock():
            await asyncio.to_thread(self.lock)
        try:
            try:
                result = self.write_locked(votes, wait=False)
            except DatabaseBusy:
                result = await asyncio.to_thread(self.write_locked, votes, wait=True)
        finally:
            self.unlock()
        # On disk before anyone is answered; the disk's flush is waited for in a thread, after
        # the lock is released (see sync_wal).
        try:
            await asyncio.to_thread(self.sync_wal)
        except OSError:
            # Committed but maybe not on disk. Not retried: after a failed fsync a second one can
            # succeed although the data is gone. The voters are told to send again (503).
            logger.critical("WAL sync failed; %d committed votes answered as not recorded", len(votes), exc_info=True)
            return BatchResult(["unavailable"] * len(votes), result.deltas, result.turnout, result.accepted)
        return result

    def sync_wal(self) -> None:
        """Put every batch committed so far on disk (fdatasync of the WAL file).

        The writer commits with synchronous=NORMAL, which writes the batch's frames to the WAL
        but does not sync them, so that the disk's flush is not waited for while the batch lock
        (and SQLite's write lock) is held: the other worker's batch goes ahead meanwhile. The
        votes are acknowledged only after this call returns, so an acknowledged vote survives a
        power cut as with synchronous=FULL. Frames a checkpoint has moved on are synced in the
        database file by the checkpoint itself (its connection syncs fully).
        """
        path = f"{self.settings['NAME']}-wal"
        if self._wal_fd is not None and os.fstat(self._wal_fd).st_ino != os.stat(path).st_ino:
            os.close(self._wal_fd)  # the WAL file was removed and made anew (all connections closed)
            self._wal_fd = None
        if self._wal_fd is None:
            self._wal_fd = os.open(path, os.O_RDONLY)
        os.fdatasync(self._wal_fd)

    # Writers in other worker processes queue on a lock file and wake the moment it is released;
    # SQLite's own busy handler would make them sleep in growing steps.
    def _open_lock_file(self) -> int:
        return os.open(f"{self.settings['NAME']}.live-lock", os.O_RDWR | os.O_CREAT, 0o600)

    def _lock_file(self) -> int:
        if self._lock_fd is None:
            self._lock_fd = self._open_lock_file()
        return self._lock_fd

    def try_lock(self) -> bool:
        """Take the batch lock if no other process holds it (never blocks)."""
        try:
            fcntl.flock(self._lock_file(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def lock(self) -> None:
        """Wait for the batch lock (from a thread other than the event loop's)."""
        fcntl.flock(self._lock_file(), fcntl.LOCK_EX)

    def unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def write_locked(self, votes: Sequence[PendingVote], *, wait: bool) -> BatchResult:
        """`write_batch` for a caller holding the batch lock. With wait=False it never blocks on
        another connection: if something else (a page of the site) is writing to the database
        right now, it raises DatabaseBusy at once and nothing is written."""
        self._begin(self._writer_connection(), wait=wait)
        return self._on_writer(self._write_new_first, votes)

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
        """Keep the WAL small and reused while batches keep committing.

        First a PASSIVE checkpoint copies committed frames into the database file without taking
        any lock. On its own that never lets the WAL start over, since new batches append while
        it runs: the file then grew by ~30 MB a second under load, and every commit appended to
        it (a costlier sync than overwriting) and every page read searched a growing WAL index.
        So then, holding the batch lock for the moment it takes to copy the few frames added
        meanwhile (passive steps first catch up to at most RESTART_FRAMES; if they cannot, the
        restart waits for next time), a RESTART checkpoint makes the next batch write from the
        WAL's start. If a page of the site is reading or writing just then, the restart is skipped
        until next time.
        Called from its own thread. Returns (frames in the WAL, frames copied) of the passive step.
        """
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

    # -- inside the transaction ------------------------------------------------------------
    def _write_new_first(self, conn: Any, votes: Sequence[PendingVote]) -> BatchResult:
        """In the transaction `write_locked` began: first votes of new devices by a plain insert,
        the rest (a vote the device's client counts as a change, a second vote in the batch)
        through `_write`; one commit for both.

        As on PostgreSQL, a device's first vote (client seq 1) is NEW by the tally rules whatever
        it holds, so nothing is read for it but the window and the finalists, and its ballot goes
        in by a plain insert of bound rows: no ballot lookup per device, no tally bookkeeping in
        Python, no JSON for SQLite to parse (a third less of the writer's CPU per vote, measured in
        bench/live). A device that has a ballot after all (a first vote resent after its answer
        was lost) makes the insert fail on the primary key: the savepoint undoes whatever it had
        inserted, and this batch and the next SKIP_HELD_BATCHES go through `_write`, which reads
        every ballot first.
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
            return merge(votes, result, rest, self._write(conn, [votes[i] for i in rest]))
        conn.execute("COMMIT")
        return result

    def _window_and_finalists(self, cur: Any, live_vote_id: int) -> tuple[tuple[Any, ...] | None, set[int]]:
        """The live vote's (state, opens_at, closes_at) row and its finalists' ids."""
        row = cur.execute(self._window_sql, (live_vote_id,)).fetchone()
        return row, {int(r[0]) for r in cur.execute(self._finalists_sql, (live_vote_id,)).fetchall()}

    def _insert_new_devices(self, conn: Any, votes: Sequence[PendingVote]) -> Tried:
        """Insert the ballots of the devices' first votes that `_first_votes` picks, for the live
        votes open now and the finalists' ideas, and move the counters by them; (live vote, indexes
        inserted, None) per live vote. Raises IntegrityError, with nothing inserted, if a device
        has a ballot already."""
        now = time.time()
        stamp = self._timestamp(now)
        cur = conn.cursor()
        tried: Tried = []
        cur.execute("SAVEPOINT new_devices")
        try:
            for live_vote_id, indexes in self._first_votes(votes):
                row, finalists = self._window_and_finalists(cur, live_vote_id)
                if not window_open(row, now):
                    continue  # `_write` answers them: closed
                fresh = [i for i in indexes if rules.is_finalist(votes[i].idea, finalists)]
                if not fresh:
                    continue
                added: dict[int, int] = defaultdict(int)
                rows = []
                for i in fresh:
                    vote = votes[i]
                    added[vote.idea] += 1
                    rows.append((live_vote_id, vote.device, vote.idea, vote.vote_id, vote.seq, vote.user_id, stamp))
                cur.executemany(_NEW_BALLOT, rows)
                cur.executemany(self._counters_sql, [(n, n, live_vote_id, idea) for idea, n in sorted(added.items())])
                tried.append((live_vote_id, fresh, None))
        except sqlite3.IntegrityError:
            cur.execute("ROLLBACK TO new_devices")
            cur.execute("RELEASE new_devices")
            raise
        cur.execute("RELEASE new_devices")
        return tried

    def _read_state(
        self, conn: Any, live_vote_id: int, devices: list[str]
    ) -> tuple[tuple[Any, ...] | None, set[int], list[tuple[Any, ...]]]:
        cur = conn.cursor()
        row, finalists = self._window_and_finalists(cur, live_vote_id)
        (found,) = cur.execute(_HELD, (json.dumps(devices), live_vote_id)).fetchone()
        return row, finalists, [tuple(r) for r in json.loads(found)]

    def _apply(self, conn: Any, planned: list[tuple[list[tuple[Any, ...]], list[tuple[int, int, int, int]]]]) -> None:
        cur = conn.cursor()
        for rows, counter_rows in planned:
            live_vote_id, stamp = rows[0][0], rows[0][7]
            batch = json.dumps([[r[1], r[2], r[3], r[4], r[5], r[6]] for r in rows])
            cur.execute(_UPSERT, (live_vote_id, stamp, stamp, batch))
            cur.executemany(self._counters_sql, counter_rows)
        conn.execute("COMMIT")

    def _rollback(self, conn: Any) -> None:
        conn.execute("ROLLBACK")
