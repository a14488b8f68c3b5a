"""What `opencall serve` runs by default: safe to expose, behind a TLS proxy.

DEBUG is off whatever the environment says; the signing key comes from SECRET_KEY or, when that is unset,
from the key this installation made for itself in its data folder (`installation.py`); cookies are secure,
plain-http requests are redirected to https and HSTS is on. The proxy in front terminates TLS and sets
X-Forwarded-Proto. The demo data is refused here: its accounts have published passwords.
"""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR, env_bool
from .installation import secret_key

SECRET_KEY, OPENCALL_SECRET_KEY_FILE = secret_key(VAR_DIR)
DEBUG = False
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER: tuple[str, str] | None = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
