from __future__ import annotations

from django.db.models import QuerySet

from opencall.accounts.models import Notification, Skill, User


def unread_notification_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def profile(user_id: int) -> User | None:
    return User.objects.prefetch_related("skills").filter(pk=user_id, is_active=True).first()


def all_skills() -> QuerySet[Skill]:
    return Skill.objects.order_by("name")
