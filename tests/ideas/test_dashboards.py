"""The organiser dashboards: counts per phase and status, the chart and its table fallback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from opencall.ideas.charts import submissions_chart
from tests.factories import ChallengeFactory, IdeaFactory

pytestmark = pytest.mark.django_db


def test_dashboard_counts_per_phase_and_status(challenge, org, as_user, organiser):
    ChallengeFactory(organisation=org, title="Later one", phase="review")
    IdeaFactory(challenge=challenge, status="submitted")
    IdeaFactory(challenge=challenge, status="submitted")
    IdeaFactory(challenge=challenge, status="shortlisted")
    IdeaFactory(challenge=challenge, status="draft", submitted_at=None)
    html = as_user(organiser).get(reverse("ideas:dashboard")).content.decode()
    assert 'data-testid="organiser-overview"' in html
    assert "<div><strong>1</strong>Submission</div>" in html
    assert "<div><strong>1</strong>Review</div>" in html
    row = html.split(f'href="/dashboard/{challenge.slug}/">')[1].split("</tr>")[0]
    cells = [c.split("</td>")[0] for c in row.split('<td class="num">')[1:]]
    assert cells == ["1", "2", "1", "0", "0", "0", "0"]  # draft, submitted, shortlisted, funded, ...


def test_dashboard_for_a_participant_lists_their_ideas_only(idea, as_user, team_member):
    html = as_user(team_member).get(reverse("ideas:dashboard")).content.decode()
    assert 'data-testid="organiser-overview"' not in html
    assert "Mushroom foam" in html


def test_challenge_dashboard_chart_and_tops(challenge, as_user, organiser):
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    for day, likes, comments in [(0, 5, 1), (0, 1, 7), (2, 0, 0)]:
        IdeaFactory(
            challenge=challenge,
            submitted_at=start + timedelta(days=day),
            like_count=likes,
            comment_count=comments,
            title=f"Idea d{day} l{likes}",
        )
    html = as_user(organiser).get(reverse("ideas:challenge_dashboard", args=[challenge.slug])).content.decode()
    assert '<title id="chart-title">Ideas submitted per day</title>' in html
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in html
    table = html.split('data-testid="chart-table"')[1].split("</table>")[0]
    assert '<th scope="row">2026-03-02</th><td class="num">2</td><td class="num">2</td>' in table
    assert '<th scope="row">2026-03-03</th><td class="num">0</td><td class="num">2</td>' in table
    assert '<th scope="row">2026-03-04</th><td class="num">1</td><td class="num">3</td>' in table
    liked = html.split('data-testid="top-liked"')[1].split("</ol>")[0]
    assert liked.index("Idea d0 l5") < liked.index("Idea d0 l1")
    assert "Idea d2 l0" not in liked
    discussed = html.split('data-testid="top-discussed"')[1].split("</ol>")[0]
    assert discussed.index("Idea d0 l1") < discussed.index("Idea d0 l5")
    assert '<strong data-testid="entries">3</strong>' in html


def test_challenge_dashboard_without_ideas(challenge, as_user, organiser):
    html = as_user(organiser).get(reverse("ideas:challenge_dashboard", args=[challenge.slug])).content.decode()
    assert "No idea has been submitted yet." in html


def test_challenge_dashboard_refused_to_non_organisers(challenge, as_user, participant, judge, visitor):
    url = reverse("ideas:challenge_dashboard", args=[challenge.slug])
    assert as_user(participant).get(url).status_code == 403
    assert as_user(judge).get(url).status_code == 403
    assert as_user(visitor).get(url).status_code == 302


def test_chart_geometry_daily_and_weekly():
    chart = submissions_chart([(date(2026, 1, 1), 2), (date(2026, 1, 3), 4)])
    assert chart is not None
    assert [(b.label, b.value, b.cumulative) for b in chart.bars] == [
        ("2026-01-01", 2, 2),
        ("2026-01-02", 0, 2),
        ("2026-01-03", 4, 6),
    ]
    assert (chart.total, chart.peak, chart.weekly) == (6, 4, False)
    assert [t.label for t in chart.y_ticks] == ["0", "2", "5"]
    assert [t.label for t in chart.x_ticks] == ["1 Jan", "2 Jan", "3 Jan"]
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.label == "2026-01-03" and tallest.height == pytest.approx(208 * 4 / 5, abs=0.1)
    weekly = submissions_chart([(date(2026, 1, 1), 1), (date(2026, 6, 1), 1)])
    assert weekly is not None and weekly.weekly
    assert weekly.bars[0].label == "2025-12-29"  # the Monday of the first week
    assert sum(b.value for b in weekly.bars) == 2
    assert submissions_chart([]) is None


@pytest.mark.parametrize("rows", [1, 3])
def test_dashboard_query_count(org, as_user, organiser, rows, django_assert_num_queries):
    for i in range(rows):
        challenge = ChallengeFactory(organisation=org, title=f"Challenge {i}")
        IdeaFactory(challenge=challenge, status="submitted")
        IdeaFactory(challenge=challenge, lead=organiser, status="draft", submitted_at=None)
    client = as_user(organiser)
    client.get(reverse("ideas:dashboard"))
    with django_assert_num_queries(9):
        html = client.get(reverse("ideas:dashboard")).content.decode()
    assert html.count('href="/dashboard/challenge-') == rows
    assert html.count('class="idea-row"') == rows
