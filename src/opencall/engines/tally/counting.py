"""Exactly-once live-vote counting (see the package docstring for method and source).

Rules, shared bit for bit with the SQL upsert in ``opencall.voting.live.store`` (``base.UPSERT_CONFLICT``):

- a device has at most one ballot; its first event creates it (``NEW``);
- an event whose vote id equals the ballot's vote id is a redelivery (``DUPLICATE``): ignored;
- an event with a higher ``seq`` than the ballot replaces it (``CHANGE``), even for the same choice;
- any other event is older than what is held (``STALE``): ignored. A late retry of a vote the
  voter has since changed therefore never undoes the change.

Complexity: ``decide`` O(1); ``fold_events``/``tally_events`` O(n) for n events;
``count_ballots`` O(b + k) for b ballots and k choices; ``ballots_digest`` O(b log b).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple


class VoteEvent(NamedTuple):
    """One delivery of a vote: who (device), which attempt (vote_id, seq), for what (choice)."""

    device: str
    vote_id: str
    seq: int
    choice: int


class Ballot(NamedTuple):
    """A device's current vote."""

    device: str
    vote_id: str
    seq: int
    choice: int


class Decision(enum.Enum):
    NEW = "new"
    CHANGE = "change"
    DUPLICATE = "duplicate"
    STALE = "stale"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class TallyResult:
    counts: dict[int, int]
    ballots: int
    events: int
    new: int
    changes: int
    duplicates: int
    stale: int
    invalid: int


def decide(current: Ballot | None, event: VoteEvent) -> Decision:
    """What applying ``event`` to a device whose ballot is ``current`` does."""
    if current is None:
        return Decision.NEW
    if event.vote_id == current.vote_id:
        return Decision.DUPLICATE
    if event.seq > current.seq:
        return Decision.CHANGE
    return Decision.STALE


def apply_event(
    current: Ballot | None, event: VoteEvent
) -> tuple[Decision, Ballot | None, tuple[tuple[int, int], ...]]:
    """Decide ``event`` and return (decision, the device's ballot after it, count deltas)."""
    decision = decide(current, event)
    if decision is Decision.NEW:
        ballot = Ballot(event.device, event.vote_id, event.seq, event.choice)
        return decision, ballot, ((event.choice, 1),)
    if decision is Decision.CHANGE:
        assert current is not None
        ballot = Ballot(event.device, event.vote_id, event.seq, event.choice)
        if current.choice == event.choice:
            return decision, ballot, ()
        return decision, ballot, ((current.choice, -1), (event.choice, 1))
    return decision, current, ()


def fold_events(
    events: Iterable[VoteEvent],
    valid_choices: Iterable[int] | None = None,
    start: Mapping[str, Ballot] | None = None,
) -> tuple[dict[str, Ballot], dict[Decision, int]]:
    """Apply a stream in arrival order; return final ballots per device and decision counts."""
    allowed = None if valid_choices is None else frozenset(valid_choices)
    ballots: dict[str, Ballot] = dict(start or {})
    seen = dict.fromkeys(Decision, 0)
    for event in events:
        if allowed is not None and event.choice not in allowed:
            seen[Decision.INVALID] += 1
            continue
        decision, ballot, _ = apply_event(ballots.get(event.device), event)
        seen[decision] += 1
        if ballot is not None:
            ballots[event.device] = ballot
    return ballots, seen


def count_ballots(ballots: Iterable[Ballot], choices: Sequence[int]) -> dict[int, int]:
    """Exact count per choice; every listed choice appears, with 0 if nobody picked it.

    Raises ValueError on a ballot for a choice outside ``choices`` (the stored data is corrupt).
    """
    counts = dict.fromkeys(choices, 0)
    for ballot in ballots:
        if ballot.choice not in counts:
            raise ValueError(f"ballot of {ballot.device!r} is for unknown choice {ballot.choice}")
        counts[ballot.choice] += 1
    return counts


def tally_events(events: Iterable[VoteEvent], choices: Sequence[int]) -> TallyResult:
    """Exact tally of a raw event stream (duplicates and stale retries included)."""
    event_list = list(events)
    ballots, seen = fold_events(event_list, choices)
    return TallyResult(
        counts=count_ballots(ballots.values(), choices),
        ballots=len(ballots),
        events=len(event_list),
        new=seen[Decision.NEW],
        changes=seen[Decision.CHANGE],
        duplicates=seen[Decision.DUPLICATE],
        stale=seen[Decision.STALE],
        invalid=seen[Decision.INVALID],
    )


def standings(counts: Mapping[int, int]) -> list[tuple[int, int]]:
    """Choices by votes, most first; ties by choice id so the order is reproducible."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def ballots_digest(ballots: Iterable[Ballot]) -> str:
    """sha256 over the ballots sorted by device: publish it so a recount can be checked."""
    h = hashlib.sha256()
    for b in sorted(ballots, key=lambda b: b.device):
        h.update(f"{b.device}\t{b.vote_id}\t{b.seq}\t{b.choice}\n".encode())
    return h.hexdigest()
