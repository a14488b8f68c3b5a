"""Between ORM rows and the budgeting engine: a challenge's ballots as an Election, and back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction

from opencall.challenges.models import Challenge
from opencall.core.money import minor_digits
from opencall.engines.budgeting.model import Election, election_from_ballots
from opencall.engines.budgeting.pabulib import write_pabulib
from opencall.funding.models import BallotKind
from opencall.funding.queries import ballot_rows, fundable_ideas, settings_for

VOTE_TYPE = {BallotKind.KNAPSACK: "approval", BallotKind.APPROVAL: "approval", BallotKind.CUMULATIVE: "cumulative"}


@dataclass(frozen=True)
class ChallengeElection:
    election: Election
    idea_ids: tuple[int, ...]  # engine project index → idea id
    pb_text: str
    digest: str


def challenge_election(challenge: Challenge) -> ChallengeElection:
    """The challenge's ballots, anonymised (voters numbered 1..n by ballot order), as an engine Election."""
    ideas = list(fundable_ideas(challenge))
    index = {idea.pk: i for i, idea in enumerate(ideas)}
    kind = settings_for(challenge).ballot_kind
    vote_type = VOTE_TYPE[BallotKind(kind)]
    ballots: list[dict[int, int]] = []
    for _, entries in ballot_rows(challenge):
        ballot = {index[idea_id]: points for idea_id, points in entries if idea_id in index}
        if ballot:
            ballots.append(ballot)
    plain: list[list[int]] | list[dict[int, int]]
    plain = [list(b) for b in ballots] if vote_type == "approval" else ballots
    # The engine counts in whole currency units (Add1U completion raises budgets one unit per voter,
    # as equalshares.net defines it); exact fractions keep the cents.
    unit = 10 ** minor_digits(challenge.currency)
    election = election_from_ballots(
        [Fraction(idea.requested_budget_minor or 0, unit) for idea in ideas],
        Fraction(challenge.budget_minor or 0, unit),
        plain,  # type: ignore[arg-type]
        vote_type=vote_type,
        project_ids=[str(idea.pk) for idea in ideas],
    )
    text = write_pabulib(election)
    return ChallengeElection(election, tuple(i.pk for i in ideas), text, hashlib.sha256(text.encode()).hexdigest())
