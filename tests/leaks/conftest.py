"""A confidential idea in the personas' public challenge, and an internal challenge with an idea.

`secret` (confidential, with a budget, an attachment and an open position) sits beside the
public `idea` ("Mushroom foam"); `internal` belongs to Northwind and holds "Robot barista".
"""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from opencall.ideas.models import Attachment, Position
from tests.factories import ChallengeFactory, CommentFactory, IdeaFactory, UserFactory


@pytest.fixture
def secret_lead(db):
    return UserFactory(display_name="Sam Secret", email="sam@example.org")


@pytest.fixture
def secret(challenge, secret_lead, idea):
    secret = IdeaFactory(
        challenge=challenge,
        title="Secret sauce",
        summary="Only for the jury",
        confidential=True,
        lead=secret_lead,
        requested_budget_minor=100_000,
    )
    idea.requested_budget_minor = 200_000
    idea.save(update_fields=["requested_budget_minor"])
    Position.objects.create(team=secret.team, title="Sauce chemist")
    Position.objects.create(team=idea.team, title="Mycologist")
    CommentFactory(idea=secret, author=secret_lead, body="Recipe stays in the vault")
    attachment = Attachment(idea=secret, name="recipe.txt", size=6, content_type="text/plain")
    attachment.file.save("recipe.txt", ContentFile(b"recipe"), save=True)
    return secret


@pytest.fixture
def internal(org):
    return ChallengeFactory(
        organisation=org, title="Staff canteen", slug="staff-canteen", visibility="internal", categories=["Canteen"]
    )


@pytest.fixture
def internal_idea(internal, employee):
    idea = IdeaFactory(challenge=internal, title="Robot barista", lead=employee, requested_budget_minor=50_000)
    Position.objects.create(team=idea.team, title="Coffee engineer")
    CommentFactory(idea=idea, author=employee, body="Espresso at scale")
    return idea
