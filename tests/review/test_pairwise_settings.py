"""Organisers choose what crowd pairs aim at (the top or the whole ranking): desk form and API."""

from __future__ import annotations

import pytest

from opencall.review.models import PairwiseSettings
from tests.api.conftest import assert_problem, session_client

pytestmark = pytest.mark.django_db

URL = "/api/challenges/green-packaging/pairwise-settings"
DESK = "/challenges/green-packaging/review/"
ROLES = ["visitor", "participant", "team_member", "organiser", "judge", "moderator", "outsider", "employee"]


def _stored(challenge) -> tuple[bool, str, int]:
    found = PairwiseSettings.objects.get(challenge=challenge)
    return found.enabled, found.focus, found.top_k


def test_desk_form_saves_and_shows_the_focus(challenge, organiser, as_user):
    client = as_user(organiser)
    page = client.get(DESK).content.decode()
    assert '<option value="top" selected>The top of the ranking</option>' in page
    response = client.post(DESK, {"form": "pairwise", "pairwise-enabled": "on", "pairwise-focus": "whole",
                                  "pairwise-top_k": "7"})
    assert (response.status_code, response.url) == (302, DESK)
    assert _stored(challenge) == (True, "whole", 7)
    page = client.get(DESK).content.decode()
    assert '<option value="whole" selected>The whole ranking</option>' in page
    assert "Crowd voting settings saved." in page


def test_desk_form_refuses_an_unknown_focus(challenge, organiser, as_user):
    client = as_user(organiser)
    client.post(DESK, {"form": "pairwise", "pairwise-focus": "whole", "pairwise-top_k": "7"})
    response = client.post(DESK, {"form": "pairwise", "pairwise-enabled": "on", "pairwise-focus": "sideways",
                                  "pairwise-top_k": "3"})
    assert response.status_code == 200
    assert ('<small class="error" role="alert" id="id_pairwise-focus_error">Select a valid choice. sideways is not '
            "one of the available choices.</small>") in response.content.decode()
    assert _stored(challenge) == (False, "whole", 7)


def test_api_reads_defaults_then_round_trips_the_focus(challenge, organiser):
    client = session_client(organiser)
    assert client.get(URL).json() == {"enabled": False, "focus": "top", "top_k": 10}
    response = client.put(URL, {"enabled": True, "focus": "whole", "top_k": 4})
    assert response.status_code == 200
    assert response.json() == {"enabled": True, "focus": "whole", "top_k": 4}
    assert client.get(URL).json() == {"enabled": True, "focus": "whole", "top_k": 4}
    assert _stored(challenge) == (True, "whole", 4)
    # A PUT replaces the settings: what it leaves out goes back to the defaults.
    assert client.put(URL, {"enabled": True}).json() == {"enabled": True, "focus": "top", "top_k": 10}


def test_api_refuses_bad_values_as_problems(challenge, organiser):
    client = session_client(organiser)
    client.put(URL, {"enabled": True, "focus": "whole", "top_k": 4})
    assert_problem(client.put(URL, {"enabled": False, "focus": "sideways"}), 422, "invalid-input",
                   detail="Check these fields: focus.", errors={"focus": ["Input should be 'top' or 'whole'"]})
    assert_problem(client.put(URL, {"enabled": False, "focus": "top", "top_k": 0}), 422, "invalid-input",
                   errors={"top_k": ["Input should be greater than or equal to 1"]})
    assert_problem(client.put(URL, {"enabled": False, "focus": None}), 422, "invalid-input",
                   errors={"focus": ["This field cannot be null."]})
    assert _stored(challenge) == (True, "whole", 4)


@pytest.mark.parametrize("role", ROLES)
def test_only_organisers_read_and_change_the_settings(request, role, challenge):
    who = None if role == "visitor" else request.getfixturevalue(role)
    client = session_client(who)
    expected = 401 if role == "visitor" else 200 if role == "organiser" else 403
    read = client.get(URL)
    change = client.put(URL, {"enabled": True, "focus": "whole"})
    assert (read.status_code, change.status_code) == (expected, expected)
    if expected == 200:
        assert change.json() == {"enabled": True, "focus": "whole", "top_k": 10}
    else:
        assert read["Content-Type"] == change["Content-Type"] == "application/problem+json"
        assert not PairwiseSettings.objects.exists()
