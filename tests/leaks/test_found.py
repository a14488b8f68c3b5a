"""Leaks found in review, each pinned by the test that failed before its fix."""

from __future__ import annotations

import pytest

from opencall.accounts.models import Notification
from opencall.challenges.actions import advance_phase, remove_role
from opencall.challenges.models import ChallengeRole
from opencall.community.actions import add_comment, follow_challenge, follow_idea, report_comment
from opencall.core.errors import InvalidInput
from opencall.organisations.models import Membership
from opencall.review.actions import CriterionSpec, create_rubric, open_round, run_assignment
from opencall.review.models import ReviewAssignment
from opencall.voting import actions as live
from opencall.voting.queries import finalist_candidates
from tests.factories import CommentFactory, IdeaFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _texts(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("text", flat=True))


def test_comment_notification_skips_followers_who_can_no_longer_see_the_idea(
    challenge, idea, team_member, participant, outsider
):
    follow_idea(idea=idea, by=participant, on=True)
    follow_idea(idea=idea, by=outsider, on=True)
    parent = add_comment(idea=idea, by=outsider, body="Where do the spores come from?")
    idea.confidential = True
    idea.save(update_fields=["confidential"])
    Notification.objects.all().delete()

    add_comment(idea=idea, by=team_member, body="From our own farm", parent=parent)

    assert _texts(participant) == [] and _texts(outsider) == []
    assert Notification.objects.count() == 0


def test_comment_notification_still_reaches_entitled_followers(challenge, idea, team_member, participant, judge):
    follow_idea(idea=idea, by=participant, on=True)
    follow_idea(idea=idea, by=judge, on=True)
    idea.confidential = True
    idea.save(update_fields=["confidential"])

    add_comment(idea=idea, by=team_member, body="Update")

    assert _texts(judge) == ["Tariq Team commented on “Mushroom foam”"]
    assert _texts(participant) == []


def test_phase_change_is_not_announced_to_followers_who_left_the_organisation(
    internal, internal_idea, organiser, employee, org
):
    leaver = UserFactory(display_name="Lea Leaver")
    MembershipFactory(organisation=org, user=leaver, role="member")
    follow_challenge(challenge=internal, by=leaver, on=True)
    Membership.objects.filter(user=leaver).delete()
    leaver = type(leaver).objects.get(pk=leaver.pk)  # drop the cached roles

    advance_phase(challenge=internal, by=organiser)

    assert _texts(leaver) == []
    assert _texts(employee) == ["Staff canteen is now in the Community phase"]


@pytest.fixture
def assigned(challenge, organiser, judge, secret):
    challenge.phase = "review"
    challenge.save(update_fields=["phase"])
    rubric = create_rubric(challenge=challenge, by=organiser, name="R", criteria=[CriterionSpec("Impact")])
    rnd = open_round(challenge=challenge, by=organiser, name="One", rubric=rubric, judges_per_idea=1, blind=False)
    run_assignment(rnd=rnd, by=organiser)
    return ReviewAssignment.objects.get(judge=judge, idea=secret)


def test_former_judge_no_longer_reads_assigned_confidential_idea(assigned, challenge, organiser, judge, as_user):
    client = as_user(judge)
    assert "Secret sauce" in client.get("/review/").content.decode()
    role = ChallengeRole.objects.get(challenge=challenge, user=judge, kind="judge")

    remove_role(challenge=challenge, role_id=role.pk, by=organiser)

    client = as_user(type(judge).objects.get(pk=judge.pk))
    assert "Secret sauce" not in client.get("/review/").content.decode()
    assert client.get(f"/review/assignments/{assigned.pk}/").status_code == 404
    assert client.get("/api/reviews/assignments").json() == []


def test_former_judge_is_not_shown_hidden_idea(assigned, judge, secret, as_user):
    secret.hidden = True
    secret.save(update_fields=["hidden"])
    client = as_user(judge)
    assert "Secret sauce" not in client.get("/review/").content.decode()
    assert client.get(f"/review/assignments/{assigned.pk}/").status_code == 404


@pytest.fixture
def internal_finalists(internal, employee):
    return [
        IdeaFactory(challenge=internal, title=t, status="shortlisted", lead=employee)
        for t in ("Oat flat white", "Cardamom bun")
    ]


def test_open_audience_live_vote_of_internal_challenge_is_for_members(
    internal, internal_finalists, organiser, employee, outsider, visitor, as_user
):
    vote = live.create_live_vote(
        challenge=internal, by=organiser, title="Canteen final", finalist_ids=[f.pk for f in internal_finalists]
    )
    live.open_live_vote(live_vote=vote, by=organiser)
    for person in (outsider, visitor):
        client = as_user(person)
        for url in (f"/v/{vote.code}/", f"/live/{vote.code}/screen/", f"/live/{vote.code}/results/"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert "Cardamom bun" not in response.content.decode() and "Canteen final" not in response.content.decode()
    assert "Canteen final" in as_user(employee).get(f"/v/{vote.code}/").content.decode()


def test_confidential_ideas_cannot_be_live_vote_finalists(challenge, organiser, idea, secret):
    idea.status = "shortlisted"
    idea.save(update_fields=["status"])
    assert [i.title for i in finalist_candidates(organiser, challenge)] == ["Mushroom foam"]
    with pytest.raises(InvalidInput) as caught:
        live.create_live_vote(challenge=challenge, by=organiser, title="Final", finalist_ids=[idea.pk, secret.pk])
    assert caught.value.errors["finalists"] == ["Finalists must be submitted ideas of this challenge."]


def test_site_moderator_queue_leaves_out_challenges_they_cannot_see(
    internal, internal_idea, employee, as_user, challenge, idea, participant
):
    site_moderator = UserFactory(display_name="Sita Site", is_moderator=True)
    inside = CommentFactory(idea=internal_idea, author=employee, body="Canteen gossip")
    report_comment(comment=inside, by=employee, reason="Rude about the chef")
    outside = CommentFactory(idea=idea, author=participant, body="Spam spam")
    report_comment(comment=outside, by=participant, reason="Advertising")

    page = as_user(site_moderator).get("/moderation/").content.decode()
    assert "Advertising" in page and "Spam spam" in page
    assert "Rude about the chef" not in page and "Canteen gossip" not in page
    api = as_user(site_moderator).get("/api/moderation/reports").json()
    assert [r["reason"] for r in api["items"]] == ["Advertising"]


def test_challenge_moderator_queue_leaves_out_reports_on_confidential_ideas(
    challenge, idea, secret, secret_lead, judge, moderator, organiser, as_user
):
    report_comment(comment=secret.comments.get(), by=judge, reason="Leaks the recipe")
    inside = CommentFactory(idea=idea, author=judge, body="Buy my mushrooms")
    report_comment(comment=inside, by=secret_lead, reason="Advertising")

    assert [r["reason"] for r in as_user(moderator).get("/api/moderation/reports").json()["items"]] == ["Advertising"]
    assert "Leaks the recipe" not in as_user(moderator).get("/moderation/").content.decode()
    assert sorted(r["reason"] for r in as_user(organiser).get("/api/moderation/reports").json()["items"]) == [
        "Advertising",
        "Leaks the recipe",
    ]
