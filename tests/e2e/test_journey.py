"""The foundation's browser journey, end to end in chromium.

Alice signs up, joins a challenge, submits an idea with a custom-field answer and an attachment and
invites Bob, who accepts. Carol comments and likes. The organiser advances the phase and the likes
close: the button is disabled and a like POST is refused. Screenshots of the main pages are saved.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from playwright.sync_api import expect

from opencall.accounts.models import User
from opencall.challenges.actions import FieldSpec, PhaseSpec, advance_phase, create_challenge
from opencall.challenges.models import Challenge, FieldKind
from opencall.community.actions import report_idea
from opencall.community.models import Comment, Follow, Like
from opencall.ideas.models import Attachment, FieldAnswer, Idea, IdeaStatus, TeamMember
from opencall.organisations.actions import create_organisation
from tests.e2e.conftest import NEEDS_CHROMIUM, log_in

pytestmark = [pytest.mark.e2e, NEEDS_CHROMIUM]

PASSWORD = "a-long-journey-2026"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def person(email: str, name: str) -> User:
    user = User.objects.create_user(email, PASSWORD)
    user.display_name = name
    user.save(update_fields=["display_name"])
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)  # sign-in requires it
    return user


@pytest.fixture
def arena(transactional_db):
    organiser = person("olivia@northwind.example", "Olivia Organiser")
    org = create_organisation(
        name="Northwind Retail", by=organiser, description="Stores, warehouses and an online shop."
    )
    challenge = create_challenge(
        organisation=org,
        by=organiser,
        title="Greener parcels",
        summary="Cut the packaging in our online orders by half without more breakage.",
        description="We ship **40,000 parcels a day**. Help us make each one lighter.",
        terms="Entrants keep their intellectual property.",
        budget_minor=5_000_000,
        currency="EUR",
        categories=["Green packaging", "Logistics"],
        plan=[PhaseSpec("submission"), PhaseSpec("community"), PhaseSpec("review"), PhaseSpec("results")],
        custom_fields=[
            FieldSpec("pilot_store", "Which store should run the pilot?", FieldKind.TEXT, required=True),
            FieldSpec("unit_cost", "Cost per parcel (cents)", FieldKind.NUMBER),
        ],
    )
    advance_phase(challenge=challenge, by=organiser)
    return {
        "organiser": organiser,
        "challenge": challenge,
        "bob": person("bob@example.org", "Bob Builder"),
        "carol": person("carol@example.org", "Carol Critic"),
        "dan": person("dan@example.org", "Dan Doubter"),
    }


def test_sign_up_submit_team_up_discuss_like_and_close(arena, new_context, shoot, tmp_path):
    challenge: Challenge = arena["challenge"]
    detail = f"/challenges/{challenge.slug}/"

    # Alice signs up and joins the challenge ------------------------------------------------------
    alice_ctx = new_context()
    page = alice_ctx.new_page()
    page.goto("/")
    page.get_by_role("navigation").get_by_role("button", name="Sign up").click()
    page.get_by_label("Email").fill("alice@example.org")
    page.get_by_label("Display name").fill("Alice Inventor")
    page.get_by_label(re.compile(r"^Password\W*$")).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign up").click()
    # Verification is mandatory: the link in the mail confirms the address and signs Alice in.
    page.wait_for_url("**/accounts/confirm-email/")
    (confirmation,) = [m for m in mail.outbox if m.to == ["alice@example.org"]]
    page.goto(urlsplit(re.search(r"https?://\S+/accounts/confirm-email/\S+", confirmation.body).group(0)).path)
    page.get_by_test_id("confirm-email").click()
    page.wait_for_url(re.compile(r"/$"))
    alice = User.objects.get(email="alice@example.org")
    assert alice.display_name == "Alice Inventor"
    shoot(page, "home")

    page.get_by_role("link", name="Challenges", exact=True).first.click()
    page.wait_for_load_state("networkidle")
    shoot(page, "challenge-list")
    page.get_by_role("link", name="Greener parcels").first.click()
    page.wait_for_url(f"**{detail}")
    page.get_by_test_id("join").click()
    page.wait_for_url(f"**{detail}")
    assert page.get_by_test_id("join").inner_text().strip() == "Joined · leave"
    assert Follow.objects.filter(user=alice, challenge=challenge).count() == 1

    # … submits an idea with a custom-field answer and an attachment ---------------------------------
    page.get_by_test_id("submit-idea").click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Title").fill("Paper honeycomb instead of air pillows")
    page.get_by_label("Summary").fill("A folded paper cushion that protects as well as plastic air pillows.")
    page.get_by_label("Description").fill("## Why\n\nAir pillows are **plastic**. Paper goes in the paper bin.")
    page.get_by_label("Category").select_option("Green packaging")
    page.get_by_label("Which store should run the pilot?").fill("Hamburg Altona, because it ships the most.")
    page.get_by_label("Cost per parcel (cents)").fill("4")
    page.get_by_label("Attachments").set_input_files(
        files=[{"name": "pilot-plan.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_label("I accept the challenge's terms").check()
    shoot(page, "idea-form", full_page=True)
    page.get_by_test_id("submit-idea").click()
    page.wait_for_url(re.compile(r"/ideas/\d+/$"))
    assert page.get_by_test_id("idea-title").inner_text() == "Paper honeycomb instead of air pillows"
    assert "Hamburg Altona, because it ships the most." in page.get_by_test_id("answers").inner_text()
    assert page.get_by_test_id("attachments").inner_text().startswith("pilot-plan.pdf")
    idea = Idea.objects.get(title="Paper honeycomb instead of air pillows")
    assert (idea.status, idea.category.name, idea.challenge_id) == (
        IdeaStatus.SUBMITTED,
        "Green packaging",
        challenge.pk,
    )
    assert dict(FieldAnswer.objects.filter(idea=idea).values_list("field__key", "value")) == {
        "pilot_store": "Hamburg Altona, because it ships the most.",
        "unit_cost": "4",
    }
    assert list(Attachment.objects.filter(idea=idea).values_list("name", "content_type", "size")) == [
        ("pilot-plan.pdf", "application/pdf", len(PDF))
    ]
    idea_url = f"/ideas/{idea.pk}/"

    # … and invites Bob to the team ----------------------------------------------------------------
    page.get_by_test_id("team-link").click()
    page.wait_for_url(f"**/teams/{idea.team_id}/")
    page.get_by_label("Email address").fill("bob@example.org")
    page.get_by_role("button", name="Send invitation").click()
    page.wait_for_url(f"**/teams/{idea.team_id}/")
    assert "Bob Builder" in page.get_by_test_id("pending-invitations").inner_text()

    # Bob hears about it and accepts -------------------------------------------------------------------
    bob_ctx = new_context()
    bob_page = log_in(bob_ctx, "bob@example.org", PASSWORD)
    assert bob_page.get_by_test_id("unread-count").inner_text() == "1"
    bob_page.goto("/notifications/")
    shoot(bob_page, "notifications")
    bob_page.goto(f"/teams/{idea.team_id}/")
    bob_page.get_by_test_id("accept-invitation").click()
    bob_page.wait_for_url(f"**/teams/{idea.team_id}/")
    assert bob_page.get_by_test_id("members").inner_text().split("\n")[:2] == ["Alice Inventor Lead", "Bob Builder"]
    shoot(bob_page, "team")
    assert sorted(TeamMember.objects.filter(team=idea.team).values_list("user__email", "role")) == [
        ("alice@example.org", "lead"),
        ("bob@example.org", "member"),
    ]

    # The organiser opens community voting ------------------------------------------------------------
    org_ctx = new_context()
    org_page = log_in(org_ctx, "olivia@northwind.example", PASSWORD)
    advance_in_browser(org_page, detail, "Community")

    # Carol comments and likes --------------------------------------------------------------------------
    carol_ctx = new_context()
    carol_page = log_in(carol_ctx, "carol@example.org", PASSWORD)
    carol_page.goto(idea_url)
    carol_page.get_by_label("Add a comment").fill("How does it cope with **rain** at the doorstep?")
    carol_page.get_by_test_id("post-comment").click()
    carol_page.get_by_test_id("comment-body").first.wait_for()
    assert carol_page.get_by_test_id("comment-body").first.inner_text() == "How does it cope with rain at the doorstep?"
    like = carol_page.get_by_test_id("like-button")
    assert like.is_enabled()
    like.click()
    # A locator assertion, not wait_for_function: that evaluates a string, which the CSP refuses.
    expect(carol_page.get_by_test_id("like-count")).to_have_text("1")
    assert carol_page.get_by_test_id("like-button").get_attribute("aria-pressed") == "true"
    shoot(carol_page, "idea")
    assert list(Comment.objects.filter(idea=idea).values_list("author__email", "body")) == [
        ("carol@example.org", "How does it cope with **rain** at the doorstep?")
    ]
    assert list(Like.objects.filter(idea=idea).values_list("user__email", flat=True)) == ["carol@example.org"]
    idea.refresh_from_db()
    assert (idea.like_count, idea.comment_count) == (1, 1)

    # Someone reports the idea, so the moderation queue has work ----------------------------------------
    report_idea(idea=idea, by=arena["dan"], reason="Looks like the idea from last year's contest.")

    # The organiser advances to review: the likes close ----------------------------------------------------
    advance_in_browser(org_page, detail, "Review")
    shoot(org_page, "challenge")
    org_page.goto("/dashboard/")
    shoot(org_page, "dashboard")
    org_page.goto(f"/dashboard/{challenge.slug}/")
    shoot(org_page, "challenge-dashboard")
    org_page.goto("/moderation/")
    assert "Looks like the idea from last year's contest." in org_page.locator("main").inner_text()
    shoot(org_page, "moderation")

    carol_page.goto(idea_url)
    like = carol_page.get_by_test_id("like-button")
    like.wait_for()
    assert like.is_disabled()
    assert carol_page.get_by_test_id("like-reason").inner_text().strip() != ""
    # Unliking is a vote too: it is refused as well, through the page's form and through the API.
    csrf = next(c["value"] for c in carol_ctx.cookies() if c["name"] == "csrftoken")
    refused = carol_page.request.post(
        f"/ideas/{idea.pk}/like/", form={"like": "0"}, headers={"X-CSRFToken": csrf, "HX-Request": "true"}
    )
    assert "Voting is closed in the Review phase." in refused.text()
    api = carol_page.request.post(f"/api/ideas/{idea.pk}/like", headers={"X-CSRFToken": csrf})
    assert api.status == 409
    assert api.headers["content-type"].startswith("application/problem+json")
    assert list(Like.objects.filter(idea=idea).values_list("user__email", flat=True)) == ["carol@example.org"]
    idea.refresh_from_db()
    assert idea.like_count == 1
    challenge.refresh_from_db()
    assert challenge.phase == "review"


def advance_in_browser(page, detail: str, to: str) -> None:
    page.goto(detail)
    page.get_by_text(f"Advance to {to}…").click()
    page.get_by_test_id("advance-confirm").click()
    page.wait_for_url(f"**{detail}")
    assert f"The challenge is now in the {to} phase." in page.locator("body").inner_text()
