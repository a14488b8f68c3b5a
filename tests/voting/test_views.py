from __future__ import annotations

import pytest
from django.urls import reverse

from opencall.core.models import AuditEvent
from opencall.voting import actions
from opencall.voting.models import LiveBallot, LiveCount, LiveVote, RewardCode
from opencall.voting.queries import device_key
from opencall.voting.tokens import read_token
from tests.factories import IdeaFactory

pytestmark = pytest.mark.django_db


def test_organiser_creates_a_live_vote(as_user, organiser, challenge, finalists) -> None:
    client = as_user(organiser)
    response = client.post(
        reverse("voting:list", args=[challenge.slug]),
        {"title": "Finale", "finalists": [finalists[0].pk, finalists[2].pk], "duration_seconds": 120},
    )
    live_vote = LiveVote.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/live/{live_vote.code}/console/"
    assert (live_vote.title, live_vote.state, live_vote.duration_seconds, live_vote.sign_in_required) == (
        "Finale",
        "draft",
        120,
        False,
    )
    assert sorted(live_vote.finalists.values_list("pk", flat=True)) == [finalists[0].pk, finalists[2].pk]
    assert sorted(LiveCount.objects.filter(live_vote=live_vote).values_list("idea_id", "votes")) == [
        (finalists[0].pk, 0),
        (finalists[2].pk, 0),
    ]
    assert AuditEvent.objects.filter(verb="live_vote.created").count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"title": "", "duration_seconds": 120}, "title", "This field is required."),
        (
            {"title": "x" * 161, "duration_seconds": 120},
            "title",
            "Ensure this value has at most 160 characters (it has 161).",
        ),
        (
            {"title": "F", "duration_seconds": 5},
            "duration_seconds",
            "Ensure this value is greater than or equal to 10.",
        ),
        ({"title": "F", "duration_seconds": "soon"}, "duration_seconds", "Enter a whole number."),
    ],
)
def test_create_form_errors(as_user, organiser, challenge, finalists, data, field, message) -> None:
    data = {"finalists": [f.pk for f in finalists], **data}
    response = as_user(organiser).post(reverse("voting:list", args=[challenge.slug]), data)
    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    assert LiveVote.objects.count() == 0


def test_finalists_must_be_entered_ideas_of_the_challenge(organiser, challenge, finalists) -> None:
    draft = IdeaFactory(challenge=challenge, status="draft")
    with pytest.raises(actions.InvalidInput) as exc:
        actions.create_live_vote(challenge=challenge, by=organiser, title="F", finalist_ids=[finalists[0].pk, draft.pk])
    assert exc.value.errors == {"finalists": ["Finalists must be submitted ideas of this challenge."]}
    with pytest.raises(actions.InvalidInput) as exc:
        actions.create_live_vote(challenge=challenge, by=organiser, title="F", finalist_ids=[finalists[0].pk])
    assert exc.value.errors == {"finalists": ["Pick at least two finalists."]}


def test_only_organisers_run_live_votes(as_user, participant, employee, challenge, live_vote) -> None:
    assert as_user(participant).get(reverse("voting:list", args=[challenge.slug])).status_code == 403
    assert as_user(employee).get(reverse("voting:console", args=[live_vote.code])).status_code == 404
    response = as_user(participant).post(reverse("voting:open", args=[live_vote.code]))
    assert response.status_code == 404
    live_vote.refresh_from_db()
    assert live_vote.state == "draft"
    with pytest.raises(actions.PermissionDenied):
        actions.open_live_vote(live_vote=live_vote, by=participant)


