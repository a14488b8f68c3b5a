"""Absolute links and the site's name for mail: taken from settings, never from the request's Host."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def site_name() -> str:
    return str(settings.OPENCALL_SITE_NAME)


def base_url() -> str:
    return str(settings.OPENCALL_BASE_URL).rstrip("/")


def site_domain() -> str:
    return urlsplit(base_url()).netloc


def absolute_url(path: str) -> str:
    """`path` (a site path such as "/invitations/abc/") on the configured base URL."""
    if not path.startswith("/"):
        raise ValueError(f"not a site path: {path!r}")
    return base_url() + path
