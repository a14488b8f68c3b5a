"""`opencall budget export CHALLENGE` and `opencall recount CHALLENGE` (Django set up by the caller).

The command line runs as the operator of the instance: it reads any challenge by its slug. A missing
challenge or allocation raises NotFound, which `opencall.cli` reports in one line with a non-zero exit.
"""

from __future__ import annotations

import json
import sys

from django.utils.translation import gettext as _

from opencall.funding.actions import recount
from opencall.funding.adapters import challenge_election
from opencall.funding.queries import allocation_to_recount, challenge_by_slug


def export_command(argv: list[str]) -> int:
    if len(argv) != 1:
        print(_("usage: opencall budget export CHALLENGE > ballots.pb"), file=sys.stderr)
        return 2
    sys.stdout.write(challenge_election(challenge_by_slug(argv[0])).pb_text)
    return 0


def recount_command(argv: list[str]) -> int:
    if len(argv) != 1:
        print(_("usage: opencall recount CHALLENGE"), file=sys.stderr)
        return 2
    result = recount(allocation=allocation_to_recount(challenge_by_slug(argv[0])))
    print(json.dumps(result, indent=2))
    ok = bool(result["ballots_match"]) and bool(result["outcome_matches"])
    print(_("MATCHES the recorded result") if ok else _("DOES NOT MATCH the recorded result"), file=sys.stderr)
    return 0 if ok else 1