def test_console_lifecycle(as_user, organiser, live_vote, finalists) -> None:
    client = as_user(organiser)
    console = reverse("voting:console", args=[live_vote.code])
    page = client.get(console).content.decode()
    assert "Start voting" in page and f"/v/{live_vote.code}/" in page
    assert client.post(reverse("voting:open", args=[live_vote.code])).status_code == 302
    live_vote.refresh_from_db()
    first_close = live_vote.closes_at
    assert live_vote.state == "open" and (first_close - live_vote.opens_at).total_seconds() == 300
    page = client.get(console).content.decode()
    assert f"/live/api/{live_vote.code}/events" in page and "Stop voting and count" in page
    assert client.post(reverse("voting:extend", args=[live_vote.code]), {"seconds": 30}).status_code == 302
    live_vote.refresh_from_db()
    assert (live_vote.closes_at - first_close).total_seconds() == 30
    bad = client.post(reverse("voting:extend", args=[live_vote.code]), {"seconds": 0})
    assert bad.status_code == 422 and bad.context["extend_form"].errors["seconds"] == [
        "Ensure this value is greater than or equal to 1."
    ]
    LiveBallot.objects.create(
        live_vote=live_vote,
        device="d" * 22,
        idea=finalists[1],
        client_vote_id="vote-0001",
        cast_at=live_vote.opens_at,
        updated_at=live_vote.opens_at,
    )
    assert client.post(reverse("voting:stop", args=[live_vote.code]), {"confirm": "stop"}).status_code == 302
    live_vote.refresh_from_db()
    assert live_vote.state == "closed"
    assert live_vote.final_tally["counts"] == {
        str(finalists[0].pk): 0,
        str(finalists[1].pk): 1,
        str(finalists[2].pk): 0,
    }
    again = client.post(reverse("voting:stop", args=[live_vote.code]), {"confirm": "stop"})
    assert again.status_code == 409 and "Only an open live vote can be stopped." in again.content.decode()
    assert client.post(reverse("voting:publish", args=[live_vote.code])).status_code == 302
    assert list(AuditEvent.objects.filter(object_type="voting.livevote").values_list("verb", flat=True)) == [
        "live_vote.created",
        "live_vote.opened",
        "live_vote.extended",
        "live_vote.closed",
        "live_vote.published",
    ]


def test_results_hidden_until_published_then_with_audit_log(as_user, visitor, organiser, open_vote, finalists) -> None:
    url = reverse("voting:results", args=[open_vote.code])
    LiveBallot.objects.create(
        live_vote=open_vote,
        device="d" * 22,
        idea=finalists[2],
        client_vote_id="vote-0001",
        cast_at=open_vote.opens_at,
        updated_at=open_vote.opens_at,
    )
    actions.stop_live_vote(live_vote=open_vote, by=organiser)
    page = as_user(visitor).get(url).content.decode()
    assert "The results are not published yet." in page and "Audit log" not in page
    actions.publish_live_results(live_vote=open_vote, by=organiser)
    page = as_user(visitor).get(url).content.decode()
    assert "Gamma" in page and "100%" in page and "1 voters." in page
    assert "live_vote.closed" in page and "live_vote.published" in page
    open_vote.refresh_from_db()
    assert open_vote.ballots_digest in page


def test_projector_and_voter_pages(as_user, visitor, open_vote) -> None:
    page = as_user(visitor).get(reverse("voting:projector", args=[open_vote.code])).content.decode()
    assert "<svg" in page and f"http://testserver/v/{open_vote.code}/" in page
    assert f"/live/api/{open_vote.code}/events" in page and "Alpha" in page
    response = as_user(visitor).get(reverse("voting:vote", args=[open_vote.code]))
    token = response.context["token"]
    held = read_token(device_key(), token)
    assert held is not None and held.live_vote_id == open_vote.pk and held.user_id is None
    assert token in response.content.decode() and f"/live/api/{open_vote.code}/vote" in response.content.decode()


def test_draft_live_vote_is_not_public(as_user, visitor, live_vote) -> None:
    assert as_user(visitor).get(reverse("voting:vote", args=[live_vote.code])).status_code == 404


def test_sign_in_required_mode(as_user, visitor, participant, organiser, challenge, finalists) -> None:
    lv = actions.create_live_vote(
        challenge=challenge, by=organiser, title="Staff", sign_in_required=True, finalist_ids=[f.pk for f in finalists]
    )
    actions.open_live_vote(live_vote=lv, by=organiser)
    response = as_user(visitor).get(reverse("voting:vote", args=[lv.code]))
    assert response.status_code == 302 and response["Location"] == f"/accounts/login/?next=/v/{lv.code}/"
    token = as_user(participant).get(reverse("voting:vote", args=[lv.code])).context["token"]
    assert read_token(device_key(), token).device == f"u{participant.pk}"


