"""The ballot store on PostgreSQL: new devices' first votes in one prepared statement sent from the
event loop through libpq (committed in the same round trip), everything else through the general
path in a thread; row locks order the batches of every worker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from opencall.voting.live import rules
from opencall.voting.live.store.base import (
    BALLOT_COLUMNS,
    BALLOTS,
    COUNTS,
    LIVE_VOTES,
    SKIP_HELD_BATCHES,
    UPSERT_CONFLICT,
    BallotStore,
    BatchResult,
    PendingVote,
    Tried,
    merge,
)

logger = logging.getLogger("opencall.voting.live.store")

# Rows: [device, idea, vote_id, seq, user_id]. {conflict} is empty (a ballot the device already
# has aborts the statement with a unique violation) or _SKIP_HELD (such a vote is left out and goes
# through the general path). The open rule is opencall.voting.live.rules.open_sql.
_NEW_BALLOTS = f"""
WITH open_vote AS (
    SELECT id FROM {LIVE_VOTES}
    WHERE id = %(lv)s AND {rules.open_sql("%(at)s")}
    FOR SHARE
), counters AS (
    SELECT idea_id FROM {COUNTS} WHERE live_vote_id = (SELECT id FROM open_vote)
    ORDER BY idea_id FOR UPDATE
), inserted AS (
    INSERT INTO {BALLOTS} ({BALLOT_COLUMNS})
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
_SKIP_HELD = "ON CONFLICT (live_vote_id, device) DO NOTHING"
_INSERT_ONLY = _NEW_BALLOTS.format(conflict="")
_INSERT_OR_SKIP = _NEW_BALLOTS.format(conflict=_SKIP_HELD)
# The two statements as prepared on the event loop's connection (see `_send_prepared`).
_PREPARED_ARGS = {"lv": "$1", "at": "$2", "rows": "$3", "n": "$4"}
_PREPARED = {
    sql: (
        f"opencall_new_ballots_{k}".encode(),
        f"PREPARE opencall_new_ballots_{k} (bigint, timestamptz, jsonb, bigint) AS {sql % _PREPARED_ARGS}",
    )
    for k, sql in (("insert", _INSERT_ONLY), ("skip", _INSERT_OR_SKIP))
}
# Lists travel as one JSON text: parsed by PostgreSQL in C, where psycopg would adapt a Python list
# element by element. One index lookup per device (LATERAL), whatever the planner believes about the
# table: during a live vote it grows faster than its statistics, and a plan that scans the live
# vote's ballots would make every batch cost O(ballots so far).
_HELD = (
    "SELECT b.device, b.client_vote_id, b.seq, b.idea_id "  # noqa: S608 - table name constant
    "FROM jsonb_array_elements_text(%s::jsonb) AS d(device) CROSS JOIN LATERAL "
    f"(SELECT device, client_vote_id, seq, idea_id FROM {BALLOTS} "
    "WHERE live_vote_id = %s AND device = d.device FOR UPDATE) AS b"
)
_UPSERT = (
    f"INSERT INTO {BALLOTS} ({BALLOT_COLUMNS}) SELECT %s, r->>0, (r->>1)::bigint, r->>2, (r->>3)::bigint, "  # noqa: S608
    f"(r->>4)::bigint, (r->>5)::int, %s, %s FROM jsonb_array_elements(%s::jsonb) AS r {UPSERT_CONFLICT}"
)


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class PostgresBallotStore(BallotStore):
    ph = "%s"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._async_writer: Any = None

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(**self._pg_params(), autocommit=False)

    def _connect_reader(self) -> Any:
        conn = self._connect()
        conn.autocommit = True
        return conn

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

    async def aclose(self) -> None:
        if self._async_writer is not None:
            with contextlib.suppress(Exception):
                await self._async_writer.close()
            self._async_writer = None

    def _timestamp(self, at: float) -> Any:
        return datetime.fromtimestamp(at, UTC)

    # -- batches -----------------------------------------------------------------------------
    def write_batch(self, votes: Sequence[PendingVote]) -> BatchResult:
        # The row locks taken inside the transaction order the batches of every worker.
        return self._on_writer(self._write_new_first, votes)

    def write_general(self, votes: Sequence[PendingVote]) -> BatchResult:
        """A batch through `_write` only (reads every ballot), on the thread's connection."""
        return self._on_writer(self._write, votes)

    def _write_new_first(self, conn: Any, votes: Sequence[PendingVote]) -> BatchResult:
        """First votes of new devices in one statement and one round trip, the rest (a vote the
        device's client counts as a change, a second vote in the batch, a vote the statement
        refused) through `_write`.

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
        tried: Tried = []
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
        return merge(votes, result, rest, self._write(conn, [votes[i] for i in rest]))

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
            return _INSERT_OR_SKIP
        return _INSERT_ONLY

    def _held_ballot_found(self, sql: str) -> bool:
        """Whether a unique violation is the plain insert meeting a ballot a device already has
        (then this batch and the next ones skip such ballots instead)."""
        if sql is _INSERT_ONLY:
            self._skip_held_batches = SKIP_HELD_BATCHES + 1  # this batch's rerun, then the next ones
            return True
        return False

    async def write_batch_async(self, votes: Sequence[PendingVote]) -> BatchResult:
        """`write_batch` with the new devices' statement sent on an asyncio connection, so that
        neither a thread nor the GIL sits between the loop and the database; the rest of the batch
        (rare) goes through `_write` in a thread.

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
        tried: Tried = []
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
        return merge(votes, result, rest, more)

    async def _async_connection(self) -> Any:
        """The event loop's connection (autocommit), with the new devices' statements prepared."""
        import psycopg

        if self._async_writer is None:
            # prepare_threshold=None: psycopg prepares nothing of its own on this connection, so it
            # never sends DEALLOCATE ALL (which it does on a rollback once it has prepared
            # something), which would drop our two statements as well.
            conn = await psycopg.AsyncConnection.connect(**self._pg_params(), autocommit=True, prepare_threshold=None)
            try:
                for _, prepare in _PREPARED.values():
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

        name = _PREPARED[sql][0]
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

    def _new_device_statements(self, votes: Sequence[PendingVote]) -> list[tuple[int, list[int], dict[str, Any]]]:
        """(live vote, indexes of its devices' first votes, parameters of _NEW_BALLOTS) per live
        vote, for the votes `_first_votes` picks."""
        stamp = self._timestamp(time.time())
        statements = []
        for live_vote_id, indexes in self._first_votes(votes):
            rows = json.dumps([votes[i][1:6] for i in indexes])  # device, idea, vote id, seq, user
            params = {"lv": live_vote_id, "at": stamp, "rows": rows, "n": len(indexes)}
            statements.append((live_vote_id, indexes, params))
        return statements

    @staticmethod
    def _inserted(row: Sequence[Any] | None) -> set[str] | None:
        """The devices a new devices' statement inserted, from its row (count, devices or NULL)."""
        if row is None:
            return set()
        devices = row[1]
        if devices is None:
            return None
        return set(json.loads(devices) if isinstance(devices, str | bytes) else devices)

    # -- the general path's steps ----------------------------------------------------------
    def _read_state(
        self, conn: Any, live_vote_id: int, devices: list[str]
    ) -> tuple[tuple[Any, ...] | None, set[int], list[tuple[Any, ...]]]:
        # The three reads go out in one round trip (pipeline mode), since under load every round
        # trip waits for the database backend to be scheduled again.
        c1, c2, c3 = conn.cursor(), conn.cursor(), conn.cursor()
        with conn.pipeline():
            c1.execute(self._window_sql + " FOR SHARE", (live_vote_id,))
            c2.execute(self._finalists_sql + " FOR UPDATE", (live_vote_id,))
            c3.execute(_HELD, (json.dumps(devices), live_vote_id))
        return c1.fetchone(), {int(r[0]) for r in c2.fetchall()}, list(c3.fetchall())

    def _apply(self, conn: Any, planned: list[tuple[list[tuple[Any, ...]], list[tuple[int, int, int, int]]]]) -> None:
        # One round trip: the upserts, the counters and the commit.
        cur = conn.cursor()
        with conn.pipeline():
            for rows, counter_rows in planned:
                live_vote_id, stamp = rows[0][0], rows[0][7]
                batch = json.dumps([[r[1], r[2], r[3], r[4], r[5], r[6]] for r in rows])
                cur.execute(_UPSERT, (live_vote_id, stamp, stamp, batch))
                cur.executemany(self._counters_sql, counter_rows)
            conn.commit()

    def _rollback(self, conn: Any) -> None:
        conn.rollback()
