from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opencall.accounts.models import Skill
from opencall.challenges.models import Category, Challenge, CustomField
from opencall.core.models import TimeStamped


class Team(TimeStamped):
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(_("team name"), max_length=120)
    description = models.TextField(max_length=2000, blank=True)

    def __str__(self) -> str:
        return self.name


class TeamMember(TimeStamped):
    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        MEMBER = "member", _("Member")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    time_pledge_percent = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="one_team_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


class TeamInvitation(TimeStamped):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_invitations")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], condition=models.Q(status="pending"),
                                               name="one_pending_team_invitation")]

    def __str__(self) -> str:
        return f"{self.user} invited to {self.team}"


class JoinRequest(TimeStamped):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests")
    message = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], condition=models.Q(status="pending"),
                                               name="one_pending_join_request")]

    def __str__(self) -> str:
        return f"{self.user} asks to join {self.team}"


class Position(TimeStamped):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="positions")
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    skills = models.ManyToManyField(Skill, blank=True, related_name="positions")
    is_open = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.title


class IdeaStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    SHORTLISTED = "shortlisted", _("Shortlisted")
    FUNDED = "funded", _("Funded")
    AWARDED = "awarded", _("Awarded")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Idea(TimeStamped):
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="ideas")
    team = models.OneToOneField(Team, on_delete=models.PROTECT, related_name="idea")
    title = models.CharField(_("title"), max_length=160)
    summary = models.CharField(_("summary"), max_length=400)
    body = models.TextField(_("description"), max_length=30000, blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="ideas")
    requested_budget_minor = models.BigIntegerField(_("requested budget"), null=True, blank=True)
    status = models.CharField(max_length=12, choices=IdeaStatus.choices, default=IdeaStatus.DRAFT, db_index=True)
    confidential = models.BooleanField(_("confidential"), default=False)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    like_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(requested_budget_minor__gte=0)
                                   | models.Q(requested_budget_minor__isnull=True), name="idea_budget_non_negative"),
        ]
        indexes = [models.Index(fields=["challenge", "status"])]

    def __str__(self) -> str:
        return self.title


class IdeaVersion(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=160)
    summary = models.CharField(max_length=400)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["idea", "number"], name="unique_idea_version")]

    def __str__(self) -> str:
        return f"{self.idea_id} v{self.number}"


class FieldAnswer(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="answers")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="answers")
    value = models.TextField(max_length=5000, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea", "field"], name="one_answer_per_field")]

    def __str__(self) -> str:
        return f"{self.field.key}={self.value[:30]}"


class Attachment(TimeStamped):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.name
