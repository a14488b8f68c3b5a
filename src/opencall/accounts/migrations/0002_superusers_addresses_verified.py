"""Sign-in now needs a verified address. Superusers are made on the server by the operator
(`opencall createadmin`), who vouches for their address: mark it verified so that an upgrade does not
lock the administrator out of a site that cannot send mail yet. Nobody else is touched: any other
address may have been typed by someone who does not own it."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def verify_superusers(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    for user in User.objects.filter(is_superuser=True, is_active=True):
        row = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
        if row is None:
            has_primary = EmailAddress.objects.filter(user=user, primary=True).exists()
            EmailAddress.objects.create(user=user, email=user.email, primary=not has_primary, verified=True)
        elif not row.verified:
            row.verified = True
            row.save(update_fields=["verified"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(verify_superusers, migrations.RunPython.noop)]
