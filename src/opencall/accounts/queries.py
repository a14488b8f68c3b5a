from __future__ import annotations

from django.db.models import QuerySet

from opencall.accounts.models import ApiToken, Notification, Skill, User


def unread_notification_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(user: User, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def profile(user_id: int) -> User | None:
    return User.objects.prefetch_related("skills").filter(pk=user_id, is_active=True).first()


def all_skills() -> QuerySet[Skill]:
    return Skill.objects.order_by("name")


def users_by_emails(emails: list[str]) -> tuple[list[User], list[str]]:
    """Active people with these email addresses (case-insensitive), and the addresses matching none."""
    wanted = [e.strip().lower() for e in emails if e.strip()]
    found = {u.email.lower(): u for u in User.objects.filter(email__in=wanted, is_active=True)}
    return [found[e] for e in wanted if e in found], [e for e in wanted if e not in found]


def active_tokens(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
