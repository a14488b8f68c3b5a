"""Organisation pages: list, detail per persona, create, invite, role change, invitation accept."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opencall.organisations.models import Invitation, Membership, Organisation
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), _text(response)


def test_list_shows_names_and_member_counts(as_user, organiser, employee, other_org):
    html = _text(as_user(None).get("/organisations/"))
    assert "<strong>Northwind Retail</strong>" in html
    assert "· 2 members" in html
    assert "· 0 members" in html  # Contoso has nobody in this test


def test_list_query_count_does_not_grow(as_user, participant):
    client = as_user(participant)
    OrganisationFactory()
    one, _ = _count(client, "/organisations/")
    OrganisationFactory()
    OrganisationFactory()
    three, html = _count(client, "/organisations/")
    assert html.count('href="/organisations/org-') == 3
    assert one == three


def test_detail_members_visible_to_members_only(as_user, org, organiser, employee, outsider):
    member_view = _text(as_user(employee).get("/organisations/northwind/"))
    assert "Olivia Organiser</a>" in member_view and "Evan Employee</a>" in member_view
    assert "You are member" in member_view
    assert 'name="role"' not in member_view  # only owners change roles
    outside_view = _text(as_user(outsider).get("/organisations/northwind/"))
    assert "Olivia Organiser" not in outside_view
    assert "2 members" in outside_view
    assert 'hx-get="/challenges/?organisation=northwind"' in outside_view


def test_detail_member_list_query_count_does_not_grow(as_user, org, organiser):
    client = as_user(organiser)
    one, _ = _count(client, "/organisations/northwind/")
    MembershipFactory(organisation=org)
    MembershipFactory(organisation=org)
    three, html = _count(client, "/organisations/northwind/")
    assert html.count('<select id="role-') == 3
    assert one == three


def test_detail_owner_sees_role_forms_invite_and_new_challenge(as_user, org, organiser, employee):
    Invitation.objects.create(organisation=org, email="pending@example.org", role="organiser")
    html = _text(as_user(organiser).get("/organisations/northwind/"))
    membership = Membership.objects.get(user=employee)
    assert f'action="/organisations/northwind/members/{membership.pk}/role/"' in html
    assert 'href="/organisations/northwind/challenges/new/"' in html
    assert "pending@example.org · Organiser" in html


def test_detail_unknown_is_404(as_user):
    response = as_user(None).get("/organisations/nope/")
    assert response.status_code == 404
    assert "No such organisation." in _text(response)


def test_create_makes_the_creator_owner(as_user, participant):
    response = as_user(participant).post(
        "/organisations/new/", {"name": "Fjord University", "description": "Research *lab*", "website": "fjord.example"}
    )
    org = Organisation.objects.get(name="Fjord University")
    assert response["Location"] == f"/organisations/{org.slug}/"
    assert org.slug == "fjord-university"
    assert org.website == "https://fjord.example"
    assert list(Membership.objects.filter(organisation=org).values_list("user_id", "role")) == [
        (participant.pk, "owner")
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "n" * 121}, "Ensure this value has at most 120 characters (it has 121)."),
        ({"name": ""}, "This field is required."),
        ({"name": "Ok", "website": "not a url"}, "Enter a valid URL."),
        ({"name": "Ok", "description": "d" * 5001}, "Ensure this value has at most 5000 characters"),
    ],
)
def test_create_bad_input(as_user, participant, data, message):
    response = as_user(participant).post("/organisations/new/", data)
    assert response.status_code == 422
    assert message in _text(response)
    assert Organisation.objects.count() == 0


def test_create_needs_login(as_user):
    response = as_user(None).post("/organisations/new/", {"name": "X"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Organisation.objects.count() == 0


def test_invite_sends_an_email_and_notifies_existing_people(
    as_user, org, organiser, participant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(organiser).post(
            "/organisations/northwind/invite/", {"email": "Paula@example.org", "role": "organiser"}
        )
    assert response.status_code == 302
    inv = Invitation.objects.get()
    assert (inv.email, inv.role, inv.invited_by) == ("paula@example.org", "organiser", organiser)
    assert len(mail.outbox) == 1
    assert f"/invitations/{inv.token}/" in mail.outbox[0].body
    assert participant.notifications.get().text == "Olivia Organiser invited you to join Northwind Retail"


@pytest.mark.parametrize(
    ("data", "message", "status"),
    [
        ({"email": "nope", "role": "member"}, "Enter a valid email address.", 422),
        ({"email": "a@b.org", "role": "king"}, "Select a valid choice. king is not one of the available choices.", 422),
        ({"email": "evan@northwind.example", "role": "member"}, "That person is already a member.", 422),
    ],
)
def test_invite_bad_input(as_user, org, organiser, employee, data, message, status):
    response = as_user(organiser).post("/organisations/northwind/invite/", data)
    assert response.status_code == status
    assert message in _text(response)
    assert Invitation.objects.count() == 0


def test_invite_owner_role_is_for_owners(as_user, org):
    org_organiser = UserFactory()
    MembershipFactory(organisation=org, user=org_organiser, role="organiser")
    response = as_user(org_organiser).post("/organisations/northwind/invite/", {"email": "x@y.org", "role": "owner"})
    assert response.status_code == 422
    assert "Choose member or organiser." in _text(response)
    assert Invitation.objects.count() == 0


def test_invite_is_for_managers(as_user, org, employee):
    assert (
        as_user(employee).post("/organisations/northwind/invite/", {"email": "x@y.org", "role": "member"}).status_code
        == 403
    )
    assert Invitation.objects.count() == 0


def test_role_change_by_owner(as_user, org, organiser, employee):
    membership = Membership.objects.get(user=employee)
    response = as_user(organiser).post(
        f"/organisations/northwind/members/{membership.pk}/role/", {"role": "organiser"}, follow=True
    )
    membership.refresh_from_db()
    assert membership.role == "organiser"
    assert "Evan Employee is now Organiser." in _text(response)


def test_role_change_keeps_the_last_owner(as_user, org, organiser):
    membership = Membership.objects.get(user=organiser)
    response = as_user(organiser).post(
        f"/organisations/northwind/members/{membership.pk}/role/", {"role": "member"}, follow=True
    )
    membership.refresh_from_db()
    assert membership.role == "owner"
    assert "An organisation keeps at least one owner." in _text(response)


def test_role_change_bad_input_and_permissions(as_user, org, organiser, employee):
    membership = Membership.objects.get(user=organiser)
    response = as_user(organiser).post(f"/organisations/northwind/members/{membership.pk}/role/", {"role": "king"})
    assert response.status_code == 422
    assert (
        as_user(employee)
        .post(f"/organisations/northwind/members/{membership.pk}/role/", {"role": "member"})
        .status_code
        == 403
    )
    assert (
        as_user(organiser).post("/organisations/northwind/members/999999/role/", {"role": "member"}).status_code == 404
    )
    assert as_user(organiser).get(f"/organisations/northwind/members/{membership.pk}/role/").status_code == 405
    membership.refresh_from_db()
    assert membership.role == "owner"


def test_accept_invitation(as_user, org, participant):
    inv = Invitation.objects.create(organisation=org, email="paula@example.org", role="member")
    client = as_user(participant)
    page = _text(client.get(f"/invitations/{inv.token}/"))
    assert "Join Northwind Retail" in page and "Accept invitation" in page
    response = client.post(f"/invitations/{inv.token}/")
    assert response["Location"] == "/organisations/northwind/"
    assert Membership.objects.get(user=participant).role == "member"
    used = client.post(f"/invitations/{inv.token}/")
    assert used.status_code == 409


def test_accept_invitation_for_someone_else(as_user, org, outsider):
    inv = Invitation.objects.create(organisation=org, email="paula@example.org", role="member")
    client = as_user(outsider)
    assert "This invitation was sent to paula@example.org." in _text(client.get(f"/invitations/{inv.token}/"))
    assert client.post(f"/invitations/{inv.token}/").status_code == 403
    assert not Membership.objects.filter(user=outsider, organisation=org).exists()


def test_accept_unknown_token_and_anonymous(as_user, participant):
    assert as_user(participant).get("/invitations/nope/").status_code == 404
    response = as_user(None).get("/invitations/whatever/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_detail_lists_owners_first(as_user, org, organiser, employee):
    html = _text(as_user(employee).get("/organisations/northwind/"))
    members = html[html.index('id="members-heading"') :]
    assert members.index("Olivia Organiser</a>") < members.index("Evan Employee</a>")
