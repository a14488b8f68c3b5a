"""Challenges through the API: search, detail, create/edit by organisers, phase plan and advance."""

from __future__ import annotations

import re

import pytest

from opencall.challenges.models import Challenge, CustomField
from opencall.core.models import AuditEvent
from tests.api.conftest import assert_problem, iso
from tests.factories import ChallengeFactory, CustomFieldFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def detail_json(challenge, *, rights=None, idea_count=0):
    return {
        "slug": challenge.slug,
        "title": challenge.title,
        "summary": challenge.summary,
        "organisation": {"slug": challenge.organisation.slug, "name": challenge.organisation.name},
        "visibility": challenge.visibility,
        "phase": challenge.phase,
        "phase_label": challenge.get_phase_display(),
        "categories": ["AI", "Logistics"],
        "budget_minor": challenge.budget_minor,
        "currency": "EUR",
        "idea_count": idea_count,
        "created_at": iso(challenge.created_at),
        "description": challenge.description,
        "description_html": f"<p>{challenge.description}</p>\n",
        "terms": "",
        "terms_html": "",
        "cover_image": None,
        "sponsors": [],
        "phases": [
            {"kind": k, "label": k.capitalize(), "starts_at": None, "ends_at": None}
            for k in ("submission", "community", "review", "funding", "results", "tracking")
        ],
        "allowed_actions": ["comment", "edit", "submit"],
        "custom_fields": [],
        "you": rights or {"edit": False, "advance_phase": False, "submit_idea": False, "comment": False, "vote": False},
    }


def test_detail_for_a_visitor(api, challenge, idea):
    response = api().get("/api/challenges/green-packaging")
    assert response.status_code == 200
    assert response.json() == detail_json(challenge, idea_count=1)


def test_detail_rights_for_participant_and_organiser(api, challenge, participant, organiser):
    CustomFieldFactory(
        challenge=challenge, key="market", label="Market size", kind="number", required=True, help_text="In EUR"
    )
    body = api(participant).get("/api/challenges/green-packaging").json()
    assert body["you"] == {"edit": False, "advance_phase": False, "submit_idea": True, "comment": True, "vote": False}
    assert body["custom_fields"] == [
        {
            "key": "market",
            "label": "Market size",
            "kind": "number",
            "required": True,
            "choices": [],
            "help_text": "In EUR",
        }
    ]
    assert api(organiser).get("/api/challenges/green-packaging").json()["you"] == {
        "edit": True,
        "advance_phase": True,
        "submit_idea": True,
        "comment": True,
        "vote": False,
    }


def test_internal_invite_only_and_draft_challenges_are_404_to_outsiders(api, org, outsider, employee):
    ChallengeFactory(organisation=org, slug="internal-round", visibility="internal")
    ChallengeFactory(organisation=org, slug="secret", visibility="invite_only")
    ChallengeFactory(organisation=org, slug="draft", phase="draft")
    for slug in ("internal-round", "secret", "draft"):
        assert_problem(
            api(outsider).get(f"/api/challenges/{slug}"),
            404,
            "not-found",
            detail="No such challenge, or it is not visible to you.",
        )
        assert_problem(api().get(f"/api/challenges/{slug}"), 404, "not-found")
    assert api(employee).get("/api/challenges/internal-round").status_code == 200
    assert [c["slug"] for c in api(outsider).get("/api/challenges").json()["items"]] == []
    assert sorted(c["slug"] for c in api(employee).get("/api/challenges").json()["items"]) == [
        "internal-round",
        "secret",
    ]


def test_list_filters_and_pagination(api, org, other_org):
    a = ChallengeFactory(organisation=org, title="Smart shelves", slug="smart-shelves", categories=["IoT"])
    b = ChallengeFactory(organisation=other_org, title="Green boxes", slug="green-boxes", phase="community")
    c = ChallengeFactory(organisation=org, title="Last mile", slug="last-mile", summary="Green delivery")
    client = api()

    def slugs(**params):
        return [x["slug"] for x in client.get("/api/challenges", params).json()["items"]]

    assert slugs() == [c.slug, b.slug, a.slug]
    assert slugs(q="green") == [c.slug, b.slug]
    assert slugs(phase="community") == [b.slug]
    assert slugs(organisation="northwind") == [c.slug, a.slug]
    assert slugs(category="iot") == [a.slug]
    assert slugs(visibility="public", limit=1, offset=1) == [b.slug]
    page = client.get("/api/challenges", {"limit": 2}).json()
    assert (page["count"], len(page["items"])) == (3, 2)
    assert page["items"][0] == {
        "slug": "last-mile",
        "title": "Last mile",
        "summary": "Green delivery",
        "organisation": {"slug": "northwind", "name": "Northwind Retail"},
        "visibility": "public",
        "phase": "submission",
        "phase_label": "Submission",
        "categories": ["AI", "Logistics"],
        "budget_minor": 10_000_000,
        "currency": "EUR",
        "idea_count": 0,
        "created_at": iso(c.created_at),
    }


