"""The idea list, form, page, history and attachment download, through the web UI."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from opencall.ideas.models import Attachment, FieldAnswer, Idea, IdeaStatus, IdeaVersion
from tests.factories import IdeaFactory, UserFactory
from tests.ideas.conftest import HTMX

pytestmark = pytest.mark.django_db


def _form(**over):
    data = {
        "title": "Shelf camera",
        "summary": "Counts stock on shelves",
        "body": "## Plan\n\nWe *count*.",
        "category": "AI",
        "requested_budget": "25000.50",
        "field_market": "EU grocers",
        "field_team-size": "3",
        "field_stage": "prototype",
        "action": "submit",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


# The list --------------------------------------------------------------------------------------


def test_list_page_shows_ideas_with_counts(challenge, as_user, participant):
    IdeaFactory(challenge=challenge, title="Mushroom foam", like_count=7, comment_count=2)
    response = as_user(participant).get(reverse("ideas:list", args=[challenge.slug]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "Mushroom foam" in html
    assert re.findall(r'data-testid="like-count" title="Likes"><svg[^>]*>.*?</svg> (\d+)<', html) == ["7"]
    assert re.findall(r'data-testid="comment-count" title="Comments"><svg[^>]*>.*?</svg> (\d+)<', html) == ["2"]
    assert "1 idea</p>" in html


def test_list_fragment_for_htmx(challenge, as_user, visitor):
    IdeaFactory(challenge=challenge, title="Mushroom foam")
    html = as_user(visitor).get(reverse("ideas:list", args=[challenge.slug]), **HTMX).content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<section id="idea-list"')
    assert "Mushroom foam" in html
    assert "Submit an idea" not in html  # visitors cannot submit


def _titles(response) -> list[str]:
    return re.findall(r'<h3><a href="/ideas/\d+/">([^<]+)</a></h3>', response.content.decode())


def test_list_sorts_filters_and_searches(challenge, as_user, participant):
    from opencall.challenges.models import Category

    ai = Category.objects.get(challenge=challenge, name="AI")
    IdeaFactory(challenge=challenge, title="Quiet one", like_count=1, comment_count=9)
    IdeaFactory(challenge=challenge, title="Loved one", like_count=5, comment_count=0, category=ai)
    IdeaFactory(challenge=challenge, title="Newest one", like_count=0, comment_count=3)
    client = as_user(participant)
    url = reverse("ideas:list", args=[challenge.slug])
    assert _titles(client.get(url)) == ["Newest one", "Loved one", "Quiet one"]
    assert _titles(client.get(url, {"sort": "liked"})) == ["Loved one", "Quiet one", "Newest one"]
    assert _titles(client.get(url, {"sort": "discussed"})) == ["Quiet one", "Newest one", "Loved one"]
    assert _titles(client.get(url, {"category": "AI"})) == ["Loved one"]
    assert _titles(client.get(url, {"q": "quiet"})) == ["Quiet one"]
    Idea.objects.filter(title="Quiet one").update(status=IdeaStatus.SHORTLISTED)
    assert _titles(client.get(url, {"status": "shortlisted"})) == ["Quiet one"]
    # An invalid filter is ignored while the others still apply.
    assert _titles(client.get(url, {"status": "bogus", "q": "loved"})) == ["Loved one"]
    empty = client.get(url, {"q": "nothing like this"}).content.decode()
    assert "No idea matches these filters." in empty
    # An unknown sort or category is ignored rather than an error.
    assert client.get(url, {"sort": "bogus"}).status_code == 200


def test_list_paginates_with_links_that_keep_filters(challenge, as_user, participant):
    for i in range(14):
        IdeaFactory(challenge=challenge, title=f"Idea number {i:02d}")
    url = reverse("ideas:list", args=[challenge.slug])
    first = as_user(participant).get(url, {"sort": "liked"}).content.decode()
    assert "Page 1 of 2" in first
    assert f'href="{url}?sort=liked&amp;page=2"' in first
    second = as_user(participant).get(url, {"sort": "liked", "page": 2})
    assert len(_titles(second)) == 2


def test_confidential_ideas_listed_only_for_those_entitled(challenge, as_user, participant, organiser, judge):
    IdeaFactory(challenge=challenge, title="Secret sauce", confidential=True)
    IdeaFactory(challenge=challenge, title="Open recipe")
    url = reverse("ideas:list", args=[challenge.slug])
    assert _titles(as_user(participant).get(url)) == ["Open recipe"]
    for person in (organiser, judge):
        html = as_user(person).get(url).content.decode()
        assert sorted(_titles(as_user(person).get(url))) == ["Open recipe", "Secret sauce"]
        assert html.count('data-testid="confidential-badge"') == 1


def test_list_unknown_or_invisible_challenge_is_404(as_user, participant, org):
    from tests.factories import ChallengeFactory

    hidden = ChallengeFactory(organisation=org, visibility="internal")
    assert as_user(participant).get(reverse("ideas:list", args=[hidden.slug])).status_code == 404
    assert as_user(participant).get(reverse("ideas:list", args=["no-such"])).status_code == 404


@pytest.mark.parametrize("rows", [1, 3])
def test_list_query_count_does_not_grow(challenge, as_user, participant, rows, django_assert_num_queries):
    for i in range(rows):
        IdeaFactory(challenge=challenge, title=f"Idea {i}", category=challenge.categories.first())
    client = as_user(participant)
    url = reverse("ideas:list", args=[challenge.slug])
    client.get(url)  # warm the session
    with django_assert_num_queries(13):
        response = client.get(url)
    assert len(_titles(response)) == rows


# The form --------------------------------------------------------------------------------------


def test_form_renders_custom_fields_and_terms(challenge, fields, as_user, participant):
    challenge.terms = "You keep your **IP**."
    challenge.save()
    html = as_user(participant).get(reverse("ideas:create", args=[challenge.slug])).content.decode()
    assert 'name="field_market"' in html
    assert 'name="field_team-size"' in html and 'type="number"' in html
    assert '<option value="prototype">prototype</option>' in html
    assert 'name="attachments"' in html and "multiple" in html
    assert 'name="accept_terms"' in html
    assert "<strong>IP</strong>" in html
    assert 'value="draft"' in html and 'value="submit"' in html


def test_submit_an_idea_with_custom_field_and_attachment(challenge, fields, as_user, participant):
    pdf = SimpleUploadedFile("pitch.pdf", b"%PDF-1.4 tiny", content_type="application/pdf")
    response = as_user(participant).post(reverse("ideas:create", args=[challenge.slug]), _form(attachments=pdf))
    idea = Idea.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ideas:detail", args=[idea.pk])
    assert (idea.title, idea.status, idea.requested_budget_minor, idea.category.name) == (
        "Shelf camera",
        IdeaStatus.SUBMITTED,
        2_500_050,
        "AI",
    )
    assert dict(FieldAnswer.objects.values_list("field__key", "value")) == {
        "market": "EU grocers",
        "team-size": "3",
        "stage": "prototype",
    }
    assert list(Attachment.objects.values_list("name", "content_type")) == [("pitch.pdf", "application/pdf")]
    assert [m.user for m in idea.team.members.all()] == [participant]
    assert idea.team.name == "Paula Participant's team"


def test_team_name_on_create_and_not_on_edit(challenge, as_user, participant):
    url = reverse("ideas:create", args=[challenge.slug])
    assert 'name="team_name"' in as_user(participant).get(url).content.decode()
    as_user(participant).post(url, _form(team_name="Shelf Sense"))
    idea = Idea.objects.get()
    assert idea.team.name == "Shelf Sense"
    assert 'name="team_name"' not in as_user(participant).get(reverse("ideas:edit", args=[idea.pk])).content.decode()
    too_long = as_user(participant).post(url, _form(team_name="t" * 121))
    assert "Ensure this value has at most 120 characters (it has 121)." in too_long.content.decode()
    assert Idea.objects.count() == 1


def test_save_draft_allows_missing_required_answers(challenge, fields, as_user, participant):
    response = as_user(participant).post(
        reverse("ideas:create", args=[challenge.slug]), _form(field_market="", action="draft")
    )
    assert response.status_code == 302
    assert Idea.objects.get().status == IdeaStatus.DRAFT


def test_several_attachments_in_one_upload(challenge, as_user, participant):
    files = [
        SimpleUploadedFile("a.txt", b"hello", content_type="text/plain"),
        SimpleUploadedFile("b.png", b"\x89PNG\r\n\x1a\nxxxx", content_type="image/png"),
    ]
    as_user(participant).post(reverse("ideas:create", args=[challenge.slug]), _form(attachments=files))
    assert sorted(Attachment.objects.values_list("name", flat=True)) == ["a.txt", "b.png"]


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"title": "x" * 161}, "title", "Ensure this value has at most 160 characters (it has 161)."),
        ({"summary": "s" * 401}, "summary", "Ensure this value has at most 400 characters (it has 401)."),
        ({"requested_budget": "lots"}, "requested_budget", "Enter a number."),
        ({"requested_budget": "-5"}, "requested_budget", "Ensure this value is greater than or equal to 0."),
        ({"requested_budget": "200000"}, "requested_budget", "More than the challenge&#x27;s whole budget."),
        ({"requested_budget": "1.234"}, "requested_budget", "Ensure that there are no more than 2 decimal places."),
        ({"category": "Nope"}, "category", "Select a valid choice. Nope is not one of the available choices."),
        ({"field_market": ""}, "field_market", "Target market is required."),
        ({"field_team-size": "three"}, "field_team-size", "Enter a number."),
        ({"field_stage": "rocket"}, "field_stage", "Select a valid choice. rocket is not one of the available"),
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_saved(
    challenge, fields, as_user, participant, over, field, message
):
    response = as_user(participant).post(reverse("ideas:create", args=[challenge.slug]), _form(**over))
    html = response.content.decode()
    assert response.status_code == 422
    assert "Please correct the errors below." in html
    assert f'data-field="{field}"' in html
    assert message in html
    assert Idea.objects.count() == 0


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("run.exe", b"MZ...", content_type="application/octet-stream"),
            "Allowed: .csv, .docx, .gif, .jpeg, .jpg, .md, .pdf, .png, .pptx, .txt, .xlsx.",
        ),
        (
            SimpleUploadedFile("fake.pdf", b"not a pdf", content_type="application/pdf"),
            "The file&#x27;s content does not match its type.",
        ),
        (SimpleUploadedFile("empty.txt", b"", content_type="text/plain"), "The submitted file is empty."),
    ],
)
def test_disallowed_files_are_refused(challenge, as_user, participant, upload, message):
    response = as_user(participant).post(reverse("ideas:create", args=[challenge.slug]), _form(attachments=upload))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert (Idea.objects.count(), Attachment.objects.count()) == (0, 0)


@override_settings(OPENCALL_MAX_ATTACHMENT_BYTES=1024 * 1024)
def test_oversized_file_is_refused(challenge, as_user, participant):
    big = SimpleUploadedFile("big.txt", b"a" * (1024 * 1024 + 1), content_type="text/plain")
    response = as_user(participant).post(reverse("ideas:create", args=[challenge.slug]), _form(attachments=big))
    assert response.status_code == 422
    assert "At most 1 MB per file." in response.content.decode()
    assert Idea.objects.count() == 0


def test_terms_must_be_accepted(challenge, as_user, participant):
    challenge.terms = "Entrants keep their IP."
    challenge.save()
    url = reverse("ideas:create", args=[challenge.slug])
    refused = as_user(participant).post(url, _form())
    assert refused.status_code == 422
    assert "You must accept the challenge&#x27;s terms." in refused.content.decode()
    assert Idea.objects.count() == 0
    as_user(participant).post(url, _form(accept_terms="on"))
    assert Idea.objects.get().terms_accepted_at is not None


def test_script_in_markdown_never_reaches_the_page(challenge, as_user, participant, visitor):
    body = 'Hi <script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror="alert(3)">'
    as_user(participant).post(reverse("ideas:create", args=[challenge.slug]), _form(body=body))
    idea = Idea.objects.get()
    html = as_user(visitor).get(reverse("ideas:detail", args=[idea.pk])).content.decode()
    page_body = html.split('data-testid="idea-body">')[1].split("</div>")[0]
    # Raw HTML is shown as text, and a javascript: link is not made a link.
    assert page_body == (
        "<p>Hi &lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(2)) "
        '&lt;img src=x onerror="alert(3)"&gt;</p>\n'
    )


def test_outside_submission_phase_the_form_is_refused(challenge, as_user, participant):
    """The page answers what the action answers: a closed phase is a 409, as in the API."""
    challenge.phase = "review"
    challenge.save()
    url = reverse("ideas:create", args=[challenge.slug])
    assert as_user(participant).get(url).status_code == 409
    response = as_user(participant).post(url, _form())
    assert response.status_code == 409
    assert "New ideas are not accepted in the Review phase." in response.content.decode()
    assert Idea.objects.count() == 0


def test_anonymous_is_sent_to_log_in(challenge, as_user, visitor):
    response = as_user(visitor).get(reverse("ideas:create", args=[challenge.slug]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


# Editing, history, submit, withdraw, decisions -------------------------------------------------


def test_edit_keeps_a_version_and_history_lists_changes(challenge, as_user, idea, team_member, participant):
    IdeaVersion.objects.create(idea=idea, number=1, title=idea.title, summary=idea.summary, body=idea.body)
    url = reverse("ideas:edit", args=[idea.pk])
    form = as_user(team_member).get(url).content.decode()
    assert 'value="Mushroom foam"' in form
    response = as_user(team_member).post(
        url, {"title": "Mycelium foam", "summary": "A summary", "body": "A body", "action": "save"}
    )
    assert response.status_code == 302
    idea.refresh_from_db()
    assert (idea.title, idea.version) == ("Mycelium foam", 2)
    assert list(IdeaVersion.objects.filter(idea=idea).values_list("number", "title")) == [
        (2, "Mycelium foam"),
        (1, "Mushroom foam"),
    ]
    history = as_user(team_member).get(reverse("ideas:history", args=[idea.pk])).content.decode()
    assert "Version 2" in history
    assert '<span class="meta">first version</span>' in history
    assert '<span class="meta">changed: title</span>' in history
    assert as_user(participant).get(reverse("ideas:history", args=[idea.pk])).status_code == 403


def test_edit_by_someone_else_is_refused(idea, as_user, participant):
    response = as_user(participant).post(
        reverse("ideas:edit", args=[idea.pk]), {"title": "Hijacked", "summary": "x", "action": "save"}
    )
    assert response.status_code == 403
    idea.refresh_from_db()
    assert idea.title == "Mushroom foam"


def test_edit_removes_an_attachment(idea, as_user, team_member):
    from opencall.ideas.actions import add_attachments

    add_attachments(
        idea=idea, by=team_member, uploads=[SimpleUploadedFile("old.txt", b"old", content_type="text/plain")]
    )
    attachment = Attachment.objects.get()
    as_user(team_member).post(
        reverse("ideas:edit", args=[idea.pk]),
        {"title": idea.title, "summary": idea.summary, "remove_attachments": [str(attachment.pk)], "action": "save"},
    )
    assert Attachment.objects.count() == 0


def test_submit_a_draft_from_its_page(challenge, as_user, participant, fields):
    as_user(participant).post(reverse("ideas:create", args=[challenge.slug]), _form(action="draft"))
    idea = Idea.objects.get()
    page = as_user(participant).get(reverse("ideas:detail", args=[idea.pk])).content.decode()
    assert "This is a draft: only your team can see it until you submit it." in page
    assert as_user(UserFactory()).get(reverse("ideas:detail", args=[idea.pk])).status_code == 404
    as_user(participant).post(reverse("ideas:submit", args=[idea.pk]))
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.SUBMITTED


def test_submitting_an_incomplete_draft_explains_why(challenge, as_user, participant, fields):
    as_user(participant).post(reverse("ideas:create", args=[challenge.slug]), _form(action="draft", field_market=""))
    idea = Idea.objects.get()
    response = as_user(participant).post(reverse("ideas:submit", args=[idea.pk]), follow=True)
    assert "The idea cannot be submitted yet. Target market is required." in response.content.decode()
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.DRAFT


def test_withdraw(idea, as_user, team_member):
    response = as_user(team_member).post(reverse("ideas:withdraw", args=[idea.pk]), follow=True)
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.WITHDRAWN
    assert "The idea was withdrawn." in response.content.decode()


def test_organiser_decides_status_and_others_cannot(idea, as_user, organiser, participant):
    page = as_user(organiser).get(reverse("ideas:detail", args=[idea.pk])).content.decode()
    assert 'data-testid="status-form"' in page
    assert (
        'data-testid="status-form"'
        not in as_user(participant).get(reverse("ideas:detail", args=[idea.pk])).content.decode()
    )
    as_user(organiser).post(reverse("ideas:status", args=[idea.pk]), {"status": "shortlisted", "reason": "Great"})
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.SHORTLISTED
    refused = as_user(participant).post(reverse("ideas:status", args=[idea.pk]), {"status": "funded"})
    assert refused.status_code == 403
    idea.refresh_from_db()
    assert idea.status == IdeaStatus.SHORTLISTED
    bad = as_user(organiser).post(reverse("ideas:status", args=[idea.pk]), {"status": "bogus"}, follow=True)
    assert "Choose a decision." in bad.content.decode()


# The page and attachments ----------------------------------------------------------------------


def test_idea_page_shows_answers_attachments_team_and_loads_community_parts(
    challenge, fields, as_user, participant, visitor
):
    pdf = SimpleUploadedFile("pitch.pdf", b"%PDF-1.4 tiny", content_type="application/pdf")
    as_user(participant).post(reverse("ideas:create", args=[challenge.slug]), _form(attachments=pdf))
    idea = Idea.objects.get()
    attachment = Attachment.objects.get()
    html = as_user(visitor).get(reverse("ideas:detail", args=[idea.pk])).content.decode()
    assert "<h2>Plan</h2>" in html and "<em>count</em>" in html
    assert "<dt>Target market</dt><dd>EU grocers</dd>" in html
    assert f'<a href="/attachments/{attachment.pk}/" download>pitch.pdf</a>' in html
    assert "25,000.50 EUR" in html
    assert f'hx-get="/ideas/{idea.pk}/like/"' in html
    assert f'hx-get="/ideas/{idea.pk}/comments/"' in html
    assert "Paula Participant" in html


def test_attachment_streams_only_to_those_who_may_see_the_idea(challenge, as_user, participant, organiser, outsider):
    pdf = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 secret", content_type="application/pdf")
    as_user(participant).post(reverse("ideas:create", args=[challenge.slug]), _form(attachments=pdf, confidential="on"))
    url = reverse("ideas:attachment", args=[Attachment.objects.get().pk])
    for person in (participant, organiser):
        response = as_user(person).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"%PDF-1.4 secret"
        assert response["Content-Type"] == "application/pdf"
        assert 'attachment; filename="plan.pdf"' in response["Content-Disposition"]
    assert as_user(outsider).get(url).status_code == 404
    assert as_user(outsider).get(reverse("ideas:attachment", args=[999999])).status_code == 404


def test_confidential_idea_page_is_404_for_others(idea, as_user, participant, judge):
    idea.confidential = True
    idea.save()
    assert as_user(participant).get(reverse("ideas:detail", args=[idea.pk])).status_code == 404
    html = as_user(judge).get(reverse("ideas:detail", args=[idea.pk])).content.decode()
    assert 'data-testid="confidential-badge"' in html


@pytest.mark.parametrize("rows", [1, 3])
def test_history_query_count(idea, as_user, team_member, rows, django_assert_num_queries):
    for n in range(1, rows + 1):
        IdeaVersion.objects.create(idea=idea, number=n, title=f"Title {n}", summary="s", author=UserFactory())
    client = as_user(team_member)
    client.get(reverse("ideas:history", args=[idea.pk]))
    with django_assert_num_queries(11):
        html = client.get(reverse("ideas:history", args=[idea.pk])).content.decode()
    assert html.count('class="version"') == rows


def test_embedded_list_leaves_the_submit_button_to_the_challenge_page(challenge, as_user, participant):
    url = reverse("ideas:list", args=[challenge.slug])
    fragment = as_user(participant).get(url, **HTMX).content.decode()
    assert "<h2>" not in fragment and 'data-testid="new-idea"' not in fragment
    page = as_user(participant).get(url).content.decode()
    assert "<h1>Ideas for Green packaging</h1>" in page and 'data-testid="new-idea"' in page


def test_edit_a_draft_and_submit_it_in_one_step(challenge, fields, as_user, participant):
    as_user(participant).post(reverse("ideas:create", args=[challenge.slug]), _form(action="draft", field_market=""))
    idea = Idea.objects.get()
    url = reverse("ideas:edit", args=[idea.pk])
    incomplete = as_user(participant).post(url, _form(field_market=""))
    html = incomplete.content.decode()
    assert incomplete.status_code == 422
    assert "Your changes were saved as a draft, but the idea cannot be submitted yet." in html
    assert "Target market is required." in html
    idea.refresh_from_db()
    assert (idea.status, idea.version) == (IdeaStatus.DRAFT, 2)
    done = as_user(participant).post(url, _form())
    assert done.status_code == 302
    idea.refresh_from_db()
    assert (idea.status, idea.version) == (IdeaStatus.SUBMITTED, 3)


def test_budget_decimals_follow_the_currency(challenge, as_user, participant):
    challenge.currency = "JPY"
    challenge.budget_minor = 10_000_000
    challenge.save()
    url = reverse("ideas:create", args=[challenge.slug])
    refused = as_user(participant).post(url, _form(requested_budget="1500.5"))
    assert refused.status_code == 422
    assert "Ensure that there are no more than 0 decimal places." in refused.content.decode()
    as_user(participant).post(url, _form(requested_budget="1500"))
    assert Idea.objects.get().requested_budget_minor == 1500
