"""Account pages: profile, profile edit, notifications, API tokens, and the allauth pages in our layout."""

from __future__ import annotations

import hashlib

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opencall.accounts.models import ApiToken, Notification, Skill, User

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), _text(response)


# Profile --------------------------------------------------------------------------------------


def test_profile_shows_name_bio_skills_languages(as_user, participant):
    participant.bio = "Packaging engineer.\n\n<b>bold?</b>"
    participant.languages = "English, 中文"
    participant.save()
    participant.skills.set([Skill.objects.create(name="design"), Skill.objects.create(name="python")])
    html = _text(as_user(None).get(f"/people/{participant.pk}/"))
    assert "<h1>Paula Participant</h1>" in html
    assert "<p>Packaging engineer.</p>" in html
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert 'href="/teams-looking/?skill=design">design</a>' in html
    assert '<span class="tag">中文</span>' in html
    assert "Edit profile" not in html


def test_profile_own_has_edit_link_and_unknown_is_404(as_user, participant):
    assert 'href="/profile/edit/"' in _text(as_user(participant).get(f"/people/{participant.pk}/"))
    assert as_user(None).get("/people/999999/").status_code == 404


def test_profile_edit_saves(as_user, participant):
    client = as_user(participant)
    response = client.post(
        "/profile/edit/",
        {
            "display_name": "Paula P.",
            "bio": "Hi",
            "skills": "Python, design, python",
            "languages": "English",
            "timezone": "Europe/Berlin",
        },
    )
    assert response["Location"] == f"/people/{participant.pk}/"
    participant.refresh_from_db()
    assert (participant.display_name, participant.bio, participant.languages, participant.timezone) == (
        "Paula P.",
        "Hi",
        "English",
        "Europe/Berlin",
    )
    assert [s.name for s in participant.skills.all()] == ["design", "python"]


def test_profile_edit_is_prefilled(as_user, participant):
    participant.skills.set([Skill.objects.create(name="logistics")])
    html = _text(as_user(participant).get("/profile/edit/"))
    assert 'value="Paula Participant"' in html
    assert 'value="logistics"' in html
    assert '<option value="Europe/Berlin">' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"display_name": "d" * 81}, "Ensure this value has at most 80 characters (it has 81)."),
        ({"display_name": ""}, "This field is required."),
        ({"display_name": "ok", "bio": "b" * 2001}, "Ensure this value has at most 2000 characters (it has 2001)."),
        ({"display_name": "ok", "timezone": "Mars/Olympus"}, "Unknown time zone."),
        ({"display_name": "ok", "skills": ",".join(f"s{i}" for i in range(31))}, "At most 30 skills."),
    ],
)
def test_profile_edit_bad_input(as_user, participant, data, message):
    response = as_user(participant).post("/profile/edit/", data)
    assert response.status_code == 422
    assert message in _text(response)
    participant.refresh_from_db()
    assert participant.display_name == "Paula Participant"
    assert Skill.objects.count() == 0


def test_profile_edit_needs_login(as_user):
    assert as_user(None).get("/profile/edit/")["Location"].startswith("/accounts/login/")


# Notifications --------------------------------------------------------------------------------


def _note(user, text, read=False):
    from django.utils import timezone

    return Notification.objects.create(
        recipient=user, kind="comment", text=text, url="/challenges/", read_at=timezone.now() if read else None
    )


def test_notifications_highlight_unread(as_user, participant):
    _note(participant, "Old news", read=True)
    _note(participant, "Fresh comment")
    html = _text(as_user(participant).get("/notifications/"))
    assert html.count('class="notification unread"') == 1
    assert html.count('class="notification"') == 1
    assert '<a href="/challenges/">Fresh comment</a>' in html
    assert 'data-testid="unread-count">1</span>' in html
    assert "Mark all read" in html
    unread_only = _text(as_user(participant).get("/notifications/?unread=1"))
    assert "Fresh comment" in unread_only and "Old news" not in unread_only


def test_notifications_are_private(as_user, participant, outsider):
    _note(participant, "For Paula only")
    assert "For Paula only" not in _text(as_user(outsider).get("/notifications/"))


def test_notifications_query_count_does_not_grow(as_user, participant):
    client = as_user(participant)
    _note(participant, "one")
    one, _ = _count(client, "/notifications/")
    _note(participant, "two")
    _note(participant, "three")
    three, html = _count(client, "/notifications/")
    assert html.count('class="notification unread"') == 3
    assert one == three


def test_mark_all_read(as_user, participant, outsider):
    _note(participant, "a")
    _note(participant, "b")
    theirs = _note(outsider, "c")
    response = as_user(participant).post("/notifications/read/", follow=True)
    assert "Marked 2 as read." in _text(response)
    assert Notification.objects.filter(recipient=participant, read_at__isnull=True).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_read_and_return(as_user, participant):
    a, b = _note(participant, "a"), _note(participant, "b")
    response = as_user(participant).post(
        "/notifications/read/", {"id": [str(a.pk), "x"], "next": "/notifications/?unread=1"}
    )
    assert response["Location"] == "/notifications/?unread=1"
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.read_at is not None and b.read_at is None


