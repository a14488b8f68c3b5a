"""What both databases' ballot stores share: the types a batch travels in, the statements with a
placeholder slot, and the general write path that applies the tally engine's rules vote by vote.

The stores do not use the ORM: each keeps raw DB-API connections (a writer, a reader and, on
SQLite, a checkpointer) to the database Django is configured with. Their upserts implement exactly
the rules of `opencall.engines.tally`, so the database and the engine always agree.
"""

from __future__ import annotations

import contextlib
import threading
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, NamedTuple

from opencall.engines.tally import Ballot, Decision, VoteEvent, apply_event
from opencall.voting.live import rules

BALLOTS = "voting_liveballot"
LIVE_VOTES = "voting_livevote"
FINALISTS = "voting_livevote_finalists"
COUNTS = "voting_livecount"

# Statements both databases run, with "{ph}" for their placeholder ("?" or "%s").
WINDOW = f"SELECT state, opens_at, closes_at FROM {LIVE_VOTES} WHERE id = {{ph}}"  # noqa: S608
FINALIST_IDS = f"SELECT idea_id FROM {COUNTS} WHERE live_vote_id = {{ph}} ORDER BY idea_id"  # noqa: S608
COUNTERS = (
    f"UPDATE {COUNTS} SET votes = votes + {{ph}}, writes = writes + {{ph}} "  # noqa: S608
    "WHERE live_vote_id = {ph} AND idea_id = {ph}"
)
_LIVE_VOTE = f"SELECT id, code, state, opens_at, closes_at, sign_in_required FROM {LIVE_VOTES} WHERE code = {{ph}}"  # noqa: S608
_LIVE_VOTE_FINALISTS = f"SELECT idea_id FROM {FINALISTS} WHERE livevote_id = {{ph}}"  # noqa: S608
_COUNTS = f"SELECT idea_id, votes, writes FROM {COUNTS} WHERE live_vote_id = {{ph}}"  # noqa: S608
BALLOT_COLUMNS = "live_vote_id, device, idea_id, client_vote_id, seq, user_id, changes, cast_at, updated_at"
# The tally engine's rule as the batch upsert's conflict clause: a different vote id with a higher
# seq replaces the ballot; a redelivery or an older vote changes nothing.
UPSERT_CONFLICT = (
    "ON CONFLICT (live_vote_id, device) DO UPDATE SET idea_id = excluded.idea_id, "
    "client_vote_id = excluded.client_vote_id, seq = excluded.seq, "
    f"changes = {BALLOTS}.changes + excluded.changes, updated_at = excluded.updated_at "
    f"WHERE excluded.seq > {BALLOTS}.seq AND excluded.client_vote_id <> {BALLOTS}.client_vote_id"
)
# After a held ballot stops the new devices' plain insert, this many batches skip held ballots
# (PostgreSQL) or go through the general path (SQLite).
SKIP_HELD_BATCHES = 64

# (live vote, indexes of the votes the new devices' statement was given, devices it inserted, or
# None when it inserted every one)
Tried = list[tuple[int, list[int], set[str] | None]]


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
        return rules.is_open(self.state, self.opens_at, self.closes_at, at)


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


def merge(votes: Sequence[PendingVote], first: BatchResult, rest: list[int], more: BatchResult) -> BatchResult:
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


def window_open(row: Sequence[Any] | None, now: float) -> bool:
    """Whether a live vote's (state, opens_at, closes_at) row takes votes at `now`."""
    if row is None:
        return False
    return rules.is_open(row[0], epoch(row[1]), epoch(row[2]), now)


def epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


