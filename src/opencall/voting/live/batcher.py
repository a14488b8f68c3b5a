"""Group commit: votes wait in memory, one transaction writes them all, then all are answered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from opencall.voting.live.store import BallotStore, BatchResult, PendingVote

log = logging.getLogger("opencall.voting.live.batcher")


class Batcher:
    """Group commit: votes wait in memory, one transaction writes them all, then all are answered."""

    def __init__(
        self,
        store: BallotStore,
        flush_seconds: float,
        max_batch: int,
        after_commit: Callable[[BatchResult], None] | None = None,
        checkpoint_seconds: float = 1.0,
    ) -> None:
        self.store, self.flush_seconds, self.max_batch = store, flush_seconds, max_batch
        self.after_commit = after_commit
        self.pending: list[tuple[PendingVote, asyncio.Future[str]]] = []
        self.wakeup = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.batches = 0
        self.written = 0
        self.checkpoint_every = checkpoint_seconds
        self._last_checkpoint = time.monotonic()
        self._checkpointing: asyncio.Future[tuple[int, int]] | None = None
        self.closing = False
        self._nap: asyncio.Future[None] | None = None

    def start(self) -> None:
        if self.task is None:
            self.loop = asyncio.get_running_loop()
            self.task = self.loop.create_task(self._run())

    async def submit(self, vote: PendingVote) -> str:
        if self.task is None or self.task.done():
            return "unavailable"  # shutting down: the voter is told to send again
        # The loop found at start: asyncio.get_running_loop() makes a getpid() system call each
        # time (it checks for a fork), which profiling showed at a tenth of the loop's time.
        future: asyncio.Future[str] = self.loop.create_future()
        self.pending.append((vote, future))
        self.wakeup.set()
        return await future

    async def drain(self, timeout: float = 10.0) -> None:
        """Write what is queued, answer it, then stop (a worker shutting down): the votes already
        received are not dropped, and no thread is left using the store when it is closed."""
        if self.task is None:
            return
        self.closing = True
        self.wakeup.set()
        _wake(self._nap)
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except Exception:  # including the timeout
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
        if self._checkpointing is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(self._checkpointing), timeout)

    async def _run(self) -> None:
        last = 0.0
        while True:
            await self.wakeup.wait()
            wait = last + self.flush_seconds - time.monotonic()
            if wait > 0 and not self.closing:
                # A nap that `drain` can cut short.
                self._nap = self.loop.create_future()
                timer = self.loop.call_later(wait, _wake, self._nap)
                try:
                    await self._nap
                finally:
                    timer.cancel()
            last = time.monotonic()
            batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
            if not self.pending:
                self.wakeup.clear()
            if batch:
                await self._write_and_answer(batch)
            if self.closing and not self.pending:
                return

    async def _write_and_answer(self, batch: list[tuple[PendingVote, asyncio.Future[str]]]) -> None:
        votes = [vote for vote, _ in batch]
        try:
            result = await self._write(votes)
        except Exception:
            log.exception("live vote batch of %d not written", len(votes))
            for _, future in batch:
                if not future.done():
                    future.set_result("unavailable")
            return
        self.batches += 1
        self.written += len(votes)
        for (_, future), outcome in zip(batch, result.outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
        if self.after_commit is not None:
            self.after_commit(result)
        self._maybe_checkpoint()

    def _maybe_checkpoint(self) -> None:
        """Start a checkpoint in a thread now and then, if the store keeps one (SQLite's WAL); the next
        batches go on meanwhile."""
        if not self.store.checkpoints:
            return
        now = time.monotonic()
        if now - self._last_checkpoint < self.checkpoint_every:
            return
        if self._checkpointing is not None and not self._checkpointing.done():
            return
        self._last_checkpoint = now
        self._checkpointing = asyncio.ensure_future(asyncio.to_thread(self.store.checkpoint))
        self._checkpointing.add_done_callback(_log_checkpoint_failure)

    async def _write(self, votes: list[PendingVote]) -> BatchResult:
        # A lost connection (database restart) is retried for a few seconds; retrying is safe
        # because a vote already committed comes back as a duplicate.
        deadline = time.monotonic() + 5.0
        delay = 0.05
        while True:
            try:
                return await self.store.write_batch_async(votes)
            except Exception:
                if time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)


def _wake(nap: asyncio.Future[None] | None) -> None:
    if nap is not None and not nap.done():
        nap.set_result(None)


def _log_checkpoint_failure(future: asyncio.Future[tuple[int, int]]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("WAL checkpoint failed", exc_info=future.exception())
