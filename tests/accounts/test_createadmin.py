"""`opencall createadmin`: the operator's one way to make a site administrator, through the action."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from opencall.accounts.models import User
from opencall.cli import main
from opencall.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_creates_a_verified_superuser_with_an_audit_event(capsys):
    code = main(["createadmin", "--email", " Root@Example.org ", "--password", "long enough pass 42", "--name", "Ops"])
    admin = User.objects.get()
    assert (code, admin.email, admin.display_name, admin.is_superuser, admin.is_moderator) == (
        0, "root@example.org", "Ops", True, True)
    assert admin.check_password("long enough pass 42")
    assert list(EmailAddress.objects.values_list("email", "verified", "primary")) == [("root@example.org", True, True)]
    assert list(AuditEvent.objects.values_list("verb", "object_id")) == [("account.create_admin", str(admin.pk))]
    assert capsys.readouterr().out == "Created administrator root@example.org\n"


@pytest.mark.parametrize(("email", "password", "message"), [
    ("not-an-address", "long enough pass 42", "opencall: error: not a valid email address: 'not-an-address'\n"),
    ("root@example.org", "123", "opencall: error: password rejected: "),
])
def test_bad_input_is_one_line_and_saves_nothing(capsys, email, password, message):
    code = main(["createadmin", "--email", email, "--password", password])
    err = capsys.readouterr().err
    assert (code, err.startswith(message), err.count("\n")) == (2, True, 1)
    assert not User.objects.exists() and not EmailAddress.objects.exists()


def test_an_existing_address_is_refused(capsys, participant):
    code = main(["createadmin", "--email", participant.email.upper(), "--password", "long enough pass 42"])
    assert code == 2
    assert capsys.readouterr().err == f"opencall: error: an account with {participant.email} exists already\n"
    assert User.objects.count() == 1
