"""Browser journeys for the funding and review phases, in chromium.

Funding: a person casts a knapsack budget ballot (running total, an over-budget ballot refused with the
message, then a valid one recorded and changed); the organiser closes the phase, runs Equal Shares and
publishes; the results page shows the funded ideas and why. Review: the organiser opens a round and
assigns judges, a judge's bad score is refused and a good review recorded, the organiser sees the combined
ranking and advances an idea; a participant answers a pairwise comparison.
"""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress

from opencall.accounts.models import User
from opencall.challenges.actions import PhaseSpec, advance_phase, assign_role, create_challenge
from opencall.challenges.models import Challenge
from opencall.funding.actions import cast_ballot, configure_funding
from opencall.funding.models import Allocation, BudgetBallot
from opencall.ideas.models import Idea, IdeaStatus
from opencall.organisations.actions import create_organisation
from opencall.organisations.models import Organisation
from opencall.review.actions import CriterionSpec, configure_pairwise, create_rubric
from opencall.review.models import PairwiseVote, Review, ReviewAssignment, ReviewRound
from tests.e2e.conftest import NEEDS_CHROMIUM, log_in
from tests.factories import IdeaFactory

pytestmark = [pytest.mark.e2e, NEEDS_CHROMIUM]

PASSWORD = "a-long-journey-2026"


def person(email: str, name: str) -> User:
    user = User.objects.create_user(email, PASSWORD)
    user.display_name = name
    user.save(update_fields=["display_name"])
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)  # sign-in requires it
    return user


def new_challenge(organiser: User, title: str, plan: list[str], budget_eur: int = 100_000) -> Challenge:
    org = Organisation.objects.filter(slug="northwind").first() or create_organisation(
        name="Northwind", by=organiser, description="Stores and an online shop."
    )
    return create_challenge(
        organisation=org,
        by=organiser,
        title=title,
        summary=f"{title}: ideas from our neighbours and colleagues.",
        description="We fund the projects people choose.",
        terms="Funded teams report twice a year.",
        budget_minor=budget_eur * 100,
        currency="EUR",
        categories=["Streets", "Nature"],
        plan=[PhaseSpec(kind) for kind in plan],
        custom_fields=[],
    )


def advance_in_browser(page, detail: str, to: str) -> None:
    page.goto(detail)
    page.get_by_text(f"Advance to {to}…").click()
    page.get_by_test_id("advance-confirm").click()
    page.wait_for_url(f"**{detail}")
    assert f"The challenge is now in the {to} phase." in page.locator("body").inner_text()


@pytest.fixture
def fund(transactional_db):
    organiser = person("olivia@northwind.example", "Olivia Organiser")
    challenge = new_challenge(organiser, "Neighbourhood fund", ["submission", "funding", "results"])
    configure_funding(challenge=challenge, by=organiser, ballot_kind="knapsack")
    advance_phase(challenge=challenge, by=organiser)
    budgets = {
        "Covered market hall": 60_000,
        "Shade trees on the high street": 30_000,
        "Floodlights for the football pitch": 25_000,
        "Repair café": 10_000,
    }
    ideas = {
        title: IdeaFactory(challenge=challenge, title=title, requested_budget_minor=euros * 100)
        for title, euros in budgets.items()
    }
    advance_phase(challenge=challenge, by=organiser)  # → funding
    # Two neighbours voted already: they care about sport and repairs.
    for n in range(2):
        neighbour = person(f"neighbour{n}@example.org", f"Neighbour {n}")
        cast_ballot(
            challenge=challenge,
            by=neighbour,
            choices={ideas["Floodlights for the football pitch"].pk: 1, ideas["Repair café"].pk: 1},
        )
    return {
        "organiser": organiser,
        "challenge": challenge,
        "ideas": ideas,
        "alice": person("alice@example.org", "Alice"),
    }


