"""Posting and reversing through the actions: audited, idempotent, all or nothing, permission-checked."""

from __future__ import annotations

import pytest

from opencall.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from opencall.core.models import AuditEvent
from opencall.engines.ledger import Posting
from opencall.ledger.actions import post_transaction, reverse_transaction
from opencall.ledger.models import LedgerEntry, LedgerTransaction
from opencall.ledger.queries import balances_for, statement_for
from tests.ledger.conftest import USD, commit, escrow, external, funds, top_up

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return LedgerTransaction.objects.count(), LedgerEntry.objects.count(), AuditEvent.objects.count()


def test_a_posting_is_stored_with_its_entries_and_audited(org, organiser):
    row = post_transaction(organisation=org, key="t1", postings=top_up(org, 10_000), memo="wire 42", by=organiser)
    assert [(e.account_kind, e.currency, e.amount) for e in row.entries.all()] == [
        ("sponsor_funds", USD, 10_000), ("external", USD, -10_000)]
    event = AuditEvent.objects.get(verb="ledger.post")
    assert event.object_id == str(row.pk) and event.actor_id == organiser.pk
    assert event.data["key"] == "t1" and event.data["fingerprint"] == row.fingerprint
    assert balances_for(organiser, org) == {(funds(org), USD): 10_000, (external(org), USD): -10_000}


@pytest.mark.parametrize(("postings", "error"), [
    (lambda org: [Posting(funds(org), USD, 100), Posting(external(org), USD, -99)], InvalidInput),
    (lambda org: [Posting(funds(org), "XYZ", 100), Posting(external(org), "XYZ", -100)], InvalidInput),
    (lambda org: [Posting(funds(org), USD, True), Posting(external(org), USD, -1)], InvalidInput),
    (lambda org: [Posting(funds(org), USD, 1.5), Posting(external(org), USD, -1.5)], InvalidInput),
    (lambda org: [Posting(funds(org), USD, 0), Posting(external(org), USD, 0)], InvalidInput),
    (lambda org: [Posting(funds(org), USD, 100)], InvalidInput),
    (lambda org: commit(org, 1), Conflict),  # no money in the sponsor's funds yet
])
def test_a_bad_posting_is_refused_and_nothing_is_written(org, organiser, postings, error):
    before = _counts()
    with pytest.raises(error) as caught:
        post_transaction(organisation=org, key="bad", postings=postings(org), by=organiser)
    assert caught.value.status == (422 if error is InvalidInput else 409)
    assert caught.value.detail
    assert _counts() == before


def test_escrow_never_goes_negative(org, organiser):
    post_transaction(organisation=org, key="in", postings=top_up(org, 500), by=organiser)
    post_transaction(organisation=org, key="hold", postings=commit(org, 500), by=organiser)
    before = _counts()
    overpay = [Posting(escrow(), USD, -501), Posting(funds(org), USD, 501)]
    with pytest.raises(Conflict):
        post_transaction(organisation=org, key="over", postings=overpay, by=organiser)
    assert _counts() == before


def test_a_replayed_key_returns_the_original_and_other_content_conflicts(org, organiser):
    first = post_transaction(organisation=org, key="k", postings=top_up(org, 700), memo="m", by=organiser)
    before = _counts()
    again = post_transaction(organisation=org, key="k", postings=list(reversed(top_up(org, 700))), memo="m",
                             by=organiser)
    assert again.pk == first.pk and _counts() == before
    with pytest.raises(Conflict):
        post_transaction(organisation=org, key="k", postings=top_up(org, 701), memo="m", by=organiser)
    with pytest.raises(Conflict):
        post_transaction(organisation=org, key="k", postings=top_up(org, 700), memo="other", by=organiser)
    assert _counts() == before


