"""Crowd pairwise voting: who may answer, once per pair, the ranking it produces, and the next pair."""

from __future__ import annotations

import numpy as np
import pytest

from opencall.core.errors import Conflict as ConflictError
from opencall.core.errors import InvalidInput, PermissionDenied, PhaseClosed
from opencall.review.actions import cast_pairwise, configure_pairwise
from opencall.review.crowd import crowd_ranking, next_pair_for
from opencall.review.models import PairwiseVote
from tests.factories import IdeaFactory, UserFactory


@pytest.fixture
def crowd(challenge, organiser):
    challenge.phase = "community"
    challenge.save(update_fields=["phase"])
    ideas = [IdeaFactory(challenge=challenge, title=t) for t in ("Alpha", "Bravo", "Charlie", "Delta")]
    configure_pairwise(challenge=challenge, by=organiser, enabled=True)
    return challenge, ideas


@pytest.mark.django_db
def test_pairwise_needs_the_organiser_and_the_phase(challenge, organiser, participant):
    challenge.phase = "community"
    challenge.save(update_fields=["phase"])
    a, b = IdeaFactory(challenge=challenge), IdeaFactory(challenge=challenge)
    with pytest.raises(PermissionDenied):
        cast_pairwise(challenge=challenge, by=participant, first=a, second=b, outcome="first")
    with pytest.raises(PermissionDenied):
        configure_pairwise(challenge=challenge, by=participant, enabled=True)
    configure_pairwise(challenge=challenge, by=organiser, enabled=True)
    challenge.phase = "review"
    challenge.save(update_fields=["phase"])
    with pytest.raises(PhaseClosed):
        cast_pairwise(challenge=challenge, by=participant, first=a, second=b, outcome="first")
    assert PairwiseVote.objects.count() == 0


@pytest.mark.django_db
def test_one_answer_per_pair_whichever_side(crowd, participant):
    challenge, (a, b, c, _) = crowd
    cast_pairwise(challenge=challenge, by=participant, first=a, second=b, outcome="first")
    with pytest.raises(ConflictError):
        cast_pairwise(challenge=challenge, by=participant, first=b, second=a, outcome="second")
    with pytest.raises(InvalidInput):
        cast_pairwise(challenge=challenge, by=participant, first=c, second=c, outcome="tie")
    with pytest.raises(InvalidInput):
        cast_pairwise(challenge=challenge, by=participant, first=a, second=IdeaFactory(), outcome="tie")
    with pytest.raises(InvalidInput):
        cast_pairwise(challenge=challenge, by=participant, first=a, second=c, outcome="both")
    assert PairwiseVote.objects.count() == 1


@pytest.mark.django_db
def test_crowd_ranking_orders_by_wins_and_ignores_skips(crowd):
    challenge, (a, b, c, d) = crowd
    for _ in range(3):
        voter = UserFactory()
        cast_pairwise(challenge=challenge, by=voter, first=a, second=b, outcome="first")
        cast_pairwise(challenge=challenge, by=voter, first=c, second=b, outcome="second")
        cast_pairwise(challenge=challenge, by=voter, first=a, second=c, outcome="first")
        cast_pairwise(challenge=challenge, by=voter, first=d, second=c, outcome="second")
        cast_pairwise(challenge=challenge, by=voter, first=d, second=a, outcome="skip")
    ranking = crowd_ranking(challenge)
    assert [r.idea.title for r in ranking.ideas] == ["Alpha", "Bravo", "Charlie", "Delta"]
    assert ranking.total_votes == 12
    assert all(r.low < r.score < r.high for r in ranking.ideas)
    assert {r.idea.title: r.votes for r in ranking.ideas} == {"Alpha": 6, "Bravo": 6, "Charlie": 9, "Delta": 3}


@pytest.mark.django_db
@pytest.mark.parametrize("focus", ["top", "whole"])
def test_next_pair_never_repeats_for_a_voter(crowd, organiser, participant, focus):
    challenge, _ideas = crowd
    configure_pairwise(challenge=challenge, by=organiser, enabled=True, focus=focus)
    asked = set()
    while (pair := next_pair_for(challenge, participant)) is not None:
        key = frozenset(i.pk for i in pair)
        assert key not in asked
        asked.add(key)
        cast_pairwise(challenge=challenge, by=participant, first=pair[0], second=pair[1], outcome="tie")
    assert len(asked) == 6  # every pair of 4 ideas, once