def test_budget_ballot_allocation_and_results(fund, new_context, shoot):
    challenge: Challenge = fund["challenge"]
    ideas: dict[str, Idea] = fund["ideas"]
    alice = fund["alice"]
    ballot_url = f"/challenges/{challenge.slug}/budget-ballot/"

    page = log_in(new_context((1280, 1100)), "alice@example.org", PASSWORD)
    page.goto(ballot_url)
    total = page.get_by_test_id("running-total")
    assert total.inner_text() == "0.00 EUR of 100,000.00 EUR (100,000.00 EUR left)"
    page.get_by_label("Fund Covered market hall").check()
    page.get_by_label("Fund Shade trees on the high street").check()
    assert total.inner_text() == "90,000.00 EUR of 100,000.00 EUR (10,000.00 EUR left)"
    page.get_by_label("Fund Floodlights for the football pitch").check()
    assert total.inner_text() == "115,000.00 EUR of 100,000.00 EUR (0.00 EUR left)"
    assert "over" in (total.get_attribute("class") or "")

    # The page does not stop an over-budget ballot; the server refuses it with the reason.
    page.get_by_role("button", name="Cast my ballot").click()
    errors = page.get_by_test_id("ballot-errors")
    errors.wait_for()
    assert errors.inner_text() == "Over budget: 115,000.00 EUR chosen, 100,000.00 EUR available."
    assert not BudgetBallot.objects.filter(voter=alice).exists()
    # What she tried is still ticked, so she can fix it.
    assert page.get_by_label("Fund Floodlights for the football pitch").is_checked()

    page.get_by_label("Fund Floodlights for the football pitch").uncheck()
    assert total.inner_text() == "90,000.00 EUR of 100,000.00 EUR (10,000.00 EUR left)"
    shoot(page, "funding-ballot", full_page=True)
    page.get_by_role("button", name="Cast my ballot").click()
    page.wait_for_url(f"**{ballot_url}")
    assert "Your ballot is recorded. You can change it until the phase closes." in page.locator("body").inner_text()
    ballot = BudgetBallot.objects.get(voter=alice)
    assert ballot.revision == 1
    assert sorted(ballot.entries.values_list("idea__title", flat=True)) == [
        "Covered market hall",
        "Shade trees on the high street",
    ]

    # She changes her mind: the same ballot, a new revision.
    assert page.get_by_label("Fund Covered market hall").is_checked()
    page.get_by_label("Fund Repair café").check()
    page.get_by_role("button", name="Change my ballot").click()
    page.wait_for_url(f"**{ballot_url}")
    ballot.refresh_from_db()
    assert ballot.revision == 2
    assert BudgetBallot.objects.filter(challenge=challenge).count() == 3
    assert sorted(ballot.entries.values_list("idea__title", flat=True)) == [
        "Covered market hall",
        "Repair café",
        "Shade trees on the high street",
    ]

    # The organiser closes the phase, computes Equal Shares and publishes ---------------------------------
    organiser = log_in(new_context((1280, 1400)), "olivia@northwind.example", PASSWORD)
    advance_in_browser(organiser, f"/challenges/{challenge.slug}/", "Results")
    organiser.goto(f"/challenges/{challenge.slug}/allocations/")
    assert organiser.locator("#id_rule").input_value() == "mes"
    organiser.get_by_role("button", name="Compute").click()
    organiser.wait_for_url(re.compile(r"/allocations/\d+/$"))
    allocation = Allocation.objects.get(challenge=challenge)
    assert (allocation.rule, allocation.ballot_count, allocation.published_at) == ("mes", 3, None)
    assert "Allocation (not published)" in organiser.locator("h1").inner_text()
    organiser.get_by_role("button", name="Publish these results").click()
    organiser.wait_for_load_state("networkidle")
    allocation.refresh_from_db()
    assert allocation.published_at is not None
    funded = set(Idea.objects.filter(challenge=challenge, status=IdeaStatus.FUNDED).values_list("title", flat=True))
    assert funded == {t for t, i in ideas.items() if i.pk in allocation.selected}
    # A third of the budget belongs to the two sport-and-repair voters: Equal Shares funds their projects.
    assert {"Floodlights for the football pitch", "Repair café"} <= funded

    # Anyone sees the results: funded ideas, the charts and every idea's explanation ----------------------
    visitor = new_context((1280, 1600)).new_page()
    visitor.goto(f"/challenges/{challenge.slug}/results/")
    assert visitor.locator("h1").inner_text() == "Funding results"
    explanations = visitor.get_by_test_id("explanations").inner_text()
    for title in ideas:
        assert title in explanations
    stats = visitor.get_by_test_id("allocation-stats").inner_text()
    assert str(len(allocation.selected)) in stats
    assert visitor.locator("svg").count() >= 2
    shoot(visitor, "funding-results", full_page=True)

    # Ballots are closed now: a late change is refused and nothing changes.
    page.goto(ballot_url)
    assert "Budget ballots are open only during the funding phase." in page.locator("main").inner_text()
    assert page.get_by_label("Fund Repair café").is_disabled()
    ballot.refresh_from_db()
    assert ballot.revision == 2


