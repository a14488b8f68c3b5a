"""allauth's mails name the configured site and link to the configured base URL.

Without django.contrib.sites allauth takes both from the request ("Hello from 127.0.0.1:8300!"), so
a mail sent while serving a proxy's internal address, or a forged Host header, would carry that host.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse

from opencall.accounts.links import absolute_url, site_domain, site_name

# Links to plain pages that allauth builds on the request's host and puts into these mails. (In the
# password reset mail `password_reset_url` is the keyed link, which get_reset_password_from_key_url makes.)
_PAGE_LINKS = {
    "account/email/account_already_exists": {"signup_url": "account_signup", "password_reset_url": "account_reset_password"},
    "account/email/unknown_account": {"signup_url": "account_signup"},
}


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    def format_email_subject(self, subject: str) -> str:
        return f"[{site_name()}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        context = dict(context)
        context["current_site"] = SimpleNamespace(name=site_name(), domain=site_domain())
        for key, url_name in _PAGE_LINKS.get(template_prefix, {}).items():
            context[key] = absolute_url(reverse(url_name))
        super().send_mail(template_prefix, email, context)

    def get_email_confirmation_url(self, request: HttpRequest, emailconfirmation: Any) -> str:
        return absolute_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key: str) -> str:
        # allauth's own construction: one opaque key standing for "uidb36-key".
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return absolute_url(path.replace("UID-KEY", quote(key)))
