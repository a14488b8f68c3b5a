"""Named personas around one public challenge run by 'Northwind Retail'.

organiser  – owner of the challenge's organisation      participant – signed-in person, no role
team_member – lead of `idea`'s team                       judge       – judge of the challenge
moderator  – moderator of the challenge                   outsider    – member of another organisation
visitor    – anonymous                                    employee    – plain member of the organisation
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from tests.factories import (
    ChallengeFactory,
    IdeaFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    make_role,
)


@pytest.fixture
def org(db):
    return OrganisationFactory(name="Northwind Retail", slug="northwind")


@pytest.fixture
def other_org(db):
    return OrganisationFactory(name="Contoso Labs", slug="contoso")


@pytest.fixture
def organiser(org):
    user = UserFactory(display_name="Olivia Organiser", email="olivia@northwind.example")
    MembershipFactory(organisation=org, user=user, role="owner")
    return user


@pytest.fixture
def employee(org):
    user = UserFactory(display_name="Evan Employee", email="evan@northwind.example")
    MembershipFactory(organisation=org, user=user, role="member")
    return user


@pytest.fixture
def outsider(other_org):
    user = UserFactory(display_name="Oscar Outsider", email="oscar@contoso.example")
    MembershipFactory(organisation=other_org, user=user, role="member")
    return user


@pytest.fixture
def participant(db):
    return UserFactory(display_name="Paula Participant", email="paula@example.org")


@pytest.fixture
def visitor():
    return AnonymousUser()


@pytest.fixture
def challenge(org):
    return ChallengeFactory(organisation=org, title="Green packaging", slug="green-packaging")


@pytest.fixture
def team_member(db):
    return UserFactory(display_name="Tariq Team", email="tariq@example.org")


@pytest.fixture
def idea(challenge, team_member):
    return IdeaFactory(challenge=challenge, title="Mushroom foam", lead=team_member)


@pytest.fixture
def judge(challenge):
    user = UserFactory(display_name="Judy Judge", email="judy@example.org")
    make_role(challenge, user, "judge")
    return user


@pytest.fixture
def moderator(challenge):
    user = UserFactory(display_name="Max Moderator", email="max@example.org")
    make_role(challenge, user, "moderator")
    return user


def client_for(user) -> Client:
    client = Client()
    if user is not None and user.is_authenticated:
        client.force_login(user)
    return client


@pytest.fixture
def as_user():
    return client_for
