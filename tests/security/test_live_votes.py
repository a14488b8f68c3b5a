"""Issue 13, finding 5 (anonymous live-vote stuffing) and finding 9's "Stop voting and count"
without confirmation."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from opencall.core.models import AuditEvent
from opencall.voting import actions
from opencall.voting.models import LiveBallot, LiveVote
from opencall.voting.queries import device_key
from opencall.voting.tokens import read_token, signing_key
from tests.factories import IdeaFactory
from tests.voting.conftest import fastpath, request, run

ANONYMOUS_MODE = (
    "<strong>Anonymous vote:</strong> one vote per browser. Anyone with the link can vote without an account; "
    "each browser gets one vote and new browsers are capped per network, so a determined person can still add "
    "a few votes."
)
SIGN_IN_MODE = (
    "<strong>Sign-in vote:</strong> one vote per account. Only signed-in members can vote, and each "
    "account's vote counts once, whatever device it comes from."
)
DEVICE_COOKIE = "opencall_live_device"
NOT_CONFIRMED = "Voting is still open: confirm below to stop it and count the votes."


@pytest.fixture
def finalists(challenge):
    return [IdeaFactory(challenge=challenge, title=t, status="shortlisted") for t in ("Alpha", "Beta", "Gamma")]


@pytest.fixture
def open_vote(challenge, organiser, finalists) -> LiveVote:
    live_vote = actions.create_live_vote(
        challenge=challenge, by=organiser, title="Grand finale", finalist_ids=[f.pk for f in finalists]
    )
    return actions.open_live_vote(live_vote=live_vote, by=organiser)


def voter_url(live_vote: LiveVote) -> str:
    return reverse("voting:vote", args=[live_vote.code])


def device_of(token: str) -> str:
    held = read_token(device_key(), token)
    assert held is not None
    return held.device


def ballots_from(live_vote: LiveVote, tokens: list[str], idea_id: int) -> None:
    """One ballot per token, as the fast path's writer leaves them (for the console's figures)."""
    LiveBallot.objects.bulk_create(
        LiveBallot(
            live_vote=live_vote,
            device=device_of(token),
            idea_id=idea_id,
            client_vote_id=f"vote-{n:04d}",
            cast_at=live_vote.opens_at,
            updated_at=live_vote.opens_at,
        )
        for n, token in enumerate(tokens)
    )


def cookieless_tokens(live_vote: LiveVote, address: str, count: int) -> list[str]:
    """Tokens minted for a client that drops its cookies: a fresh browser for every load."""
    return [Client(REMOTE_ADDR=address).get(voter_url(live_vote)).context["token"] for _ in range(count)]


# Finding 5: one browser, one device.


@pytest.mark.django_db(transaction=True)
def test_thirty_reloads_give_one_device_and_one_counted_vote(open_vote, finalists, organiser) -> None:
    browser = Client(REMOTE_ADDR="198.51.100.23")
    tokens = [browser.get(voter_url(open_vote)).context["token"] for _ in range(30)]
    assert len(set(tokens)) == 1

    app = fastpath()
    path = f"/live/api/{open_vote.code}/vote"

    async def scenario():
        # Each reload votes, as the stuffing client did: every vote goes through the real path.
        return [
            await request(
                app,
                "POST",
                path,
                {"token": token, "idea": finalists[n % 3].pk, "vote_id": f"reload-{n:04d}", "seq": n + 1},
            )
            for n, token in enumerate(tokens)
        ]

    answers = run(app, scenario)
    assert [status for status, _, _ in answers] == [200] * 30
    stopped = actions.stop_live_vote(live_vote=open_vote, by=organiser)
    ids = [f.pk for f in finalists]
    assert stopped.final_tally["turnout"] == 1
    assert stopped.final_tally["counts"] == {str(ids[0]): 0, str(ids[1]): 0, str(ids[2]): 1}
    assert list(LiveBallot.objects.filter(live_vote=open_vote).values_list("device", "seq")) == [
        (device_of(tokens[0]), 30)
    ]


@pytest.mark.django_db
def test_the_device_cookie_is_per_live_vote_httponly_and_lax(open_vote) -> None:
    response = Client().get(voter_url(open_vote))
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie.value == response.context["token"]
    assert (cookie["path"], cookie["httponly"], cookie["samesite"], cookie["max-age"]) == (
        f"/v/{open_vote.code}/",
        True,
        "Lax",
        3 * 24 * 3600,
    )


@pytest.mark.django_db
def test_a_forged_or_foreign_cookie_gets_a_new_device(open_vote, challenge, organiser, finalists) -> None:
    other = actions.create_live_vote(
        challenge=challenge, by=organiser, title="Other", finalist_ids=[f.pk for f in finalists]
    )
    foreign = Client().get(voter_url(actions.open_live_vote(live_vote=other, by=organiser))).context["token"]
    genuine = Client().get(voter_url(open_vote)).context["token"]
    forged = genuine[:-4] + ("AAAA" if not genuine.endswith("AAAA") else "BBBB")
    for held in (foreign, forged, "garbage"):
        browser = Client()
        browser.cookies[DEVICE_COOKIE] = held
        token = browser.get(voter_url(open_vote)).context["token"]
        assert token not in (foreign, forged, genuine)
        assert read_token(device_key(), token).live_vote_id == open_vote.pk


@pytest.mark.django_db
def test_devices_carry_a_keyed_tag_of_their_network_and_never_the_address(open_vote, challenge, organiser) -> None:
    same_24 = cookieless_tokens(open_vote, "203.0.113.7", 3) + cookieless_tokens(open_vote, "203.0.113.200", 2)
    elsewhere = cookieless_tokens(open_vote, "198.51.100.7", 1)
    same_64 = cookieless_tokens(open_vote, "2001:db8:1:2::5", 1) + cookieless_tokens(open_vote, "2001:db8:1:2:ff::9", 1)
    devices = [device_of(t) for t in same_24 + elsewhere + same_64]
    assert len(set(devices)) == 8 and {len(d) for d in devices} == {33}
    tags = [d[11:17] for d in devices]
    assert len(set(tags[:5])) == 1 and tags[5] != tags[0] and tags[6] == tags[7] != tags[0]
    assert not any("203" in t or "113" in t for t in same_24)


# Finding 5: the organiser sees votes concentrating on one network.


def console_page(client: Client, live_vote: LiveVote) -> str:
    return client.get(reverse("voting:console", args=[live_vote.code])).content.decode()


def warning_text(page: str) -> str | None:
    found = re.search(r'<p class="message error" role="alert" id="concentration-warning">(.*?)</p>', page, re.S)
    return " ".join(found.group(1).split()) if found else None


@pytest.mark.django_db
def test_console_warns_when_one_network_casts_most_ballots(as_user, organiser, open_vote, finalists) -> None:
    stuffed = cookieless_tokens(open_vote, "203.0.113.9", 16)
    audience = [t for n in range(8) for t in cookieless_tokens(open_vote, f"198.51.{n}.10", 1)]
    ballots_from(open_vote, stuffed + audience, finalists[0].pk)
    page = console_page(as_user(organiser), open_vote)
    assert warning_text(page) == (
        "Warning: 16 of 24 ballots (67%) came from devices that joined from one network. "
        "That is expected if most of the audience shares the venue's Wi-Fi or one company network. "
        "Otherwise, someone may be adding votes by discarding cookies; a sign-in vote counts one vote per account."
    )
    top = device_of(stuffed[0])[11:17]
    assert f"<tr><td><code>{top}</code></td><td>16</td><td>67%</td></tr>" in page
    assert f"Largest burst: 16 voting devices joined from network {top} within about a minute." in page
    assert "203.0.113" not in page


@pytest.mark.django_db
def test_console_stays_quiet_when_ballots_are_spread_or_few(as_user, organiser, open_vote, finalists) -> None:
    client = as_user(organiser)
    spread = cookieless_tokens(open_vote, "203.0.113.9", 12) + [
        t for n in range(12) for t in cookieless_tokens(open_vote, f"198.51.{n}.10", 1)
    ]
    ballots_from(open_vote, spread, finalists[0].pk)
    page = console_page(client, open_vote)
    assert warning_text(page) is None and "Where the ballots come from" in page
    assert f"<tr><td><code>{device_of(spread[0])[11:17]}</code></td><td>12</td><td>50%</td></tr>" in page

    LiveBallot.objects.filter(live_vote=open_vote).delete()
    ballots_from(open_vote, cookieless_tokens(open_vote, "203.0.113.9", 9), finalists[0].pk)  # a small room
    assert warning_text(console_page(client, open_vote)) is None


@pytest.mark.django_db
def test_sign_in_votes_have_no_network_figures(as_user, organiser, challenge, finalists) -> None:
    live_vote = actions.create_live_vote(
        challenge=challenge, by=organiser, title="Staff", sign_in_required=True, finalist_ids=[f.pk for f in finalists]
    )
    page = console_page(as_user(organiser), live_vote)
    assert "Where the ballots come from" not in page and SIGN_IN_MODE in page


@pytest.mark.django_db
def test_console_queries_do_not_grow_with_networks(as_user, organiser, open_vote, finalists) -> None:
    client = as_user(organiser)
    ballots_from(open_vote, cookieless_tokens(open_vote, "203.0.113.9", 1), finalists[0].pk)
    console_page(client, open_vote)
    with CaptureQueriesContext(connection) as one:
        assert console_page(client, open_vote).count("<tr><td><code>") == 1
    ballots_from(
        open_vote, [t for n in range(2) for t in cookieless_tokens(open_vote, f"198.51.{n}.10", 1)], finalists[1].pk
    )
    with CaptureQueriesContext(connection) as three:
        assert console_page(client, open_vote).count("<tr><td><code>") == 3
    assert len(one) == len(three)


# The mode, said plainly.


@pytest.mark.django_db
def test_voter_console_and_results_pages_say_which_mode_the_vote_uses(
    as_user, organiser, participant, challenge, open_vote, finalists
) -> None:
    assert ANONYMOUS_MODE in Client().get(voter_url(open_vote)).content.decode()
    assert ANONYMOUS_MODE in console_page(as_user(organiser), open_vote)
    results = reverse("voting:results", args=[open_vote.code])
    assert ANONYMOUS_MODE in Client().get(results).content.decode()

    members = actions.create_live_vote(
        challenge=challenge, by=organiser, title="Staff", sign_in_required=True, finalist_ids=[f.pk for f in finalists]
    )
    actions.open_live_vote(live_vote=members, by=organiser)
    page = as_user(participant).get(voter_url(members)).content.decode()
    assert SIGN_IN_MODE in page and ANONYMOUS_MODE not in page


# Finding 9: "Stop voting and count" asks first.


@pytest.mark.django_db
def test_stop_without_confirmation_refuses_and_leaves_the_vote_open(as_user, organiser, open_vote) -> None:
    client = as_user(organiser)
    stop = reverse("voting:stop", args=[open_vote.code])
    for data in ({}, {"confirm": "yes please"}):
        response = client.post(stop, data)
        assert response.status_code == 422
        assert f'<p class="form-errors" role="alert" id="stop-error">{NOT_CONFIRMED}</p>' in response.content.decode()
        open_vote.refresh_from_db()
        assert (open_vote.state, open_vote.final_tally) == ("open", {})
    assert not AuditEvent.objects.filter(verb="live_vote.closed").exists()


@pytest.mark.django_db
def test_stop_is_a_confirmation_page_then_a_confirmed_post(as_user, organiser, open_vote) -> None:
    client = as_user(organiser)
    stop = reverse("voting:stop", args=[open_vote.code])
    console = console_page(client, open_vote)
    assert f'<a href="{stop}" role="button" class="contrast">Stop voting and count</a>' in console
    assert f'action="{stop}"' not in console  # no form on the console ends the vote in one click
    page = client.get(stop).content.decode()
    assert "Stop voting and count?" in page and '<input type="hidden" name="confirm" value="stop">' in page
    open_vote.refresh_from_db()
    assert open_vote.state == "open"
    response = client.post(stop, {"confirm": "stop"})
    assert (response.status_code, response["Location"]) == (302, f"/live/{open_vote.code}/console/")
    open_vote.refresh_from_db()
    assert open_vote.state == "closed" and AuditEvent.objects.filter(verb="live_vote.closed").count() == 1
    again = client.get(stop)
    assert again.status_code == 409 and "Only an open live vote can be stopped." in again.content.decode()


@pytest.mark.django_db
def test_only_organisers_reach_the_stop_page(as_user, participant, open_vote) -> None:
    stop = reverse("voting:stop", args=[open_vote.code])
    client = as_user(participant)
    assert client.get(stop).status_code == 403
    assert client.post(stop, {"confirm": "stop"}).status_code == 403
    open_vote.refresh_from_db()
    assert open_vote.state == "open"


def test_a_blocked_account_gets_no_device(as_user, participant, open_vote) -> None:
    participant.is_blocked = True
    participant.save(update_fields=["is_blocked"])
    response = as_user(participant).get(voter_url(open_vote))
    assert response.status_code == 403
    assert "You cannot vote in this live vote." in response.content.decode()
    assert "opencall_live_device" not in response.cookies
    assert 'id="live-token"' not in response.content.decode()


# Device tokens are keyed by the installation's secret, never by a constant.


def test_no_key_is_derived_from_an_empty_secret() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY is empty"):
        signing_key("")


@pytest.mark.django_db
def test_a_token_from_another_installation_is_refused(open_vote) -> None:
    with override_settings(SECRET_KEY="another-installation-" * 3):
        elsewhere = Client().get(voter_url(open_vote)).context["token"]
    assert read_token(device_key(), elsewhere) is None
    browser = Client()
    browser.cookies[DEVICE_COOKIE] = elsewhere
    assert browser.get(voter_url(open_vote)).context["token"] != elsewhere
