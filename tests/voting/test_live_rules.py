"""The live vote's rules are written once (opencall.voting.live.rules): the store's SQL says what
the Python says, and the actions and the fast path answer by the same rule."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from opencall.voting import actions
from opencall.voting.live import rules
from opencall.voting.live.store import open_store
from opencall.voting.live.store import postgres as postgres_store
from opencall.voting.live.store.base import LIVE_VOTES, epoch, window_open
from opencall.voting.models import LiveState, LiveVote

STATES = [LiveState.DRAFT, LiveState.OPEN, LiveState.CLOSED, LiveState.PUBLISHED]


@pytest.mark.django_db
def test_open_in_sql_and_in_python_agree_row_by_row(challenge) -> None:
    """Every combination of state and window, with the moment on either side of each end and on
    it: the condition the PostgreSQL statement uses selects exactly the rows `is_open` (on
    datetimes, as the actions hold them, and on epoch seconds, as the fast path does) calls open."""
    at = timezone.now().replace(microsecond=250_000)
    moments = [None, at - timedelta(seconds=60), at - timedelta(microseconds=1), at, at + timedelta(seconds=60)]
    rows = [
        LiveVote(challenge=challenge, title="t", code=f"r{n}", state=state, opens_at=opens, closes_at=closes)
        for n, (state, opens, closes) in enumerate(itertools.product(STATES, moments, moments))
    ]
    LiveVote.objects.bulk_create(rows)
    store = open_store(dict(connection.settings_dict))
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT code FROM {LIVE_VOTES} WHERE {rules.open_sql('%s')}",  # noqa: S608 - constants
                [store._timestamp(at.timestamp()), store._timestamp(at.timestamp())],
            )
            in_sql = {code for (code,) in cursor.fetchall()}
    finally:
        store.close()
    in_python = {row.code for row in rows if rules.is_open(row.state, row.opens_at, row.closes_at, at)}
    in_seconds = {
        row.code for row in rows if rules.is_open(row.state, epoch(row.opens_at), epoch(row.closes_at), at.timestamp())
    }
    by_row = {row.code for row in rows if window_open((row.state, row.opens_at, row.closes_at), at.timestamp())}
    assert in_sql == in_python == in_seconds == by_row
    # Open exactly when the state is open and opens_at <= at < closes_at: 3 opening moments × 1 closing one.
    assert len(in_sql) == 3


def test_the_postgres_statement_uses_the_one_open_condition() -> None:
    assert rules.open_sql("%(at)s") in postgres_store._INSERT_ONLY
    assert rules.open_sql("$2") in postgres_store._PREPARED[postgres_store._INSERT_ONLY][1]


def test_live_state_open_is_the_rules_open() -> None:
    assert LiveState.OPEN.value == rules.OPEN and LiveState.CLOSED.value == rules.CLOSED


def test_shown_state_follows_the_window() -> None:
    assert rules.shown_state("open", 10.0, 20.0, 15.0) == "open"
    assert rules.shown_state("open", 10.0, 20.0, 20.0) == "closed"
    assert rules.shown_state("draft", None, None, 15.0) == "draft"
    assert rules.shown_state("published", 10.0, 20.0, 15.0) == "published"


@pytest.mark.django_db
def test_extending_follows_the_open_rule(challenge, organiser) -> None:
    """The extend action refuses a vote whose window ran out, by the same rule the fast path uses."""
    from opencall.core.errors import Conflict
    from tests.factories import IdeaFactory

    ideas = [IdeaFactory(challenge=challenge, status="shortlisted") for _ in range(2)]
    live_vote = actions.create_live_vote(
        challenge=challenge, by=organiser, title="Finale", finalist_ids=[i.pk for i in ideas]
    )
    live_vote = actions.open_live_vote(live_vote=live_vote, by=organiser)
    extended = actions.extend_live_vote(live_vote=live_vote, by=organiser, seconds=60)
    assert extended.closes_at == live_vote.closes_at + timedelta(seconds=60)
    LiveVote.objects.filter(pk=live_vote.pk).update(closes_at=timezone.now())
    with pytest.raises(Conflict) as refused:
        actions.extend_live_vote(live_vote=live_vote, by=organiser, seconds=60)
    assert refused.value.detail == "Only a running live vote can be extended."


def test_device_token_is_for_one_live_vote_only() -> None:
    from opencall.voting.tokens import issue_token, signing_key

    key = signing_key("a secret for this test only")
    token = issue_token(key, 7, user_id=3)
    held = rules.device_token(key, token, 7)
    assert held is not None and held.live_vote_id == 7 and held.user_id == 3
    assert rules.device_token(key, token, 8) is None
    assert rules.device_token(signing_key("another secret"), token, 7) is None
    assert rules.device_token(key, "", 7) is None
    anonymous = rules.device_token(key, issue_token(key, 7), 7)
    assert anonymous is not None
    assert rules.may_vote(held, sign_in_required=True) and rules.may_vote(anonymous, sign_in_required=False)
    assert not rules.may_vote(anonymous, sign_in_required=True)


def test_nothing_in_voting_reads_the_environment() -> None:
    """Configuration comes from Django settings (OPENCALL_LIVE_*, read in config/settings/base.py);
    fastpath.py only names the default settings module, as config/wsgi.py does."""
    root = Path(__file__).resolve().parents[2] / "src" / "opencall" / "voting"
    readers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if any(word in path.read_text() for word in ("os.environ", "getenv")) and path.name != "fastpath.py"
    )
    assert readers == []
    assert "os.environ.get" not in (root / "fastpath.py").read_text()