@pytest.mark.django_db
def test_the_fit_is_reused_until_an_answer_arrives(crowd, participant, monkeypatch):
    from opencall.review import crowd as crowd_module

    calls = []
    real_fit = crowd_module.fit_bradley_terry

    def counting_fit(*args, **kwargs):
        calls.append(1)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(crowd_module, "fit_bradley_terry", counting_fit)
    challenge, (a, b, c, _) = crowd
    cast_pairwise(challenge=challenge, by=participant, first=a, second=b, outcome="first")
    first_pair = next_pair_for(challenge, participant)
    ranking = crowd_ranking(challenge)
    assert next_pair_for(challenge, participant) == first_pair
    assert len(calls) == 1  # one fit served the two pair requests and the ranking
    cast_pairwise(challenge=challenge, by=UserFactory(), first=c, second=b, outcome="second")
    updated = crowd_ranking(challenge)
    assert len(calls) == 2 and updated.total_votes == ranking.total_votes + 1 == 2
    assert {r.idea.title: r.votes for r in updated.ideas} == {"Alpha": 1, "Bravo": 2, "Charlie": 1, "Delta": 0}
    # A skip is not an answer the fit uses: no refit.
    cast_pairwise(challenge=challenge, by=participant, first=c, second=a, outcome="skip")
    crowd_ranking(challenge)
    assert len(calls) == 2


def _answer(challenge, ideas, answers):
    """Cast `(voter, first, second, outcome)` answers, ideas given by their position in `ideas`."""
    for voter, f, s, outcome in answers:
        cast_pairwise(challenge=challenge, by=voter, first=ideas[f], second=ideas[s], outcome=outcome)


@pytest.mark.django_db
def test_the_chooser_aims_where_the_organisers_said(challenge, organiser, participant, monkeypatch):
    from opencall.engines.ranking import PairwiseVotes, SelectionContext, fit_bradley_terry
    from opencall.engines.ranking import next_pair as engine_next_pair
    from opencall.review import crowd as crowd_module

    challenge.phase = "community"
    challenge.save(update_fields=["phase"])
    ideas = [IdeaFactory(challenge=challenge, title=f"Idea {n}") for n in range(6)]
    configure_pairwise(challenge=challenge, by=organiser, enabled=True, top_k=2)
    voters = [UserFactory() for _ in range(3)]
    # Every idea gets past the coverage rule (3 votes); 4 and 5 are close and little compared.
    answers = [(v, i, j, "first") for v in voters for i, j in ((0, 1), (1, 2), (2, 3), (3, 4))]
    answers += [(voters[0], 5, 4, "first"), (voters[1], 5, 0, "second"), (voters[2], 5, 3, "tie")]
    _answer(challenge, ideas, answers)

    calls = []

    def spy(ctx, seen, **kwargs):
        # The seed the chooser draws depends on database ids; pin it so the test does not.
        calls.append((seen, kwargs))
        return engine_next_pair(ctx, seen, **{**kwargs, "seed": 0})

    monkeypatch.setattr(crowd_module, "next_pair", spy)
    chosen = {}
    for focus in ("top", "whole"):
        configure_pairwise(challenge=challenge, by=organiser, enabled=True, top_k=2, focus=focus)
        pair = next_pair_for(challenge, participant)
        chosen[focus] = {ideas.index(pair[0]), ideas.index(pair[1])}

    # The engine called directly, in each mode, on a fit of the same answers.
    index = {v.pk: n for n, v in enumerate(voters)}
    votes = PairwiseVotes.from_lists([a[1] for a in answers], [a[2] for a in answers],
                                     [{"first": 1.0, "second": 0.0, "tie": 0.5}[a[3]] for a in answers],
                                     [index[a[0].pk] for a in answers], n_ideas=6, n_voters=3)
    fit = fit_bradley_terry(votes, prior_sd=1.0)
    counts = np.bincount(np.concatenate([votes.first, votes.second]), minlength=6)
    top = engine_next_pair(SelectionContext.build(fit.scores, fit.std_errors, counts, top_k=2), set(), seed=0)
    whole = engine_next_pair(SelectionContext.from_ranking(fit, counts, top_k=None), set(), seed=0,
                             explore=crowd_module.WHOLE_RANKING_EXPLORE)
    assert [seen for seen, _ in calls] == [set(), set()]
    assert (top, whole) == ((1, 5), (2, 5))  # the two modes differ here
    assert (chosen["top"], chosen["whole"]) == ({1, 5}, {2, 5})