class BallotStore(ABC):
    """The fast path's database access, one subclass per database (`open_store` picks it).

    `settings_dict` is a Django DATABASES entry. The batcher calls `write_batch_async` from the
    event loop and `checkpoint` from a thread when `checkpoints` says the database needs it; the
    pages' reads (`live_vote`, `counts`) run in a thread on their own connection.
    """

    # "?" or "%s", for the statements above.
    ph: ClassVar[str]
    # Whether the batcher should call `checkpoint` now and then (a thread, beside the batches).
    checkpoints: ClassVar[bool] = False

    def __init__(self, settings_dict: Mapping[str, Any]) -> None:
        self.settings = dict(settings_dict)
        self._writer: Any = None
        self._reader: Any = None
        self._read_lock = threading.Lock()
        # Batches left that skip held ballots (see the subclasses' new devices' paths).
        self._skip_held_batches = 0
        ph = self.ph
        self._window_sql, self._finalists_sql, self._counters_sql = (
            sql.format(ph=ph) for sql in (WINDOW, FINALIST_IDS, COUNTERS)
        )
        self._live_vote_sql, self._live_vote_finalists_sql, self._counts_sql = (
            sql.format(ph=ph) for sql in (_LIVE_VOTE, _LIVE_VOTE_FINALISTS, _COUNTS)
        )

    # -- what each database does its own way ----------------------------------------------------
    @abstractmethod
    def _connect(self) -> Any:
        """A new DB-API connection."""

    def _connect_reader(self) -> Any:
        return self._connect()

    def _connect_writer(self) -> Any:
        return self._connect()

    @abstractmethod
    def _timestamp(self, at: float) -> Any:
        """`at` as the database's driver takes a timestamp column's value."""

    @abstractmethod
    def _read_state(
        self, conn: Any, live_vote_id: int, devices: list[str]
    ) -> tuple[tuple[Any, ...] | None, set[int], list[tuple[Any, ...]]]:
        """(window row, finalists, current ballots of these devices), read inside the transaction.

        Reading the window there matters: the stop action takes the live vote row FOR UPDATE, so
        every acknowledged vote commits before the close does (PostgreSQL); on SQLite the database
        lock orders them the same way. Locking the counters orders the batches of one live vote
        across processes, so the ballots read are the latest and the count deltas are exact.
        """

    @abstractmethod
    def _apply(self, conn: Any, planned: list[tuple[list[tuple[Any, ...]], list[tuple[int, int, int, int]]]]) -> None:
        """Write the ballots and move the counters, then commit."""

    @abstractmethod
    def _rollback(self, conn: Any) -> None:
        """Undo the open transaction."""

    @abstractmethod
    def write_batch(self, votes: Sequence[PendingVote]) -> BatchResult:
        """Commit a batch in one transaction and see it on disk. Safe to call again with the same
        votes after a failure whose outcome is unknown: every vote is then a duplicate. Blocks
        until the database can be written (any thread)."""

    @abstractmethod
    async def write_batch_async(self, votes: Sequence[PendingVote]) -> BatchResult:
        """`write_batch` from the event loop, which it never blocks. An outcome "unavailable"
        means committed but maybe not on disk: the voter is asked to send again."""

    def checkpoint(self) -> tuple[int, int]:
        """Housekeeping of the database's log, from its own thread (see `checkpoints`)."""
        return 0, 0

    async def aclose(self) -> None:  # noqa: B027 - a default: most stores keep nothing on the loop
        """Close what lives on the event loop (then `close` for the rest)."""

    def close(self) -> None:
        for conn in (self._writer, self._reader):
            if conn is not None:
                with contextlib.suppress(Exception):  # closing a broken connection may fail too
                    conn.close()
        self._writer = self._reader = None

    # -- reads -------------------------------------------------------------------------------
    @contextmanager
    def _reading(self) -> Iterator[Any]:
        with self._read_lock:
            if self._reader is None:
                self._reader = self._connect_reader()
            try:
                yield self._reader
            except Exception:
                try:
                    self._reader.close()
                finally:
                    self._reader = None
                raise

    def live_vote(self, code: str) -> LiveVoteInfo | None:
        with self._reading() as conn:
            cur = conn.cursor()
            cur.execute(self._live_vote_sql, (code,))
            row = cur.fetchone()
            if row is None:
                return None
            cur.execute(self._live_vote_finalists_sql, (row[0],))
            finalists = frozenset(int(r[0]) for r in cur.fetchall())
        return LiveVoteInfo(
            int(row[0]), str(row[1]), str(row[2]), epoch(row[3]), epoch(row[4]), finalists, bool(row[5])
        )

    def counts(self, live_vote_id: int) -> tuple[dict[int, int], int, int]:
        """(votes per finalist, turnout, accepted votes so far including changes)."""
        with self._reading() as conn:
            cur = conn.cursor()
            cur.execute(self._counts_sql, (live_vote_id,))
            rows = cur.fetchall()
        counts = {int(i): int(v) for i, v, _ in rows}
        return counts, sum(counts.values()), sum(int(w) for _, _, w in rows)

    # -- the write path ----------------------------------------------------------------------
    def _writer_connection(self) -> Any:
        if self._writer is None:
            self._writer = self._connect_writer()
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

    @staticmethod
    def _after_new_devices(votes: Sequence[PendingVote], tried: Tried) -> tuple[BatchResult, list[int]]:
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

    def _write(self, conn: Any, votes: Sequence[PendingVote]) -> BatchResult:
        """The general path: read every device's ballot, apply the tally rules vote by vote, write
        the ballots that changed and move the counters, in the transaction the caller began (SQLite)
        or one of its own (PostgreSQL), and commit."""
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
                if not window_open(row, now):
                    continue
                current = {d: Ballot(d, v, int(s), int(i)) for d, v, s, i in held}
                touched: dict[str, PendingVote] = {}
                changed: dict[str, int] = defaultdict(int)
                delta: dict[int, int] = defaultdict(int)
                writes: dict[int, int] = defaultdict(int)
                new = 0
                for i in indexes:
                    vote = votes[i]
                    if not rules.is_finalist(vote.idea, finalists):
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
                self._rollback(conn)
            raise
        return BatchResult(outcomes, deltas, turnout, accepted)
