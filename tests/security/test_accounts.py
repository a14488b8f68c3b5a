"""Issue 13, finding 2 and the account parts of findings 8 and 9.

- An address grants nothing until its owner has verified it: organisation invitations, invite-only
  challenges, challenge roles and team invitations given by address (pre-registration hijack).
- A new password revokes every personal API token.
- Sign-up answers the same for a taken and a new address.
- Display names refuse invisible and text-direction characters.
- Mails link to the configured base URL and name the configured site, never the request's host.
"""

from __future__ import annotations

import importlib
import json
import re
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import cache
from django.test import Client

from opencall.accounts.actions import issue_token
from opencall.accounts.models import ApiToken, Notification, User
from opencall.challenges.models import Challenge, ChallengeRole
from opencall.core.audit import AuditEvent
from opencall.ideas.models import TeamInvitation
from opencall.organisations.models import Invitation, Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SQUATTED = "new.hire@corp.example"
PASSWORD = "correct horse battery staple"
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """allauth meters verification mails per address in the cache; start each test with none sent."""
    cache.clear()
    yield
    cache.clear()


def _text(response) -> str:
    return response.content.decode()


def _squatter() -> User:
    """Signed up first with an address that is not theirs, so never verified it."""
    return UserFactory(email=SQUATTED, display_name="Mallory", email_verified=False)


def _api(user: User) -> dict[str, str]:
    _token, clear = issue_token(user=user, label="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {clear}"}


# -- Finding 2: pre-registration hijack ------------------------------------------------------------


def test_org_invitation_is_neither_shown_to_nor_accepted_by_an_unverified_holder(as_user, org, organiser):
    squatter = _squatter()
    as_user(organiser).post("/organisations/northwind/invite/", {"email": SQUATTED, "role": "organiser"})
    invitation = Invitation.objects.get()

    assert list(Notification.objects.filter(recipient=squatter)) == []
    client = as_user(squatter)
    page = _text(client.get(f"/invitations/{invitation.token}/"))
    expected = (
        f"Verify your email address {SQUATTED} first: open the link we emailed you, or have it sent again. "
        "The invitation can be accepted once the address is verified."
    )
    assert expected in page
    assert "Accept invitation" not in page
    assert 'name="action_send"' in page and f'name="email" value="{SQUATTED}"' in page

    refused = client.post(f"/invitations/{invitation.token}/")
    assert refused.status_code == 403
    assert expected in _text(refused)
    assert list(Membership.objects.filter(user=squatter)) == []
    invitation.refresh_from_db()
    assert invitation.accepted_at is None

    # The page's button has the verification link sent again, to that address only.
    mail.outbox.clear()
    client.post("/accounts/email/", {"email": SQUATTED, "action_send": ""})
    (message,) = mail.outbox
    assert message.to == [SQUATTED]
    assert re.search(r"https?://\S+/accounts/confirm-email/\S+", message.body)


def test_org_invitation_goes_to_the_verified_owner_of_the_address(as_user, org, organiser):
    owner = UserFactory(email=SQUATTED, display_name="Nia New")
    as_user(organiser).post("/organisations/northwind/invite/", {"email": SQUATTED, "role": "organiser"})
    invitation = Invitation.objects.get()
    assert list(Notification.objects.filter(recipient=owner).values_list("text", "url")) == [
        ("Olivia Organiser invited you to join Northwind Retail", f"/invitations/{invitation.token}/")
    ]
    response = as_user(owner).post(f"/invitations/{invitation.token}/")
    assert response.status_code == 302
    assert list(Membership.objects.filter(user=owner).values_list("organisation__slug", "role")) == [
        ("northwind", "organiser")
    ]


def test_verifying_the_address_later_lets_its_owner_accept(as_user, org, organiser):
    user = _squatter()  # here the real owner, who simply has not clicked the link yet
    as_user(organiser).post("/organisations/northwind/invite/", {"email": SQUATTED, "role": "member"})
    invitation = Invitation.objects.get()
    assert as_user(user).post(f"/invitations/{invitation.token}/").status_code == 403
    EmailAddress.objects.filter(user=user).update(verified=True)
    assert as_user(user).post(f"/invitations/{invitation.token}/").status_code == 302
    assert Membership.objects.get(user=user).role == "member"


def test_invite_only_challenge_is_not_opened_to_an_unverified_address(as_user, org, organiser):
    squatter = _squatter()
    form = {
        "title": "Smart shelves",
        "summary": "Shelves that know what is missing.",
        "description": "Why",
        "terms": "",
        "budget": "",
        "currency": "EUR",
        "visibility": "invite_only",
        "categories": "",
        "sponsors": "",
        "invited_emails": SQUATTED,
        "invited_organisations": "",
        "fields-TOTAL_FORMS": "0",
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "20",
    }
    response = as_user(organiser).post("/organisations/northwind/challenges/new/", form)
    assert response.status_code == 422
    assert f"No account has verified these addresses: {SQUATTED}" in _text(response)
    assert Challenge.objects.count() == 0
    assert list(squatter.invited_challenges.all()) == []