def test_list_filter_bad_values(api):
    assert_problem(api().get("/api/challenges", {"phase": "voting"}), 422, "invalid-input")
    assert_problem(
        api().get("/api/challenges", {"q": "x" * 201}),
        422,
        "invalid-input",
        errors={"q": ["String should have at most 200 characters"]},
    )


CREATE = {
    "organisation": "northwind",
    "title": "Zero-waste stores",
    "summary": "Cut packaging in our stores.",
    "description": "Details <script>alert(1)</script>",
    "terms": "You keep your IP.",
    "budget_minor": 500000,
    "currency": "EUR",
    "visibility": "public",
    "categories": ["Retail", "Green packaging"],
    "phases": [
        {"kind": "submission", "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-02-01T00:00:00Z"},
        {"kind": "community"},
        {"kind": "results"},
    ],
    "custom_fields": [
        {"key": "stage", "label": "Stage", "kind": "choice", "required": True, "choices": ["idea", "prototype"]}
    ],
}


def test_organiser_creates_a_challenge(api, organiser, org):
    response = api(organiser).post("/api/challenges", CREATE)
    assert response.status_code == 201
    body = response.json()
    challenge = Challenge.objects.get(slug="zero-waste-stores")
    assert body["slug"] == "zero-waste-stores"
    assert body["phase"] == "draft"
    assert body["description_html"] == "<p>Details &lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    assert body["terms_html"] == "<p>You keep your IP.</p>\n"
    assert body["categories"] == ["Green packaging", "Retail"]
    assert body["phases"] == [
        {
            "kind": "submission",
            "label": "Submission",
            "starts_at": "2030-01-01T00:00:00Z",
            "ends_at": "2030-02-01T00:00:00Z",
        },
        {"kind": "community", "label": "Community", "starts_at": None, "ends_at": None},
        {"kind": "results", "label": "Results", "starts_at": None, "ends_at": None},
    ]
    assert body["custom_fields"] == [
        {
            "key": "stage",
            "label": "Stage",
            "kind": "choice",
            "required": True,
            "choices": ["idea", "prototype"],
            "help_text": "",
        }
    ]
    assert body["allowed_actions"] == []
    assert challenge.created_by == organiser
    assert AuditEvent.objects.filter(verb="challenge.create", object_id=str(challenge.pk)).exists()


def test_create_refused_for_non_organisers(api, employee, outsider, participant):
    for user in (employee, outsider, participant):
        assert_problem(
            api(user).post("/api/challenges", CREATE),
            403,
            "permission-denied",
            detail="Only the organisation's owners and organisers create challenges.",
        )
    assert_problem(api().post("/api/challenges", CREATE), 401, "not-authenticated")
    assert Challenge.objects.count() == 0


