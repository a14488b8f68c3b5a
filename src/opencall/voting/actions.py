"""Every write to live votes: permission check, validation, one transaction, audit event.

Ballots themselves are written by the fast path (opencall.voting.live.store) in group commits; the stop
action locks the live vote row, so it is ordered after every batch that was acknowledged.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.core import audit
from opencall.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from opencall.engines.tally import Ballot, ballots_digest, count_ballots, standings
from opencall.voting.live import rules
from opencall.voting.models import LiveBallot, LiveCount, LiveState, LiveVote, RewardCode
from opencall.voting.permissions import can_create_live_vote, can_manage_live_vote
from opencall.voting.queries import device_key, finalist_candidates

CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off a projector
REWARD_CODE = re.compile(r"[A-Za-z0-9_-]{4,64}")
MIN_SECONDS, MAX_SECONDS = 10, 24 * 3600
MAX_REWARD_CODES = 100_000


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(7))


def _require_manager(by: User, live_vote: LiveVote) -> None:
    if not can_manage_live_vote(by, live_vote):
        raise PermissionDenied(_("Only the challenge's organisers can run this live vote."))


def create_live_vote(
    *,
    challenge: Challenge,
    by: User,
    title: str,
    finalist_ids: Sequence[int],
    duration_seconds: int = 180,
    sign_in_required: bool = False,
) -> LiveVote:
    if not can_create_live_vote(by, challenge):
        raise PermissionDenied(_("Only the challenge's organisers can run a live vote."))
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("Give the live vote a title.")]
    elif len(title) > 160:
        errors["title"] = [_("At most 160 characters.")]
    if not isinstance(duration_seconds, int) or not MIN_SECONDS <= duration_seconds <= MAX_SECONDS:
        errors["duration_seconds"] = [_("Between 10 seconds and 24 hours.")]
    wanted = set(finalist_ids)
    ideas = list(finalist_candidates(by, challenge).filter(pk__in=wanted))
    if len(ideas) != len(wanted):
        errors["finalists"] = [_("Finalists must be submitted ideas of this challenge.")]
    elif len(ideas) < 2:
        errors["finalists"] = [_("Pick at least two finalists.")]
    if errors:
        raise InvalidInput(_("The live vote could not be created."), errors=errors)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                live_vote = LiveVote.objects.create(
                    challenge=challenge,
                    title=title,
                    code=_new_code(),
                    duration_seconds=duration_seconds,
                    sign_in_required=sign_in_required,
                    created_by=by,
                )
                live_vote.finalists.set(ideas)
                LiveCount.objects.bulk_create([LiveCount(live_vote=live_vote, idea=idea) for idea in ideas])
                audit.record(
                    actor=by,
                    verb="live_vote.created",
                    obj=live_vote,
                    data={
                        "title": title,
                        "finalists": sorted(wanted),
                        "duration_seconds": duration_seconds,
                        "sign_in_required": sign_in_required,
                    },
                )
                return live_vote
        except IntegrityError:  # the random short code was taken: draw another
            continue
    raise Conflict(_("Could not allocate a short code; try again."))


def _locked(live_vote: LiveVote) -> LiveVote:
    return LiveVote.objects.select_for_update().get(pk=live_vote.pk)


def open_live_vote(*, live_vote: LiveVote, by: User) -> LiveVote:
    _require_manager(by, live_vote)
    with transaction.atomic():
        row = _locked(live_vote)
        if row.state != LiveState.DRAFT:
            raise Conflict(_("This live vote has already been started."))
        now = timezone.now()
        row.state = LiveState.OPEN
        row.opens_at = now
        row.closes_at = now + timedelta(seconds=row.duration_seconds)
        row.save(update_fields=["state", "opens_at", "closes_at", "updated_at"])
        audit.record(
            actor=by, verb="live_vote.opened", obj=row, data={"opens_at": row.opens_at, "closes_at": row.closes_at}
        )
    return row


def extend_live_vote(*, live_vote: LiveVote, by: User, seconds: int) -> LiveVote:
    _require_manager(by, live_vote)
    if not isinstance(seconds, int) or not 1 <= seconds <= 3600:
        raise InvalidInput(_("The extension is not valid."), errors={"seconds": [_("Between 1 second and 1 hour.")]})
    with transaction.atomic():
        row = _locked(live_vote)
        if not rules.is_open(row.state, row.opens_at, row.closes_at, timezone.now()):
            raise Conflict(_("Only a running live vote can be extended."))
        assert row.closes_at is not None  # open, so it has a window
        row.closes_at += timedelta(seconds=seconds)
        row.save(update_fields=["closes_at", "updated_at"])
        audit.record(
            actor=by, verb="live_vote.extended", obj=row, data={"seconds": seconds, "closes_at": row.closes_at}
        )
    return row


def ensure_stoppable(live_vote: LiveVote) -> None:
    """Conflict unless the live vote is open (the confirmation page asks this before the action)."""
    if live_vote.state != LiveState.OPEN:
        raise Conflict(_("Only an open live vote can be stopped."))


def stop_live_vote(*, live_vote: LiveVote, by: User) -> LiveVote:
    """Close the window now (or confirm a window that ran out) and record the exact final tally."""
    _require_manager(by, live_vote)
    with transaction.atomic():
        row = _locked(live_vote)
        ensure_stoppable(row)
        now = timezone.now()
        row.state = LiveState.CLOSED
        if row.closes_at is None or row.closes_at > now:
            row.closes_at = now
        finalists = sorted(row.finalists.values_list("pk", flat=True))
        ballots = [
            Ballot(d, v, s, i)
            for d, v, s, i in LiveBallot.objects.filter(live_vote=row)
            .values_list("device", "client_vote_id", "seq", "idea_id")
            .iterator(chunk_size=5000)
        ]
        counts = count_ballots(ballots, finalists)
        row.final_tally = {
            "counts": {str(k): v for k, v in counts.items()},
            "turnout": len(ballots),
            "standings": [list(pair) for pair in standings(counts)],
        }
        row.ballots_digest = ballots_digest(ballots)
        row.save(update_fields=["state", "closes_at", "final_tally", "ballots_digest", "updated_at"])
        audit.record(
            actor=by,
            verb="live_vote.closed",
            obj=row,
            data={"closes_at": row.closes_at, "tally": row.final_tally, "ballots_digest": row.ballots_digest},
        )
    return row


def publish_live_results(*, live_vote: LiveVote, by: User) -> LiveVote:
    _require_manager(by, live_vote)
    with transaction.atomic():
        row = _locked(live_vote)
        if row.state != LiveState.CLOSED:
            raise Conflict(_("Stop the live vote before publishing its results."))
        row.state = LiveState.PUBLISHED
        row.save(update_fields=["state", "updated_at"])
        audit.record(
            actor=by,
            verb="live_vote.published",
            obj=row,
            data={"tally": row.final_tally, "ballots_digest": row.ballots_digest},
        )
    return row


def _store_codes(live_vote: LiveVote, codes: list[str], by: User, verb: str) -> int:
    existing = set(RewardCode.objects.filter(live_vote=live_vote, code__in=codes).values_list("code", flat=True))
    fresh = [c for c in dict.fromkeys(codes) if c not in existing]
    if RewardCode.objects.filter(live_vote=live_vote).count() + len(fresh) > MAX_REWARD_CODES:
        raise InvalidInput(
            _("Too many reward codes."),
            errors={"codes": [_("At most %(n)d codes per live vote.") % {"n": MAX_REWARD_CODES}]},
        )
    with transaction.atomic():
        RewardCode.objects.bulk_create([RewardCode(live_vote=live_vote, code=c) for c in fresh], batch_size=2000)
        audit.record(actor=by, verb=verb, obj=live_vote, data={"added": len(fresh), "skipped": len(codes) - len(fresh)})
    return len(fresh)


def upload_reward_codes(*, live_vote: LiveVote, by: User, codes: str) -> int:
    """Add codes, one a line; returns how many were new (codes already present are skipped)."""
    _require_manager(by, live_vote)
    lines = [line.strip() for line in (codes or "").splitlines() if line.strip()]
    bad = [line for line in lines if not REWARD_CODE.fullmatch(line)]
    if not lines:
        raise InvalidInput(_("No codes given."), errors={"codes": [_("Paste one code a line.")]})
    if bad:
        raise InvalidInput(
            _("Some codes are not valid."),
            errors={
                "codes": [
                    _("Codes are 4 to 64 letters, digits, '-' or '_'. Not valid: %(codes)s")
                    % {"codes": ", ".join(b[:70] for b in bad[:5])}
                ]
            },
        )
    if len(lines) > MAX_REWARD_CODES:
        raise InvalidInput(
            _("Too many reward codes."),
            errors={"codes": [_("At most %(n)d codes per live vote.") % {"n": MAX_REWARD_CODES}]},
        )
    return _store_codes(live_vote, lines, by, "live_vote.reward_codes_uploaded")


def generate_reward_codes(*, live_vote: LiveVote, by: User, count: int) -> int:
    _require_manager(by, live_vote)
    if not isinstance(count, int) or not 1 <= count <= MAX_REWARD_CODES:
        raise InvalidInput(
            _("The number of codes is not valid."),
            errors={"count": [_("Between 1 and %(n)d.") % {"n": MAX_REWARD_CODES}]},
        )
    codes = ["-".join(secrets.token_hex(3).upper() for _ in range(3)) for _ in range(count)]
    return _store_codes(live_vote, codes, by, "live_vote.reward_codes_generated")


def claim_reward_code(*, live_vote: LiveVote, token: str) -> RewardCode:
    """Give the voter holding `token` one reward code (the same one if asked again)."""
    held = rules.device_token(device_key(), token, live_vote.pk)
    if held is None:
        raise PermissionDenied(_("Reload the voting page to get a new device token."))
    if not LiveBallot.objects.filter(live_vote=live_vote, device=held.device).exists():
        raise Conflict(_("Rewards are for people who voted: vote first."))
    with transaction.atomic():
        mine = RewardCode.objects.filter(live_vote=live_vote, device=held.device).first()
        if mine is not None:
            return mine
        free = (
            RewardCode.objects.select_for_update(skip_locked=True)
            .filter(live_vote=live_vote, device="")
            .order_by("id")
            .first()
        )
        if free is None:
            raise Conflict(_("All reward codes have been given out."))
        free.device = held.device
        free.assigned_at = timezone.now()
        free.save(update_fields=["device", "assigned_at"])
        audit.record(
            actor=None,
            verb="live_vote.reward_assigned",
            obj=live_vote,
            data={"reward_code_id": free.pk, "device": held.device},
        )
    return free


def redeem_reward_code(*, live_vote: LiveVote, by: User, code: str) -> RewardCode:
    """Mark a code used; a code redeems once."""
    _require_manager(by, live_vote)
    code = (code or "").strip()
    if not REWARD_CODE.fullmatch(code):
        raise InvalidInput(_("The code is not valid."), errors={"code": [_("4 to 64 letters, digits, '-' or '_'.")]})
    with transaction.atomic():
        row = RewardCode.objects.select_for_update().filter(live_vote=live_vote, code=code).first()
        if row is None or not row.device:
            raise NotFound(_("No reward code %(code)s was given out in this live vote.") % {"code": code})
        if row.redeemed_at is not None:
            raise Conflict(_("This code was already redeemed on %(at)s.") % {"at": row.redeemed_at.isoformat()})
        row.redeemed_at = timezone.now()
        row.save(update_fields=["redeemed_at"])
        audit.record(actor=by, verb="live_vote.reward_redeemed", obj=live_vote, data={"reward_code_id": row.pk})
    return row
