"""Test settings: fast hashing, in-memory email, tasks run immediately."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES, OPENCALL_RATE_LIMITS, database_from_env

SECRET_KEY = "test-key"  # noqa: S105 - the tests' own key, never loaded outside them
OPENCALL_DEMO_DATA_ALLOWED = True  # tests/demodata loads it
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="opencall-test-media-"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if os.environ.get("OPENCALL_TEST_POSTGRES"):
    os.environ["DATABASE_URL"] = os.environ["OPENCALL_TEST_POSTGRES"]
    DATABASES = {"default": database_from_env(Path(tempfile.gettempdir()))}
else:
    # A file (the live-vote fast path opens its own connections to it), private to this test process so
    # concurrent runs never share one.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(tempfile.mkdtemp(prefix="opencall-test-db-"), "test.sqlite3")}
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="opencall-test-static-"))
# Every test client comes from 127.0.0.1: the limiter runs, with limits far above any one test's burst.
# tests/security/test_rate_limits.py sets real limits with override_settings.
OPENCALL_RATE_LIMITS = {scope: dict.fromkeys(kinds, "100000/m") for scope, kinds in OPENCALL_RATE_LIMITS.items()}
