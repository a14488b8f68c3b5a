from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opencall.accounts.models import ApiToken, Notification, Skill, User
from opencall.core.errors import NotFound


def unread_notification_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def profile(user_id: int) -> User | None:
    return User.objects.prefetch_related("skills").filter(pk=user_id, is_active=True).first()


def person_for(user_id: int) -> User:
    """The gate for a person's public profile: an active account, or NotFound."""
    found = profile(user_id)
    if found is None:
        raise NotFound(_("No such person."))
    return found


def own_profile(user: User) -> User:
    """The caller's own profile with its skills, or NotFound when the account is no longer active."""
    found = profile(user.pk)
    if found is None:
        raise NotFound(_("Your account is not active."))
    return found


def all_skills() -> QuerySet[Skill]:
    return Skill.objects.order_by("name")


def verified_users_by_emails(emails: list[str]) -> tuple[list[User], list[str]]:
    """Active people who have *verified* these addresses (case-insensitive), and the addresses that
    match none. Anything granted by address goes through here: an unverified address proves nothing
    (anyone may sign up first with someone else's address)."""
    wanted = list(dict.fromkeys(e.strip().lower() for e in emails if e.strip()))
    found: dict[str, User] = {}
    for address in EmailAddress.objects.filter(verified=True, user__is_active=True).filter(
        _any_of(wanted)
    ).select_related("user"):
        found.setdefault(address.email.lower(), address.user)
    return [found[e] for e in wanted if e in found], [e for e in wanted if e not in found]


def _any_of(emails: list[str]) -> Q:
    query = Q(pk__in=[])
    for email in emails:
        query |= Q(email__iexact=email)
    return query


def has_verified_email(user: User, email: str) -> bool:
    return bool(EmailAddress.objects.filter(user=user, email__iexact=email.strip(), verified=True).exists())


def holds_email(user: User, email: str) -> bool:
    """The address is this account's, verified or not."""
    email = email.strip().lower()
    return user.email.lower() == email or bool(EmailAddress.objects.filter(user=user, email__iexact=email).exists())


def active_tokens(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
