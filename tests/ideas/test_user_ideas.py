from __future__ import annotations

import pytest

from tests.factories import IdeaFactory


@pytest.mark.django_db
def test_profile_ideas_show_only_what_the_viewer_may_see(challenge, team_member, as_user, participant, organiser):
    IdeaFactory(challenge=challenge, title="Open plan", lead=team_member)
    IdeaFactory(challenge=challenge, title="Secret plan", confidential=True, lead=team_member)
    IdeaFactory(challenge=challenge, title="Draft plan", status="draft", submitted_at=None, lead=team_member)
    url = f"/people/{team_member.pk}/ideas/"
    seen_by_participant = as_user(participant).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Open plan" in seen_by_participant
    assert "Secret plan" not in seen_by_participant and "Draft plan" not in seen_by_participant
    seen_by_organiser = as_user(organiser).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Secret plan" in seen_by_organiser and "Draft plan" not in seen_by_organiser
    own = as_user(team_member).get(url).content.decode()
    assert "Draft plan" in own and "<html" in own
