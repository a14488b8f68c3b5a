from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.accounts.queries import profile
from opencall.challenges.models import Challenge
from opencall.challenges.permissions import is_moderator, is_organiser
from opencall.challenges.queries import visibility_filter
from opencall.community.models import Comment, Follow, Like, Report
from opencall.community.permissions import can_block, can_report_comment
from opencall.core.errors import InvalidInput, NotFound, PermissionDenied
from opencall.ideas.models import Idea
from opencall.organisations.queries import organiser_org_ids


def comments_for(viewer: User, idea: Idea) -> list[Comment]:
    """Comments in thread order (parents before replies), hidden ones only for moderators."""
    qs = Comment.objects.filter(idea=idea).select_related("author").order_by("created_at", "id")
    if not (is_moderator(viewer, idea.challenge) or is_organiser(viewer, idea.challenge)):
        qs = qs.filter(hidden=False)
    rows = list(qs)
    children: dict[int | None, list[Comment]] = {}
    for c in rows:
        children.setdefault(c.parent_id, []).append(c)
    ordered: list[Comment] = []

    def walk(parent: int | None, depth: int) -> None:
        for c in children.get(parent, []):
            c.depth = min(depth, 4)  # type: ignore[attr-defined]
            ordered.append(c)
            walk(c.pk, depth + 1)

    walk(None, 0)
    return ordered


def _visible_comment(viewer: User, comment_id: int) -> Comment | None:
    comment = Comment.objects.filter(pk=comment_id).select_related("idea", "idea__challenge", "idea__team").first()
    if comment is None:
        return None
    from opencall.ideas.permissions import can_view_idea

    if not can_view_idea(viewer, comment.idea):
        return None
    if comment.hidden and not (is_moderator(viewer, comment.idea.challenge)
                               or is_organiser(viewer, comment.idea.challenge)):
        return None
    return comment


def comment_to_report(viewer: User, comment_id: int) -> Comment:
    """The gate to a comment the viewer may report (a visible one on an idea they see): NotFound if they
    cannot see it, PermissionDenied if they see it but may not report it (it is hidden)."""
    comment = _visible_comment(viewer, comment_id)
    if comment is None:
        raise NotFound(_("No such comment."))
    if not can_report_comment(viewer, comment):
        raise PermissionDenied(_("You cannot report this comment."))
    return comment


def reply_target_for(viewer: User, comment_id: int) -> Comment:
    """The comment a new comment answers: one the viewer can see (the action checks it is on the same
    idea and not hidden). An unknown one is an input error, as the id comes in the comment's form."""
    comment = _visible_comment(viewer, comment_id)
    if comment is None:
        raise InvalidInput(_("No such comment to reply to."), errors={"parent_id": [_("No such comment.")]})
    return comment


def likes_of(viewer: User, idea: Idea) -> tuple[bool, int]:
    """Whether the viewer likes the idea, and its current like count."""
    count = Idea.objects.filter(pk=idea.pk).values_list("like_count", flat=True).first() or 0
    return has_liked(viewer, idea), count


def has_liked(viewer: User, idea: Idea) -> bool:
    return viewer.is_authenticated and Like.objects.filter(idea=idea, user=viewer).exists()


def liked_idea_ids(viewer: User, idea_ids: list[int]) -> set[int]:
    if not viewer.is_authenticated:
        return set()
    return set(Like.objects.filter(user=viewer, idea_id__in=idea_ids).values_list("idea_id", flat=True))


def is_following(viewer: User, *, idea: Idea | None = None, challenge_id: int | None = None) -> bool:
    if not viewer.is_authenticated:
        return False
    if idea is not None:
        return Follow.objects.filter(user=viewer, idea=idea).exists()
    if challenge_id is None:
        return False
    return Follow.objects.filter(user=viewer, challenge_id=challenge_id).exists()


def follower_ids_of_idea(idea: Idea) -> list[int]:
    return list(Follow.objects.filter(idea=idea).values_list("user_id", flat=True))


def moderation_queue(viewer: User, *, status: str = "open") -> QuerySet[Report]:
    """The gate to the moderation queue: reports the viewer may handle (all for site moderators, else
    those in challenges they run); PermissionDenied for people who moderate nothing."""
    if not can_moderate_any(viewer):
        raise PermissionDenied(_("Only moderators and organisers see reports."))
    return _handled_reports(viewer, status=status)


def _handled_reports(viewer: User, *, status: str) -> QuerySet[Report]:
    qs = Report.objects.filter(status=status).select_related(
        "reporter", "idea", "idea__challenge", "idea__created_by", "comment", "comment__author", "comment__idea",
        "comment__idea__challenge", "handled_by")
    if viewer.is_staff:
        return qs.order_by("-created_at")
    from opencall.challenges.queries import challenge_roles

    moderated = [cid for cid, kinds in challenge_roles(viewer).items() if "moderator" in kinds]
    orgs = organiser_org_ids(viewer)
    # Organisers see every report in their challenges. Moderators (of a challenge, or site-wide in the
    # challenges they may see) never those on confidential ideas: those are for the team, organisers
    # and judges only.
    scope = Q(idea__challenge__organisation_id__in=orgs) | Q(comment__idea__challenge__organisation_id__in=orgs)
    challenges: Q = Q(pk__in=moderated)
    if viewer.is_moderator:
        challenges |= Q(pk__in=_visible_challenge_ids(viewer))
    moderated_ids = Challenge.objects.filter(challenges).values_list("pk", flat=True)
    scope |= Q(idea__confidential=False, idea__challenge_id__in=moderated_ids)
    scope |= Q(comment__idea__confidential=False, comment__idea__challenge_id__in=moderated_ids)
    return qs.filter(scope).order_by("-created_at")


def _visible_challenge_ids(viewer: User) -> QuerySet[Challenge, int]:
    return Challenge.objects.filter(visibility_filter(viewer)).values_list("pk", flat=True)


def can_moderate_any(viewer: User) -> bool:
    if not viewer.is_authenticated:
        return False
    if viewer.is_staff or viewer.is_moderator or organiser_org_ids(viewer):
        return True
    from opencall.challenges.queries import challenge_roles

    return any("moderator" in kinds for kinds in challenge_roles(viewer).values())


def report_for(viewer: User, report_id: int) -> Report:
    """The gate to a report the viewer may handle, whatever its status."""
    for status in (Report.Status.OPEN, Report.Status.HIDDEN, Report.Status.DISMISSED):
        report = _handled_reports(viewer, status=status).filter(pk=report_id).first()
        if report is not None:
            return report
    raise NotFound(_("No such report for you to handle."))


def person_to_block(viewer: User, user_id: int) -> User:
    """The gate to an active account the viewer may block: site moderators only, checked first."""
    if not can_block(viewer):
        raise PermissionDenied(_("Only site moderators block accounts."))
    person = profile(user_id)
    if person is None:
        raise NotFound(_("No such active account."))
    return person
