"""Ideas through the API: listing, detail, create with custom fields, edit with versions, submit,
withdraw, decisions and attachments; confidential and hidden ideas stay with those entitled."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from opencall.accounts.models import Notification
from opencall.ideas.models import Attachment, Idea, IdeaVersion
from tests.api.conftest import assert_problem, iso
from tests.factories import ChallengeFactory, CustomFieldFactory, IdeaFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% test document\n"


def item_json(idea, **changes):
    base = {
        "id": idea.pk,
        "title": idea.title,
        "summary": idea.summary,
        "category": None,
        "status": idea.status,
        "confidential": idea.confidential,
        "hidden": idea.hidden,
        "requested_budget_minor": None,
        "like_count": idea.like_count,
        "comment_count": idea.comment_count,
        "version": idea.version,
        "team": {"id": idea.team_id, "name": idea.team.name},
        "submitted_at": iso(idea.submitted_at),
        "created_at": iso(idea.created_at),
        "updated_at": iso(idea.updated_at),
    }
    return base | changes


def test_list_one_idea_exactly(api, challenge, idea):
    assert api().get("/api/challenges/green-packaging/ideas").json() == {
        "count": 1,
        "limit": 20,
        "offset": 0,
        "items": [item_json(idea)],
    }


def test_list_sorts_and_filters(api, challenge, idea):
    ai = challenge.categories.get(name="AI")
    liked = IdeaFactory(challenge=challenge, title="Robot packer", like_count=5, category=ai)
    talked = IdeaFactory(challenge=challenge, title="Apple crates", comment_count=9, status="shortlisted")
    client = api()

    def titles(**params):
        return [i["title"] for i in client.get("/api/challenges/green-packaging/ideas", params).json()["items"]]

    assert titles() == ["Apple crates", "Robot packer", "Mushroom foam"]
    assert titles(sort="liked")[0] == liked.title
    assert titles(sort="discussed")[0] == talked.title
    assert titles(sort="title") == ["Apple crates", "Mushroom foam", "Robot packer"]
    assert titles(category="ai") == ["Robot packer"]
    assert titles(status="shortlisted") == ["Apple crates"]
    assert titles(q="robot") == ["Robot packer"]
    assert_problem(
        client.get("/api/challenges/green-packaging/ideas", {"sort": "random"}),
        422,
        "invalid-input",
        errors={"sort": ["Input should be 'newest', 'liked', 'discussed' or 'title'"]},
    )
    assert_problem(client.get("/api/challenges/nope/ideas"), 404, "not-found")


def test_confidential_hidden_and_draft_ideas_reach_only_those_entitled(
    api, challenge, idea, organiser, judge, moderator, participant, outsider, team_member
):
    secret = IdeaFactory(challenge=challenge, title="Secret sauce", confidential=True)
    hidden = IdeaFactory(challenge=challenge, title="Spam", hidden=True, hidden_reason="Advertising")
    draft = IdeaFactory(challenge=challenge, title="Half-baked", status="draft", submitted_at=None, lead=team_member)

    def titles(user):
        return sorted(i["title"] for i in api(user).get("/api/challenges/green-packaging/ideas").json()["items"])

    assert titles(None) == ["Mushroom foam"]
    assert titles(participant) == ["Mushroom foam"]
    assert titles(outsider) == ["Mushroom foam"]
    assert titles(judge) == ["Mushroom foam", "Secret sauce"]
    assert titles(moderator) == ["Mushroom foam", "Spam"]
    assert titles(organiser) == ["Mushroom foam", "Secret sauce", "Spam"]
    assert titles(team_member) == ["Half-baked", "Mushroom foam"]
    for user in (None, participant, outsider):
        for other in (secret, hidden, draft):
            assert_problem(
                api(user).get(f"/api/ideas/{other.pk}"),
                404,
                "not-found",
                detail="No such idea, or it is not visible to you.",
            )
    assert api(judge).get(f"/api/ideas/{secret.pk}").json()["title"] == "Secret sauce"
    assert api(moderator).get(f"/api/ideas/{hidden.pk}").json()["hidden_reason"] == "Advertising"


def test_ideas_of_an_internal_challenge_are_hidden_from_outsiders(api, org, outsider, employee):
    internal = ChallengeFactory(organisation=org, slug="venture-round", visibility="internal")
    inner = IdeaFactory(challenge=internal, title="Inner idea")
    assert_problem(api(outsider).get("/api/challenges/venture-round/ideas"), 404, "not-found")
    assert_problem(api(outsider).get(f"/api/ideas/{inner.pk}"), 404, "not-found")
    assert api(employee).get(f"/api/ideas/{inner.pk}").json()["title"] == "Inner idea"


def test_detail_exactly(api, challenge, idea, team_member):
    field = CustomFieldFactory(challenge=challenge, key="market", label="Market size", kind="number")
    idea.answers.create(field=field, value="1200")
    attachment = Attachment.objects.create(
        idea=idea,
        file=SimpleUploadedFile("plan.pdf", PDF),
        name="plan.pdf",
        size=len(PDF),
        content_type="application/pdf",
    )
    idea.refresh_from_db()
    body = api(team_member).get(f"/api/ideas/{idea.pk}").json()
    assert body == item_json(idea) | {
        "challenge": "green-packaging",
        "body": "A body",
        "body_html": "<p>A body</p>\n",
        "hidden_reason": "",
        "terms_accepted_at": None,
        "answers": [{"key": "market", "label": "Market size", "value": "1200"}],
        "attachments": [
            {
                "id": attachment.pk,
                "name": "plan.pdf",
                "size": len(PDF),
                "content_type": "application/pdf",
                "url": f"/attachments/{attachment.pk}/",
                "created_at": iso(attachment.created_at),
            }
        ],
        "members": [{"user": {"id": team_member.pk, "display_name": "Tariq Team"}, "role": "lead"}],
        "you": {"edit": True, "submit": False, "withdraw": True, "view_history": True, "decide_status": False},
    }


NEW = {
    "title": "Edible film",
    "summary": "Wrap food in seaweed.",
    "body": "# Plan\n<script>alert(1)</script>",
    "category": "AI",
    "requested_budget_minor": 250000,
    "answers": {"stage": "prototype", "site": None},
}


def test_create_a_draft_with_answers_keeps_markdown_and_sanitises_html(api, challenge, participant):
    CustomFieldFactory(
        challenge=challenge, key="stage", label="Stage", kind="choice", choices=["idea", "prototype"], required=True
    )
    CustomFieldFactory(challenge=challenge, key="site", label="Website", kind="url")
    response = api(participant).post("/api/challenges/green-packaging/ideas", NEW)
    assert response.status_code == 201, response.content
    idea = Idea.objects.get(title="Edible film")
    body = response.json()
    assert body == item_json(idea, category="AI", requested_budget_minor=250000, status="draft", submitted_at=None) | {
        "challenge": "green-packaging",
        "body": "# Plan\n<script>alert(1)</script>",
        "body_html": "<h1>Plan</h1>\n<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n",
        "hidden_reason": "",
        "terms_accepted_at": None,
        "answers": [{"key": "stage", "label": "Stage", "value": "prototype"}],
        "attachments": [],
        "members": [{"user": {"id": participant.pk, "display_name": "Paula Participant"}, "role": "lead"}],
        "you": {"edit": True, "submit": True, "withdraw": True, "view_history": True, "decide_status": False},
    }
    assert idea.body == "# Plan\n<script>alert(1)</script>"
    assert IdeaVersion.objects.filter(idea=idea).count() == 1


def test_create_and_submit_at_once_checks_required_answers(api, challenge, participant):
    CustomFieldFactory(
        challenge=challenge, key="stage", label="Stage", kind="choice", choices=["idea", "prototype"], required=True
    )
    CustomFieldFactory(challenge=challenge, key="size", label="Team size", kind="number")
    client = api(participant)
    payload = {"title": "T", "summary": "S", "submit": True, "answers": {"size": "many"}}
    assert_problem(
        client.post("/api/challenges/green-packaging/ideas", payload),
        422,
        "invalid-input",
        detail="The idea has errors.",
        errors={"answers.stage": ["Stage is required."], "answers.size": ["Team size must be a number."]},
    )
    payload["answers"] = {"stage": "idea", "size": 3, "colour": "red"}
    assert_problem(
        client.post("/api/challenges/green-packaging/ideas", payload),
        422,
        "invalid-input",
        errors={"answers.colour": ["Unknown field."]},
    )
    payload["answers"] = {"stage": "idea", "size": 3}
    response = client.post("/api/challenges/green-packaging/ideas", payload)
    assert response.status_code == 201
    assert response.json()["status"] == "submitted"
    assert response.json()["answers"] == [
        {"key": "stage", "label": "Stage", "value": "idea"},
        {"key": "size", "label": "Team size", "value": "3"},
    ]
    assert Idea.objects.filter(challenge=challenge, created_by=participant).count() == 1


def test_create_bad_input_saves_nothing(api, challenge, participant):
    challenge.terms = "Your IP stays yours."
    challenge.save()
    client = api(participant)
    url = "/api/challenges/green-packaging/ideas"
    assert_problem(
        client.post(url, {**NEW, "answers": {}}),
        422,
        "invalid-input",
        errors={"accept_terms": ["You must accept the challenge's terms."]},
    )
    assert_problem(
        client.post(url, {**NEW, "title": "x" * 161, "accept_terms": True}),
        422,
        "invalid-input",
        errors={"title": ["String should have at most 160 characters"]},
    )
    assert_problem(
        client.post(url, {**NEW, "body": "x" * 30001}),
        422,
        "invalid-input",
        errors={"body": ["String should have at most 30000 characters"]},
    )
    assert_problem(
        client.post(url, {**NEW, "confidential": "maybe"}),
        422,
        "invalid-input",
        errors={"confidential": ["Input should be a valid boolean"]},
    )
    assert_problem(
        client.post(url, {**NEW, "answers": {}, "accept_terms": True, "category": "Space"}),
        422,
        "invalid-input",
        errors={"category": ["Unknown category 'Space'."]},
    )
    assert_problem(
        client.post(url, {**NEW, "answers": {}, "accept_terms": True, "requested_budget_minor": 10_000_001}),
        422,
        "invalid-input",
        errors={"requested_budget_minor": ["More than the challenge's whole budget."]},
    )
    assert_problem(
        client.post(url, {"summary": "S"}), 422, "invalid-input", errors={"title": ["This field is required."]}
    )
    assert Idea.objects.count() == 0


def test_create_outside_the_submission_phase_is_409(api, challenge, participant):
    challenge.phase = "community"
    challenge.save()
    assert_problem(
        api(participant).post("/api/challenges/green-packaging/ideas", {"title": "T", "summary": "S"}),
        409,
        "phase-closed",
        detail="New ideas are not accepted in the Community phase.",
    )
    assert Idea.objects.count() == 0


def test_blocked_people_cannot_submit(api, challenge):
    blocked = UserFactory(is_blocked=True)
    assert_problem(
        api(blocked).post("/api/challenges/green-packaging/ideas", {"title": "T", "summary": "S"}),
        403,
        "permission-denied",
        detail="You cannot submit ideas to this challenge.",
    )


def test_edit_keeps_versions_visible_to_team_and_organisers(api, challenge, idea, team_member, organiser, participant):
    response = api(team_member).patch(f"/api/ideas/{idea.pk}", {"title": "Mushroom foam 2", "body": "**New**"})
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["summary"], body["body_html"], body["version"]) == (
        "Mushroom foam 2",
        "A summary",
        "<p><strong>New</strong></p>\n",
        2,
    )
    version = IdeaVersion.objects.get(idea=idea, number=2)
    expected = {
        "count": 1,
        "limit": 20,
        "offset": 0,
        "items": [
            {
                "number": 2,
                "title": "Mushroom foam 2",
                "summary": "A summary",
                "body": "**New**",
                "body_html": "<p><strong>New</strong></p>\n",
                "data": {"category": "", "requested_budget_minor": None, "confidential": False, "answers": {}},
                "author": {"id": team_member.pk, "display_name": "Tariq Team"},
                "created_at": iso(version.created_at),
            }
        ],
    }
    assert api(team_member).get(f"/api/ideas/{idea.pk}/versions").json() == expected
    assert api(organiser).get(f"/api/ideas/{idea.pk}/versions").json() == expected
    assert_problem(
        api(participant).get(f"/api/ideas/{idea.pk}/versions"),
        403,
        "permission-denied",
        detail="Only the team and the organisers see an idea's history.",
    )
    assert_problem(api().get(f"/api/ideas/{idea.pk}/versions"), 401, "not-authenticated")


def test_edit_refused_to_others_and_outside_edit_phases(api, challenge, idea, team_member, participant):
    assert_problem(api(participant).patch(f"/api/ideas/{idea.pk}", {"title": "Mine"}), 403, "permission-denied")
    assert_problem(
        api(team_member).patch(f"/api/ideas/{idea.pk}", {"title": None}),
        422,
        "invalid-input",
        errors={"title": ["This field cannot be null."]},
    )
    assert_problem(
        api(team_member).patch(f"/api/ideas/{idea.pk}", {"summary": "x" * 401}),
        422,
        "invalid-input",
        errors={"summary": ["String should have at most 400 characters"]},
    )
    challenge.phase = "review"
    challenge.save()
    assert_problem(
        api(team_member).patch(f"/api/ideas/{idea.pk}", {"title": "Late"}),
        409,
        "phase-closed",
        detail="Ideas cannot be edited in the Review phase.",
    )
    idea.refresh_from_db()
    assert (idea.title, idea.version) == ("Mushroom foam", 1)


def test_patch_merges_answers_and_removes_attachments(api, challenge, team_member):
    CustomFieldFactory(challenge=challenge, key="stage", label="Stage")
    CustomFieldFactory(challenge=challenge, key="size", label="Size")
    idea = (
        api(team_member)
        .post(
            "/api/challenges/green-packaging/ideas",
            {"title": "T", "summary": "S", "answers": {"stage": "idea", "size": "2"}},
        )
        .json()
    )
    stored = Attachment.objects.create(
        idea_id=idea["id"], file=SimpleUploadedFile("a.txt", b"hello"), name="a.txt", size=5, content_type="text/plain"
    )
    body = (
        api(team_member)
        .patch(f"/api/ideas/{idea['id']}", {"answers": {"size": "3"}, "remove_attachments": [stored.pk]})
        .json()
    )
    assert body["answers"] == [
        {"key": "stage", "label": "Stage", "value": "idea"},
        {"key": "size", "label": "Size", "value": "3"},
    ]
    assert body["attachments"] == []


def test_submit_and_withdraw(api, challenge, team_member, participant):
    idea = IdeaFactory(challenge=challenge, status="draft", submitted_at=None, lead=team_member)
    assert_problem(api(participant).post(f"/api/ideas/{idea.pk}/submit"), 404, "not-found")
    body = api(team_member).post(f"/api/ideas/{idea.pk}/submit", {}).json()
    assert body["status"] == "submitted"
    assert body["submitted_at"] is not None
    assert_problem(
        api(team_member).post(f"/api/ideas/{idea.pk}/submit", {}),
        409,
        "conflict",
        detail="The idea was already submitted.",
    )
    assert_problem(
        api(participant).post(f"/api/ideas/{idea.pk}/withdraw"),
        403,
        "permission-denied",
        detail="Only the team can withdraw an idea that is still in play.",
    )
    assert api(team_member).post(f"/api/ideas/{idea.pk}/withdraw").json()["status"] == "withdrawn"
    idea.refresh_from_db()
    assert idea.status == "withdrawn"


def test_submit_needs_terms_and_required_answers(api, challenge, team_member):
    challenge.terms = "NDA"
    challenge.save()
    CustomFieldFactory(challenge=challenge, key="stage", label="Stage", required=True)
    idea = IdeaFactory(challenge=challenge, status="draft", submitted_at=None, lead=team_member)
    assert_problem(
        api(team_member).post(f"/api/ideas/{idea.pk}/submit", {}),
        422,
        "invalid-input",
        detail="The idea cannot be submitted yet.",
        errors={"answers.stage": ["Stage is required."], "accept_terms": ["You must accept the challenge's terms."]},
    )
    assert_problem(
        api(team_member).post(f"/api/ideas/{idea.pk}/submit", {"accept_terms": "yes please"}), 422, "invalid-input"
    )
    idea.refresh_from_db()
    assert (idea.status, idea.terms_accepted_at) == ("draft", None)


def test_status_decision_notifies_the_team(api, challenge, idea, organiser, team_member, participant):
    assert_problem(
        api(participant).post(f"/api/ideas/{idea.pk}/status", {"status": "shortlisted"}),
        403,
        "permission-denied",
        detail="Only organisers decide an idea's status.",
    )
    assert_problem(api(organiser).post(f"/api/ideas/{idea.pk}/status", {"status": "draft"}), 422, "invalid-input")
    assert_problem(
        api(organiser).post(f"/api/ideas/{idea.pk}/status", {"status": "funded", "reason": "x" * 301}),
        422,
        "invalid-input",
        errors={"reason": ["String should have at most 300 characters"]},
    )
    body = api(organiser).post(f"/api/ideas/{idea.pk}/status", {"status": "shortlisted", "reason": "Strong"}).json()
    assert (body["status"], body["you"]["decide_status"]) == ("shortlisted", True)
    note = Notification.objects.get(recipient=team_member, kind="status")
    assert note.text == "“Mushroom foam” is now Shortlisted"
    idea.status = "withdrawn"
    idea.save()
    assert_problem(
        api(organiser).post(f"/api/ideas/{idea.pk}/status", {"status": "funded"}),
        409,
        "conflict",
        detail="Drafts and withdrawn ideas cannot be decided on.",
    )


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_attachments_upload(api, idea, team_member):
    response = api(team_member).client.post(
        f"/api/ideas/{idea.pk}/attachments", {"files": [upload("plan.pdf", PDF), upload("notes.txt", b"hi")]}
    )
    assert response.status_code == 201, response.content
    stored = list(Attachment.objects.filter(idea=idea).order_by("id"))
    assert response.json() == {
        "items": [
            {
                "id": a.pk,
                "name": a.name,
                "size": a.size,
                "content_type": a.content_type,
                "url": f"/attachments/{a.pk}/",
                "created_at": iso(a.created_at),
            }
            for a in stored
        ]
    }
    assert [(a.name, a.size, a.content_type) for a in stored] == [
        ("plan.pdf", len(PDF), "application/pdf"),
        ("notes.txt", 2, "text/plain"),
    ]


def test_attachments_refused(api, idea, team_member, participant):
    client = api(team_member).client
    url = f"/api/ideas/{idea.pk}/attachments"
    assert_problem(
        client.post(url, {"files": [upload("run.exe", b"MZ\x90\x00")]}),
        422,
        "invalid-input",
        detail="run.exe: files of type .exe are not allowed.",
    )
    assert_problem(
        client.post(url, {"files": [upload("fake.pdf", b"<html>")]}),
        422,
        "invalid-input",
        detail="fake.pdf: the content does not match a .pdf file.",
        errors={"attachments": ["The file's content does not match its type."]},
    )
    with override_settings(OPENCALL_MAX_ATTACHMENT_BYTES=1024 * 1024):
        big = PDF + b"0" * (1024 * 1024)
        assert_problem(
            client.post(url, {"files": [upload("big.pdf", big)]}),
            422,
            "invalid-input",
            detail="big.pdf: the file is larger than 1 MB.",
            errors={"attachments": ["At most 1 MB per file."]},
        )
    assert_problem(client.post(url, {}), 422, "invalid-input", errors={"files": ["This field is required."]})
    assert_problem(api(participant).client.post(url, {"files": [upload("plan.pdf", PDF)]}), 403, "permission-denied")
    assert Attachment.objects.count() == 0


def test_my_ideas_include_drafts_across_challenges(api, challenge, idea, team_member, participant):
    other = ChallengeFactory(organisation=challenge.organisation, slug="smart-shelves", title="Smart shelves")
    draft = IdeaFactory(challenge=other, status="draft", submitted_at=None, lead=team_member)
    body = api(team_member).get("/api/me/ideas").json()
    draft.refresh_from_db()
    assert body == {
        "count": 2,
        "limit": 20,
        "offset": 0,
        "items": [
            item_json(draft) | {"challenge": "smart-shelves", "challenge_title": "Smart shelves"},
            item_json(idea) | {"challenge": "green-packaging", "challenge_title": "Green packaging"},
        ],
    }
    assert api(participant).get("/api/me/ideas").json()["count"] == 0
    assert_problem(api().get("/api/me/ideas"), 401, "not-authenticated")
