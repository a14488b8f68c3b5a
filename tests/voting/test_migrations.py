"""The migration that keys live ballots by (live vote, device) keeps every ballot, both ways."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("voting", "0002_ballot_without_db_constraints")]
AFTER = [("voting", "0003_ballot_keyed_by_device")]
INSERT = (
    "INSERT INTO voting_liveballot (live_vote_id, device, idea_id, client_vote_id, seq, user_id, changes,"
    " cast_at, updated_at) VALUES (%s, %s, %s, %s, 1, NULL, 0, '2026-11-27 19:00:00', '2026-11-27 19:00:00')"
)


def migrate(target) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT live_vote_id, device, idea_id, client_vote_id FROM voting_liveballot ORDER BY 1, 2")
        return [tuple(r) for r in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_ballots_survive_the_new_key_and_its_reversal() -> None:
    migrate(BEFORE)
    try:
        with connection.cursor() as cursor:
            for live_vote, device, idea in ((1, "dev-a", 7), (1, "dev-b", 8), (2, "dev-a", 9)):
                cursor.execute(INSERT, (live_vote, device, idea, f"vote-{device}-{live_vote}"))
        kept = rows()
        migrate(AFTER)
        assert rows() == kept
        from opencall.voting.models import LiveBallot

        assert LiveBallot.objects.get(pk=(1, "dev-b")).idea_id == 8
        # The key is enforced by the database: a second ballot for a device is refused.
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(INSERT, (1, "dev-a", 8, "vote-again"))
        migrate(BEFORE)
        assert rows() == kept
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(INSERT, (2, "dev-a", 8, "vote-again"))
    finally:
        migrate(AFTER)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM voting_liveballot")