@pytest.fixture
def jury(transactional_db):
    organiser = person("olivia@northwind.example", "Olivia Organiser")
    challenge = new_challenge(organiser, "Venture round", ["submission", "review", "results"])
    advance_phase(challenge=challenge, by=organiser)
    ideas = [
        IdeaFactory(challenge=challenge, title=title, body=body)
        for title, body in (
            ("Shelf-gap alerts", "Handheld scanners flag empty shelves in stores."),
            ("Cold-chain sensors", "Sensors log the temperature of chilled food in transit."),
            ("Returns at the till", "Grade returned clothes at the till and resell them."),
            ("Night picking robots", "Robots pick online orders in warehouses at night."),
        )
    ]
    advance_phase(challenge=challenge, by=organiser)  # → review
    judges = [person(f"judge{n}@example.org", name) for n, name in enumerate(("Jana Judge", "Jo Judge", "Jun Judge"))]
    for judge in judges:
        assign_role(challenge=challenge, user=judge, kind="judge", by=organiser)
    create_rubric(
        challenge=challenge,
        by=organiser,
        name="Venture jury",
        criteria=[
            CriterionSpec("Impact", 3, 1, 5, "How many customers would notice?"),
            CriterionSpec("Feasibility", 2, 1, 5, "Can a pilot run within six months?"),
        ],
    )
    # A contest in its community phase, with crowd pairwise voting on.
    contest = new_challenge(organiser, "Retail of tomorrow", ["submission", "community", "review"])
    advance_phase(challenge=contest, by=organiser)
    for title in ("Smart trolleys", "Paper honeycomb", "Drone inventory"):
        IdeaFactory(challenge=contest, title=title)
    advance_phase(challenge=contest, by=organiser)
    configure_pairwise(challenge=contest, by=organiser, enabled=True)
    return {
        "challenge": challenge,
        "ideas": ideas,
        "judges": judges,
        "contest": contest,
        "paula": person("paula@example.org", "Paula Participant"),
    }


