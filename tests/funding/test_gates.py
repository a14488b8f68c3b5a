"""The funding gates: one answer per object for the web, the API and the command line."""

from __future__ import annotations

import json

import pytest

from opencall import cli
from opencall.funding.actions import cast_ballot, run_allocation
from tests.factories import IdeaFactory, UserFactory

HIDDEN = "No such allocation, or it is not visible to you."


@pytest.fixture
def allocation(challenge, organiser):
    challenge.phase = "funding"
    challenge.budget_minor = 100_000
    challenge.save(update_fields=["phase", "budget_minor"])
    idea = IdeaFactory(challenge=challenge, requested_budget_minor=60_000)
    cast_ballot(challenge=challenge, by=UserFactory(), choices={idea.pk: 1})
    found = run_allocation(challenge=challenge, by=organiser, rule="greedy")
    challenge.phase = "results"
    challenge.save(update_fields=["phase"])
    return found


@pytest.mark.django_db
def test_an_unpublished_allocation_is_missing_to_others_on_the_web_and_in_the_api(allocation, participant, as_user):
    slug = allocation.challenge.slug
    client = as_user(participant)
    for path in (f"/challenges/{slug}/allocations/{allocation.pk}/publish/",
                 f"/api/challenges/{slug}/allocations/{allocation.pk}/publish"):
        answer = client.post(path)
        assert answer.status_code == 404
        assert HIDDEN in answer.content.decode()
    unknown = client.post(f"/api/challenges/{slug}/allocations/{allocation.pk + 1000}/publish")
    assert (unknown.status_code, unknown.json()["detail"]) == (404, HIDDEN)
    allocation.refresh_from_db()
    assert allocation.published_at is None


@pytest.mark.django_db
def test_a_published_allocation_is_seen_by_others_but_the_action_refuses_them(allocation, organiser, participant,
                                                                              as_user):
    slug = allocation.challenge.slug
    as_user(organiser).post(f"/challenges/{slug}/allocations/{allocation.pk}/publish/")
    again = as_user(participant).post(f"/api/challenges/{slug}/allocations/{allocation.pk}/publish")
    assert (again.status_code, again.json()["type"], again.json()["detail"]) == (
        403, "https://opencall.dev/problems/permission-denied", "Only organisers publish results.")


@pytest.mark.django_db
def test_the_organisers_desk_refuses_others_alike_on_the_web_and_in_the_api(allocation, participant, as_user):
    slug = allocation.challenge.slug
    client = as_user(participant)
    page = client.get(f"/challenges/{slug}/allocations/")
    assert page.status_code == 403
    assert "Only the challenge&#x27;s organisers run allocations." in page.content.decode()
    answer = client.get(f"/api/challenges/{slug}/allocations")
    assert (answer.status_code, answer.json()["detail"]) == (403, "Only the challenge's organisers run allocations.")


@pytest.mark.django_db
def test_recount_on_the_command_line_answers_a_missing_challenge_in_one_line(monkeypatch, capsys):
    monkeypatch.setattr(cli, "_django", lambda **_kw: None)  # the test settings are set up already
    assert cli.main(["recount", "no-such-challenge"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "opencall: error: No challenge has the slug no-such-challenge.\n")


@pytest.mark.django_db
def test_recount_on_the_command_line_answers_a_challenge_without_allocation_in_one_line(challenge, monkeypatch,
                                                                                       capsys):
    monkeypatch.setattr(cli, "_django", lambda **_kw: None)
    assert cli.main(["recount", challenge.slug]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"opencall: error: {challenge.slug} has no allocation to recount.\n")


@pytest.mark.django_db
def test_recount_on_the_command_line_matches_the_recorded_result(allocation, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_django", lambda **_kw: None)
    assert cli.main(["recount", allocation.challenge.slug]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["allocation"] == allocation.pk
    assert err == "MATCHES the recorded result\n"
