"""Crowd ranking of a challenge's ideas from pairwise votes, and the next pair to ask a voter.

Adapts rows to `opencall.engines.ranking`: Bradley–Terry with ties, or Crowd-BT (each voter's
reliability learnt) once `uses_crowd_bt` says the votes allow it; adaptive pair selection aimed
at the top of the ranking or at the whole ranking, as the organisers chose.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Max

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.engines.ranking.pairwise import PairwiseRanking, PairwiseVotes, fit_bradley_terry, fit_crowd_bt
from opencall.engines.ranking.selection import SelectionContext, next_pair
from opencall.ideas.models import Idea, IdeaStatus
from opencall.review.models import PairwiseSettings, PairwiseVote

_OUTCOME: dict[str, float] = {
    PairwiseVote.Outcome.FIRST: 1.0,
    PairwiseVote.Outcome.SECOND: 0.0,
    PairwiseVote.Outcome.TIE: 0.5,
}

# Prior standard deviation of the log-strengths, for the fit and for the pair chooser before any answer.
PRIOR_SD = 1.0

# Crowd-BT needs this many voters with this many decisive answers each (see `uses_crowd_bt`).
CROWD_BT_MIN_ANSWERS = 10
CROWD_BT_MIN_VOTERS = 3

# Share of uniformly random pairs when aiming at the whole ranking: bench/ranking found purely
# local designs pin the ideas' places along the scale poorly, and ran its whole-ranking arm at 50 %.
WHOLE_RANKING_EXPLORE = 0.5


def pairwise_settings(challenge: Challenge) -> PairwiseSettings:
    found = PairwiseSettings.objects.filter(challenge=challenge).first()
    return found if found is not None else PairwiseSettings(challenge=challenge)


def candidates(challenge: Challenge) -> list[Idea]:
    """Ideas the crowd compares: in play, public, not hidden."""
    return list(
        Idea.objects.filter(
            challenge=challenge,
            hidden=False,
            confidential=False,
            status__in=[IdeaStatus.SUBMITTED, IdeaStatus.SHORTLISTED],
        )
        .select_related("category")
        .order_by("id")
    )


@dataclass(frozen=True)
class RankedIdea:
    idea: Idea
    score: float
    low: float
    high: float
    votes: int


@dataclass(frozen=True)
class CrowdRanking:
    ideas: list[RankedIdea]
    total_votes: int
    ranking: object | None  # the engine's PairwiseRanking (None when nobody voted)


def uses_crowd_bt(decisive_per_voter: Iterable[int]) -> bool:
    """Whether to fit Crowd-BT rather than plain Bradley–Terry, from each voter's number of
    decisive answers (ties and skips say nothing about a voter's reliability).

    Crowd-BT judges a voter by how often they contradict the others.  Its Beta(4, 2) prior on a
    voter's reliability weighs as much as four answers, so the estimate is mostly the voter's own
    only from about `CROWD_BT_MIN_ANSWERS` decisive answers; below that the fit mostly discounts
    every vote alike, which plain Bradley–Terry does not need.  And a voter can only be found out
    against a consensus of voters who answered that often: at least `CROWD_BT_MIN_VOTERS` of them
    (with two who disagree, the prior alone would decide which one is wrong).
    """
    return sum(1 for n in decisive_per_voter if n >= CROWD_BT_MIN_ANSWERS) >= CROWD_BT_MIN_VOTERS


@dataclass(frozen=True, eq=False)
class _Fit:
    ranking: PairwiseRanking | None
    counts: np.ndarray
    total: int
    voters: dict[int, int] = field(default_factory=dict)  # voter id → row of ranking.voter_reliability
    # Selection contexts built from this fit, by (whole ranking?, top_k): the whole-ranking one
    # costs O(n^3), so it is built once per fit, not once per pair request.
    contexts: dict[tuple[bool, int | None], SelectionContext] = field(default_factory=dict)


# Fits by (challenge, compared ideas, answers so far): a page view or a pair request refits only
# when an answer was added or removed, or the compared ideas changed.  Per process, bounded.
_FITS: OrderedDict[tuple[object, ...], _Fit] = OrderedDict()
_FITS_LOCK = threading.Lock()
_FITS_MAX = 64


def _crowd_fit(challenge: Challenge, ideas: list[Idea]) -> _Fit:
    answers = PairwiseVote.objects.filter(challenge=challenge).exclude(outcome=PairwiseVote.Outcome.SKIP)
    state = answers.aggregate(n=Count("id"), last=Max("id"), at=Max("created_at"))
    key = (challenge.pk, tuple(idea.pk for idea in ideas), state["n"], state["last"], state["at"])
    with _FITS_LOCK:
        hit = _FITS.get(key)
        if hit is not None:
            _FITS.move_to_end(key)
            return hit
    index = {idea.pk: n for n, idea in enumerate(ideas)}
    rows = [
        (index[f], index[s], _OUTCOME[o], v)
        for f, s, o, v in answers.values_list("first_id", "second_id", "outcome", "voter_id")
        if f in index and s in index
    ]
    counts = np.zeros(len(ideas), dtype=np.int64)
    if not rows or len(ideas) < 2:
        fit = _Fit(None, counts, 0)
    else:
        voters = {v: n for n, v in enumerate(sorted({r[3] for r in rows}))}
        first = np.array([r[0] for r in rows], dtype=np.int64)
        second = np.array([r[1] for r in rows], dtype=np.int64)
        np.add.at(counts, first, 1)
        np.add.at(counts, second, 1)
        votes = PairwiseVotes.from_lists(
            first, second, [r[2] for r in rows], [voters[r[3]] for r in rows], n_ideas=len(ideas), n_voters=len(voters)
        )
        decisive = np.bincount(votes.voter[votes.outcome != 0.5], minlength=len(voters))
        fitter = fit_crowd_bt if uses_crowd_bt(decisive.tolist()) else fit_bradley_terry
        fit = _Fit(fitter(votes, prior_sd=PRIOR_SD), counts, len(rows), voters)
    with _FITS_LOCK:
        _FITS[key] = fit
        _FITS.move_to_end(key)
        while len(_FITS) > _FITS_MAX:
            _FITS.popitem(last=False)
    return fit


def crowd_ranking(challenge: Challenge, ideas: list[Idea] | None = None) -> CrowdRanking:
    ideas = candidates(challenge) if ideas is None else ideas
    fit = _crowd_fit(challenge, ideas)
    if fit.ranking is None:
        return CrowdRanking([RankedIdea(i, 0.0, 0.0, 0.0, 0) for i in ideas], 0, None)
    low, high = fit.ranking.interval(0.95)
    ranked = [
        RankedIdea(ideas[n], float(fit.ranking.scores[n]), float(low[n]), float(high[n]), int(fit.counts[n]))
        for n in fit.ranking.order().tolist()
    ]
    return CrowdRanking(ranked, fit.total, fit.ranking)


def _selection_context(fit: _Fit, n_ideas: int, conf: PairwiseSettings) -> SelectionContext:
    """What the pair chooser knows after this fit, aimed as the organisers chose.

    The whole ranking needs the fit's full covariance (the engine keeps it up to its
    `dense_limit` ideas); beyond that every idea weighs the same and the variance-based gain is used.
    """
    whole = conf.focus == PairwiseSettings.Focus.WHOLE
    top_k = None if whole else min(conf.top_k, n_ideas - 1)
    key = (whole, top_k)
    ctx = fit.contexts.get(key)
    if ctx is not None:
        return ctx
    if fit.ranking is None:
        scores, errors = np.zeros(n_ideas), np.full(n_ideas, PRIOR_SD)
        covariance = np.eye(n_ideas) * PRIOR_SD**2 if whole else None
    else:
        scores, errors = fit.ranking.scores, fit.ranking.std_errors
        covariance = fit.ranking.covariance if whole else None
    ctx = SelectionContext.build(scores, errors, fit.counts, top_k=top_k, covariance=covariance)
    fit.contexts[key] = ctx
    return ctx


def next_pair_for(challenge: Challenge, voter: User) -> tuple[Idea, Idea] | None:
    """The most informative unseen pair for this voter, or None when they have seen them all."""
    ideas = candidates(challenge)
    if len(ideas) < 2:
        return None
    index = {idea.pk: n for n, idea in enumerate(ideas)}
    fit = _crowd_fit(challenge, ideas)
    conf = pairwise_settings(challenge)
    ctx = _selection_context(fit, len(ideas), conf)
    reliability = None
    if fit.ranking is not None and fit.ranking.voter_reliability is not None and voter.pk in fit.voters:
        reliability = float(fit.ranking.voter_reliability[fit.voters[voter.pk]])
    explore = WHOLE_RANKING_EXPLORE if conf.focus == PairwiseSettings.Focus.WHOLE else 0.0
    seen = {
        (min(index[lo], index[hi]), max(index[lo], index[hi]))
        for lo, hi in PairwiseVote.objects.filter(challenge=challenge, voter=voter).values_list("low", "high")
        if lo in index and hi in index
    }
    seed = int.from_bytes(hashlib.sha256(f"{challenge.pk}:{voter.pk}:{len(seen)}".encode()).digest()[:4], "big")
    pair = next_pair(ctx, seen, seed=seed, explore=explore, reliability=reliability)
    if pair is None:
        return None
    left, right = ideas[pair[0]], ideas[pair[1]]
    # Which idea shows first is drawn too, so the left side carries no systematic advantage.
    return (right, left) if seed % 2 else (left, right)