def test_round_assignment_review_ranking_and_pairwise(jury, new_context, shoot):
    challenge: Challenge = jury["challenge"]
    ideas: list[Idea] = jury["ideas"]

    # The organiser opens a round and assigns judges optimally -------------------------------------------
    organiser = log_in(new_context((1280, 1300)), "olivia@northwind.example", PASSWORD)
    organiser.goto(f"/challenges/{challenge.slug}/review/")
    organiser.get_by_label("Round name").fill("Shortlist")
    organiser.get_by_label("Judges per idea").fill("2")
    organiser.get_by_label("Most ideas per judge").fill("3")
    organiser.get_by_role("button", name="Open round").click()
    organiser.wait_for_url(re.compile(r"/review/rounds/1/$"))
    assert "Round opened. Now assign the judges." in organiser.locator("body").inner_text()
    organiser.get_by_test_id("run-assignment").click()
    organiser.get_by_test_id("assignment-report").wait_for()
    rnd = ReviewRound.objects.get(challenge=challenge)
    pairs = list(ReviewAssignment.objects.filter(round=rnd).values_list("judge_id", "idea_id"))
    assert len(pairs) == 8 == rnd.assignment_report["pairs"]
    assert organiser.get_by_test_id("assignment-report").inner_text().split()[0] == "8"
    loads = {j.pk: sum(1 for jj, _ in pairs if jj == j.pk) for j in jury["judges"]}
    assert max(loads.values()) <= 3 and sum(loads.values()) == 8
    shoot(organiser, "review-round", full_page=True)

    # A judge reviews: a score off the scale is refused with the message, then a good review recorded -----
    assignment = ReviewAssignment.objects.filter(round=rnd).select_related("judge", "idea").order_by("pk").first()
    judge_page = log_in(new_context((1280, 1300)), assignment.judge.email, PASSWORD)
    judge_page.goto("/review/")
    judge_page.get_by_role("link", name=assignment.idea.title).first.click()
    judge_page.wait_for_url(f"**/review/assignments/{assignment.pk}/")
    impact, feasibility = rnd.rubric.criteria.order_by("position")
    # Switch off the browser's own range check so the server's is the one tested.
    judge_page.eval_on_selector("main form", "form => { form.noValidate = true; }")
    judge_page.locator(f"#score-{impact.pk}").fill("9")
    judge_page.locator(f"#score-{feasibility.pk}").fill("4")
    judge_page.get_by_role("button", name="Submit review").click()
    errors = judge_page.get_by_test_id("review-errors")
    errors.wait_for()
    assert errors.inner_text() == "Impact: a whole number from 1 to 5."
    assert not Review.objects.filter(assignment=assignment).exists()
    judge_page.locator(f"#score-{impact.pk}").fill("5")
    judge_page.get_by_label("Private note (organisers only)").fill("Strong pilot plan; the stores asked for it.")
    judge_page.get_by_label("Recommendation").select_option("advance")
    shoot(judge_page, "review-form", full_page=True)
    judge_page.get_by_role("button", name="Submit review").click()
    judge_page.wait_for_url("**/review/")
    assert "Review submitted." in judge_page.locator("body").inner_text()
    review = Review.objects.get(assignment=assignment)
    assert review.scores == {str(impact.pk): 5, str(feasibility.pk): 4}
    assert (review.recommendation, review.submitted_at is not None) == ("advance", True)

    # The organiser sees the combined ranking and advances the reviewed idea ---------------------------------
    organiser.goto(f"/challenges/{challenge.slug}/review/rounds/1/")
    ranking = organiser.get_by_test_id("combined-ranking")
    first_row = ranking.locator("tbody tr").first
    assert assignment.idea.title in first_row.inner_text()
    assert first_row.locator("td").nth(2).inner_text() == "1"
    organiser.get_by_label(f"Advance {assignment.idea.title}").check()
    organiser.get_by_role("button", name="Record decisions and notify the teams").click()
    organiser.wait_for_load_state("networkidle")
    statuses = dict(Idea.objects.filter(challenge=challenge).values_list("title", "status"))
    assert statuses == {i.title: "shortlisted" if i.pk == assignment.idea_id else "submitted" for i in ideas}
    shoot(organiser, "review-round-decided", full_page=True)

    # A participant compares two ideas of the contest -------------------------------------------------------
    contest: Challenge = jury["contest"]
    paula = log_in(new_context(), "paula@example.org", PASSWORD)
    paula.goto(f"/challenges/{contest.slug}/compare/")
    pair = paula.get_by_test_id("pair")
    pair.get_by_role("button", name="This one is stronger").first.wait_for()
    shoot(paula, "review-compare")
    left_title = pair.locator("article h2").first.inner_text()
    with paula.expect_response(lambda r: r.url.endswith("/compare/") and r.request.method == "POST") as answer:
        pair.get_by_role("button", name="This one is stronger").first.click()
    assert answer.value.status == 200
    vote = PairwiseVote.objects.get(challenge=contest)
    assert (vote.voter.email, vote.outcome, vote.first.title) == ("paula@example.org", "first", left_title)
