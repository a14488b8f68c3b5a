"""`update_idea`: a whole draft or only the sent fields, and save-then-submit as one action."""

from __future__ import annotations

import pytest
from django.urls import reverse

from opencall.ideas.actions import IdeaDraft, SavedNotSubmitted, update_idea
from opencall.ideas.models import FieldAnswer, IdeaStatus, IdeaVersion
from opencall.ideas.queries import idea_for
from tests.factories import IdeaFactory

pytestmark = pytest.mark.django_db


def test_sent_fields_are_merged_over_the_idea(idea, team_member, fields):
    update_idea(idea=idea_for(team_member, idea.pk), by=team_member,
                draft={"body": "First body", "answers": {"market": "EU grocers", "team-size": 3}})
    updated = update_idea(idea=idea_for(team_member, idea.pk), by=team_member,
                          draft={"title": "Mycelium foam", "body": None, "answers": {"team-size": None}})
    assert (updated.title, updated.summary, updated.body) == ("Mycelium foam", idea.summary, "")
    assert dict(FieldAnswer.objects.filter(idea=idea).values_list("field__key", "value")) == {"market": "EU grocers"}
    titles = IdeaVersion.objects.filter(idea=idea).order_by("number").values_list("title", flat=True)
    assert list(titles)[-2:] == ["Mushroom foam", "Mycelium foam"]


def _draft(**over: object) -> IdeaDraft:
    values: dict[str, object] = {"title": "Shelf camera", "summary": "Counts stock", "answers": {}}
    values.update(over)
    return IdeaDraft(**values)  # type: ignore[arg-type]


def test_a_draft_that_cannot_be_submitted_keeps_the_edit(challenge, team_member, fields):
    draft = IdeaFactory(challenge=challenge, lead=team_member, status=IdeaStatus.DRAFT, submitted_at=None)
    with pytest.raises(SavedNotSubmitted) as refused:
        update_idea(idea=idea_for(team_member, draft.pk), by=team_member, draft=_draft(), submit=True)
    assert refused.value.status == 422
    assert refused.value.errors == {"answers.market": ["Target market is required."]}
    draft.refresh_from_db()
    assert (draft.title, draft.status, draft.submitted_at) == ("Shelf camera", IdeaStatus.DRAFT, None)
    done = update_idea(idea=idea_for(team_member, draft.pk), by=team_member,
                       draft=_draft(answers={"market": "EU grocers"}), submit=True)
    assert done.status == IdeaStatus.SUBMITTED and done.submitted_at is not None


def test_submit_on_a_submitted_idea_is_just_an_edit(idea, team_member):
    updated = update_idea(idea=idea_for(team_member, idea.pk), by=team_member, draft=_draft(), submit=True)
    assert (updated.status, updated.title) == (IdeaStatus.SUBMITTED, "Shelf camera")


def test_edit_form_in_a_closed_phase_answers_like_the_action(challenge, as_user, idea, team_member):
    challenge.phase = "review"
    challenge.save()
    url = reverse("ideas:edit", args=[idea.pk])
    page = as_user(team_member).get(url)
    assert page.status_code == 409
    assert "Ideas cannot be edited in the Review phase." in page.content.decode()
    refused = as_user(team_member).post(url, {"title": "Late", "summary": "x", "action": "save"})
    assert refused.status_code == 409
    idea.refresh_from_db()
    assert idea.title == "Mushroom foam"