def test_crowd_bt_needs_enough_voters_with_enough_decisive_answers():
    from opencall.review.crowd import uses_crowd_bt

    assert uses_crowd_bt([10, 10, 10])
    assert uses_crowd_bt([3, 12, 40, 10, 1])
    assert not uses_crowd_bt([10, 10, 9])
    assert not uses_crowd_bt([200, 200])
    assert not uses_crowd_bt([])


def _spammed(challenge, organiser):
    """Six ideas, best first.  Three honest voters compare the first five among themselves and
    the last (entered late) only with the fifth; a spammer answers every pair, always reversed."""
    from itertools import combinations

    challenge.phase = "community"
    challenge.save(update_fields=["phase"])
    ideas = [IdeaFactory(challenge=challenge, title=f"Idea {n}") for n in range(6)]
    configure_pairwise(challenge=challenge, by=organiser, enabled=True)
    honest = [*combinations(range(5), 2), (4, 5)]
    answers = [(voter, i, j, "first") for voter in UserFactory.create_batch(3) for i, j in honest]
    spammer = UserFactory()
    answers += [(spammer, i, j, "second") for i, j in combinations(range(6), 2)]
    _answer(challenge, ideas, answers)
    return answers


@pytest.mark.django_db
def test_a_spammer_is_outvoted_once_voters_answered_enough(challenge, organiser):
    from opencall.engines.ranking import PairwiseVotes, fit_bradley_terry

    answers = _spammed(challenge, organiser)
    ranking = crowd_ranking(challenge)
    assert [r.idea.title for r in ranking.ideas] == [f"Idea {n}" for n in range(6)]
    assert ranking.total_votes == 3 * 11 + 15
    assert all(r.low < r.score < r.high for r in ranking.ideas)
    reliability = ranking.ranking.voter_reliability
    assert reliability[3] < 0.3 < 0.9 < min(reliability[:3])  # voters by id: the spammer came last
    # Plain Bradley–Terry, on the same answers, believes the spammer about the late idea.
    voter_row = {v.pk: n for n, v in enumerate(sorted({a[0] for a in answers}, key=lambda v: v.pk))}
    plain = fit_bradley_terry(PairwiseVotes.from_lists([a[1] for a in answers], [a[2] for a in answers],
                                                       [1.0 if a[3] == "first" else 0.0 for a in answers],
                                                       [voter_row[a[0].pk] for a in answers]), prior_sd=1.0)
    assert plain.order().tolist() == [0, 1, 5, 2, 3, 4]


@pytest.mark.django_db
def test_crowd_bt_costs_no_more_queries(challenge, organiser, django_assert_num_queries):
    answers = _spammed(challenge, organiser)
    # Candidates, the answers' state (the fit cache's key), the answers themselves; then from the cache.
    with django_assert_num_queries(3):
        assert crowd_ranking(challenge).ranking.voter_reliability is not None
    with django_assert_num_queries(2):
        crowd_ranking(challenge)
    PairwiseVote.objects.exclude(voter=answers[0][0]).delete()  # one voter left: plain Bradley–Terry
    with django_assert_num_queries(3):
        assert crowd_ranking(challenge).ranking.voter_reliability is None


@pytest.mark.django_db
def test_the_whole_ranking_chooser_values_a_vote_by_its_voters_reliability(challenge, organiser, monkeypatch):
    from opencall.review import crowd as crowd_module

    answers = _spammed(challenge, organiser)
    configure_pairwise(challenge=challenge, by=organiser, enabled=True, focus="whole")
    passed = []
    real = crowd_module.next_pair
    monkeypatch.setattr(crowd_module, "next_pair", lambda ctx, seen, **kw: passed.append(kw) or real(ctx, seen, **kw))
    honest, spammer = answers[0][0], answers[-1][0]
    assert next_pair_for(challenge, honest) is not None
    assert next_pair_for(challenge, spammer) is None  # they answered every pair
    reliability = crowd_ranking(challenge).ranking.voter_reliability
    assert [kw["reliability"] for kw in passed] == [reliability[0], reliability[3]]
    assert next_pair_for(challenge, UserFactory()) is not None and passed[-1]["reliability"] is None
