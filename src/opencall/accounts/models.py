from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

from opencall.core.models import TimeStamped


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class Skill(models.Model):
    name = models.CharField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email"), unique=True)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    bio = models.TextField(_("bio"), max_length=2000, blank=True)
    skills = models.ManyToManyField(Skill, blank=True, related_name="users", verbose_name=_("skills"))
    languages = models.CharField(_("languages"), max_length=200, blank=True,
                                 help_text=_("Comma-separated, e.g. English, 中文"))
    timezone = models.CharField(_("time zone"), max_length=64, blank=True)
    is_moderator = models.BooleanField(_("site moderator"), default=False)
    is_blocked = models.BooleanField(default=False)
    blocked_reason = models.CharField(max_length=300, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=dj_timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    def __str__(self) -> str:
        return self.display_name or self.email.split("@")[0]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # set_password() keeps the clear text in `_password` until the next save, so this save is the
        # one that changes the password, whichever path called it: allauth's change/set/reset, the
        # admin, `manage.py changepassword`. (A hash upgrade on sign-in clears it before saving.)
        password_changed = getattr(self, "_password", None) is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            from opencall.accounts.actions import revoke_tokens_after_password_change  # actions imports models

            revoke_tokens_after_password_change(user=self)

    @property
    def name(self) -> str:
        return str(self)


class ApiToken(TimeStamped):
    """A personal token for integrations; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    label = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.label} ({self.prefix}…)"


class Notification(models.Model):
    class Kind(models.TextChoices):
        COMMENT = "comment", _("New comment")
        PHASE = "phase", _("Phase change")
        TEAM_INVITE = "team_invite", _("Team invitation")
        TEAM = "team", _("Team update")
        STATUS = "status", _("Status change")
        ORG_INVITE = "org_invite", _("Organisation invitation")
        MODERATION = "moderation", _("Moderation")

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.text
