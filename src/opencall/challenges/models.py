from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opencall.challenges.phases import LABELS, ORDER, PhaseKind
from opencall.core.models import TimeStamped
from opencall.organisations.models import Organisation


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal (organisation members)")
    INVITE_ONLY = "invite_only", _("Invite only")


class Challenge(TimeStamped):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="challenges")
    title = models.CharField(_("title"), max_length=160)
    slug = models.SlugField(unique=True, max_length=90)
    summary = models.CharField(_("summary"), max_length=300)
    description = models.TextField(_("description"), max_length=20000, blank=True)
    cover_image = models.ImageField(_("cover image"), upload_to="covers/%Y/%m/", blank=True)
    terms = models.TextField(_("terms entrants accept"), max_length=20000, blank=True)
    budget_minor = models.BigIntegerField(_("budget (minor units)"), null=True, blank=True)
    currency = models.CharField(max_length=3, default="EUR")
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.PUBLIC)
    phase = models.CharField(max_length=12, default=PhaseKind.DRAFT, db_index=True,
                             choices=[(k.value, LABELS[k]) for k in PhaseKind])
    sponsors = models.ManyToManyField(Organisation, blank=True, related_name="sponsored_challenges")
    invited_organisations = models.ManyToManyField(Organisation, blank=True, related_name="invited_challenges")
    invited_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="invited_challenges")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=models.Q(budget_minor__gte=0) | models.Q(budget_minor__isnull=True),
                                              name="challenge_budget_non_negative")]

    def __str__(self) -> str:
        return self.title

    @property
    def cover_url(self) -> str:
        """Where pages and the API point for the cover ('' when there is none): the view that checks
        who may see the challenge, never the storage path. `v` changes with the stored file."""
        if not self.cover_image:
            return ""
        version = hashlib.sha256((self.cover_image.name or "").encode()).hexdigest()[:12]
        return f"{reverse('challenges:cover_image', args=[self.slug])}?v={version}"


class Category(models.Model):
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["challenge", "name"], name="unique_category")]

    def __str__(self) -> str:
        return self.name


class Phase(models.Model):
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="phases")
    kind = models.CharField(max_length=12, choices=[(k.value, LABELS[k]) for k in ORDER])
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["challenge", "kind"], name="one_phase_per_kind")]

    def __str__(self) -> str:
        return f"{self.challenge}: {self.kind}"

    @property
    def position(self) -> int:
        return ORDER.index(PhaseKind(self.kind))


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    CHOICE = "choice", _("Choice")
    URL = "url", _("URL")


class CustomField(models.Model):
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="custom_fields")
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=120)
    kind = models.CharField(max_length=8, choices=FieldKind.choices, default=FieldKind.TEXT)
    required = models.BooleanField(default=False)
    choices = models.JSONField(default=list, blank=True)
    help_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["challenge", "key"], name="unique_field_key")]

    def __str__(self) -> str:
        return self.label


class ChallengeRole(models.Model):
    class Kind(models.TextChoices):
        JUDGE = "judge", _("Judge")
        MODERATOR = "moderator", _("Moderator")

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="challenge_roles")
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["challenge", "user", "kind"], name="unique_challenge_role")]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} of {self.challenge}"
