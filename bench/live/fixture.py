"""Bench data: an organisation, a challenge with finalists, and an open live vote.

Run in a fresh process with DJANGO_SETTINGS_MODULE and DATABASE_URL set; prints JSON
{"code", "live_vote_id", "finalists"}.
"""

from __future__ import annotations

import json
import sys

import django


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0, skip_checks=True)
    from opencall.accounts.models import User
    from opencall.challenges.models import Challenge
    from opencall.ideas.models import Idea, IdeaStatus, Team
    from opencall.organisations.models import Membership, Organisation
    from opencall.voting import actions

    finalists = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    duration = int(sys.argv[2]) if len(sys.argv) > 2 else 3600
    stamp = timezone.now().strftime("%H%M%S%f")
    user = User.objects.create_user(email=f"bench-{stamp}@example.org", password=None)
    org = Organisation.objects.create(name=f"Bench {stamp}", slug=f"bench-{stamp}")
    Membership.objects.create(organisation=org, user=user, role="owner")
    challenge = Challenge.objects.create(
        organisation=org, title="Finale", slug=f"finale-{stamp}", summary="Bench finale", phase="results"
    )
    ideas = []
    for n in range(finalists):
        team = Team.objects.create(challenge=challenge, name=f"Team {n}")
        ideas.append(
            Idea.objects.create(
                challenge=challenge,
                team=team,
                title=f"Finalist {n}",
                summary="s",
                status=IdeaStatus.SHORTLISTED,
                submitted_at=timezone.now(),
            )
        )
    live = actions.create_live_vote(
        challenge=challenge,
        by=user,
        title="Bench finale",
        finalist_ids=[i.pk for i in ideas],
        duration_seconds=duration,
    )
    live = actions.open_live_vote(live_vote=live, by=user)
    print(
        json.dumps(
            {"code": live.code, "live_vote_id": live.pk, "finalists": [i.pk for i in ideas], "organiser_id": user.pk}
        )
    )


if __name__ == "__main__":
    main()
