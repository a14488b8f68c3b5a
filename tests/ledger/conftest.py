from __future__ import annotations

import pytest

from opencall.engines.ledger import Account, AccountKind, Posting

USD = "USD"


def funds(org) -> Account:
    return Account(AccountKind.SPONSOR_FUNDS, f"org:{org.pk}")


def external(org) -> Account:
    return Account(AccountKind.EXTERNAL, f"org:{org.pk}")


def escrow(name: str = "bounty:1") -> Account:
    return Account(AccountKind.ESCROW, name)


def top_up(org, amount: int, currency: str = USD) -> list[Posting]:
    return [Posting(funds(org), currency, amount), Posting(external(org), currency, -amount)]


def commit(org, amount: int, currency: str = USD, to: str = "bounty:1") -> list[Posting]:
    return [Posting(funds(org), currency, -amount), Posting(escrow(to), currency, amount)]


@pytest.fixture
def organiser_role(org, db):
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(display_name="Orla Organiser", email="orla@northwind.example")
    MembershipFactory(organisation=org, user=user, role="organiser")
    return user