def test_challenge_role_is_not_given_to_an_unverified_address(as_user, challenge, organiser):
    squatter = _squatter()
    response = as_user(organiser).post(f"/challenges/{challenge.slug}/roles/", {"email": SQUATTED, "kind": "judge"})
    assert response.status_code == 422
    assert "No account has verified this email address." in _text(response)
    assert list(ChallengeRole.objects.filter(user=squatter)) == []


def test_team_invitation_by_address_skips_an_unverified_holder_in_the_ui_and_the_api(as_user, idea, team_member):
    squatter = _squatter()
    message = "No one has an account with that verified email address yet."

    page = as_user(team_member).post(f"/teams/{idea.team_id}/invite/", {"email": SQUATTED})
    assert page.status_code == 422
    assert message in _text(page)

    api = Client().post(
        f"/api/teams/{idea.team_id}/invitations",
        json.dumps({"email": SQUATTED}),
        content_type="application/json",
        **_api(team_member),
    )
    assert api.status_code == 422 and api["Content-Type"] == PROBLEM
    assert api.json()["errors"] == {"email": [message]}

    assert list(TeamInvitation.objects.all()) == []
    listed = Client().get("/api/me/team-invitations", **_api(squatter)).json()
    assert (listed["count"], listed["items"]) == (0, [])
    assert list(Notification.objects.filter(recipient=squatter)) == []


# -- Finding 8: tokens outlive a password change ---------------------------------------------------


def _token_works(headers: dict[str, str]) -> tuple[int, str]:
    response = Client().get("/api/me", **headers)
    return response.status_code, response.json().get("detail", response.json().get("email", ""))


def test_password_change_revokes_api_tokens(as_user, participant):
    headers = _api(participant)
    assert _token_works(headers) == (200, "paula@example.org")

    response = as_user(participant).post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "a-brand-new-phrase-77", "password2": "a-brand-new-phrase-77"},
    )
    assert response.status_code == 302

    assert _token_works(headers) == (401, "The API token is unknown or revoked.")
    assert ApiToken.objects.filter(user=participant, revoked_at__isnull=True).count() == 0
    event = AuditEvent.objects.filter(verb="token.revoke_all").get()
    assert (event.actor_id, event.data) == (participant.pk, {"reason": "password_changed", "count": 1})


def test_password_reset_revokes_api_tokens(participant):
    headers = _api(participant)
    client = Client()
    client.post("/accounts/password/reset/", {"email": participant.email})
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[-1].body).group(0)
    # allauth moves the key from the link into the session, then shows the form at a keyless URL.
    form_page = client.get(urlsplit(link).path, follow=True)
    assert form_page.status_code == 200 and "Choose a new password" in _text(form_page)
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"password1": "a-brand-new-phrase-77", "password2": "a-brand-new-phrase-77"},
    )
    assert done.status_code == 302
    participant.refresh_from_db()
    assert participant.check_password("a-brand-new-phrase-77")
    assert _token_works(headers) == (401, "The API token is unknown or revoked.")


def test_password_set_outside_allauth_revokes_api_tokens(participant):
    """The admin's password form and `manage.py changepassword` call set_password() and save()."""
    headers = _api(participant)
    participant.set_password("another-phrase-42")
    participant.save()
    assert _token_works(headers) == (401, "The API token is unknown or revoked.")


def test_the_token_page_says_a_new_password_revokes_tokens(as_user, participant):
    page = _text(as_user(participant).get("/tokens/"))
    assert "Changing or resetting your password revokes every token" in page


def test_the_change_password_page_says_it_revokes_tokens(as_user, participant):
    page = _text(as_user(participant).get("/accounts/password/change/"))
    assert "A new password also revokes all your personal API tokens" in page


# -- Finding 8: sign-up enumeration ------------------------------------------------------------


# The per-response CSRF token (in forms and in the htmx header) and the CSP nonce are the only parts allowed
# to differ.
_CSRF = re.compile(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": "|nonce=")[^"]*"')


def _sign_up(email: str) -> tuple[int, str, str]:
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {"email": email, "display_name": "Nia New", "password1": "a-long-pass-phrase-9",
         "password2": "a-long-pass-phrase-9"},
    )
    page = client.get(response["Location"]) if response.status_code == 302 else response
    shown = _CSRF.sub(r"\1", _text(page)).replace(email, "<email>")
    return response.status_code, response.get("Location", ""), shown


def test_sign_up_answers_the_same_for_a_taken_and_a_new_address(participant):
    taken = _sign_up("paula@example.org")
    new = _sign_up("nia@example.org")
    assert taken == new
    assert taken[0] == 302
    # Neither caller is signed in; the owner of the taken address hears of the attempt by mail.
    assert User.objects.filter(email="paula@example.org").count() == 1
    assert User.objects.get(email="nia@example.org").display_name == "Nia New"
    by_recipient = {m.to[0]: m.subject for m in mail.outbox}
    assert set(by_recipient) == {"paula@example.org", "nia@example.org"}
    assert by_recipient["paula@example.org"] != by_recipient["nia@example.org"]