def test_a_replay_is_answered_even_after_the_money_moved_on(org, organiser):
    post_transaction(organisation=org, key="in", postings=top_up(org, 300), by=organiser)
    spend = post_transaction(organisation=org, key="spend", postings=commit(org, 300), by=organiser)
    assert post_transaction(organisation=org, key="spend", postings=commit(org, 300), by=organiser).pk == spend.pk


def test_the_same_key_in_another_organisation_conflicts(org, other_org, organiser):
    from tests.factories import MembershipFactory

    MembershipFactory(organisation=other_org, user=organiser, role="owner")
    post_transaction(organisation=org, key="shared", postings=top_up(org, 5), by=organiser)
    with pytest.raises(Conflict):
        post_transaction(organisation=other_org, key="shared", postings=top_up(org, 5), by=organiser)


def test_a_reversal_negates_every_posting_once(org, organiser):
    post_transaction(organisation=org, key="in", postings=top_up(org, 900), by=organiser)
    back = reverse_transaction(organisation=org, target_key="in", key="in-undo", by=organiser)
    assert back.reverses.key == "in"
    assert sorted(e.amount for e in back.entries.all()) == [-900, 900]
    assert balances_for(organiser, org) == {}
    assert AuditEvent.objects.filter(verb="ledger.reverse", object_id=str(back.pk)).exists()
    assert reverse_transaction(organisation=org, target_key="in", key="in-undo", by=organiser).pk == back.pk
    with pytest.raises(Conflict):
        reverse_transaction(organisation=org, target_key="in", key="in-undo-2", by=organiser)
    with pytest.raises(Conflict):
        reverse_transaction(organisation=org, target_key="in-undo", key="undo-undo", by=organiser)
    with pytest.raises(NotFound):
        reverse_transaction(organisation=org, target_key="nothing", key="x", by=organiser)


def test_a_reversal_that_would_overdraw_is_refused(org, organiser):
    post_transaction(organisation=org, key="in", postings=top_up(org, 400), by=organiser)
    post_transaction(organisation=org, key="hold", postings=commit(org, 400), by=organiser)
    before = _counts()
    with pytest.raises(Conflict):
        reverse_transaction(organisation=org, target_key="in", key="in-undo", by=organiser)
    assert _counts() == before


def test_statement_has_running_balances(org, organiser):
    post_transaction(organisation=org, key="a", postings=top_up(org, 100), by=organiser)
    post_transaction(organisation=org, key="b", postings=commit(org, 30), by=organiser)
    lines = statement_for(organiser, org, funds(org), USD).lines
    assert [(line.key, line.amount, line.balance) for line in lines] == [("a", 100, 100), ("b", -30, 70)]
    with pytest.raises(NotFound):
        statement_for(organiser, org, escrow("bounty:99"), USD)


@pytest.mark.parametrize("who", ["organiser", "organiser_role"])
def test_owners_and_organisers_may_post(request, org, who):
    user = request.getfixturevalue(who)
    post_transaction(organisation=org, key=f"by-{who}", postings=top_up(org, 1), by=user)


@pytest.mark.parametrize("who", ["employee", "outsider", "participant", "visitor"])
def test_others_may_not_post_or_reverse(request, org, organiser, who):
    post_transaction(organisation=org, key="in", postings=top_up(org, 1), by=organiser)
    user = request.getfixturevalue(who)
    before = _counts()
    with pytest.raises(PermissionDenied):
        post_transaction(organisation=org, key="x", postings=top_up(org, 1), by=user)
    with pytest.raises(PermissionDenied):
        reverse_transaction(organisation=org, target_key="in", key="y", by=user)
    assert _counts() == before


def test_members_read_balances_and_outsiders_do_not(org, organiser, employee, outsider, participant, visitor):
    post_transaction(organisation=org, key="in", postings=top_up(org, 1), by=organiser)
    assert balances_for(employee, org)
    for user in (outsider, participant, visitor):
        with pytest.raises(PermissionDenied):
            balances_for(user, org)
        with pytest.raises(PermissionDenied):
            statement_for(user, org, funds(org), USD)
