"""Comments, likes, follows, reports and moderation."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from opencall.accounts.actions import block_user, notify
from opencall.accounts.models import User
from opencall.challenges.models import Challenge
from opencall.challenges.permissions import can_participate
from opencall.challenges.phases import Action
from opencall.community.models import Comment, Follow, Like, Report
from opencall.community.permissions import (
    can_block,
    can_comment_on,
    can_follow,
    can_handle_report,
    can_like,
    can_report_comment,
    can_report_idea,
)
from opencall.community.queries import follower_ids_of_idea
from opencall.core import audit
from opencall.core.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from opencall.ideas.actions import bump_counter
from opencall.ideas.models import Idea
from opencall.ideas.permissions import can_view_idea, refusal, viewers_among
from opencall.ideas.queries import team_member_ids


def _refuse(by: User, idea: Idea, action: Action, *, closed: str, denied: str) -> DomainError:
    """Why a person may not act on an idea: the phase (409) if they see it, else their rights (403)."""
    return refusal(by, idea.challenge, action, closed=closed, denied=denied, entitled=can_view_idea(by, idea))


def add_comment(*, idea: Idea, by: User, body: str, parent: Comment | None = None) -> Comment:
    if not can_comment_on(by, idea):
        raise _refuse(by, idea, Action.COMMENT, closed=_("Comments are closed"),
                      denied=_("You cannot comment on this idea."))
    body = body.strip()
    if not body:
        raise InvalidInput(_("The comment is empty."), errors={"body": [_("Write something first.")]})
    if len(body) > 5000:
        raise InvalidInput(_("The comment is too long."), errors={"body": [_("At most 5,000 characters.")]})
    if parent is not None and (parent.idea_id != idea.pk or parent.hidden):
        raise InvalidInput(_("You can only reply to a visible comment on the same idea."),
                           errors={"parent": [_("Not a comment on this idea.")]})
    with transaction.atomic():
        comment = Comment.objects.create(idea=idea, author=by, parent=parent, body=body)
        bump_counter(idea.pk, "comment_count", 1)
        audit.record(actor=by, verb="comment.create", obj=comment, data={"idea": idea.pk})
        recipients = set(team_member_ids(idea.team)) | set(follower_ids_of_idea(idea))
        if parent is not None:
            recipients.add(parent.author_id)
        # Followers and earlier commenters may have lost sight of the idea since (it became
        # confidential, was hidden, or they left the organisation): the text names it.
        recipients = viewers_among(idea, recipients)
        notify(recipients=recipients, exclude=by, kind="comment",
               text=_("%(name)s commented on “%(title)s”") % {"name": by, "title": idea.title},
               url=reverse("ideas:detail", args=[idea.pk]) + f"#comment-{comment.pk}")
    return comment


def like_idea(*, idea: Idea, by: User) -> bool:
    """Like an idea once. Returns False (and changes nothing) if it was already liked."""
    if not can_like(by, idea):
        raise _refuse(by, idea, Action.VOTE, closed=_("Voting is closed"), denied=_("You cannot vote on this idea."))
    try:
        with transaction.atomic():
            like = Like.objects.create(idea=idea, user=by)
            bump_counter(idea.pk, "like_count", 1)
            audit.record(actor=by, verb="like.add", obj=like, data={"idea": idea.pk})
    except IntegrityError:
        return False
    return True


def unlike_idea(*, idea: Idea, by: User) -> bool:
    if not can_like(by, idea):
        raise _refuse(by, idea, Action.VOTE, closed=_("Voting is closed"), denied=_("You cannot vote on this idea."))
    with transaction.atomic():
        deleted, _per_model = Like.objects.filter(idea=idea, user=by).delete()
        if deleted:
            bump_counter(idea.pk, "like_count", -1)
            audit.record(actor=by, verb="like.remove", obj=idea)
    return bool(deleted)


def follow_idea(*, idea: Idea, by: User, on: bool = True) -> bool:
    if not can_follow(by, idea):
        raise PermissionDenied(_("You cannot follow this idea."))
    if on:
        _follow, created = Follow.objects.get_or_create(user=by, idea=idea)
        return created
    return bool(Follow.objects.filter(user=by, idea=idea).delete()[0])


def follow_challenge(*, challenge: Challenge, by: User, on: bool = True) -> bool:
    """Joining a challenge: follow it to hear of every phase change."""
    if not can_participate(by, challenge):
        raise PermissionDenied(_("You cannot join this challenge."))
    with transaction.atomic():
        if on:
            _follow, changed = Follow.objects.get_or_create(user=by, challenge=challenge)
        else:
            changed = bool(Follow.objects.filter(user=by, challenge=challenge).delete()[0])
        if changed:
            audit.record(actor=by, verb="challenge.join" if on else "challenge.leave", obj=challenge)
    return changed


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say what is wrong."), errors={"reason": [_("A reason is required.")]})
    if len(reason) > 500:
        raise InvalidInput(_("The reason is too long."), errors={"reason": [_("At most 500 characters.")]})
    return reason


def report_idea(*, idea: Idea, by: User, reason: str) -> tuple[Report, bool]:
    """File a report, or find the reporter's open report on the same idea: (report, created)."""
    if not can_report_idea(by, idea):
        raise PermissionDenied(_("You cannot report this idea."))
    reason = _check_reason(reason)
    with transaction.atomic():
        # Locking the reported row serialises two reports of it (a double click, a retried call), so
        # the check below cannot miss a report being filed at the same moment.
        Idea.objects.select_for_update().filter(pk=idea.pk).exists()
        existing = Report.objects.filter(reporter=by, idea=idea, status=Report.Status.OPEN).first()
        if existing is not None:
            return existing, False
        report = Report.objects.create(reporter=by, idea=idea, reason=reason)
        audit.record(actor=by, verb="report.create", obj=report, data={"idea": idea.pk})
    return report, True