def test_an_unverified_account_signs_in_only_after_verifying(participant):
    """What mandatory verification means for accounts made before it: sign-in waits for the link."""
    EmailAddress.objects.filter(user=participant).update(verified=False)
    client = Client()
    response = client.post("/accounts/login/", {"login": participant.email, "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/accounts/confirm-email/")
    assert "_auth_user_id" not in client.session
    (message,) = mail.outbox
    assert message.to == [participant.email]
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", message.body).group(0)
    assert client.post(urlsplit(link).path).status_code == 302
    assert EmailAddress.objects.get(user=participant).verified is True
    assert client.session["_auth_user_id"] == str(participant.pk)


def test_upgrade_verifies_superusers_only():
    """Superusers are made on the server by the operator; anyone else may have typed a stranger's address."""
    from django.apps import apps

    migration = importlib.import_module("opencall.accounts.migrations.0002_superusers_addresses_verified")
    admin = User.objects.create_superuser("root@northwind.example", PASSWORD)
    squatter = User.objects.create_user(SQUATTED, PASSWORD)
    migration.verify_superusers(apps, None)
    assert list(EmailAddress.objects.values_list("user_id", "email", "primary", "verified")) == [
        (admin.pk, "root@northwind.example", True, True)
    ]
    assert not EmailAddress.objects.filter(user=squatter).exists()


# -- Finding 8: display names that impersonate ------------------------------------------------------


BAD_NAMES = [
    "Olivia\u202eRotinom",  # right-to-left override
    "Olivia\u2066Organiser",  # left-to-right isolate
    "Oli\u200bvia Organiser",  # zero-width space
    "\ufeffOlivia Organiser",  # byte-order mark
    "Olivia\u200dOrganiser",  # zero-width joiner
    "Olivia\u3164Organiser",  # Hangul filler, invisible without being a format character
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_profile_form_refuses_invisible_and_direction_characters(as_user, participant, name):
    response = as_user(participant).post("/profile/edit/", {"display_name": name, "bio": "", "skills": ""})
    assert response.status_code == 422
    assert "Names cannot contain invisible or text-direction characters (U+" in _text(response)
    participant.refresh_from_db()
    assert participant.display_name == "Paula Participant"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_api_refuses_invisible_and_direction_characters(participant, name):
    response = Client().patch("/api/me", json.dumps({"display_name": name}), content_type="application/json",
                              **_api(participant))
    assert response.status_code == 422 and response["Content-Type"] == PROBLEM
    body = response.json()
    (message,) = body["errors"]["display_name"]
    assert re.fullmatch(r"Names cannot contain invisible or text-direction characters \(U\+[0-9A-F]{4}\)\.", message)
    assert body["detail"] == "Check these fields: display_name."
    participant.refresh_from_db()
    assert participant.display_name == "Paula Participant"


def test_sign_up_refuses_direction_characters():
    response = Client().post(
        "/accounts/signup/",
        {"email": "eve@example.org", "display_name": "Olivia\u202eRotinom", "password1": "a-long-pass-phrase-9",
         "password2": "a-long-pass-phrase-9"},
    )
    assert "Names cannot contain invisible or text-direction characters (U+202E)." in _text(response)
    assert User.objects.filter(email="eve@example.org").count() == 0


def test_names_are_normalised_and_stripped(participant):
    response = Client().patch(
        "/api/me", json.dumps({"display_name": "  \uff2f\uff4c\uff49\uff56\uff49\uff41  "}),
        content_type="application/json", **_api(participant),
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Olivia"


# -- Finding 9: links in mail -------------------------------------------------------------------------


@pytest.fixture
def configured_site(settings):
    settings.OPENCALL_BASE_URL = "https://ideas.northwind.example"
    settings.OPENCALL_SITE_NAME = "Northwind Ideas"
    return settings


def test_invitation_mail_links_to_the_configured_site_not_the_request_host(
    configured_site, org, organiser, django_capture_on_commit_callbacks
):
    client = Client(HTTP_HOST="127.0.0.1:8300")
    client.force_login(organiser)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/organisations/northwind/invite/", {"email": SQUATTED, "role": "member"})
    invitation = Invitation.objects.get()
    (message,) = mail.outbox
    assert message.subject == "Invitation to Northwind Retail on Northwind Ideas"
    assert "Hello from Northwind Ideas!" in message.body
    assert f"https://ideas.northwind.example/invitations/{invitation.token}/" in message.body
    assert "https://ideas.northwind.example/accounts/signup/" in message.body
    assert "127.0.0.1" not in message.body and "testserver" not in message.body


def test_allauth_mails_link_to_the_configured_site_not_the_request_host(configured_site, participant):
    Client(HTTP_HOST="127.0.0.1:8300").post("/accounts/password/reset/", {"email": participant.email})
    (message,) = mail.outbox
    assert message.subject.startswith("[Northwind Ideas] ")
    assert "Hello from Northwind Ideas!" in message.body
    assert re.search(r"https://ideas\.northwind\.example/accounts/password/reset/key/\S+", message.body)
    assert "127.0.0.1" not in message.body
