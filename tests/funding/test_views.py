from __future__ import annotations

import re

import pytest

from opencall.funding.actions import cast_ballot, run_allocation
from opencall.funding.models import BallotEntry, BudgetBallot
from tests.factories import IdeaFactory, UserFactory


@pytest.fixture
def funding(challenge):
    challenge.phase = "funding"
    challenge.budget_minor = 100_000
    challenge.save(update_fields=["phase", "budget_minor"])
    ideas = [IdeaFactory(challenge=challenge, title=f"Plan {c}", requested_budget_minor=c)
             for c in (60_000, 40_000, 30_000)]
    return challenge, ideas


@pytest.mark.django_db
def test_ballot_page_records_and_shows_choices(funding, participant, as_user):
    challenge, ideas = funding
    client = as_user(participant)
    page = client.get(f"/challenges/{challenge.slug}/budget-ballot/")
    assert "Plan 60000" in page.content.decode() and 'data-budget="100000"' in page.content.decode()
    resp = client.post(f"/challenges/{challenge.slug}/budget-ballot/", {"idea": [ideas[1].pk, ideas[2].pk]})
    assert resp.status_code == 302
    assert sorted(BallotEntry.objects.values_list("idea_id", flat=True)) == sorted([ideas[1].pk, ideas[2].pk])
    again = client.get(f"/challenges/{challenge.slug}/budget-ballot/").content.decode()
    assert again.count("checked") == 2 and "Change my ballot" in again


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"idea": ["IDS_ALL"]}, "Over budget: 1,300.00 EUR chosen, 1,000.00 EUR available."),
        ({"idea": ["abc"]}, "Unknown idea."),
        ({"idea": ["999999"]}, "Not on this ballot: 999999."),
        ({}, "Choose at least one idea."),
    ],
)
def test_bad_ballots_are_explained_and_not_recorded(funding, participant, as_user, data, message):
    challenge, ideas = funding
    if data.get("idea") == ["IDS_ALL"]:
        data = {"idea": [i.pk for i in ideas]}
    resp = as_user(participant).post(f"/challenges/{challenge.slug}/budget-ballot/", data)
    assert resp.status_code == 422
    assert message in resp.content.decode()
    assert BudgetBallot.objects.count() == 0


@pytest.mark.django_db
def test_results_page_shows_published_allocation_only(funding, organiser, participant, as_user):
    challenge, ideas = funding
    cast_ballot(challenge=challenge, by=UserFactory(), choices={ideas[0].pk: 1})
    allocation = run_allocation(challenge=challenge, by=organiser, rule="greedy")
    assert as_user(participant).get(f"/challenges/{challenge.slug}/results/").status_code == 404
    detail = as_user(participant).get(f"/challenges/{challenge.slug}/allocations/{allocation.pk}/")
    assert detail.status_code == 404
    organiser_view = as_user(organiser).get(f"/challenges/{challenge.slug}/allocations/{allocation.pk}/")
    assert "Allocation (not published)" in organiser_view.content.decode()
    challenge.phase = "results"
    challenge.save(update_fields=["phase"])
    as_user(organiser).post(f"/challenges/{challenge.slug}/allocations/{allocation.pk}/publish/")
    page = as_user(participant).get(f"/challenges/{challenge.slug}/results/").content.decode()
    assert "Funding results" in page and "Plan 60000" in page and "<svg" in page


@pytest.mark.django_db
def test_allocations_screen_is_for_organisers(funding, organiser, participant, as_user):
    challenge, _ = funding
    assert as_user(participant).get(f"/challenges/{challenge.slug}/allocations/").status_code == 403
    resp = as_user(organiser).post(f"/challenges/{challenge.slug}/allocations/", {"run": "1", "rule": "mes"})
    assert resp.status_code == 302
    assert challenge.allocations.get().rule == "mes"


def _queries_for(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["allocation", "ballot"])
def test_funding_pages_query_count_is_flat(challenge, organiser, page):
    """The same number of queries with 1 and with 3 ideas and ballots (no N+1)."""
    from tests.conftest import client_for

    challenge.phase = "funding"
    challenge.budget_minor = 100_000
    challenge.save(update_fields=["phase", "budget_minor"])
    counts = []
    for n in (1, 3):
        challenge.ideas.all().delete()
        ideas = [IdeaFactory(challenge=challenge, requested_budget_minor=10_000) for _ in range(n)]
        for idea in ideas:
            cast_ballot(challenge=challenge, by=UserFactory(), choices={idea.pk: 1})
        allocation = run_allocation(challenge=challenge, by=organiser, rule="mes")
        url = (f"/challenges/{challenge.slug}/allocations/{allocation.pk}/" if page == "allocation"
               else f"/challenges/{challenge.slug}/budget-ballot/")
        counts.append(_queries_for(client_for(organiser), url))
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_ballot_api(funding, participant, as_user):
    challenge, ideas = funding
    client = as_user(participant)
    from django.middleware.csrf import _get_new_csrf_string

    client.cookies["csrftoken"] = token = _get_new_csrf_string()
    url = f"/api/challenges/{challenge.slug}/budget-ballot"
    body = {"choices": [{"idea": ideas[0].pk}, {"idea": ideas[1].pk}]}
    ok = client.put(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert ok.json() == {"challenge": challenge.slug, "kind": "knapsack", "revision": 1,
                         "choices": [{"idea": ideas[0].pk, "points": 1}, {"idea": ideas[1].pk, "points": 1}]}
    over = client.put(url, {"choices": [{"idea": i.pk} for i in ideas]}, content_type="application/json",
                      HTTP_X_CSRFTOKEN=token)
    assert over.status_code == 422
    assert over["Content-Type"] == "application/problem+json"
    assert over.json()["errors"] == {"choices": ["Over budget: 1,300.00 EUR chosen, 1,000.00 EUR available."]}
    bad = client.put(url, {"choices": [{"idea": "x"}]}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert bad.status_code == 422
    assert client.get(url).json()["revision"] == 1


@pytest.mark.django_db
def test_explanations_read_as_money_and_count_supporters_not_payment_groups(funding, organiser, participant, as_user):
    # Regression: the page showed the engine's raw floats ("3333.333333", "60000.0") and "paid by 1 voter"
    # when three supporters paid (it counted payment groups).
    challenge, ideas = funding
    for _ in range(3):
        cast_ballot(challenge=challenge, by=UserFactory(), choices={ideas[2].pk: 1})
    cast_ballot(challenge=challenge, by=UserFactory(), choices={ideas[0].pk: 1})
    cast_ballot(challenge=challenge, by=UserFactory(), choices={ideas[1].pk: 1})
    allocation = run_allocation(challenge=challenge, by=organiser, rule="mes")
    page = as_user(organiser).get(f"/challenges/{challenge.slug}/allocations/{allocation.pk}/").content.decode()
    assert allocation.selected == [ideas[2].pk, ideas[1].pk]
    assert re.findall(r"<td>((?:Funded|Not funded)[^<]*)</td>", page) == [
        "Funded in round 1 of Equal Shares: its 3 supporters shared the cost, 100.00 EUR each.",
        "Funded in round 2 of Equal Shares: its 1 supporter paid for it.",
        "Not funded",
        "Not funded: in round 1 its supporters had 400.00 EUR left, 200.00 EUR short of its cost of 600.00 EUR.",
    ]
    assert "333.333" not in page and "paid by" not in page
