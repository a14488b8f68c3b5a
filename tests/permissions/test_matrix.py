"""Every permission as a phase × role matrix, and the list queries agreeing with the predicates.

The expected tables below are the product rules written out by hand (from the issue), not read from
`opencall.challenges.phases`, so a change to the phase engine that breaks a rule fails here.
"""

from __future__ import annotations

import pytest

from opencall.challenges.permissions import (
    can_advance_phase,
    can_edit_challenge,
    can_submit_idea,
    can_view_challenge,
)
from opencall.challenges.queries import visible_challenges
from opencall.community.models import Report
from opencall.community.permissions import can_comment_on, can_handle_report, can_like
from opencall.ideas.permissions import can_decide_status, can_edit_idea, can_view_history, can_view_idea
from opencall.ideas.queries import visible_ideas
from tests.factories import IdeaFactory, MembershipFactory, UserFactory

PHASES = ["draft", "submission", "community", "review", "funding", "results", "tracking", "closed"]
ROLES = ["visitor", "participant", "team_member", "organiser", "judge", "moderator", "outsider", "employee"]
SIGNED_IN = set(ROLES) - {"visitor"}

# What each phase lets people do (issue #2: submit, edit, comment, vote, review, fund).
SUBMIT = {"submission"}
EDIT_SUBMITTED = {"submission", "community"}  # teams may refine a submitted idea until review
EDIT_DRAFT = {"submission"}
COMMENT = {"submission", "community", "review", "funding", "results", "tracking"}
VOTE = {"community"}


@pytest.fixture
def people(visitor, participant, team_member, organiser, judge, moderator, outsider, employee):
    return {
        "visitor": visitor, "participant": participant, "team_member": team_member, "organiser": organiser,
        "judge": judge, "moderator": moderator, "outsider": outsider, "employee": employee,
    }


def _fresh(user):
    """Drop per-request role caches so each check sees the database as it is."""
    for attr in ("_org_roles", "_challenge_roles", "_team_ids"):
        if hasattr(user, attr):
            delattr(user, attr)
    return user


def _set_phase(challenge, phase):
    challenge.phase = phase
    challenge.save(update_fields=["phase"])


@pytest.mark.django_db
@pytest.mark.parametrize("phase", PHASES)
def test_public_challenge_matrix(phase, challenge, idea, people):
    _set_phase(challenge, phase)
    draft = IdeaFactory(challenge=challenge, status="draft", submitted_at=None, lead=people["team_member"])
    for role, user in people.items():
        _fresh(user)
        sees = phase != "draft" or role in {"organiser", "judge", "moderator"}
        assert can_view_challenge(user, challenge) is sees, (role, phase)
        assert (challenge in visible_challenges(user)) is sees, (role, phase)
        active = role in SIGNED_IN and sees
        assert can_submit_idea(user, challenge) is (active and phase in SUBMIT), (role, phase)
        assert can_view_idea(user, idea) is (sees or role == "team_member"), (role, phase)
        assert can_comment_on(user, idea) is (active and phase in COMMENT), (role, phase)
        assert can_like(user, idea) is (active and phase in VOTE), (role, phase)
        assert can_edit_idea(user, idea) is (role == "team_member" and phase in EDIT_SUBMITTED), (role, phase)
        assert can_edit_idea(user, draft) is (role == "team_member" and phase in EDIT_DRAFT), (role, phase)
        assert can_view_idea(user, draft) is (role == "team_member"), (role, phase)
        assert can_view_history(user, idea) is (role in {"team_member", "organiser"}), (role, phase)
        assert can_edit_challenge(user, challenge) is (role == "organiser"), (role, phase)
        assert can_advance_phase(user, challenge) is (role == "organiser" and phase != "closed"), (role, phase)
        assert can_decide_status(user, idea) is (role == "organiser"), (role, phase)


VISIBILITY = {
    # visibility: roles that see the challenge (in an open phase)
    "public": set(ROLES),
    "internal": {"organiser", "judge", "moderator", "employee"},
    "invite_only": {"organiser", "judge", "moderator", "employee", "invited_person", "invited_org_member"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", sorted(VISIBILITY))
def test_visibility_matrix(visibility, challenge, idea, people, other_org):
    _set_phase(challenge, "community")
    challenge.visibility = visibility
    challenge.save(update_fields=["visibility"])
    invited_person = UserFactory(display_name="Ines Invited")
    invited_org_member = UserFactory(display_name="Uma University")
    university = MembershipFactory(user=invited_org_member).organisation
    challenge.invited_users.add(invited_person)
    challenge.invited_organisations.add(university)
    everyone = dict(people, invited_person=invited_person, invited_org_member=invited_org_member)
    for role, user in everyone.items():
        _fresh(user)
        sees = role in VISIBILITY[visibility] or (visibility == "public")
        assert can_view_challenge(user, challenge) is sees, (role, visibility)
        assert (challenge in visible_challenges(user)) is sees, (role, visibility)
        # The team sees its own idea even if it can no longer see the challenge.
        assert can_view_idea(user, idea) is (sees or role == "team_member"), (role, visibility)
        if sees:
            assert (idea in visible_ideas(user, challenge)) is True, (role, visibility)


@pytest.mark.django_db
def test_confidential_idea_matrix(challenge, people):
    _set_phase(challenge, "review")
    secret = IdeaFactory(challenge=challenge, confidential=True, lead=people["team_member"])
    entitled = {"team_member", "organiser", "judge"}
    for role, user in people.items():
        _fresh(user)
        assert can_view_idea(user, secret) is (role in entitled), role
        assert (secret in visible_ideas(user, challenge)) is (role in entitled), role


@pytest.mark.django_db
def test_hidden_idea_matrix(challenge, people):
    _set_phase(challenge, "community")
    hidden = IdeaFactory(challenge=challenge, hidden=True, hidden_reason="spam", lead=people["team_member"])
    entitled = {"team_member", "organiser", "moderator"}
    for role, user in people.items():
        _fresh(user)
        assert can_view_idea(user, hidden) is (role in entitled), role
        assert (hidden in visible_ideas(user, challenge)) is (role in entitled), role


@pytest.mark.django_db
def test_report_handling_matrix(challenge, idea, people):
    report = Report.objects.create(reporter=people["participant"], idea=idea, reason="spam")
    for role, user in people.items():
        _fresh(user)
        assert can_handle_report(user, report) is (role in {"organiser", "moderator"}), role


@pytest.mark.django_db
def test_site_moderator_and_blocked_person(challenge, idea):
    _set_phase(challenge, "community")
    site_mod = UserFactory(is_moderator=True)
    blocked = UserFactory(is_blocked=True)
    report = Report.objects.create(reporter=blocked, idea=idea, reason="spam")
    assert can_handle_report(site_mod, report) is True
    assert can_like(blocked, idea) is False
    assert can_comment_on(blocked, idea) is False
    assert can_submit_idea(blocked, challenge) is False
