"""The demo data set: exact counts for the default seed, and the invariants the apps promise."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from opencall.accounts.models import User
from opencall.challenges.models import Challenge, Phase
from opencall.community.models import Comment, Like, Report
from opencall.core.audit import verify_chain
from opencall.core.models import AuditEvent
from opencall.demodata import demo_loaded, load_demo
from opencall.ideas.models import FieldAnswer, Idea, IdeaStatus, Team, TeamMember

EXPECTED = {
    "attachments": 19,
    "awarded": 2,
    "challenges": 4,
    "comments": 442,
    "follows": 116,
    "funded": 3,
    "idea_edits": 6,
    "ideas": 150,
    "join_requests": 20,
    "likes": 632,
    "memberships": 35,
    "open_reports": 1,
    "organisations": 3,
    "pending_invitations": 2,
    "people": 61,
    "positions": 57,
    "rejected": 9,
    "reports": 2,
    "shortlisted": 17,
    "team_invitations": 183,
    "team_members": 313,
    "teams": 150,
    "withdrawn": 2,
}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """Load once for the module (it takes seconds) inside a transaction rolled back afterwards."""
    lines: list[str] = []
    with django_db_blocker.unblock(), transaction.atomic():
        counts = load_demo(echo=lines.append)
        yield counts, lines
        transaction.set_rollback(True)


@pytest.fixture
def demo(loaded, db):
    return loaded


def test_counts_are_exact_and_match_the_database(demo):
    counts, lines = demo
    assert counts == EXPECTED
    assert User.objects.count() == 61
    assert Idea.objects.count() == 150
    assert Team.objects.count() == 150
    assert TeamMember.objects.count() == EXPECTED["team_members"]
    assert Like.objects.count() == EXPECTED["likes"]
    assert Comment.objects.count() == EXPECTED["comments"]
    assert Report.objects.filter(status=Report.Status.OPEN).count() == 1
    assert "Sign in as the admin:     admin@opencall.local / opencall-demo" in lines
    assert "Sign in as the organiser: organiser@northwind.example / opencall-demo" in lines


def test_a_second_load_does_nothing_and_says_so(demo):
    events = AuditEvent.objects.count()
    lines: list[str] = []
    assert demo_loaded()
    assert load_demo(echo=lines.append) == {}
    assert lines == ["The demo data is already loaded (organisation “Northwind Retail Group” exists); nothing to do."]
    assert AuditEvent.objects.count() == events
    assert Idea.objects.count() == 150


def test_every_idea_has_a_team_with_exactly_one_lead(demo):
    leads = Team.objects.annotate(n=Count("members", filter=Q(members__role=TeamMember.Role.LEAD)))
    assert sorted({t.n for t in leads}) == [1]
    assert Idea.objects.filter(team__isnull=True).count() == 0


def test_counters_equal_the_rows_they_count(demo):
    ideas = Idea.objects.annotate(likes_n=Count("likes", distinct=True), comments_n=Count("comments", distinct=True))
    assert [(i.pk, i.like_count) for i in ideas] == [(i.pk, i.likes_n) for i in ideas]
    assert [(i.pk, i.comment_count) for i in ideas] == [(i.pk, i.comments_n) for i in ideas]


def test_the_audit_chain_verifies(demo):
    ok, checked, broken = verify_chain()
    assert (ok, broken) == (True, None)
    assert checked == AuditEvent.objects.count() > 2000


def test_challenges_sit_in_four_different_phases_none_due_to_advance(demo):
    phases = dict(Challenge.objects.values_list("visibility", "phase").order_by("created_at"))
    by_title = dict(Challenge.objects.values_list("title", "phase"))
    assert by_title == {
        "Northwind Start-up Contest 2026: Retail of Tomorrow": "community",
        "Venture Round 2026: build it with us": "review",
        "Zero-Waste Coffee: to go and at home": "submission",
        "Retail Futures Research Programme 2026": "results",
    }
    assert set(phases) == {"public", "internal", "invite_only"}
    now = timezone.now()
    for challenge in Challenge.objects.all():
        current = Phase.objects.get(challenge=challenge, kind=challenge.phase)
        assert current.ends_at is None or current.ends_at > now, challenge.title


def test_submitted_ideas_answer_every_required_field(demo):
    for idea in Idea.objects.exclude(status=IdeaStatus.DRAFT).select_related("challenge"):
        required = set(idea.challenge.custom_fields.filter(required=True).values_list("key", flat=True))
        answered = set(FieldAnswer.objects.filter(idea=idea).values_list("field__key", flat=True))
        assert required <= answered, idea.title


def test_content_is_believable(demo):
    assert Idea.objects.filter(confidential=True).count() == 3
    assert Idea.objects.filter(status=IdeaStatus.DRAFT).count() == 5
    assert (
        TeamMember.objects.filter(team__challenge__visibility="internal", time_pledge_percent__isnull=True).count() == 0
    )
    assert Comment.objects.filter(parent__isnull=False).count() > 50
    text = " ".join(Idea.objects.values_list("body", flat=True)).lower()
    assert "lorem" not in text and "ipsum" not in text
    admin = User.objects.get(email="admin@opencall.local")
    organiser = User.objects.get(email="organiser@northwind.example")
    assert admin.is_superuser and admin.check_password("opencall-demo")
    assert organiser.check_password("opencall-demo") and organiser.display_name == "Ingrid Solberg"
    assert User.objects.filter(is_blocked=True).count() == 1