def test_create_bad_input_saves_nothing(api, organiser):
    client = api(organiser)
    assert_problem(
        client.post("/api/challenges", {**CREATE, "organisation": "nope"}),
        422,
        "invalid-input",
        errors={"organisation": ["No organisation has this slug."]},
    )
    assert_problem(
        client.post("/api/challenges", {**CREATE, "title": "x" * 161}),
        422,
        "invalid-input",
        errors={"title": ["String should have at most 160 characters"]},
    )
    assert_problem(
        client.post("/api/challenges", {**CREATE, "budget_minor": -1}),
        422,
        "invalid-input",
        errors={"budget_minor": ["Input should be greater than or equal to 0"]},
    )
    assert_problem(
        client.post("/api/challenges", {**CREATE, "budget_minor": "lots"}),
        422,
        "invalid-input",
        errors={"budget_minor": ["Input should be a valid integer"]},
    )
    assert_problem(
        client.post("/api/challenges", {**CREATE, "currency": "XXX"}),
        422,
        "invalid-input",
        errors={"currency": ["One of EUR, USD, GBP, CNY, JPY, CHF, PLN, SEK."]},
    )
    assert_problem(
        client.post("/api/challenges", {**CREATE, "visibility": "secret"}),
        422,
        "invalid-input",
        errors={"visibility": ["Input should be 'public', 'internal' or 'invite_only'"]},
    )
    assert_problem(
        client.post("/api/challenges", {**CREATE, "phases": [{"kind": "review"}, {"kind": "submission"}]}),
        422,
        "invalid-input",
        errors={"phases": ["Phase 'submission' is out of order."]},
    )
    assert_problem(
        client.post(
            "/api/challenges",
            {
                **CREATE,
                "phases": [
                    {"kind": "submission", "starts_at": "2030-02-01T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}
                ],
            },
        ),
        422,
        "invalid-input",
        errors={"phases": ["Phase submission ends before it starts."]},
    )
    assert_problem(
        client.post(
            "/api/challenges", {**CREATE, "phases": [{"kind": "submission", "ends_at": "2030-01-01T00:00:00"}]}
        ),
        422,
        "invalid-input",
        errors={"phases.0.ends_at": ["Input should have timezone info"]},
    )
    assert_problem(
        client.post("/api/challenges", {**CREATE, "phases": [{"kind": "submission", "ends_at": "next week"}]}),
        422,
        "invalid-input",
    )
    assert_problem(
        client.post(
            "/api/challenges", {**CREATE, "custom_fields": [{"key": "stage", "label": "Stage", "kind": "choice"}]}
        ),
        422,
        "invalid-input",
        errors={"custom_fields": ["Field stage: a choice field needs choices."]},
    )
    assert_problem(
        client.post("/api/challenges", {k: v for k, v in CREATE.items() if k != "summary"}),
        422,
        "invalid-input",
        errors={"summary": ["This field is required."]},
    )
    assert Challenge.objects.count() == 0


def test_organiser_patches_a_challenge(api, organiser, challenge):
    response = api(organiser).patch(
        "/api/challenges/green-packaging",
        {"title": "Greener packaging", "categories": ["AI", "Materials"], "description": None},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["slug"], body["categories"], body["description"]) == (
        "Greener packaging",
        "green-packaging",
        ["AI", "Materials"],
        "",
    )
    challenge.refresh_from_db()
    assert challenge.title == "Greener packaging"


def test_patch_refused_and_bad_input(api, organiser, participant, challenge):
    assert_problem(
        api(participant).patch("/api/challenges/green-packaging", {"title": "Mine"}),
        403,
        "permission-denied",
        detail="Only organisers edit a challenge.",
    )
    assert_problem(
        api(organiser).patch("/api/challenges/green-packaging", {"title": None}),
        422,
        "invalid-input",
        errors={"title": ["This field cannot be null."]},
    )
    assert_problem(
        api(organiser).patch("/api/challenges/green-packaging", {"phase": "closed"}),
        422,
        "invalid-input",
        errors={"phase": ["Unknown field."]},
    )
    challenge.refresh_from_db()
    assert (challenge.title, challenge.phase) == ("Green packaging", "submission")


def test_advance_phase(api, organiser, participant, challenge):
    assert_problem(
        api(participant).post("/api/challenges/green-packaging/advance"),
        403,
        "permission-denied",
        detail="Only organisers advance the phase.",
    )
    body = api(organiser).post("/api/challenges/green-packaging/advance").json()
    assert (body["phase"], body["phase_label"], body["allowed_actions"]) == (
        "community",
        "Community",
        ["comment", "edit", "vote"],
    )
    challenge.refresh_from_db()
    assert challenge.phase == "community"
    challenge.phase = "closed"
    challenge.save()
    assert_problem(api(organiser).post("/api/challenges/green-packaging/advance"), 403, "permission-denied")


def test_phase_plan_and_custom_fields(api, organiser, challenge):
    client = api(organiser)
    body = client.put(
        "/api/challenges/green-packaging/phases", {"phases": [{"kind": "submission"}, {"kind": "review"}]}
    ).json()
    assert [p["kind"] for p in body["phases"]] == ["submission", "review"]
    assert_problem(
        client.put("/api/challenges/green-packaging/phases", {"phases": [{"kind": "review"}]}),
        409,
        "conflict",
        detail="The current phase cannot be removed from the plan.",
    )
    assert_problem(
        client.put("/api/challenges/green-packaging/phases", {"phases": []}),
        422,
        "invalid-input",
        errors={"phases": ["List should have at least 1 item after validation, not 0"]},
    )
    body = client.put(
        "/api/challenges/green-packaging/custom-fields",
        {"custom_fields": [{"key": "team-size", "label": "Team size", "kind": "number"}]},
    ).json()
    assert body["custom_fields"] == [
        {"key": "team-size", "label": "Team size", "kind": "number", "required": False, "choices": [], "help_text": ""}
    ]
    assert list(CustomField.objects.values_list("key", flat=True)) == ["team-size"]
    assert_problem(
        client.put(
            "/api/challenges/green-packaging/custom-fields",
            {"custom_fields": [{"key": "Team Size", "label": "Team size"}]},
        ),
        422,
        "invalid-input",
        errors={"custom_fields": ["Field 'Team Size': keys are lowercase slugs of at most 40 characters."]},
    )


def test_other_organisations_organiser_cannot_edit(api, challenge):
    other = OrganisationFactory(slug="rival")
    from tests.factories import MembershipFactory, UserFactory

    rival = UserFactory()
    MembershipFactory(organisation=other, user=rival, role="owner")
    assert_problem(api(rival).patch("/api/challenges/green-packaging", {"title": "x"}), 403, "permission-denied")
    assert_problem(api(rival).post("/api/challenges", {**CREATE}), 403, "permission-denied")


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), "green").save(buffer, format="PNG")
    return buffer.getvalue()