def test_list_page_query_count_is_flat(as_user, organiser, challenge, finalists, django_assert_max_num_queries) -> None:
    client = as_user(organiser)
    url = reverse("voting:list", args=[challenge.slug])
    actions.create_live_vote(challenge=challenge, by=organiser, title="One", finalist_ids=[f.pk for f in finalists])
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for title in ("Two", "Three"):
        actions.create_live_vote(challenge=challenge, by=organiser, title=title, finalist_ids=[f.pk for f in finalists])
    with CaptureQueriesContext(connection) as three:
        assert client.get(url).content.decode().count("/console/") == 3
    assert len(one) == len(three)


def test_reward_codes(as_user, organiser, open_vote, finalists) -> None:
    client = as_user(organiser)
    url = reverse("voting:rewards", args=[open_vote.code])
    assert client.post(url, {"codes": "AAAA-1\nBBBB-2\nAAAA-1\n"}).status_code == 302
    assert client.post(url, {"count": 2}).status_code == 302
    assert RewardCode.objects.filter(live_vote=open_vote).count() == 4
    bad = client.post(url, {"codes": "ok-code\n<b>x</b>"})
    assert bad.status_code == 422
    assert bad.context["upload_form"].errors["codes"] == [
        "Codes are 4 to 64 letters, digits, '-' or '_'. Not valid: <b>x</b>"
    ]
    assert RewardCode.objects.filter(live_vote=open_vote).count() == 4

    voter = as_user(None)
    token = voter.get(reverse("voting:vote", args=[open_vote.code])).context["token"]
    claim = reverse("voting:claim", args=[open_vote.code])
    not_yet = voter.post(claim, {"token": token})
    assert not_yet.status_code == 409 and "Rewards are for people who voted: vote first." in not_yet.content.decode()
    LiveBallot.objects.create(
        live_vote=open_vote,
        device=read_token(device_key(), token).device,
        idea=finalists[0],
        client_vote_id="vote-0001",
        cast_at=open_vote.opens_at,
        updated_at=open_vote.opens_at,
    )
    first = voter.post(claim, {"token": token})
    assert first.status_code == 200 and "AAAA-1" in first.content.decode()
    assert "AAAA-1" in voter.post(claim, {"token": token}).content.decode()  # one per voter, same code again
    assert RewardCode.objects.exclude(device="").count() == 1
    assert voter.post(claim, {"token": "forged"}).status_code == 403

    redeem = reverse("voting:redeem", args=[open_vote.code])
    assert client.post(redeem, {"code": "AAAA-1"}).status_code == 302
    twice = client.post(redeem, {"code": "AAAA-1"})
    assert twice.status_code == 409 and twice.context["redeem_form"].non_field_errors()[0].startswith(
        "This code was already redeemed on "
    )
    unknown = client.post(redeem, {"code": "BBBB-2"})
    assert unknown.status_code == 404
    assert RewardCode.objects.filter(redeemed_at__isnull=False).count() == 1


def test_voter_page_has_its_own_words_for_every_refusal_the_fast_path_names(as_user, visitor, open_vote) -> None:
    """The fast path answers in English; every problem the voter page shows it as a refusal (all but the
    ones it handles itself: 409 closed, 429/503 retry, an invalid token reloads) has a translatable
    text on the page, keyed by the problem's type."""
    import ast
    from pathlib import Path

    import opencall.voting.live.casting as casting_module
    import opencall.voting.live.http as http_module

    answered = {
        (node.args[0].value, node.args[1].value)
        for module in (http_module, casting_module)
        for node in ast.walk(ast.parse(Path(str(module.__file__)).read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("_problem", "Unreadable")
        and len(node.args) >= 2 and all(isinstance(a, ast.Constant) for a in node.args[:2]) and node.args[1].value
    }
    handled_by_the_page = {409, 429, 503}
    shown = {code for status, code in answered if status not in handled_by_the_page and code != "invalid-token"}
    page = as_user(visitor).get(reverse("voting:vote", args=[open_vote.code])).content.decode()
    missing = {code for code in shown if f'data-text-problem-{code}="' not in page}
    assert shown >= {"sign-in-required", "not-found", "invalid-input", "malformed"}
    assert missing == set()
