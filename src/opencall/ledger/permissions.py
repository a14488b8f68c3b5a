"""Who may move money in an organisation's ledger, and who may read it.

There is no finance role yet: an organisation's owners and organisers post and reverse, and any of
its members reads balances and statements. Site staff may do both.
"""

from __future__ import annotations

from opencall.accounts.models import User
from opencall.organisations.models import Organisation, Role
from opencall.organisations.queries import role_in


def can_post_to_ledger(user: User, org: Organisation) -> bool:
    return user.is_authenticated and (user.is_staff or role_in(user, org.pk) in (Role.OWNER, Role.ORGANISER))


def can_read_ledger(user: User, org: Organisation) -> bool:
    return user.is_authenticated and (user.is_staff or role_in(user, org.pk) is not None)