def test_cover_image_upload(api, organiser, participant, challenge):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = "/api/challenges/green-packaging/cover"
    response = api(organiser).client.post(url, {"file": SimpleUploadedFile("c.png", png_bytes())})
    assert response.status_code == 200, response.content
    challenge.refresh_from_db()
    # The view that checks who may see the challenge, never the storage path (issue 13, finding 1).
    assert response.json()["cover_image"] == challenge.cover_url
    assert re.fullmatch(r"/challenges/green-packaging/cover/image\?v=[0-9a-f]{12}", challenge.cover_url)
    # Storage may add a suffix when another test stored the same name in the shared test media folder.
    assert re.fullmatch(r"covers/\d{4}/\d{2}/green-packaging(_\w+)?\.png", challenge.cover_image.name)
    assert_problem(
        api(organiser).client.post(url, {"file": SimpleUploadedFile("c.png", b"not an image")}),
        422,
        "invalid-input",
        detail="That file is not an image.",
        errors={"cover_image": ["Upload a PNG, JPEG or WebP image."]},
    )
    assert_problem(
        api(organiser).client.post(url, {}), 422, "invalid-input", errors={"file": ["This field is required."]}
    )
    assert_problem(
        api(participant).client.post(url, {"file": SimpleUploadedFile("c.png", png_bytes())}),
        403,
        "permission-denied",
        detail="Only organisers change the cover.",
    )


def test_judges_and_moderators(api, organiser, participant, judge, challenge):
    from opencall.challenges.models import ChallengeRole

    client = api(organiser)
    url = "/api/challenges/green-packaging/roles"
    response = client.post(url, {"user_id": participant.pk, "kind": "moderator"})
    assert response.status_code == 201
    role = ChallengeRole.objects.get(user=participant)
    assert response.json() == {
        "id": role.pk,
        "user": {"id": participant.pk, "display_name": "Paula Participant"},
        "kind": "moderator",
    }
    judge_role = ChallengeRole.objects.get(user=judge)
    assert client.get(url).json() == {
        "count": 2,
        "limit": 20,
        "offset": 0,
        "items": [
            {"id": judge_role.pk, "user": {"id": judge.pk, "display_name": "Judy Judge"}, "kind": "judge"},
            {"id": role.pk, "user": {"id": participant.pk, "display_name": "Paula Participant"}, "kind": "moderator"},
        ],
    }
    assert_problem(
        client.post(url, {"user_id": participant.pk, "kind": "moderator"}),
        409,
        "conflict",
        detail="Paula Participant is already a moderator.",
    )
    assert_problem(
        client.post(url, {"user_id": participant.pk, "kind": "king"}),
        422,
        "invalid-input",
        errors={"kind": ["Input should be 'judge' or 'moderator'"]},
    )
    assert_problem(
        client.post(url, {"user_id": 999999, "kind": "judge"}),
        422,
        "invalid-input",
        errors={"user_id": ["No active account has this id."]},
    )
    assert_problem(
        api(participant).get(url), 403, "permission-denied", detail="Only organisers see the judges and moderators."
    )
    assert_problem(api(participant).post(url, {"user_id": participant.pk, "kind": "judge"}), 403, "permission-denied")
    assert client.delete(f"{url}/{role.pk}").status_code == 204
    assert_problem(client.delete(f"{url}/{role.pk}"), 404, "not-found", detail="No such role on this challenge.")
    assert list(ChallengeRole.objects.values_list("user_id", flat=True)) == [judge.pk]
