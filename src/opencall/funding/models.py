from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opencall.challenges.models import Challenge
from opencall.core.models import TimeStamped
from opencall.ideas.models import Idea


class BallotKind(models.TextChoices):
    KNAPSACK = "knapsack", _("Pick ideas whose budgets fit the total")
    APPROVAL = "approval", _("Approve up to k ideas")
    CUMULATIVE = "cumulative", _("Spread points")


class FundingSettings(models.Model):
    """How a challenge's funding phase votes and decides."""

    challenge = models.OneToOneField(Challenge, on_delete=models.CASCADE, related_name="funding_settings")
    ballot_kind = models.CharField(max_length=12, choices=BallotKind.choices, default=BallotKind.KNAPSACK)
    max_choices = models.PositiveSmallIntegerField(default=5, help_text=_("For approval ballots"))
    total_points = models.PositiveSmallIntegerField(default=10, help_text=_("For cumulative ballots"))
    default_rule = models.CharField(max_length=24, default="mes")

    def __str__(self) -> str:
        return f"{self.challenge}: {self.ballot_kind}"


class BudgetBallot(TimeStamped):
    """One person's ballot in one challenge's funding phase; replaced in place until the phase closes."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="budget_ballots")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="budget_ballots")
    kind = models.CharField(max_length=12, choices=BallotKind.choices)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["challenge", "voter"], name="one_budget_ballot_per_person")]

    def __str__(self) -> str:
        return f"ballot {self.pk} in {self.challenge_id}"


class BallotEntry(models.Model):
    ballot = models.ForeignKey(BudgetBallot, on_delete=models.CASCADE, related_name="entries")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="ballot_entries")
    points = models.PositiveIntegerField(default=1)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ballot", "idea"], name="idea_once_per_ballot"),
            models.CheckConstraint(condition=models.Q(points__gte=1), name="entry_points_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.idea_id}×{self.points}"


class Allocation(models.Model):
    """A recorded run of a budget rule: inputs, rule, outcome and a per-idea explanation."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="allocations")
    rule = models.CharField(max_length=24)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ballots_digest = models.CharField(max_length=64, help_text=_("sha256 of the exported .pb the run used"))
    ballot_count = models.PositiveIntegerField()
    budget_minor = models.BigIntegerField()
    inputs = models.JSONField(default=dict)
    selected = models.JSONField(default=list, help_text=_("idea ids in the order funded"))
    explanations = models.JSONField(default=dict)
    comparison = models.JSONField(default=dict, help_text=_("per rule: budget used, voters with a funded idea"))
    budget_used_minor = models.BigIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule} on {self.challenge_id} ({self.created_at:%Y-%m-%d})"
