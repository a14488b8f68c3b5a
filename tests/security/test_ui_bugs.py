"""Issue 13, finding 9: the site administrator got 404 on every idea, and the Moderation link was shown
to people whom the moderation page then refused with 403."""

from __future__ import annotations

import re

import pytest
from django.db.models import Q

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.challenges.queries import visibility_filter
from opencall.core.errors import NotFound
from opencall.ideas.models import Idea
from opencall.ideas.queries import idea_for, ideas_of_user
from tests.factories import ChallengeFactory, IdeaFactory, UserFactory

MODERATION_LINK = re.compile(r'<a href="/moderation/">Moderation</a>')


@pytest.fixture
def admin(db) -> User:
    """The site administrator, as `createsuperuser` makes one: staff, in no organisation or team."""
    return User.objects.create_superuser("root@opencall.example", "a-long-admin-password")


# -- the administrator and ideas ------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_opens_a_public_idea_page(admin, idea, as_user):
    page = as_user(admin).get(f"/ideas/{idea.pk}/")
    assert page.status_code == 200
    assert '<h1 data-testid="idea-title">Mushroom foam</h1>' in page.content.decode()


@pytest.mark.django_db
def test_admin_reads_ideas_through_the_api(admin, idea, challenge, as_user):
    secret = IdeaFactory(challenge=challenge, title="Term sheet", confidential=True)
    client = as_user(admin)
    assert client.get(f"/api/ideas/{idea.pk}").json()["title"] == "Mushroom foam"
    # Confidential ideas are for the organisers, and the site administrator counts as one.
    assert client.get(f"/api/ideas/{secret.pk}").json()["title"] == "Term sheet"


@pytest.mark.django_db
def test_admin_gate_sees_ideas_of_internal_and_draft_challenges(admin, org):
    internal = ChallengeFactory(organisation=org, visibility="internal")
    unpublished = ChallengeFactory(organisation=org, phase="draft")
    a = IdeaFactory(challenge=internal, title="Inside job")
    b = IdeaFactory(challenge=unpublished, title="Early bird")
    assert idea_for(admin, a.pk) == a
    assert idea_for(admin, b.pk) == b


@pytest.mark.django_db
def test_admin_who_leads_a_team_still_sees_every_idea(admin, idea, challenge):
    """The staff filter OR-ed with "my teams": an empty Q() there narrowed staff to their own teams."""
    own = IdeaFactory(challenge=challenge, title="Admin's own", lead=admin)
    assert idea_for(admin, idea.pk) == idea
    assert idea_for(admin, own.pk) == own
    assert [i.title for i in ideas_of_user(admin, idea.team.members.get().user)] == ["Mushroom foam"]


@pytest.mark.django_db
def test_staff_visibility_filter_keeps_its_meaning_inside_an_or(admin, org):
    """The root: `visibility_filter(staff) | x` must still mean every challenge, not just x."""
    every = {ChallengeFactory(organisation=org, visibility=v, phase=p).pk
             for v, p in [("public", "submission"), ("internal", "review"), ("invite_only", "draft")]}
    combined = Challenge.objects.filter(visibility_filter(admin) | Q(pk__in=[]))
    assert set(combined.values_list("pk", flat=True)) == every
    via_relation = Idea.objects.filter(visibility_filter(admin, "challenge__") | Q(team_id__in=set()))
    assert via_relation.count() == 0  # no ideas yet: the point is it is not an error and not narrowed
    idea = IdeaFactory(challenge=Challenge.objects.get(pk=min(every)))
    assert list(Idea.objects.filter(visibility_filter(admin, "challenge__") | Q(team_id__in=set()))) == [idea]


@pytest.mark.django_db
def test_participant_gate_is_unchanged(participant, idea, challenge):
    """The fix must not widen anyone else's view: a participant still cannot open a confidential idea."""
    secret = IdeaFactory(challenge=challenge, title="Term sheet", confidential=True)
    assert idea_for(participant, idea.pk) == idea
    with pytest.raises(NotFound):
        idea_for(participant, secret.pk)


# -- the Moderation link ----------------------------------------------------------------------------


@pytest.fixture
def site_moderator(db) -> User:
    return UserFactory(display_name="Sam Sitemod", is_moderator=True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "may_moderate"),
    [
        ("participant", False),
        ("team_member", False),
        ("judge", False),
        ("employee", False),
        ("outsider", False),
        ("moderator", True),
        ("organiser", True),
        ("site_moderator", True),
        ("admin", True),
    ],
)
def test_moderation_link_only_for_those_the_page_lets_in(request, idea, persona, may_moderate, as_user):
    user = request.getfixturevalue(persona)
    client = as_user(user)
    home = client.get("/").content.decode()
    queue = client.get("/moderation/")
    assert bool(MODERATION_LINK.search(home)) is may_moderate
    # The link and the page answer from one predicate: shown exactly when the page opens.
    assert queue.status_code == (200 if may_moderate else 403)
    if may_moderate:
        assert "<h1>Moderation queue</h1>" in queue.content.decode()


@pytest.mark.django_db
def test_visitor_sees_no_moderation_link(idea, client):
    home = client.get("/").content.decode()
    assert MODERATION_LINK.search(home) is None
    assert '<a href="/accounts/login/">Log in</a>' in home
