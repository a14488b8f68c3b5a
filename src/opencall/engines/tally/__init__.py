"""Tally engine: exactly-once counting of a live vote stream.

Method: last-writer-wins register per device, ordered by the client's own sequence number, with
idempotent delivery keyed by the client vote id (the classic "idempotent receiver" of Hohpe &
Woolf, *Enterprise Integration Patterns*, 2003, combined with a per-key LWW register as in Shapiro
et al., "Conflict-free Replicated Data Types", SSS 2011). Each event is decided against the
device's current ballot only, so counting is O(n) time and O(devices) memory for n events, and the
result does not depend on how often an event was delivered again.

Pure Python; no I/O; deterministic.
"""

from opencall.engines.tally.counting import (
    Ballot,
    Decision,
    TallyResult,
    VoteEvent,
    apply_event,
    ballots_digest,
    count_ballots,
    decide,
    fold_events,
    standings,
    tally_events,
)

__all__ = [
    "Ballot",
    "Decision",
    "TallyResult",
    "VoteEvent",
    "apply_event",
    "ballots_digest",
    "count_ballots",
    "decide",
    "fold_events",
    "standings",
    "tally_events",
]
