"""Pick an idea someone may comment on, give that person an API token and a session; print them as JSON.

Run with the Django settings of the server under test (DJANGO_SETTINGS_MODULE, OPENCALL_VAR_DIR or
DATABASE_URL) after `opencall demo` has filled the database.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opencall.config.settings.dev")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402

from opencall.accounts.actions import issue_token  # noqa: E402
from opencall.accounts.models import User  # noqa: E402
from opencall.community.permissions import can_comment_on  # noqa: E402
from opencall.ideas.models import Idea  # noqa: E402


def main() -> None:
    users = list(User.objects.filter(is_active=True, is_superuser=False).order_by("pk")[:40])
    for idea in Idea.objects.order_by("pk"):
        for user in users:
            if can_comment_on(user, idea):
                _, clear = issue_token(user=user, label="busy-db bench")
                session = SessionStore()
                session[SESSION_KEY] = str(user.pk)
                session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
                session[HASH_SESSION_KEY] = user.get_session_auth_hash()
                session.create()
                slug = idea.challenge.slug
                print(json.dumps({"idea": idea.pk, "user": user.email, "token": clear,
                                  "session": session.session_key, "challenge": slug}))
                return
    raise SystemExit("no idea open for comments in this database")


main()
