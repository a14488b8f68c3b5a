from __future__ import annotations

from opencall.accounts.models import User
from opencall.organisations.models import Organisation, Role
from opencall.organisations.queries import role_in


def can_manage_organisation(user: User, org: Organisation) -> bool:
    return user.is_authenticated and (user.is_staff or role_in(user, org.pk) in (Role.OWNER, Role.ORGANISER))


def can_create_challenge(user: User, org: Organisation) -> bool:
    return can_manage_organisation(user, org)


def can_change_roles(user: User, org: Organisation) -> bool:
    return user.is_authenticated and (user.is_staff or role_in(user, org.pk) == Role.OWNER)


def can_view_members(user: User, org: Organisation) -> bool:
    """The member list is for the organisation's own members (and staff); others see the count."""
    return user.is_authenticated and (user.is_staff or role_in(user, org.pk) is not None)
