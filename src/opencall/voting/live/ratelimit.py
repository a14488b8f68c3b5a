"""Per-worker rate limits of the fast path: token buckets kept as one float per key."""

from __future__ import annotations


class RateLimiter:
    """Token buckets per key, in this process's memory (limits are per worker process).

    Each bucket is one float, the time at which it is full again (the generic cell rate
    algorithm): a request finds `burst - (full_at - now) * rate` tokens, passes if that is at least
    one and moves `full_at` one interval (1 / rate) on. It answers exactly as a bucket of `burst`
    tokens refilled at `rate` per second, with one dictionary operation to read and one to write:
    under load the dictionaries hold hundreds of thousands of keys and every operation is a cache
    miss, so a bucket kept as two floats in two dicts cost twice as much (17 us per vote for the
    two limiters, measured in bench/live). Floats in a dict of strings are invisible to the cyclic
    garbage collector, whereas 400,000 small lists made each full collection stop the loop ~80 ms.

    Keys live in two generations. A key found in the older one moves to the current one; when
    the current one holds `max_keys // 2` keys it becomes the older one, and the previous older
    one is let go a few entries per call: dropping 100,000 keys at once (or sorting them by age,
    as this class did before) stopped the event loop for 100-150 ms under load. A key unseen for
    two generations starts again with a full bucket, which it would have by then anyway unless
    more than `max_keys // 2` other keys arrived within the `burst / rate` seconds its bucket
    takes to refill.
    """

    def __init__(self, rate: float, burst: float, max_keys: int = 200_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self.interval = 1.0 / rate if rate > 0 else 0.0
        # How far ahead of now `full_at` may be for a request to pass: burst - 1 intervals.
        self.slack = (burst - 1) * self.interval
        self.full_at: dict[str, float] = {}
        self.old_full_at: dict[str, float] = {}
        self.dropping: list[dict[str, float]] = []

    def retry_after(self, key: str, now: float) -> float:
        """0 if a request may pass now (and take a token), else seconds until it may."""
        if self.rate <= 0:
            return 0.0
        if self.dropping:
            self._drop_some()
        full_at = self.full_at.get(key)
        if full_at is None:
            # Taken out of the older generation before a rotation lets that one go.
            full_at = self.old_full_at.pop(key, None)
            if len(self.full_at) >= self.max_keys // 2:
                self._rotate()
            if full_at is None:
                self.full_at[key] = now + self.interval
                return 0.0
        if full_at < now:
            full_at = now
        wait = full_at - now - self.slack
        if wait > 1e-9:
            self.full_at[key] = full_at
            return wait
        self.full_at[key] = full_at + self.interval
        return 0.0

    def __len__(self) -> int:
        """Keys remembered (both generations)."""
        return len(self.full_at) + len(self.old_full_at)

    def _rotate(self) -> None:
        self.dropping.append(self.old_full_at)
        self.old_full_at, self.full_at = self.full_at, {}

    def _drop_some(self) -> None:
        victims = self.dropping[-1]
        for _ in range(min(8, len(victims))):
            victims.popitem()
        if not victims:
            self.dropping.pop()
