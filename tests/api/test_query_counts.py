"""Every list endpoint costs the same number of queries for 1 row as for 3 (no N+1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opencall.accounts.actions import issue_token, notify
from opencall.ideas.models import IdeaVersion, Position, TeamInvitation
from opencall.organisations.models import Membership
from tests.api.conftest import session_client
from tests.factories import ChallengeFactory, CommentFactory, IdeaFactory, UserFactory

pytestmark = pytest.mark.django_db


def add_tokens(ctx: dict[str, Any], n: int) -> None:
    for i in range(n):
        issue_token(user=ctx["participant"], label=f"t{i}")


def add_notifications(ctx: dict[str, Any], n: int) -> None:
    for i in range(n):
        notify(recipients=[ctx["participant"]], kind="phase", text=f"n{i}")


def add_organisations(ctx: dict[str, Any], n: int) -> None:
    from tests.factories import OrganisationFactory

    for _ in range(n):
        OrganisationFactory()


def add_members(ctx: dict[str, Any], n: int) -> None:
    for _ in range(n):
        Membership.objects.create(organisation=ctx["org"], user=UserFactory(), role="member")


def add_challenges(ctx: dict[str, Any], n: int) -> None:
    for _ in range(n):
        ChallengeFactory(organisation=ctx["org"])


def add_ideas(ctx: dict[str, Any], n: int) -> None:
    for _ in range(n):
        IdeaFactory(challenge=ctx["challenge"], category=ctx["challenge"].categories.first())


def add_versions(ctx: dict[str, Any], n: int) -> None:
    idea = ctx["idea"]
    start = IdeaVersion.objects.filter(idea=idea).count()
    for i in range(n):
        IdeaVersion.objects.create(idea=idea, number=start + i + 1, title="v", summary="s", author=ctx["team_member"])


def add_invitations(ctx: dict[str, Any], n: int) -> None:
    for _ in range(n):
        other = IdeaFactory(challenge=ctx["challenge"])
        TeamInvitation.objects.create(team=other.team, user=ctx["participant"], invited_by=UserFactory())


def add_positions(ctx: dict[str, Any], n: int) -> None:
    for i in range(n):
        other = IdeaFactory(challenge=ctx["challenge"])
        position = Position.objects.create(team=other.team, title=f"p{i}")
        position.skills.create(name=f"skill-{position.pk}")


def add_comments(ctx: dict[str, Any], n: int) -> None:
    # Each new comment replies to the previous one, so the thread walk is exercised too.
    for _ in range(n):
        ctx["last_comment"] = CommentFactory(idea=ctx["idea"], author=UserFactory(), parent=ctx.get("last_comment"))


def add_my_ideas(ctx: dict[str, Any], n: int) -> None:
    for _ in range(n):
        IdeaFactory(challenge=ChallengeFactory(organisation=ctx["org"]), lead=ctx["team_member"])


def add_reports(ctx: dict[str, Any], n: int) -> None:
    from opencall.community.models import Report

    # Alternate reported comments and reported ideas: both kinds of target are preloaded.
    for _ in range(n):
        if Report.objects.count() % 2 == 0:
            comment = CommentFactory(idea=ctx["idea"], author=UserFactory())
            Report.objects.create(reporter=UserFactory(), comment=comment, reason="Rude")
        else:
            Report.objects.create(reporter=UserFactory(), idea=IdeaFactory(challenge=ctx["challenge"]), reason="Spam")


def add_roles(ctx: dict[str, Any], n: int) -> None:
    from tests.factories import make_role

    for _ in range(n):
        make_role(ctx["challenge"], UserFactory(), "judge")


CASES: list[tuple[str, str, str, Callable[[dict[str, Any], int], None]]] = [
    ("tokens", "participant", "/api/me/tokens", add_tokens),
    ("notifications", "participant", "/api/notifications", add_notifications),
    ("organisations", "visitor", "/api/organisations", add_organisations),
    ("members", "organiser", "/api/organisations/northwind/members", add_members),
    ("challenges", "participant", "/api/challenges", add_challenges),
    ("ideas", "organiser", "/api/challenges/green-packaging/ideas", add_ideas),
    ("versions", "team_member", "/api/ideas/{idea}/versions", add_versions),
    ("invitations", "participant", "/api/me/team-invitations", add_invitations),
    ("positions", "participant", "/api/positions", add_positions),
    ("comments", "participant", "/api/ideas/{idea}/comments", add_comments),
    ("my-ideas", "team_member", "/api/me/ideas", add_my_ideas),
    ("reports", "organiser", "/api/moderation/reports", add_reports),
    ("roles", "organiser", "/api/challenges/green-packaging/roles", add_roles),
]


@pytest.mark.parametrize(("name", "who", "path", "add"), CASES, ids=[c[0] for c in CASES])
def test_list_costs_the_same_for_one_and_three_rows(
    name, who, path, add, org, organiser, participant, team_member, challenge, idea
):
    ctx = {
        "org": org,
        "organiser": organiser,
        "participant": participant,
        "team_member": team_member,
        "challenge": challenge,
        "idea": idea,
        "visitor": None,
    }
    client = session_client(ctx[who])
    url = path.format(idea=idea.pk)

    def measure() -> tuple[int, int]:
        client.get(url)  # warm the session and per-request caches the same way each time
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, response.content
        return len(queries), response.json()["count"]

    add(ctx, 1 - measure()[1])
    one, rows = measure()
    assert rows == 1
    add(ctx, 2)
    three, rows = measure()
    assert rows == 3
    assert one == three, f"{name}: {one} queries for 1 row, {three} for 3"
