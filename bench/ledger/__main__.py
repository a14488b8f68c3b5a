"""Ledger engine bench: postings per second through validate+apply, and verify time, in memory.

Run: ``.venv/bin/python bench/ledger [--entries N] [--seed S]``. Engine only; the database
figures (SQLite, PostgreSQL) come with the ledger app.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from opencall.engines.ledger import (
    Account,
    AccountKind,
    Journal,
    Posting,
    Transaction,
    apply_into,
    balances_from,
    postings_of,
    validate,
    verify,
)

BANK = Account(AccountKind.EXTERNAL, "bank")
FEES = Account(AccountKind.PLATFORM_FEES, "platform")
TRANSIT = Account(AccountKind.PAYOUTS_IN_TRANSIT, "batches")


def workload(entries: int, seed: int) -> Iterator[Transaction]:
    """A money cycle per bounty: top-up, escrow with fee (3 postings), release to a creator,
    payout batch, paid (a tenth stop before the batch, a tenth before paid); 500 sponsors, 5,000
    bounties, 20,000 creators, EUR/USD/JPY. Every transaction is valid: the accepting path."""
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    made = 0
    n = 0
    while made < entries:
        currency = rng.choice(("EUR", "USD", "JPY"))
        org = Account(AccountKind.SPONSOR_FUNDS, f"org:{rng.randrange(500)}")
        escrow = Account(AccountKind.ESCROW, f"bounty:{rng.randrange(5_000)}")
        creator = Account(AccountKind.CREATOR_PAYABLE, f"user:{rng.randrange(20_000)}")
        reward = rng.randrange(1_000, 100_000)
        fee = reward // 10
        spare = rng.randrange(1, 5_000)  # left in the sponsor's funds
        cycle = (
            ((BANK, -(reward + fee + spare)), (org, reward + fee + spare)),
            ((org, -(reward + fee)), (escrow, reward), (FEES, fee)),
            ((escrow, -reward), (creator, reward)),
            ((creator, -reward), (TRANSIT, reward)),
            ((TRANSIT, -reward), (BANK, reward)),
        )
        if rng.random() < 0.2:  # a fifth of the payouts still in transit, a fifth of the payables unpaid
            cycle = cycle[:4] if rng.random() < 0.5 else cycle[:3]
        for postings in cycle:
            n += 1
            made += len(postings)
            yield Transaction(
                f"t{n}",
                tuple(Posting(account, currency, amount) for account, amount in postings),
                t0 + timedelta(seconds=n),
            )
            if made >= entries:
                return


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/ledger")
    parser.add_argument("--entries", type=int, default=1_000_000, help="postings in the journal (default 1M)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    t = time.perf_counter()
    txns = list(workload(args.entries, args.seed))
    postings = sum(len(x.postings) for x in txns)
    print(f"workload: {len(txns):,} transactions, {postings:,} postings (built in {time.perf_counter() - t:.1f} s)")
    gc.collect()
    gc.freeze()  # the workload is long-lived: keep the collector from re-scanning it during timing

    balances: dict[tuple[Account, str], int] = {}
    t = time.perf_counter()
    for txn in txns:
        if validate(txn, balances):
            raise SystemExit(f"bench workload invalid at {txn.key}")
        apply_into(balances, txn)
    secs = time.perf_counter() - t
    print(f"validate + apply (functions, one balances dict): {secs:.2f} s, {postings / secs:,.0f} postings/s")

    journal = Journal()
    t = time.perf_counter()
    for txn in txns:
        journal.post(txn)
    secs = time.perf_counter() - t
    print(
        f"Journal.post (validate + idempotency + apply): {secs:.2f} s, {postings / secs:,.0f} postings/s, "
        f"{len(txns) / secs:,.0f} transactions/s"
    )

    t = time.perf_counter()
    for txn in txns[:100_000]:
        journal.post(txn)
    secs = time.perf_counter() - t
    print(f"replayed keys (no-op): {min(100_000, len(txns)) / secs:,.0f} transactions/s")

    t = time.perf_counter()
    computed = balances_from(postings_of(txns))
    print(f"balances_from ({len(computed):,} non-zero balances): {time.perf_counter() - t:.2f} s")

    claimed = dict(journal.balances)
    t = time.perf_counter()
    differences = verify(txns, claimed)
    secs = time.perf_counter() - t
    print(
        f"verify (replay every rule, compare {len(claimed):,} balances): {secs:.2f} s, differences: {len(differences)}"
    )

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:,.0f} MiB")
    print("reference: none (no library to compare to)")


if __name__ == "__main__":
    main()
