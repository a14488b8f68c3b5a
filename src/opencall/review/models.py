from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opencall.challenges.models import Challenge
from opencall.core.models import TimeStamped
from opencall.ideas.models import Idea


class Rubric(TimeStamped):
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="rubrics")
    name = models.CharField(max_length=120)

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="criteria")
    label = models.CharField(max_length=120)
    guidance = models.TextField(max_length=2000, blank=True)
    weight = models.PositiveSmallIntegerField(default=1)
    scale_min = models.SmallIntegerField(default=1)
    scale_max = models.SmallIntegerField(default=5)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(scale_max__gt=models.F("scale_min")), name="criterion_scale"),
            models.CheckConstraint(condition=models.Q(weight__gte=1), name="criterion_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.label


class ReviewRound(TimeStamped):
    class State(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="review_rounds")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="rounds")
    ideas = models.ManyToManyField(Idea, related_name="review_rounds")
    judges_per_idea = models.PositiveSmallIntegerField(default=3)
    max_load = models.PositiveSmallIntegerField(default=10)
    blind = models.BooleanField(default=False, help_text=_("Judges do not see team names"))
    fair = models.BooleanField(default=False, help_text=_("Maximise the worst-served idea first"))
    crowd_weight = models.PositiveSmallIntegerField(default=20, help_text=_("Percent of the combined score"))
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    assignment_report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["challenge", "number"], name="one_round_number")]

    def __str__(self) -> str:
        return f"{self.challenge}: {self.name}"


class Conflict(TimeStamped):
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="conflicts")
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conflicts")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="conflicts")
    reason = models.CharField(max_length=300)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["judge", "idea"], name="one_conflict_per_pair")]

    def __str__(self) -> str:
        return f"{self.judge_id} ✕ {self.idea_id}"


class ReviewAssignment(TimeStamped):
    round = models.ForeignKey(ReviewRound, on_delete=models.CASCADE, related_name="assignments")
    judge = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_assignments")
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="review_assignments")
    affinity = models.FloatField(default=0.0)
    manual = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "judge", "idea"], name="one_assignment_per_pair")]

    def __str__(self) -> str:
        return f"{self.judge_id} → {self.idea_id}"


class Review(TimeStamped):
    class Recommendation(models.TextChoices):
        ADVANCE = "advance", _("Advance")
        MAYBE = "maybe", _("Maybe")
        REJECT = "reject", _("Reject")

    assignment = models.OneToOneField(ReviewAssignment, on_delete=models.CASCADE, related_name="review")
    scores = models.JSONField(default=dict, help_text=_("criterion id → score"))
    note = models.TextField(max_length=5000, blank=True, help_text=_("Private: seen by organisers only"))
    recommendation = models.CharField(max_length=8, choices=Recommendation.choices, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"review of {self.assignment}"


class PairwiseSettings(models.Model):
    """Crowd pairwise voting ("which idea is stronger?") for a challenge's community phase."""

    class Focus(models.TextChoices):
        TOP = "top", _("The top of the ranking")
        WHOLE = "whole", _("The whole ranking")

    challenge = models.OneToOneField(Challenge, on_delete=models.CASCADE, related_name="pairwise_settings")
    enabled = models.BooleanField(default=False)
    top_k = models.PositiveSmallIntegerField(default=10, help_text=_("Adaptive pairs focus on this many top ideas"))
    focus = models.CharField(max_length=5, choices=Focus.choices, default=Focus.TOP,
                             help_text=_("What adaptive pairs make precise (top_k applies to the top only)"))

    def __str__(self) -> str:
        return f"pairwise for {self.challenge_id}: {'on' if self.enabled else 'off'}"


class PairwiseVote(models.Model):
    class Outcome(models.TextChoices):
        FIRST = "first", _("The first idea")
        SECOND = "second", _("The second idea")
        TIE = "tie", _("Can't decide")
        SKIP = "skip", _("Skip")

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="pairwise_votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pairwise_votes")
    first = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="+")
    # The unordered pair, so one voter never answers the same pair twice whichever side it was shown.
    low = models.PositiveBigIntegerField()
    high = models.PositiveBigIntegerField()
    outcome = models.CharField(max_length=6, choices=Outcome.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["challenge", "voter", "low", "high"], name="one_answer_per_pair"),
            models.CheckConstraint(condition=models.Q(low__lt=models.F("high")), name="pair_ordered"),
        ]
        indexes = [models.Index(fields=["challenge", "outcome"])]

    def __str__(self) -> str:
        return f"{self.first_id} vs {self.second_id}: {self.outcome}"
