"""`{% demo_sign_in as demo %}` for the sign-in page: the demo accounts, named as such, when the demo is loaded.

A template library registered in TEMPLATES (demodata is not an app), so the page needs no view of its own.
"""

from __future__ import annotations

from django import template

from opencall.demodata.loader import demo_loaded
from opencall.demodata.people import ADMIN_EMAIL, DEMO_PASSWORD, ORGANISER_EMAIL

register = template.Library()


@register.simple_tag
def demo_sign_in() -> dict[str, str] | None:
    """The demo's sign-in details, or None when this database does not hold the demo data."""
    if not demo_loaded():
        return None
    return {"organiser": ORGANISER_EMAIL, "admin": ADMIN_EMAIL, "password": DEMO_PASSWORD}