def report_comment(*, comment: Comment, by: User, reason: str) -> tuple[Report, bool]:
    """File a report, or find the reporter's open report on the same comment: (report, created)."""
    if not can_report_comment(by, comment):
        raise PermissionDenied(_("You cannot report this comment."))
    reason = _check_reason(reason)
    with transaction.atomic():
        Comment.objects.select_for_update().filter(pk=comment.pk).exists()
        existing = Report.objects.filter(reporter=by, comment=comment, status=Report.Status.OPEN).first()
        if existing is not None:
            return existing, False
        report = Report.objects.create(reporter=by, comment=comment, reason=reason)
        audit.record(actor=by, verb="report.create", obj=report, data={"comment": comment.pk})
    return report, True


def resolve_report(*, report: Report, by: User, hide: bool, resolution: str) -> Report:
    """Hide the reported content with a reason, or dismiss the report."""
    if not can_handle_report(by, report):
        raise PermissionDenied(_("You do not moderate this challenge."))
    resolution = resolution.strip()
    if hide and not resolution:
        raise InvalidInput(_("Give the reason the content is hidden."), errors={"resolution": [_("Required.")]})
    if len(resolution) > 300:
        raise InvalidInput(_("The reason is too long."), errors={"resolution": [_("At most 300 characters.")]})
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.status != Report.Status.OPEN:
            raise Conflict(_("This report was already handled."))
        locked.status = Report.Status.HIDDEN if hide else Report.Status.DISMISSED
        locked.handled_by = by
        locked.resolution = resolution
        locked.save(update_fields=["status", "handled_by", "resolution", "updated_at"])
        if hide:
            target = locked.idea if locked.idea_id else locked.comment
            assert target is not None
            type(target).objects.filter(pk=target.pk).update(hidden=True, hidden_reason=resolution)
            # Other open reports on the same content are settled by the same decision.
            same = Report.objects.filter(idea=locked.idea) if locked.idea_id else Report.objects.filter(
                comment=locked.comment)
            same.filter(status=Report.Status.OPEN).update(status=Report.Status.HIDDEN, handled_by=by,
                                                          resolution=resolution)
            author_ids = [locked.comment.author_id] if locked.comment_id else team_member_ids(locked.idea.team)  # type: ignore[union-attr]
            notify(recipients=author_ids, kind="moderation",
                   text=_("Your content was hidden: %(reason)s") % {"reason": resolution})
        audit.record(actor=by, verb="report." + locked.status, obj=locked, data={"resolution": resolution})
    return locked


def block_account(*, user: User, by: User, reason: str) -> None:
    if not can_block(by):
        raise PermissionDenied(_("Only site moderators block accounts."))
    block_user(user=user, by=by, reason=reason)
