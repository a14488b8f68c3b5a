from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencall.engines.tally import (
    Ballot,
    Decision,
    VoteEvent,
    apply_event,
    ballots_digest,
    count_ballots,
    decide,
    fold_events,
    standings,
    tally_events,
)


def ev(device: str, vote_id: str, seq: int, choice: int) -> VoteEvent:
    return VoteEvent(device=device, vote_id=vote_id, seq=seq, choice=choice)


def test_first_vote_is_new() -> None:
    assert decide(None, ev("d1", "a", 1, 7)) is Decision.NEW


def test_same_vote_id_is_duplicate_even_with_other_fields() -> None:
    held = Ballot("d1", "a", 1, 7)
    assert decide(held, ev("d1", "a", 1, 7)) is Decision.DUPLICATE
    assert decide(held, ev("d1", "a", 9, 8)) is Decision.DUPLICATE


def test_higher_seq_changes_lower_is_stale() -> None:
    held = Ballot("d1", "b", 2, 8)
    assert decide(held, ev("d1", "c", 3, 7)) is Decision.CHANGE
    assert decide(held, ev("d1", "a", 1, 7)) is Decision.STALE
    assert decide(held, ev("d1", "x", 2, 7)) is Decision.STALE


def test_apply_event_deltas() -> None:
    assert apply_event(None, ev("d", "a", 1, 5)) == (
        Decision.NEW,
        Ballot("d", "a", 1, 5),
        ((5, 1),),
    )
    held = Ballot("d", "a", 1, 5)
    assert apply_event(held, ev("d", "b", 2, 6)) == (
        Decision.CHANGE,
        Ballot("d", "b", 2, 6),
        ((5, -1), (6, 1)),
    )
    assert apply_event(held, ev("d", "b", 2, 5)) == (Decision.CHANGE, Ballot("d", "b", 2, 5), ())
    assert apply_event(held, ev("d", "a", 1, 5)) == (Decision.DUPLICATE, held, ())


def test_late_retry_never_undoes_a_change() -> None:
    events = [ev("d", "a", 1, 10), ev("d", "b", 2, 20), ev("d", "a", 1, 10), ev("d", "a", 1, 10)]
    result = tally_events(events, [10, 20])
    assert result.counts == {10: 0, 20: 1}
    assert (result.new, result.changes, result.duplicates, result.stale) == (1, 1, 0, 2)


def test_invalid_choices_are_not_counted() -> None:
    result = tally_events([ev("d1", "a", 1, 10), ev("d2", "b", 1, 99)], [10, 20])
    assert result.counts == {10: 1, 20: 0}
    assert result.invalid == 1
    assert result.ballots == 1


def test_count_ballots_rejects_unknown_choice() -> None:
    with pytest.raises(ValueError, match="unknown choice 3"):
        count_ballots([Ballot("d", "a", 1, 3)], [1, 2])


def test_standings_break_ties_by_choice() -> None:
    assert standings({3: 5, 1: 5, 2: 9}) == [(2, 9), (1, 5), (3, 5)]


def test_digest_is_order_independent_and_sensitive() -> None:
    a, b = Ballot("d1", "x", 1, 1), Ballot("d2", "y", 1, 2)
    assert ballots_digest([a, b]) == ballots_digest([b, a])
    assert ballots_digest([a, b]) != ballots_digest([a, Ballot("d2", "y", 1, 1)])
    assert ballots_digest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_fold_continues_from_start_state() -> None:
    start = {"d": Ballot("d", "a", 4, 1)}
    ballots, seen = fold_events([ev("d", "b", 3, 2), ev("e", "c", 1, 2)], start=start)
    assert ballots == {"d": Ballot("d", "a", 4, 1), "e": Ballot("e", "c", 1, 2)}
    assert seen[Decision.STALE] == 1 and seen[Decision.NEW] == 1


# A voter's history: distinct vote ids with increasing seq. The network may deliver every attempt
# several times, in any order; the tally must equal "each device's highest-seq vote, once".
histories = st.dictionaries(
    keys=st.text(alphabet="abcdef", min_size=1, max_size=3),
    values=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=4),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(histories, st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=4))
def test_redelivery_in_any_order_counts_each_device_once(history: dict[str, list[int]], seed: int, copies: int) -> None:
    events = [ev(d, f"{d}-{i}", i + 1, c) for d, picks in history.items() for i, c in enumerate(picks)]
    rng = random.Random(seed)
    delivered = [e for e in events for _ in range(rng.randint(1, copies))]
    rng.shuffle(delivered)
    result = tally_events(delivered, [0, 1, 2, 3])
    ballots, _ = fold_events(delivered)
    for device, ballot in ballots.items():
        assert ballot.seq >= 1
        assert ballot.device == device
    assert sum(result.counts.values()) == len(history)
    assert result.ballots == len(history)
    # Whatever the order, the final ballot per device is the highest seq ever delivered.
    expected = {d: picks[-1] for d, picks in history.items()}
    assert {d: b.choice for d, b in ballots.items()} == expected
    assert result.counts == {c: sum(1 for v in expected.values() if v == c) for c in range(4)}
    assert result.events == len(delivered)
    assert result.new + result.changes + result.duplicates + result.stale == len(delivered)
