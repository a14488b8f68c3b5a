"""Per-request memory of viewer facts (core.viewer): read once, dropped when the rows change, never on User."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opencall.challenges.models import ChallengeRole
from opencall.challenges.permissions import is_judge
from opencall.challenges.queries import challenge_roles
from opencall.core.viewer import recall, remembering
from opencall.ideas.queries import my_team_ids
from opencall.organisations.models import Role
from opencall.organisations.queries import role_in
from tests.factories import MembershipFactory, TeamFactory, make_role

pytestmark = pytest.mark.django_db


def test_outside_a_memory_every_question_is_computed_again():
    calls: list[int] = []
    assert recall("k", 1, lambda: calls.append(1) or len(calls)) == 1
    assert recall("k", 1, lambda: calls.append(1) or len(calls)) == 2


def test_inside_a_memory_the_answer_is_read_once_per_user(organiser, participant):
    with remembering():
        with CaptureQueriesContext(connection) as first:
            role_in(organiser, 0)
        with CaptureQueriesContext(connection) as again:
            role_in(organiser, 0)
            role_in(organiser, 1)
        with CaptureQueriesContext(connection) as other_user:
            role_in(participant, 0)
    assert (len(first), len(again), len(other_user)) == (1, 0, 1)


def test_a_new_role_is_seen_at_once_and_nothing_is_kept_on_the_user(challenge, participant):
    with remembering():
        assert not is_judge(participant, challenge)
        role = make_role(challenge, participant, ChallengeRole.Kind.JUDGE)
        assert is_judge(participant, challenge)
        role.delete()
        assert not is_judge(participant, challenge)
        assert challenge_roles(participant) == {}
    assert not [name for name in vars(participant) if "role" in name or "team" in name]


def test_memberships_and_teams_are_forgotten_when_they_change(org, participant, challenge):
    team = TeamFactory(challenge=challenge)
    with remembering():
        assert role_in(participant, org.pk) is None and my_team_ids(participant) == set()
        membership = MembershipFactory(organisation=org, user=participant, role=Role.MEMBER)
        team.members.create(user=participant)
        assert role_in(participant, org.pk) == Role.MEMBER
        assert my_team_ids(participant) == {team.pk}
        membership.role = Role.ORGANISER
        membership.save()
        assert role_in(participant, org.pk) == Role.ORGANISER


def test_the_memory_ends_with_the_request(client, organiser, org):
    from opencall.core import viewer

    client.force_login(organiser)
    response = client.get(f"/organisations/{org.slug}/")
    assert response.status_code == 200
    assert viewer._memory.get() is None


def test_an_answer_read_inside_a_rolled_back_transaction_is_not_kept(org, participant):
    from django.db import transaction

    class Rollback(Exception):
        pass

    with remembering():
        try:
            with transaction.atomic():
                MembershipFactory(organisation=org, user=participant, role=Role.ORGANISER)
                assert role_in(participant, org.pk) == Role.ORGANISER
                raise Rollback
        except Rollback:
            pass
        assert role_in(participant, org.pk) is None
