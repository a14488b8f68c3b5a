"""Settings shared by every environment; everything environment-specific comes from variables."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

SRC_DIR = Path(__file__).resolve().parents[3]  # src/
BASE_DIR = Path(os.environ.get("OPENCALL_HOME", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("OPENCALL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
# Safe defaults (docs/decisions/0011): production.py and local.py set the key from SECRET_KEY or the
# installation's key file; local mode (plain http on loopback) and the demo data are opt-in.
OPENCALL_SECRET_KEY_FILE: Path | None = None
OPENCALL_LOCAL = False
OPENCALL_DEMO_DATA_ALLOWED = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "opencall.core",
    "opencall.accounts",
    "opencall.organisations",
    "opencall.ledger",
    "opencall.challenges",
    "opencall.ideas",
    "opencall.community",
    "opencall.voting",
    "opencall.review",
    "opencall.funding",
]

MIDDLEWARE = [
    # First, so that every error answered under /api/ by any middleware below reaches clients as problem+json.
    "opencall.config.api.ApiProblemMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Remembers the viewer's roles and teams for one request (core.viewer), never on the User object.
    "opencall.core.viewer.ViewerMemoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "opencall.core.middleware.TimezoneMiddleware",
    "opencall.config.ratelimits.RateLimitMiddleware",  # after auth, messages and htmx: it answers on the page
    "opencall.core.web.DomainErrorMiddleware",
    # Listed after DomainErrorMiddleware so it sees a database or disk failure first (503 + Retry-After).
    "opencall.core.unavailable.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "opencall.config.urls"
# A refused CSRF check answers problem+json under /api/ and Django's page elsewhere.
CSRF_FAILURE_VIEW = "opencall.config.api.csrf_failure"
WSGI_APPLICATION = "opencall.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "opencall" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "opencall.accounts.context.site",
                "opencall.community.context.navigation",
            ],
            # The sign-in page names the demo accounts when the demo data is loaded.
            "libraries": {"demodata": "opencall.demodata.signin"},
        },
    }
]


def database_from_env(default_sqlite: Path) -> dict[str, object]:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{default_sqlite}")
    config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    # -- A busy or unreachable database answers 503 promptly (docs/decisions/0010) -------------------
    # Our backends are Django's with the "try again later" errors raised as ServiceUnavailable. The
    # busy timeout is how long a statement waits for another's lock before that 503: long enough for
    # the queue of ordinary writes (each holds the lock for milliseconds), short enough that a lock
    # held for long does not tie up the server's threads.
    busy_timeout = float(os.environ.get("OPENCALL_DB_BUSY_TIMEOUT", "3"))
    backends = {
        "django.db.backends.sqlite3": "opencall.core.dbbackends.sqlite3",
        "django.db.backends.postgresql": "opencall.core.dbbackends.postgresql",
    }
    config["ENGINE"] = backends.get(str(config["ENGINE"]), config["ENGINE"])
    if config["ENGINE"] == "opencall.core.dbbackends.sqlite3":
        # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at BEGIN so
        # two writers queue on the busy timeout instead of failing with "database is locked" mid-way.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": busy_timeout,
        }
    elif config["ENGINE"] == "opencall.core.dbbackends.postgresql":
        # A persistent connection broken by a restart is noticed and replaced at the next request; a
        # server that does not answer fails the connection after connect_timeout; lock_timeout is the
        # busy timeout's counterpart for row and table locks.
        config["CONN_HEALTH_CHECKS"] = True
        options = dict(config.get("OPTIONS") or {})  # type: ignore[call-overload]
        options.setdefault("connect_timeout", int(os.environ.get("OPENCALL_DB_CONNECT_TIMEOUT", "3")))
        options.setdefault("options", f"-c lock_timeout={int(busy_timeout * 1000)}")
        config["OPTIONS"] = options
    else:
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": database_from_env(VAR_DIR / "opencall.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# Accounts (issue 13): an address grants nothing until its owner has proved it. Verification is
# mandatory so that sign-up can answer the same way for a taken and a new address (allauth then
# mails the taken address's owner instead); "optional" brings back both holes.
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_PREVENT_ENUMERATION = True
# Safe here: allauth signs in on confirmation only in the browser session that signed up.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_ADAPTER = "opencall.accounts.adapter.AccountAdapter"
# Every link in a mail is built on this, never on the Host header of the request that sent it.
OPENCALL_BASE_URL = os.environ.get("OPENCALL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
OPENCALL_SITE_NAME = os.environ.get("OPENCALL_SITE_NAME", "Opencall")
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_FORMS = {"signup": "opencall.accounts.forms.SignupForm"}
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Opencall <noreply@localhost>")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [SRC_DIR / "opencall" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [SRC_DIR / "opencall" / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": os.environ.get("FILE_STORAGE", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# Upload limits (bytes); attachments are also restricted by type in opencall.ideas.files.
OPENCALL_MAX_ATTACHMENT_BYTES = int(os.environ.get("OPENCALL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024))
OPENCALL_MAX_ATTACHMENTS_PER_IDEA = 10
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Serving uploads (docs/decisions/0007-media-serving.md). No URL maps to MEDIA_ROOT: covers and
# attachments are sent by views that check who may see them, then by one of these:
#   ""                 Python streams the file (the default; works everywhere)
#   "x-accel-redirect" nginx sends it from an `internal` location at OPENCALL_MEDIA_ACCEL_PREFIX
#   "x-sendfile"       Apache mod_xsendfile / lighttpd send the file at its path under MEDIA_ROOT
#   "signed-url"       a remote storage (django-storages) is asked for a URL valid a few seconds
OPENCALL_MEDIA_ACCEL = os.environ.get("OPENCALL_MEDIA_ACCEL", "").strip().lower()
OPENCALL_MEDIA_ACCEL_PREFIX = os.environ.get("OPENCALL_MEDIA_ACCEL_PREFIX", "/protected-media/")
OPENCALL_MEDIA_SIGNED_URL_SECONDS = int(os.environ.get("OPENCALL_MEDIA_SIGNED_URL_SECONDS", "60"))
if OPENCALL_MEDIA_ACCEL not in ("", "x-accel-redirect", "x-sendfile", "signed-url"):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("OPENCALL_MEDIA_ACCEL must be empty, x-accel-redirect, x-sendfile or signed-url.")
# Image uploads with more pixels than this are refused from their header, before anything decodes
# them (decompression bombs); keep it below Pillow's own limit (about 89 million).
OPENCALL_MAX_IMAGE_PIXELS = int(os.environ.get("OPENCALL_MAX_IMAGE_PIXELS", str(25_000_000)))

REDIS_URL = os.environ.get("REDIS_URL", "")

# --- The live-vote fast path (opencall.voting.live; read once by opencall.voting.live.config) -----------
# Its base URL as the voter page and projector reach it; empty: the site's own origin, /live/api/ routed to it.
OPENCALL_LIVE_URL = os.environ.get("OPENCALL_LIVE_URL", "").rstrip("/")
# Group-commit interval in milliseconds and the most votes one batch writes.
OPENCALL_LIVE_FLUSH_MS = float(os.environ.get("OPENCALL_LIVE_FLUSH_MS", "5"))
OPENCALL_LIVE_MAX_BATCH = int(os.environ.get("OPENCALL_LIVE_MAX_BATCH", "5000"))


def live_rate(name: str, default: str) -> tuple[float, float]:
    """ "rate/s,burst" -> (rate, burst); "0", "off" or empty turns the limit off: (0, 0)."""
    raw = os.environ.get(name, default).strip()
    if raw in ("", "0", "off"):
        return 0.0, 0.0
    rate, _, burst = raw.partition(",")
    return float(rate), float(burst or rate)


# Token buckets per client address and per device, in each worker's memory.
OPENCALL_LIVE_RATE_IP = live_rate("OPENCALL_LIVE_RATE_IP", "200,400")
OPENCALL_LIVE_RATE_TOKEN = live_rate("OPENCALL_LIVE_RATE_TOKEN", "5,10")
# Peer addresses whose X-Forwarded-For the fast path believes (its last entry is the client).
OPENCALL_LIVE_TRUSTED_PROXIES = env_list("OPENCALL_LIVE_TRUSTED_PROXIES", "")
# Origins allowed to call the fast path from a browser (CORS), when it is served on an origin of its own.
OPENCALL_LIVE_ALLOWED_ORIGINS = env_list("OPENCALL_LIVE_ALLOWED_ORIGINS", "")

# --- Rate limits on writes (docs/decisions/0009-rate-limits.md) -------------------------------------------
# Counters need a store every worker shares: the database cache by default (its table is created by every
# `migrate`), Redis when REDIS_URL is set. allauth's own limits (sign-in failures) use the same cache.
CACHES: dict[str, dict[str, object]]
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                    "KEY_PREFIX": "opencall"}
    }
else:
    CACHES = {
        "default": {"BACKEND": "opencall.core.cache.DatabaseCache", "LOCATION": "opencall_cache",
                    "OPTIONS": {"MAX_ENTRIES": 100_000}}
    }
OPENCALL_RATE_LIMIT_CACHE = "default"
OPENCALL_RATE_LIMITS_ENABLED = env_bool("OPENCALL_RATE_LIMITS_ENABLED", True)
# How many reverse proxies in front of Opencall append to X-Forwarded-For; 0 trusts no header at all.
OPENCALL_TRUSTED_PROXIES = int(os.environ.get("OPENCALL_TRUSTED_PROXIES", "0"))
ALLAUTH_TRUSTED_PROXY_COUNT = OPENCALL_TRUSTED_PROXIES
# scope -> kind of key -> "N/period[,N/period]"; a missing kind is not limited. The table of which pages and
# API operations count against which scope is opencall.config.ratelimits. Override any entry with
# OPENCALL_RATE_LIMITS_JSON='{"comment": {"address": "100/m"}}'.
OPENCALL_RATE_LIMITS: dict[str, dict[str, str]] = {
    "idea": {"account": "10/h,50/d", "address": "30/h"},
    "comment": {"account": "6/m,60/h", "address": "30/m,300/h"},
    "report": {"account": "10/m,30/h", "address": "30/m,100/h"},
    "like": {"account": "30/m,300/h", "address": "120/m"},
    "follow": {"account": "30/m,300/h", "address": "120/m"},
    "crowd-vote": {"account": "60/m,1000/h", "address": "300/m"},
    "ballot": {"account": "10/m,100/h", "address": "60/m"},
    "review": {"account": "30/m,500/h", "address": "120/m"},
    "invitation": {"account": "20/h,100/d", "address": "60/h"},
    "join-request": {"account": "10/h,30/d", "address": "30/h"},
    "token": {"account": "10/h,30/d", "address": "30/h"},
    "sign-up": {"address": "10/m,50/h"},
    "sign-in": {"address": "30/m"},
    "password-reset": {"address": "5/m,20/h", "target": "3/10m,10/d"},
    "live-device": {"account": "10/m,30/h", "address": "60/m,600/h", "target": "3000/m"},
    "write": {"account": "60/m,1000/h", "address": "300/m"},
}
for _scope, _kinds in json.loads(os.environ.get("OPENCALL_RATE_LIMITS_JSON", "") or "{}").items():
    OPENCALL_RATE_LIMITS.setdefault(_scope, {}).update(_kinds)
# allauth answers its own limits with a bare 429 page; sign-up, sign-in and reset requests are limited
# above (answered on the form), so allauth keeps only what it alone can see: failed passwords per account.
ACCOUNT_RATE_LIMITS = {
    "login": None,
    "signup": None,
    "reset_password": None,
    "login_failed": "10/m/ip,5/5m/key",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# --- Content-Security-Policy (django-csp 4.x: one dict per policy) --------------------------------
# No inline script or style runs: scripts are files from our origin or carry the response's nonce
# (`{{ request.csp_nonce }}`), styles are files from our origin only (HTMX's indicator rule lives in
# site.css, see the htmx-config meta tag in base.html). `data:` images are allowed because the vendored
# Pico CSS and Swagger UI draw their icons as data: SVG backgrounds; no script can run from them.
# The live-vote pages send votes and read the tally stream (fetch, EventSource) from the fast path,
# which `opencall serve` runs on its own port and announces in OPENCALL_LIVE_URL: its origin must be
# in connect-src, or every phone's vote is blocked.
def origin_of(url: str) -> str:
    """scheme://host[:port] of an absolute http(s) URL, or "" for anything else (empty, relative)."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in {"http", "https"} and parts.netloc else ""


_LIVE_ORIGIN = origin_of(OPENCALL_LIVE_URL)
INSTALLED_APPS += ["csp"]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF, _LIVE_ORIGIN] if _LIVE_ORIGIN else [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
