"""Challenge pages: what each persona sees, what the forms save, and what bad input is answered with."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from opencall.challenges.models import Challenge, ChallengeRole, CustomField, Phase
from opencall.core.models import AuditEvent
from tests.factories import ChallengeFactory, CustomFieldFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def _count_queries(client, url: str, **extra) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(ctx.captured_queries), _text(response)


def _valid_form(**overrides):
    data = {
        "title": "Smart shelves",
        "summary": "Shelves that know what is missing.",
        "description": "## Why\nBecause **stock-outs** cost money.",
        "terms": "Entrants keep their IP.",
        "budget": "1234.56",
        "currency": "EUR",
        "visibility": "public",
        "categories": "IoT, Retail experience, IoT",
        "sponsors": "",
        "invited_emails": "",
        "invited_organisations": "",
        "fields-TOTAL_FORMS": "2",
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "20",
        "fields-0-key": "market-size",
        "fields-0-label": "Market size",
        "fields-0-kind": "number",
        "fields-0-required": "on",
        "fields-0-choices": "",
        "fields-0-help_text": "Yearly, in euros",
        "fields-1-key": "stage",
        "fields-1-label": "Stage",
        "fields-1-kind": "choice",
        "fields-1-choices": "idea, prototype, product",
    }
    data.update(overrides)
    return data


# Home and list --------------------------------------------------------------------------------


def test_home_shows_open_challenges_only(as_user, challenge, org):
    ChallengeFactory(organisation=org, title="Still a draft", phase="draft")
    ChallengeFactory(organisation=org, title="All over", phase="closed")
    html = _text(as_user(None).get("/"))
    assert "Green packaging" in html
    assert "Still a draft" not in html
    assert "All over" not in html
    assert "100,000.00 EUR" in html  # the factory's budget, formatted
    assert '<span class="tag">AI</span>' in html


def test_home_query_count_does_not_grow(as_user, org):
    client = as_user(None)
    ChallengeFactory(organisation=org)
    one, _ = _count_queries(client, "/")
    ChallengeFactory(organisation=org)
    ChallengeFactory(organisation=org)
    three, html = _count_queries(client, "/")
    assert html.count('class="challenge-card"') == 3
    assert one == three


def test_list_query_count_does_not_grow(as_user, org, participant):
    client = as_user(participant)
    ChallengeFactory(organisation=org)
    one, _ = _count_queries(client, "/challenges/")
    ChallengeFactory(organisation=org)
    ChallengeFactory(organisation=org)
    three, html = _count_queries(client, "/challenges/")
    assert "3 challenges" in html
    assert one == three


def test_list_filters_by_text_phase_organisation_and_category(as_user, org, other_org):
    ChallengeFactory(organisation=org, title="Green packaging", categories=["Packaging"])
    ChallengeFactory(organisation=org, title="Store robots", phase="review", categories=["AI"])
    ChallengeFactory(organisation=other_org, title="Lab automation", categories=["AI"])
    client = as_user(None)

    html = _text(client.get("/challenges/?q=robots"))
    assert "Store robots" in html and "Green packaging" not in html and "1 challenge · " in html

    html = _text(client.get("/challenges/?phase=review"))
    assert "Store robots" in html and "Lab automation" not in html

    html = _text(client.get("/challenges/?organisation=contoso"))
    assert "Lab automation" in html and "Store robots" not in html

    html = _text(client.get("/challenges/?category=AI"))
    assert "Lab automation" in html and "Store robots" in html and "Green packaging" not in html


def test_list_ignores_an_unknown_filter_value_rather_than_failing(as_user, challenge):
    html = _text(as_user(None).get("/challenges/?phase=bogus&q=green"))
    assert "Green packaging" in html


def test_list_paginates_twelve_per_page(as_user, org):
    for i in range(13):
        ChallengeFactory(organisation=org, title=f"Numbered {i:02d}")
    client = as_user(None)
    first = _text(client.get("/challenges/"))
    second = _text(client.get("/challenges/?page=2"))
    assert first.count('class="challenge-card"') == 12
    assert second.count('class="challenge-card"') == 1
    assert "Page 2 of 2" in second
    assert "Numbered 00" in second  # oldest last


def test_list_htmx_request_gets_only_the_results(as_user, challenge):
    response = as_user(None).get("/challenges/?q=green", HTTP_HX_REQUEST="true")
    html = _text(response)
    assert "<html" not in html
    assert "Green packaging" in html


def test_list_hides_internal_challenges_from_outsiders(as_user, org, outsider, employee):
    ChallengeFactory(organisation=org, title="Employees only", visibility="internal")
    assert "Employees only" not in _text(as_user(outsider).get("/challenges/"))
    assert "Employees only" in _text(as_user(employee).get("/challenges/"))


# Detail ---------------------------------------------------------------------------------------


def test_detail_for_a_visitor(as_user, org):
    ChallengeFactory(
        organisation=org,
        title="Green packaging",
        slug="green-packaging",
        description="**Bold** <script>alert(1)</script> [x](javascript:alert(1))",
        terms="No NDA needed.",
    )
    html = _text(as_user(None).get("/challenges/green-packaging/"))
    assert "<h1>Green packaging</h1>" in html
    assert "<strong>Bold</strong>" in html
    assert "<script>alert" not in html
    assert 'href="javascript' not in html
    assert "No NDA needed." in html
    assert 'hx-get="/challenges/green-packaging/ideas/" hx-trigger="load"' in html
    assert '<a href="/challenges/green-packaging/ideas/">' in html  # fallback link
    assert "Log in to submit an idea" in html
    assert "Organiser controls" not in html
    assert 'data-testid="join"' not in html


def test_detail_timeline_highlights_the_current_phase_with_dates(as_user, org):
    ch = ChallengeFactory(organisation=org, slug="timed", phase="community", plan=["submission", "community", "review"])
    Phase.objects.filter(challenge=ch, kind="community").update(
        starts_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC), ends_at=datetime(2026, 3, 31, 17, 30, tzinfo=UTC)
    )
    html = _text(as_user(None).get("/challenges/timed/"))
    assert '<li class="done">' in html
    assert '<li class="current" aria-current="step">' in html
    assert '<li class="upcoming">' in html
    assert "31 Mar 2026, 17:30" in html
    assert html.index("Submission</strong>") < html.index("Community</strong>") < html.index("Review</strong>")


def test_detail_shows_times_in_the_viewers_time_zone(as_user, org):
    ch = ChallengeFactory(organisation=org, slug="tz", plan=["submission"])
    Phase.objects.filter(challenge=ch).update(ends_at=datetime(2026, 3, 31, 17, 30, tzinfo=UTC))
    person = UserFactory(timezone="Asia/Shanghai")
    assert "1 Apr 2026, 01:30" in _text(as_user(person).get("/challenges/tz/"))


def test_detail_for_a_participant_offers_join_and_submit(as_user, challenge, participant):
    html = _text(as_user(participant).get("/challenges/green-packaging/"))
    assert 'href="/challenges/green-packaging/ideas/new/"' in html
    assert 'action="/challenges/green-packaging/join/"' in html
    assert '<input type="hidden" name="join" value="1">' in html
    assert "Organiser controls" not in html


def test_detail_shows_joined_state_for_a_follower(as_user, challenge, participant):
    from opencall.community.models import Follow

    Follow.objects.create(user=participant, challenge=challenge)
    html = _text(as_user(participant).get("/challenges/green-packaging/"))
    assert '<input type="hidden" name="join" value="0">' in html
    assert "Joined · leave" in html


def test_detail_hides_submit_outside_the_submission_phase(as_user, org, participant):
    ChallengeFactory(organisation=org, slug="reviewing", phase="review")
    html = _text(as_user(participant).get("/challenges/reviewing/"))
    assert "/ideas/new/" not in html


def test_detail_organiser_controls(as_user, challenge, organiser, judge):
    html = _text(as_user(organiser).get("/challenges/green-packaging/"))
    assert "Organiser controls" in html
    assert 'href="/challenges/green-packaging/edit/"' in html
    assert 'action="/challenges/green-packaging/advance/"' in html
    assert "Advance to Community…" in html
    assert "Judy Judge</a> · Judge" in html


def test_internal_and_draft_challenges_are_not_found_for_outsiders(as_user, org, outsider, organiser):
    ChallengeFactory(organisation=org, slug="inside", visibility="internal")
    ChallengeFactory(organisation=org, slug="draft", phase="draft")
    assert as_user(outsider).get("/challenges/inside/").status_code == 404
    assert as_user(None).get("/challenges/draft/").status_code == 404
    assert as_user(organiser).get("/challenges/draft/").status_code == 200


# Create and edit ------------------------------------------------------------------------------


def test_create_saves_everything(as_user, org, organiser, other_org):
    response = as_user(organiser).post("/organisations/northwind/challenges/new/", _valid_form(sponsors="contoso"))
    assert response.status_code == 302
    ch = Challenge.objects.get(title="Smart shelves")
    assert response["Location"] == f"/challenges/{ch.slug}/phases/"
    assert ch.budget_minor == 123456
    assert ch.currency == "EUR"
    assert ch.phase == "draft"
    assert sorted(c.name for c in ch.categories.all()) == ["IoT", "Retail experience"]
    assert [(f.key, f.kind, f.required, f.choices, f.help_text) for f in ch.custom_fields.all()] == [
        ("market-size", "number", True, [], "Yearly, in euros"),
        ("stage", "choice", False, ["idea", "prototype", "product"], ""),
    ]
    assert [o.slug for o in ch.sponsors.all()] == ["contoso"]
    assert AuditEvent.objects.filter(verb="challenge.create").count() == 1


def test_create_converts_budget_for_zero_decimal_currencies(as_user, org, organiser):
    as_user(organiser).post("/organisations/northwind/challenges/new/", _valid_form(budget="50000", currency="JPY"))
    assert Challenge.objects.get().budget_minor == 50000


def test_create_invite_only_with_people_and_organisations(as_user, org, organiser, other_org, participant):
    response = as_user(organiser).post(
        "/organisations/northwind/challenges/new/",
        _valid_form(visibility="invite_only", invited_emails="PAULA@example.org", invited_organisations="contoso"),
    )
    assert response.status_code == 302
    ch = Challenge.objects.get()
    assert list(ch.invited_users.all()) == [participant]
    assert list(ch.invited_organisations.all()) == [other_org]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "x" * 161}, "title", "Ensure this value has at most 160 characters (it has 161)."),
        ({"title": ""}, "title", "This field is required."),
        ({"summary": "y" * 301}, "summary", "Ensure this value has at most 300 characters (it has 301)."),
        ({"budget": "-5"}, "budget", "Ensure this value is greater than or equal to 0."),
        ({"budget": "ten"}, "budget", "Enter a number."),
        ({"budget": "10.555"}, "budget", "Ensure that there are no more than 2 decimal places."),
        ({"budget": "10.5", "currency": "JPY"}, "budget", "JPY takes 0 decimal places."),
        ({"currency": "XXX"}, "currency", "Select a valid choice. XXX is not one of the available choices."),
        ({"visibility": "secret"}, "visibility", "Select a valid choice. secret is not one of the available choices."),
        ({"sponsors": "nobody-inc"}, "sponsors", "Unknown organisation: nobody-inc"),
        ({"invited_emails": "not-an-email"}, "invited_emails", "Not an email address: not-an-email"),
        ({"invited_emails": "ghost@example.org"}, "invited_emails", "No account has verified these addresses: ghost@example.org"),
        ({"fields-1-choices": ""}, "choices", "A choice field needs at least one option."),
        ({"fields-0-key": "Market Size!"}, "key", "Enter a valid “slug” consisting of letters, numbers,"),
        ({"fields-0-help_text": "h" * 201}, "help_text", "Ensure this value has at most 200 characters (it has 201)."),
        ({"description": "d" * 20001}, "description", "Ensure this value has at most 20000 characters"),
    ],
)
def test_create_bad_input_is_shown_on_the_form_and_nothing_is_saved(as_user, org, organiser, overrides, field, message):
    response = as_user(organiser).post("/organisations/northwind/challenges/new/", _valid_form(**overrides))
    assert response.status_code == 422
    assert message in _text(response)
    assert 'class="error" role="alert"' in _text(response)
    assert Challenge.objects.count() == 0
    assert CustomField.objects.count() == 0


def test_create_duplicate_custom_field_keys_are_an_action_error(as_user, org, organiser):
    response = as_user(organiser).post(
        "/organisations/northwind/challenges/new/", _valid_form(**{"fields-1-key": "market-size"})
    )
    assert response.status_code == 422
    assert "Field keys must be unique." in _text(response)
    assert Challenge.objects.count() == 0


def test_create_is_for_organisers_only(as_user, org, employee, participant):
    assert as_user(employee).post("/organisations/northwind/challenges/new/", _valid_form()).status_code == 403
    assert as_user(participant).get("/organisations/northwind/challenges/new/").status_code == 403
    anonymous = as_user(None).get("/organisations/northwind/challenges/new/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert Challenge.objects.count() == 0


def test_edit_form_is_prefilled(as_user, challenge, organiser):
    CustomFieldFactory(
        challenge=challenge, key="stage", label="Stage", kind="choice", choices=["a", "b"], help_text="Pick one"
    )
    html = _text(as_user(organiser).get("/challenges/green-packaging/edit/"))
    assert 'value="Green packaging"' in html
    assert 'value="100000.00"' in html
    assert 'value="AI, Logistics"' in html
    assert 'value="stage"' in html and 'value="a, b"' in html
    assert 'value="Pick one"' in html


def test_edit_saves_fields_keeps_answers_of_kept_custom_fields(as_user, challenge, organiser, idea):
    from opencall.ideas.models import FieldAnswer

    field = CustomFieldFactory(challenge=challenge, key="stage", label="Stage")
    FieldAnswer.objects.create(idea=idea, field=field, value="prototype")
    data = _valid_form(
        title="Greener packaging",
        budget="",
        categories="Packaging",
        **{
            "fields-TOTAL_FORMS": "1",
            "fields-0-key": "stage",
            "fields-0-label": "Stage of the idea",
            "fields-0-kind": "text",
        },
    )
    response = as_user(organiser).post("/challenges/green-packaging/edit/", data)
    assert response.status_code == 302
    challenge.refresh_from_db()
    assert challenge.title == "Greener packaging"
    assert challenge.budget_minor is None
    assert [c.name for c in challenge.categories.all()] == ["Packaging"]
    assert [(f.key, f.label) for f in challenge.custom_fields.all()] == [("stage", "Stage of the idea")]
    assert FieldAnswer.objects.get(idea=idea).value == "prototype"


def test_edit_that_fails_late_changes_nothing(as_user, challenge, organiser):
    """The custom-field check runs after the field update inside one transaction: all or nothing."""
    response = as_user(organiser).post(
        "/challenges/green-packaging/edit/", _valid_form(title="Changed", **{"fields-1-key": "market-size"})
    )
    assert response.status_code == 422
    challenge.refresh_from_db()
    assert challenge.title == "Green packaging"
    assert challenge.custom_fields.count() == 0


def test_edit_rejects_the_organiser_as_its_own_sponsor(as_user, challenge, organiser):
    response = as_user(organiser).post("/challenges/green-packaging/edit/", _valid_form(sponsors="northwind"))
    assert response.status_code == 422
    assert "The organising organisation is already in charge." in _text(response)
    assert challenge.sponsors.count() == 0


def test_edit_is_for_organisers_only(as_user, challenge, judge, employee):
    assert as_user(judge).get("/challenges/green-packaging/edit/").status_code == 403
    assert as_user(employee).post("/challenges/green-packaging/edit/", _valid_form()).status_code == 403
    challenge.refresh_from_db()
    assert challenge.title == "Green packaging"


# Phases and advancing -------------------------------------------------------------------------


def test_phase_plan_saves_chosen_phases_with_dates(as_user, challenge, organiser):
    response = as_user(organiser).post(
        "/challenges/green-packaging/phases/",
        {
            "submission_on": "on",
            "submission_start": "2026-01-01T09:00",
            "submission_end": "2026-02-01T09:00",
            "review_on": "on",
            "review_start": "2026-02-02T09:00",
            "review_end": "",
        },
    )
    assert response.status_code == 302
    assert [(p.kind, p.starts_at, p.ends_at) for p in sorted(challenge.phases.all(), key=lambda p: p.position)] == [
        ("submission", datetime(2026, 1, 1, 9, tzinfo=UTC), datetime(2026, 2, 1, 9, tzinfo=UTC)),
        ("review", datetime(2026, 2, 2, 9, tzinfo=UTC), None),
    ]


def test_phase_plan_reads_times_in_the_organisers_zone(as_user, challenge, organiser):
    organiser.timezone = "Europe/Berlin"
    organiser.save()
    as_user(organiser).post(
        "/challenges/green-packaging/phases/", {"submission_on": "on", "submission_end": "2026-07-01T12:00"}
    )
    assert challenge.phases.get().ends_at == datetime(2026, 7, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"submission_on": "on", "submission_start": "2026-02-01T09:00", "submission_end": "2026-01-01T09:00"},
            "Phase submission ends before it starts.",
        ),
        ({}, "A plan needs at least one phase."),
        ({"review_on": "on"}, "The current phase cannot be removed from the plan."),
        ({"submission_on": "on", "submission_end": "tomorrow"}, "Enter a valid date/time."),
    ],
)
def test_phase_plan_bad_input(as_user, challenge, organiser, data, message):
    response = as_user(organiser).post("/challenges/green-packaging/phases/", data)
    assert response.status_code == 422
    assert message in _text(response)
    assert challenge.phases.count() == 6


def test_advance_moves_to_the_next_phase(as_user, challenge, organiser):
    response = as_user(organiser).post("/challenges/green-packaging/advance/", follow=True)
    challenge.refresh_from_db()
    assert challenge.phase == "community"
    assert "The challenge is now in the Community phase." in _text(response)


def test_advance_is_post_only_and_for_organisers(as_user, challenge, organiser, participant):
    assert as_user(organiser).get("/challenges/green-packaging/advance/").status_code == 405
    assert as_user(participant).post("/challenges/green-packaging/advance/").status_code == 403
    challenge.refresh_from_db()
    assert challenge.phase == "submission"


def test_advance_a_closed_challenge_is_a_conflict(as_user, org, organiser):
    ChallengeFactory(organisation=org, slug="done", phase="closed")
    response = as_user(organiser).post("/challenges/done/advance/")
    assert response.status_code == 403  # nobody may advance a closed challenge
    assert Challenge.objects.get(slug="done").phase == "closed"


# Roles ----------------------------------------------------------------------------------------


def test_roles_add_a_judge_by_email(as_user, challenge, organiser, participant):
    response = as_user(organiser).post(
        "/challenges/green-packaging/roles/", {"email": "Paula@Example.org", "kind": "judge"}
    )
    assert response.status_code == 302
    assert list(ChallengeRole.objects.values_list("user__email", "kind")) == [("paula@example.org", "judge")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "ghost@example.org", "kind": "judge"}, "No account has verified this email address."),
        ({"email": "nope", "kind": "judge"}, "Enter a valid email address."),
        ({"email": "paula@example.org", "kind": "king"}, "Select a valid choice."),
    ],
)
def test_roles_bad_input(as_user, challenge, organiser, participant, data, message):
    response = as_user(organiser).post("/challenges/green-packaging/roles/", data)
    assert response.status_code == 422
    assert message in _text(response)
    assert ChallengeRole.objects.count() == 0


def test_roles_duplicate_is_shown_on_the_form(as_user, challenge, organiser, judge):
    response = as_user(organiser).post("/challenges/green-packaging/roles/", {"email": judge.email, "kind": "judge"})
    assert response.status_code == 422
    assert "Judy Judge is already a judge." in _text(response)
    assert ChallengeRole.objects.count() == 1


def test_roles_for_organisers_only(as_user, challenge, judge, participant):
    response = as_user(judge).post("/challenges/green-packaging/roles/", {"email": participant.email, "kind": "judge"})
    assert response.status_code == 403
    assert ChallengeRole.objects.filter(user=participant).count() == 0


# Cover ----------------------------------------------------------------------------------------


def _png(size=(40, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 60)).save(buf, format="PNG")
    return buf.getvalue()


def test_cover_upload(as_user, challenge, organiser):
    upload = SimpleUploadedFile("cover.png", _png(), content_type="image/png")
    response = as_user(organiser).post("/challenges/green-packaging/cover/", {"cover_image": upload})
    assert response.status_code == 302
    challenge.refresh_from_db()
    assert challenge.cover_image.name.startswith("covers/") and challenge.cover_image.name.endswith(".png")
    # The cover view (which checks who may see the challenge), never the storage path (issue 13, finding 1).
    assert f'src="{challenge.cover_url}"' in _text(as_user(None).get("/challenges/green-packaging/"))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("cover.png", b"<script>alert(1)</script>", "Upload a valid image."),
        ("cover.txt", b"plain text", "Upload a valid image."),
    ],
)
def test_cover_rejects_non_images(as_user, challenge, organiser, name, content, message):
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    response = as_user(organiser).post("/challenges/green-packaging/cover/", {"cover_image": upload})
    assert response.status_code == 422
    assert message in _text(response)
    challenge.refresh_from_db()
    assert not challenge.cover_image


def test_cover_rejects_oversized_images(as_user, challenge, organiser):
    big = _png() + b"\0" * (2 * 1024 * 1024)  # a valid PNG padded past the limit
    upload = SimpleUploadedFile("big.png", big, content_type="image/png")
    response = as_user(organiser).post("/challenges/green-packaging/cover/", {"cover_image": upload})
    assert response.status_code == 422
    assert "At most 2 MB." in _text(response)
    challenge.refresh_from_db()
    assert not challenge.cover_image


def test_cover_for_organisers_only(as_user, challenge, participant):
    upload = SimpleUploadedFile("cover.png", _png(), content_type="image/png")
    assert as_user(participant).post("/challenges/green-packaging/cover/", {"cover_image": upload}).status_code == 403
    challenge.refresh_from_db()
    assert challenge.cover_image.name == ""  # nothing stored


def test_other_organisations_organiser_cannot_edit(as_user, challenge):
    stranger = UserFactory()
    from tests.factories import MembershipFactory

    MembershipFactory(organisation=OrganisationFactory(), user=stranger, role="owner")
    client = as_user(stranger)
    assert client.get("/challenges/green-packaging/phases/").status_code == 403
    before = sorted(challenge.phases.values_list("kind", flat=True))
    assert client.post("/challenges/green-packaging/phases/", {"submission": "on"}).status_code == 403
    assert sorted(challenge.phases.values_list("kind", flat=True)) == before


def test_list_embedded_in_another_page_drops_the_counter(as_user, challenge):
    html = _text(
        as_user(None).get(
            "/challenges/?organisation=northwind", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="org-challenges"
        )
    )
    assert "Green packaging" in html
    assert "Clear filters" not in html and "1 challenge" not in html


def test_form_errors_are_tied_to_their_inputs(as_user, org, organiser):
    html = _text(
        as_user(organiser).post(
            "/organisations/northwind/challenges/new/", _valid_form(title="", **{"fields-0-label": ""})
        )
    )
    assert 'aria-invalid="true" aria-describedby="id_title_error"' in html
    assert '<small class="error" role="alert" id="id_title_error">This field is required.</small>' in html
    assert 'aria-describedby="id_fields-0-label_error"' in html
    assert 'id="id_fields-0-label_error">This field is required.</small>' in html


def test_create_with_a_cover(as_user, org, organiser):
    upload = SimpleUploadedFile("c.png", _png(), content_type="image/png")
    response = as_user(organiser).post(
        "/organisations/northwind/challenges/new/", {**_valid_form(), "cover_image": upload}
    )
    assert response.status_code == 302
    assert Challenge.objects.get().cover_image.name.endswith(".png")


def test_create_with_an_oversized_cover_saves_nothing(as_user, org, organiser):
    upload = SimpleUploadedFile("c.png", _png() + b"\0" * (2 * 1024 * 1024), content_type="image/png")
    response = as_user(organiser).post(
        "/organisations/northwind/challenges/new/", {**_valid_form(), "cover_image": upload}
    )
    assert response.status_code == 422
    assert "At most 2 MB." in _text(response)
    assert Challenge.objects.count() == 0


def test_edit_with_a_fake_image_changes_nothing(as_user, challenge, organiser):
    upload = SimpleUploadedFile("c.png", b"GIF89a not really", content_type="image/png")
    response = as_user(organiser).post(
        "/challenges/green-packaging/edit/", {**_valid_form(title="Changed"), "cover_image": upload}
    )
    assert response.status_code == 422
    assert "Upload a valid image." in _text(response)
    challenge.refresh_from_db()
    assert challenge.title == "Green packaging" and not challenge.cover_image


def test_roles_remove(as_user, challenge, organiser, judge, participant):
    role = ChallengeRole.objects.get(user=judge)
    page = _text(as_user(organiser).get("/challenges/green-packaging/roles/"))
    assert f'<input type="hidden" name="remove" value="{role.pk}">' in page
    assert as_user(participant).post("/challenges/green-packaging/roles/", {"remove": role.pk}).status_code == 403
    assert as_user(organiser).post("/challenges/green-packaging/roles/", {"remove": "999999"}).status_code == 404
    assert as_user(organiser).post("/challenges/green-packaging/roles/", {"remove": "x"}).status_code == 404
    response = as_user(organiser).post("/challenges/green-packaging/roles/", {"remove": role.pk}, follow=True)
    assert "Role removed." in _text(response)
    assert ChallengeRole.objects.count() == 0
    assert AuditEvent.objects.filter(verb="challenge.role_remove").count() == 1


def test_edit_roundtrip_without_changes_keeps_everything(as_user, org, organiser, other_org, participant):
    ch = ChallengeFactory(organisation=org, slug="round", visibility="invite_only", currency="JPY", budget_minor=5000)
    ch.sponsors.set([other_org])
    ch.invited_users.set([participant])
    CustomFieldFactory(challenge=ch, key="prototype_url", label="Prototype", kind="url", help_text="A link")
    client = as_user(organiser)
    page = client.get("/challenges/round/edit/")
    form, fields = page.context["form"], page.context["fields"]
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update(
        {
            "fields-TOTAL_FORMS": str(len(fields.forms)),
            "fields-INITIAL_FORMS": str(len(fields.initial)),
            "fields-MIN_NUM_FORMS": "0",
            "fields-MAX_NUM_FORMS": "20",
        }
    )
    for i, initial in enumerate(fields.initial):
        for key, value in initial.items():
            if key == "required":
                if value:
                    data[f"fields-{i}-{key}"] = "on"
            else:
                data[f"fields-{i}-{key}"] = value
    for i in range(len(fields.initial), len(fields.forms)):
        data[f"fields-{i}-kind"] = "text"  # what a browser sends for the blank row's select
    response = client.post("/challenges/round/edit/", data)
    assert response.status_code == 302, _text(response)
    ch.refresh_from_db()
    assert (ch.budget_minor, ch.currency, ch.visibility) == (5000, "JPY", "invite_only")
    assert [o.slug for o in ch.sponsors.all()] == ["contoso"]
    assert list(ch.invited_users.all()) == [participant]
    assert [(f.key, f.kind, f.help_text) for f in ch.custom_fields.all()] == [("prototype_url", "url", "A link")]


def test_home_lists_the_challenges_a_person_joined(as_user, org, challenge, participant):
    from opencall.community.models import Follow

    hidden = ChallengeFactory(organisation=org, title="Now internal", visibility="internal")
    Follow.objects.create(user=participant, challenge=challenge)
    Follow.objects.create(user=participant, challenge=hidden)
    html = _text(as_user(participant).get("/"))
    joined = html[html.index('id="joined-heading"') : html.index('id="open-heading"')]
    assert '<a href="/challenges/green-packaging/">Green packaging</a>' in joined
    assert "Now internal" not in joined
    assert 'id="joined-heading"' not in _text(as_user(UserFactory()).get("/"))


def test_detail_query_count_does_not_grow_with_sponsors_and_judges(as_user, challenge, organiser):
    from tests.factories import make_role

    client = as_user(organiser)
    challenge.sponsors.add(OrganisationFactory())
    make_role(challenge, UserFactory(), "judge")
    one, _ = _count_queries(client, "/challenges/green-packaging/")
    for _i in range(2):
        challenge.sponsors.add(OrganisationFactory())
        make_role(challenge, UserFactory(), "judge")
    three, html = _count_queries(client, "/challenges/green-packaging/")
    assert html.count(" · Judge</li>") == 3
    assert one == three
