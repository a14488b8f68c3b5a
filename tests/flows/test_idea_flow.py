"""The core workflow through actions: what is saved, what is refused, and that refusals save nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from opencall.accounts.models import Notification
from opencall.challenges.actions import FieldSpec, PhaseSpec, advance_phase, create_challenge
from opencall.challenges.tasks import advance_all_due_phases
from opencall.community.actions import add_comment, like_idea, unlike_idea
from opencall.core.audit import verify_chain
from opencall.core.errors import InvalidInput, PermissionDenied, PhaseClosed
from opencall.ideas.actions import IdeaDraft, create_idea, invite_to_team, respond_to_invitation, update_idea
from opencall.ideas.models import Attachment, Idea, IdeaVersion, Team, TeamInvitation
from tests.factories import UserFactory


@pytest.fixture
def contest(org, organiser):
    ch = create_challenge(
        organisation=org, by=organiser, title="Smart shelves", summary="Sensors for shelves",
        terms="Entrants keep their IP.", categories=["IoT", "AI"], budget_minor=5_000_000,
        custom_fields=[FieldSpec("market", "Target market", required=True),
                       FieldSpec("team-size", "Team size", kind="number"),
                       FieldSpec("stage", "Stage", kind="choice", choices=("idea", "prototype"))],
    )
    advance_phase(challenge=ch, by=organiser)
    return ch


def _draft(**kw):
    base = {"title": "Shelf camera", "summary": "Counts stock", "category": "IoT", "answers": {"market": "EU grocers"}}
    base.update(kw)
    return IdeaDraft(**base)


@pytest.mark.django_db
def test_submit_with_custom_fields_and_attachment(contest, participant):
    pdf = SimpleUploadedFile("pitch.pdf", b"%PDF-1.4 tiny", content_type="application/pdf")
    idea = create_idea(challenge=contest, by=participant, draft=_draft(answers={"market": "EU", "team-size": "3",
                       "stage": "prototype"}), accept_terms=True, uploads=[pdf], submit=True)
    assert idea.status == "submitted"
    assert {a.field.key: a.value for a in idea.answers.select_related("field")} == {
        "market": "EU", "team-size": "3", "stage": "prototype"}
    assert [a.name for a in idea.attachments.all()] == ["pitch.pdf"]
    assert [m.user for m in idea.team.members.all()] == [participant]
    assert list(IdeaVersion.objects.filter(idea=idea).values_list("number", flat=True)) == [1]
    assert verify_chain()[0] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("draft", "accept", "field"),
    [
        (_draft(title=""), True, "title"),
        (_draft(title="x" * 161), True, "title"),
        (_draft(answers={}), True, "answers.market"),
        (_draft(answers={"market": "EU", "team-size": "three"}), True, "answers.team-size"),
        (_draft(answers={"market": "EU", "stage": "rocket"}), True, "answers.stage"),
        (_draft(answers={"market": "EU", "nope": "x"}), True, "answers.nope"),
        (_draft(category="Space"), True, "category"),
        (_draft(requested_budget_minor=-5), True, "requested_budget_minor"),
        (_draft(requested_budget_minor=9_000_000), True, "requested_budget_minor"),
        (_draft(), False, "accept_terms"),
    ],
)
def test_bad_idea_input_saves_nothing(contest, participant, draft, accept, field):
    with pytest.raises(InvalidInput) as err:
        create_idea(challenge=contest, by=participant, draft=draft, accept_terms=accept, submit=True)
    assert field in err.value.errors
    assert Idea.objects.count() == 0
    assert Team.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.exe", b"MZ....", "not allowed"),
        ("fake.pdf", b"<html>", "does not match"),
        ("empty.txt", b"", "empty"),
    ],
)
def test_bad_attachments_save_nothing(contest, participant, name, content, message):
    upload = SimpleUploadedFile(name, content)
    with pytest.raises(InvalidInput) as err:
        create_idea(challenge=contest, by=participant, draft=_draft(), accept_terms=True, uploads=[upload])
    assert message in err.value.detail
    assert (Idea.objects.count(), Attachment.objects.count()) == (0, 0)


@pytest.mark.django_db
@override_settings(OPENCALL_MAX_ATTACHMENT_BYTES=1024)
def test_oversized_attachment_is_refused(contest, participant):
    upload = SimpleUploadedFile("big.txt", b"a" * 2048)
    with pytest.raises(InvalidInput) as err:
        create_idea(challenge=contest, by=participant, draft=_draft(), accept_terms=True, uploads=[upload])
    assert "larger than" in err.value.detail
    assert Idea.objects.count() == 0


@pytest.mark.django_db
def test_edits_keep_versions_and_team_invitation(contest, participant):
    idea = create_idea(challenge=contest, by=participant, draft=_draft(), accept_terms=True, submit=True)
    update_idea(idea=idea, by=participant, draft=_draft(title="Shelf camera v2"))
    assert list(IdeaVersion.objects.filter(idea=idea).values_list("number", "title")) == [
        (2, "Shelf camera v2"), (1, "Shelf camera")]
    mate = UserFactory(display_name="Mia Mate")
    inv = invite_to_team(team=idea.team, user=mate, by=participant)
    assert Notification.objects.filter(recipient=mate, kind="team_invite").count() == 1
    respond_to_invitation(invitation=inv, by=mate, accept=True)
    assert sorted(m.user.display_name for m in idea.team.members.select_related("user")) == [
        "Mia Mate", "Paula Participant"]
    assert TeamInvitation.objects.get(pk=inv.pk).status == "accepted"
    with pytest.raises(PermissionDenied):
        update_idea(idea=idea, by=UserFactory(), draft=_draft(title="hijack"))


@pytest.mark.django_db
def test_likes_only_while_voting_and_counted_once(contest, organiser, participant):
    idea = create_idea(challenge=contest, by=participant, draft=_draft(), accept_terms=True, submit=True)
    fan = UserFactory()
    with pytest.raises(PhaseClosed) as closed:
        like_idea(idea=idea, by=fan)  # still the submission phase
    assert closed.value.detail == "Voting is closed in the Submission phase."
    advance_phase(challenge=contest, by=organiser)
    assert contest.phase == "community"
    assert like_idea(idea=idea, by=fan) is True
    assert like_idea(idea=idea, by=fan) is False
    idea.refresh_from_db()
    assert idea.like_count == 1
    add_comment(idea=idea, by=fan, body="Love it")
    assert Notification.objects.filter(recipient=participant, kind="comment").count() == 1
    advance_phase(challenge=contest, by=organiser)
    idea.refresh_from_db()  # drops the cached challenge, as a new request would
    assert idea.challenge.phase == "review"
    with pytest.raises(PhaseClosed):
        unlike_idea(idea=idea, by=fan)
    idea.refresh_from_db()
    assert (idea.like_count, idea.comment_count) == (1, 1)


@pytest.mark.django_db
def test_phases_advance_on_time_through_the_job(org, organiser, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    past = timezone.now() - timedelta(hours=1)
    ch = create_challenge(organisation=org, by=organiser, title="Timed", summary="s",
                          plan=[PhaseSpec("submission", ends_at=past), PhaseSpec("results")])
    with django_capture_on_commit_callbacks(execute=True):
        advance_phase(challenge=ch, by=organiser)
    ch.refresh_from_db()
    # The immediate test backend runs the job queued on commit: the ended phase moved on by itself.
    assert ch.phase == "results"
    assert advance_all_due_phases.call() == 0


@pytest.mark.django_db
def test_future_phase_end_with_a_backend_that_cannot_defer(org, organiser, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    later = timezone.now() + timedelta(days=3)
    ch = create_challenge(organisation=org, by=organiser, title="Later", summary="s",
                          plan=[PhaseSpec("submission", ends_at=later), PhaseSpec("results")])
    with django_capture_on_commit_callbacks(execute=True):
        advance_phase(challenge=ch, by=organiser)
    ch.refresh_from_db()
    assert ch.phase == "submission"  # nothing due yet, and no error from the immediate backend
