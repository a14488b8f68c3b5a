"""The demo data set: exact counts for the default seed, and the invariants the apps promise."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from opencall.accounts.models import User
from opencall.challenges.models import Challenge, Phase
from opencall.community.models import Comment, Like, Report
from opencall.core.audit import verify_chain
from opencall.core.models import AuditEvent
from opencall.demodata import demo_loaded, load_demo, texts
from opencall.funding.actions import recount
from opencall.funding.models import Allocation, BallotEntry, BudgetBallot
from opencall.ideas.models import FieldAnswer, Idea, IdeaStatus, Team, TeamMember
from opencall.review.crowd import crowd_ranking
from opencall.review.models import Conflict, PairwiseVote, Review, ReviewAssignment, ReviewRound
from opencall.review.scoring import combined_ranking
from opencall.voting.models import LiveState, LiveVote

EXPECTED = {
    "allocations": 1,
    "attachments": 19,
    "awarded": 2,
    "ballots": 40,
    "challenges": 5,
    "ballot_changes": 4,
    "comments": 471,
    "conflicts": 1,
    "follows": 144,
    "funded": 10,
    "idea_edits": 6,
    "ideas": 162,
    "join_requests": 20,
    "likes": 632,
    "live_votes": 1,
    "memberships": 35,
    "open_reports": 1,
    "organisations": 3,
    "pairwise_votes": 328,
    "pending_invitations": 2,
    "people": 61,
    "positions": 61,
    "rejected": 9,
    "reports": 2,
    "review_assignments": 28,
    "review_rounds": 1,
    "reviews": 26,
    "rubrics": 1,
    "shortlisted": 17,
    "team_invitations": 193,
    "team_members": 332,
    "teams": 162,
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
    assert Idea.objects.count() == 162
    assert Team.objects.count() == 162
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
    assert Idea.objects.count() == 162


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
        "Neighbourhood Fund 2026: you decide": "results",
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


def test_every_ballot_fits_the_budget_and_the_published_allocation_recounts(demo):
    fund = Challenge.objects.get(title=texts.FUND.title)
    assert (fund.phase, fund.budget_minor, fund.currency) == ("results", 12_000_000, "EUR")
    ballots = BudgetBallot.objects.filter(challenge=fund)
    assert ballots.count() == 40
    assert ballots.filter(revision=2).count() == 4  # some people changed their mind
    for ballot in ballots:
        spent = sum(
            e.idea.requested_budget_minor for e in BallotEntry.objects.filter(ballot=ballot).select_related("idea")
        )
        assert 0 < spent <= fund.budget_minor, ballot.pk
    allocation = Allocation.objects.get(challenge=fund)
    assert (allocation.rule, allocation.ballot_count) == ("mes", 40)
    assert allocation.published_at is not None
    assert recount(allocation=allocation) | {"selected": None, "recorded": None} == {
        "allocation": allocation.pk,
        "rule": "mes",
        "ballots_match": True,
        "outcome_matches": True,
        "selected": None,
        "recorded": None,
    }
    assert allocation.budget_used_minor <= fund.budget_minor
    funded = set(Idea.objects.filter(challenge=fund, status=IdeaStatus.FUNDED).values_list("pk", flat=True))
    assert funded == set(allocation.selected) and len(funded) == 7
    # Equal Shares serves every voter; greedy by votes gives the majority everything.
    assert allocation.comparison["mes"]["voters_with_funded_idea"] == 40
    assert allocation.comparison["greedy"]["voters_with_funded_idea"] == 34
    assert len(allocation.comparison["greedy"]["selected"]) == 4
    assert set(allocation.comparison["greedy"]["selected"]) != set(allocation.selected)
    assert set(allocation.explanations) == {
        str(pk) for pk in Idea.objects.filter(challenge=fund).values_list("pk", flat=True)
    }


def test_the_jury_never_reviews_a_conflict_and_judges_differ_in_severity(demo):
    venture = Challenge.objects.get(title=texts.VENTURE.title)
    rnd = ReviewRound.objects.get(challenge=venture)
    assert (rnd.number, rnd.state, rnd.judges_per_idea, rnd.rubric.criteria.count()) == (1, "open", 2, 4)
    assert sorted(rnd.rubric.criteria.values_list("weight", flat=True)) == [1, 2, 3, 3]
    conflict = Conflict.objects.get(challenge=venture)
    assert conflict.judge.display_name == "Hannah Becker" or conflict.judge.email.startswith("hannah")
    pairs = set(ReviewAssignment.objects.filter(round=rnd).values_list("judge_id", "idea_id"))
    assert (conflict.judge_id, conflict.idea_id) not in pairs
    assert len(pairs) == 28 and rnd.assignment_report["pairs"] == 28
    per_idea = Counter(i for _, i in pairs)
    assert set(per_idea.values()) == {2} and len(per_idea) == rnd.ideas.count() == 14
    # A team member never reviews their own idea.
    for judge_id, idea_id in pairs:
        assert not TeamMember.objects.filter(team__idea__pk=idea_id, user_id=judge_id).exists()
    submitted = Review.objects.filter(assignment__round=rnd, submitted_at__isnull=False).select_related("assignment")
    assert submitted.count() == 26
    for review in submitted:
        assert sorted(map(int, review.scores)) == sorted(rnd.rubric.criteria.values_list("pk", flat=True))
        assert all(1 <= v <= 5 for v in review.scores.values())
    means: dict[int, list[float]] = {}
    for review in submitted:
        means.setdefault(review.assignment.judge_id, []).append(sum(review.scores.values()) / 4)
    averages = sorted(sum(v) / len(v) for v in means.values())
    assert averages[-1] - averages[0] > 0.8  # a strict and a lenient judge
    ranking = combined_ranking(rnd)
    assert len(ranking) == 14 and ranking[0].combined is not None
    assert [e.combined for e in ranking if e.combined is not None] == sorted(
        (e.combined for e in ranking if e.combined is not None), reverse=True
    )


def test_the_crowd_ranks_the_contest_with_intervals(demo):
    contest = Challenge.objects.get(title=texts.CONTEST.title)
    votes = PairwiseVote.objects.filter(challenge=contest)
    assert votes.count() == 328
    assert votes.values("voter").distinct().count() == 36
    assert votes.filter(outcome="skip").count() > 0 and votes.filter(outcome="tie").count() > 0
    ranking = crowd_ranking(contest)
    assert ranking.total_votes == votes.exclude(outcome="skip").count()
    assert len(ranking.ideas) == 69
    assert all(r.low < r.score < r.high for r in ranking.ideas if r.votes)
    assert [r.score for r in ranking.ideas] == sorted((r.score for r in ranking.ideas), reverse=True)


def test_the_new_stories_show_on_their_pages(demo, client):
    fund = Challenge.objects.get(title=texts.FUND.title)
    allocation = Allocation.objects.get(challenge=fund)
    page = client.get(f"/challenges/{fund.slug}/results/").content.decode()
    assert "Funding results" in page and page.count("<svg") >= 2
    for title in Idea.objects.filter(pk__in=allocation.selected).values_list("title", flat=True):
        assert title.replace("&", "&amp;") in page
    assert "Funded in round 1 of Equal Shares" in page and "Not funded: in round" in page

    contest = Challenge.objects.get(title=texts.CONTEST.title)
    crowd = client.get(f"/challenges/{contest.slug}/crowd-ranking/").content.decode()
    assert f"{crowd_ranking(contest).total_votes} comparisons so far" in crowd
    assert crowd.count("<circle") == 69

    venture = Challenge.objects.get(title=texts.VENTURE.title)
    client.force_login(User.objects.get(email="organiser@northwind.example"))
    round_page = client.get(f"/challenges/{venture.slug}/review/rounds/1/").content.decode()
    assert "Shortlist jury" in round_page and 'data-testid="combined-ranking"' in round_page
    assert round_page.count(" ✓") == 26  # one tick per submitted review
    judge = Conflict.objects.get(challenge=venture).judge
    client.force_login(judge)
    desk = client.get("/review/").content.decode()
    assert desk.count("/review/assignments/") >= ReviewAssignment.objects.filter(judge=judge).count()


def test_the_pitch_night_live_vote_is_ready_to_open(demo, client):
    contest = Challenge.objects.get(title=texts.CONTEST.title)
    (live,) = LiveVote.objects.filter(challenge=contest)
    assert live.state == LiveState.DRAFT and live.ballots.count() == 0
    top = [row.idea.pk for row in crowd_ranking(contest).ideas[:5]]
    assert sorted(live.finalists.values_list("pk", flat=True)) == sorted(top)
    assert not live.finalists.filter(Q(hidden=True) | Q(confidential=True)).exists()
    client.force_login(User.objects.get(email="organiser@northwind.example"))
    console = client.get(f"/live/{live.code}/console/").content.decode()
    assert "Pitch night: audience award" in console and f"/live/{live.code}/open/" in console
