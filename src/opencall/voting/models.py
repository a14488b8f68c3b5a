"""Live votes: an audience vote among a challenge's finalists during a streamed finale."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opencall.challenges.models import Challenge
from opencall.core.models import TimeStamped
from opencall.ideas.models import Idea
from opencall.voting.live import rules


class LiveState(models.TextChoices):
    DRAFT = "draft", _("Not started")
    OPEN = rules.OPEN, _("Open")
    CLOSED = "closed", _("Closed")
    PUBLISHED = "published", _("Results published")


class LiveVote(TimeStamped):
    """One live vote. Whether it takes votes at a moment is `opencall.voting.live.rules.is_open`."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="live_votes")
    title = models.CharField(_("title"), max_length=160)
    code = models.SlugField(_("short code"), max_length=16, unique=True)
    finalists = models.ManyToManyField(Idea, related_name="live_votes", verbose_name=_("finalists"))
    sign_in_required = models.BooleanField(_("voters must sign in"), default=False)
    duration_seconds = models.PositiveIntegerField(_("voting time (seconds)"), default=180)
    state = models.CharField(max_length=10, choices=LiveState.choices, default=LiveState.DRAFT, db_index=True)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    final_tally = models.JSONField(default=dict, blank=True)
    ballots_digest = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class LiveBallot(models.Model):
    """A device's current vote in one live vote; written by the fast path's batched upsert.

    `client_vote_id` and `seq` make delivery exactly-once: see opencall.engines.tally. The table
    carries one index only, its primary key (live vote, device), which is also the rule of one
    ballot per device: every extra index (a surrogate id's included) costs each of the many
    inserts, and the live counts come from LiveCount instead. For the same reason the foreign keys
    carry no database constraint (PostgreSQL would run three trigger checks per inserted row): the
    fast path checks the live vote and its finalists inside the very transaction that writes
    (opencall.voting.live.store).
    """

    pk = models.CompositePrimaryKey("live_vote", "device")
    live_vote = models.ForeignKey(
        LiveVote, on_delete=models.CASCADE, related_name="ballots", db_index=False, db_constraint=False
    )
    device = models.CharField(max_length=64)
    idea = models.ForeignKey(Idea, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    client_vote_id = models.CharField(max_length=64)
    seq = models.BigIntegerField(default=1)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    changes = models.PositiveIntegerField(default=0)
    cast_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.device} → {self.idea_id}"


class LiveCount(models.Model):
    """Running count per finalist, updated in the same transaction as the ballots it counts.

    `writes` counts every accepted vote (changes included), for the votes-per-second figure.
    Batches lock these rows, which orders concurrent writers of one live vote.
    """

    live_vote = models.ForeignKey(LiveVote, on_delete=models.CASCADE, related_name="counts", db_index=False)
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="+", db_index=False)
    votes = models.BigIntegerField(default=0)
    writes = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["live_vote", "idea"], name="one_count_per_finalist")]

    def __str__(self) -> str:
        return f"{self.idea_id}: {self.votes}"


class RewardCode(models.Model):
    """A coupon for one voter of one live vote; assigned once, redeemable once."""

    live_vote = models.ForeignKey(LiveVote, on_delete=models.CASCADE, related_name="reward_codes")
    code = models.CharField(max_length=64)
    device = models.CharField(max_length=64, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["live_vote", "code"], name="unique_reward_code"),
            models.UniqueConstraint(
                fields=["live_vote", "device"], condition=~models.Q(device=""), name="one_reward_per_voter"
            ),
        ]

    def __str__(self) -> str:
        return self.code