def test_mark_read_refuses_foreign_redirects_and_get(as_user, participant):
    response = as_user(participant).post("/notifications/read/", {"next": "https://evil.example/"})
    assert response["Location"] == "/notifications/"
    assert as_user(participant).get("/notifications/read/").status_code == 405


# API tokens -----------------------------------------------------------------------------------


def test_token_created_shows_clear_text_once(as_user, participant):
    client = as_user(participant)
    html = _text(client.post("/tokens/", {"label": "CI pipeline"}))
    token = ApiToken.objects.get()
    start = html.index('data-testid="clear-token"')
    clear = html[html.rindex('value="', 0, start) + 7 :].split('"', 1)[0]
    assert clear.startswith("oc_") and clear[:10] == token.prefix
    assert hashlib.sha256(clear.encode()).hexdigest() == token.digest
    later = _text(client.get("/tokens/"))
    assert clear not in later
    assert "CI pipeline" in later and f"<code>{token.prefix}…</code>" in later


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("", "This field is required."),
        ("x" * 81, "Ensure this value has at most 80 characters (it has 81)."),
        ("   ", "This field is required."),
    ],
)
def test_token_bad_label(as_user, participant, label, message):
    response = as_user(participant).post("/tokens/", {"label": label})
    assert response.status_code == 422
    assert message in _text(response)
    assert ApiToken.objects.count() == 0


def test_token_revoke(as_user, participant, outsider):
    client = as_user(participant)
    client.post("/tokens/", {"label": "old"})
    token = ApiToken.objects.get()
    assert as_user(outsider).post(f"/tokens/{token.pk}/revoke/").status_code == 404
    response = client.post(f"/tokens/{token.pk}/revoke/", follow=True)
    assert "Token revoked." in _text(response)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "No active tokens." in _text(client.get("/tokens/"))
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 404


def test_tokens_query_count_does_not_grow(as_user, participant):
    from opencall.accounts.actions import issue_token

    client = as_user(participant)
    issue_token(user=participant, label="one")
    one, _ = _count(client, "/tokens/")
    issue_token(user=participant, label="two")
    issue_token(user=participant, label="three")
    three, html = _count(client, "/tokens/")
    assert html.count("/revoke/") == 3
    assert one == three


# allauth pages in our layout ------------------------------------------------------------------


def test_login_page_uses_the_site_layout_with_labels(as_user):
    html = _text(as_user(None).get("/accounts/login/"))
    assert "<title>Log in · Opencall</title>" in html
    assert '<label for="id_login">' in html and '<label for="id_password">' in html
    assert 'href="/accounts/password/reset/"' in html


def test_signup_creates_a_user_with_display_name(as_user):
    response = as_user(None).post(
        "/accounts/signup/",
        {
            "email": "new@example.org",
            "display_name": "Nia New",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="new@example.org").display_name == "Nia New"


def test_signup_errors_are_shown(as_user):
    response = as_user(None).post(
        "/accounts/signup/", {"email": "bad", "display_name": "", "password1": "x", "password2": "y"}
    )
    html = _text(response)
    assert response.status_code == 200
    assert "Enter a valid email address." in html
    assert 'class="error" role="alert"' in html
    assert User.objects.count() == 0


def test_login_with_wrong_password(as_user, participant):
    html = _text(as_user(None).post("/accounts/login/", {"login": participant.email, "password": "wrong"}))
    assert "The email address and/or password you specified are not correct." in html


def test_password_reset_sends_mail(as_user, participant):
    response = as_user(None).post("/accounts/password/reset/", {"email": participant.email}, follow=True)
    assert "Check your email" in _text(response)
    assert len(mail.outbox) == 1 and participant.email in mail.outbox[0].to


@pytest.mark.parametrize(
    ("url", "signed_in", "title"),
    [
        ("/accounts/email/", True, "Email Addresses"),
        ("/accounts/password/change/", True, "Change Password"),
        ("/accounts/logout/", True, "Log out"),
        ("/accounts/confirm-email/not-a-key/", False, "Confirm Email Address"),
        ("/accounts/inactive/", False, "Account Inactive"),
        ("/accounts/password/reset/key/1-bad/", False, "Choose a new password"),
        ("/accounts/password/reset/done/", False, "Check your email"),
    ],
)
def test_allauth_pages_render_inside_the_site_layout(as_user, participant, url, signed_in, title):
    response = as_user(participant if signed_in else None).get(url, follow=True)
    html = _text(response)
    assert response.status_code == 200
    assert f"<title>{title} · Opencall</title>" in html
    assert 'class="skip-link"' in html  # our base.html, not allauth's bare layout
