"""Fixtures for the ideas pages: the conftest personas plus custom fields and an HTMX header."""

from __future__ import annotations

import pytest

from tests.factories import CustomFieldFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def fields(challenge):
    """Three custom fields on the persona challenge: required text, optional number and choice."""
    return [
        CustomFieldFactory(
            challenge=challenge, key="market", label="Target market", kind="text", required=True, position=1
        ),
        CustomFieldFactory(challenge=challenge, key="team-size", label="Team size", kind="number", position=2),
        CustomFieldFactory(
            challenge=challenge, key="stage", label="Stage", kind="choice", choices=["idea", "prototype"], position=3
        ),
    ]
