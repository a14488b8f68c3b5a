"""`opencall budget export CHALLENGE` and `opencall recount CHALLENGE` (Django set up by the caller)."""

from __future__ import annotations

import json
import sys

from opencall.challenges.models import Challenge
from opencall.core.errors import NotFound
from opencall.funding.actions import recount
from opencall.funding.adapters import challenge_election
from opencall.funding.queries import allocations_for, published_allocation


def _challenge(slug: str) -> Challenge:
    # The CLI runs as the operator of the instance: it reads any challenge by its slug.
    found = Challenge.objects.filter(slug=slug).first()
    if found is None:
        raise NotFound(f"no challenge with the slug {slug!r}")
    return found


def export_command(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: opencall budget export CHALLENGE > ballots.pb", file=sys.stderr)
        return 2
    sys.stdout.write(challenge_election(_challenge(argv[0])).pb_text)
    return 0


def recount_command(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: opencall recount CHALLENGE", file=sys.stderr)
        return 2
    challenge = _challenge(argv[0])
    allocation = published_allocation(challenge) or allocations_for(challenge).first()
    if allocation is None:
        raise NotFound(f"{challenge.slug} has no allocation to recount")
    result = recount(allocation=allocation)
    print(json.dumps(result, indent=2))
    ok = bool(result["ballots_match"]) and bool(result["outcome_matches"])
    print("MATCHES the recorded result" if ok else "DOES NOT MATCH the recorded result", file=sys.stderr)
    return 0 if ok else 1
