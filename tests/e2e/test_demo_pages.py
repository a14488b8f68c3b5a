"""The main pages with the demo data set, as visitor, organiser and moderator, screenshotted.

Loading the demo takes a while, so this is one test. With OPENCALL_UPDATE_SCREENSHOT=1 it also
rewrites docs/screenshot.png (the README's picture of a challenge page).
"""

from __future__ import annotations

import os

import pytest
from PIL import Image
from playwright.sync_api import expect

from opencall.challenges.models import Challenge
from opencall.community.models import Report
from opencall.demodata import load_demo, texts
from opencall.demodata.people import DEMO_PASSWORD, ORGANISER_EMAIL
from opencall.ideas.models import Idea, IdeaStatus, TeamMember
from tests.e2e.conftest import NEEDS_CHROMIUM, REPO, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow, NEEDS_CHROMIUM]


def readme_picture(source, target) -> None:
    """Palette PNG: a screenshot of flat colours loses nothing visible and shrinks three- to fourfold."""
    with Image.open(source) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def test_demo_pages(transactional_db, new_context, shoot):
    assert load_demo(echo=lambda line: None)["ideas"] == 162
    contest = Challenge.objects.get(title=texts.CONTEST.title)
    venture = Challenge.objects.get(title=texts.VENTURE.title)
    fund = Challenge.objects.get(title=texts.FUND.title)

    # A visitor sees the public challenges only -----------------------------------------------------
    visitor = new_context((1280, 1750)).new_page()
    visitor.goto("/")
    main = visitor.locator("main").inner_text()
    assert texts.CONTEST.title in main and texts.COSPONSORED.title in main
    assert texts.VENTURE.title not in main and texts.RESEARCH.title not in main
    shoot(visitor, "demo-home")
    visitor.goto("/challenges/")
    shoot(visitor, "demo-challenge-list")

    visitor.goto(f"/challenges/{contest.slug}/")
    visitor.get_by_test_id("idea-row").first.wait_for()
    visitor.get_by_label("Sort by").select_option("liked")
    top = (
        Idea.objects.filter(challenge=contest, status=IdeaStatus.SUBMITTED, confidential=False, hidden=False)
        .order_by("-like_count", "-submitted_at", "-id")
        .first()
    )
    first_row = visitor.get_by_test_id("idea-row").first
    # A locator assertion, not wait_for_function: that evaluates a string, which the CSP refuses.
    expect(visitor.get_by_test_id("idea-row").first.locator("a").first).to_have_text(top.title)
    assert first_row.get_by_test_id("like-count").inner_text().split()[0] == str(top.like_count)
    assert visitor.get_by_test_id("idea-total").inner_text() == "70 ideas"
    picture = shoot(visitor, "demo-challenge")
    if os.environ.get("OPENCALL_UPDATE_SCREENSHOT"):
        # The README's picture ends cleanly below the fourth idea.
        row = visitor.get_by_test_id("idea-row").nth(3).bounding_box()
        assert row is not None
        visitor.screenshot(
            path=str(picture), clip={"x": 0, "y": 0, "width": 1280, "height": row["y"] + row["height"] + 16}
        )
        readme_picture(picture, REPO / "docs" / "screenshot.png")

    visitor.goto(f"/ideas/{top.pk}/")
    visitor.get_by_test_id("like-count").wait_for()
    assert visitor.get_by_test_id("like-count").inner_text().strip() == str(top.like_count)
    visitor.get_by_test_id("discussion").wait_for()
    shoot(visitor, "demo-idea")

    # Funding results of the neighbourhood fund and the contest's crowd ranking, for anyone ---------------
    visitor.goto(f"/challenges/{fund.slug}/results/")
    assert visitor.locator("h1").inner_text() == "Funding results"
    assert visitor.get_by_test_id("explanations").locator("tbody tr").count() == 12
    shoot(visitor, "demo-funding-results", full_page=True)
    visitor.goto(f"/challenges/{contest.slug}/crowd-ranking/")
    assert visitor.get_by_test_id("crowd-ranking").locator("tbody tr").count() == 69
    shoot(visitor, "demo-crowd-ranking")

    # The organiser: internal venture round, a team with time pledges, dashboards, notifications -------
    organiser = log_in(new_context(), ORGANISER_EMAIL, DEMO_PASSWORD)
    organiser.goto(f"/challenges/{venture.slug}/")
    assert "Organiser controls" in organiser.locator("main").inner_text()
    shoot(organiser, "demo-venture")
    pledged = TeamMember.objects.filter(team__challenge=venture).select_related("team").order_by("pk").first()
    organiser.goto(f"/teams/{pledged.team_id}/")
    assert f"{pledged.time_pledge_percent}% of working time" in organiser.get_by_test_id("members").inner_text()
    shoot(organiser, "demo-team")
    organiser.goto("/dashboard/")
    organiser.get_by_test_id("phase-counts").wait_for()
    shoot(organiser, "demo-dashboard")
    organiser.goto(f"/dashboard/{venture.slug}/")
    assert organiser.get_by_test_id("entries").inner_text() == str(
        Idea.objects.filter(challenge=venture).exclude(status=IdeaStatus.DRAFT).count()
    )
    shoot(organiser, "demo-challenge-dashboard")
    organiser.goto("/notifications/")
    shoot(organiser, "demo-notifications")
    organiser.goto(f"/challenges/{venture.slug}/review/rounds/1/")
    organiser.get_by_test_id("combined-ranking").wait_for()
    assert organiser.get_by_test_id("assignment-report").inner_text().split()[0] == "28"
    shoot(organiser, "demo-review-round", full_page=True)

    # The site moderator sees the one open report ------------------------------------------------------
    moderator = log_in(new_context(), "kwame.mensah@northwind.example", DEMO_PASSWORD)
    moderator.goto("/moderation/")
    open_report = Report.objects.get(status=Report.Status.OPEN)
    assert moderator.get_by_test_id("report-total").inner_text() == "1 report"
    assert open_report.reason in moderator.get_by_test_id("report").inner_text()
    shoot(moderator, "demo-moderation")
