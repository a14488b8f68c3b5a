"""The live-vote fast path: votes from phones, group-committed, counts out to the projectors.

It runs apart from the page stack (`opencall.voting.fastpath:app`) and never uses the ORM or the
app's models: it reads Django settings once (`config`) and talks to the database through raw
connections (`store`). An import-linter contract in pyproject.toml holds it to that.

    http.py        ASGI routing and answers: the vote, state, events and ping routes
    casting.py     what a vote request says: address, bearer token, fields (compact form or JSON)
    rules.py       the one definition of "open", the finalist and device-token checks (shared
                   with voting.actions and voting.queries; `open_sql` is the same rule in SQL)
    ratelimit.py   token buckets per address and per device, in each worker's memory
    batcher.py     group commit: queued votes written in one transaction, then answered
    store/         the database: `BallotStore` with `sqlite.py` and `postgres.py` behind it
    fanout.py      counts out after each batch: in-process, or through Redis; the scoreboards
    config.py      the settings it runs with (OPENCALL_LIVE_*, REDIS_URL), read once
"""
