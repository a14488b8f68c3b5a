"""Reads of ideas and teams, filtered to what the viewer may see, relations preloaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.accounts.queries import profile
from opencall.challenges.models import Challenge
from opencall.challenges.permissions import is_judge, is_moderator, is_organiser
from opencall.challenges.queries import challenge_for, managed_challenges, visibility_filter
from opencall.core.errors import NotFound, PermissionDenied
from opencall.core.viewer import forget_when_changed, recall
from opencall.ideas.models import (
    Attachment,
    FieldAnswer,
    Idea,
    IdeaStatus,
    IdeaVersion,
    JoinRequest,
    Position,
    RequestStatus,
    Team,
    TeamInvitation,
    TeamMember,
)

SORTS = {
    "newest": ("-submitted_at", "-id"),
    "liked": ("-like_count", "-submitted_at", "-id"),
    "discussed": ("-comment_count", "-submitted_at", "-id"),
    "title": ("title", "id"),
}


forget_when_changed("team-ids", TeamMember)


def my_team_ids(user: User) -> set[int]:
    """The teams this user belongs to, read once per request (core.viewer)."""
    if not user.is_authenticated:
        return set()
    return recall("team-ids", user.pk, lambda: set(
        TeamMember.objects.filter(user=user).values_list("team_id", flat=True)))


def idea_filter(viewer: User, challenge: Challenge) -> Q:
    """Ideas of one challenge this viewer may see (the challenge itself is assumed visible)."""
    organiser = is_organiser(viewer, challenge)
    cond = ~Q(status=IdeaStatus.DRAFT)
    if not (organiser or is_judge(viewer, challenge)):
        cond &= Q(confidential=False)
    if not (organiser or is_moderator(viewer, challenge)):
        cond &= Q(hidden=False)
    return cond | Q(team_id__in=my_team_ids(viewer))


def visible_ideas(viewer: User, challenge: Challenge, *, sort: str = "newest", category: str = "",
                  status: str = "", text: str = "") -> QuerySet[Idea]:
    qs = Idea.objects.filter(challenge=challenge).filter(idea_filter(viewer, challenge))
    if category:
        qs = qs.filter(category__name__iexact=category)
    if status:
        qs = qs.filter(status=status)
    if text:
        qs = qs.filter(Q(title__icontains=text) | Q(summary__icontains=text))
    return qs.select_related("category", "team").order_by(*SORTS.get(sort, SORTS["newest"]))


def idea_for(viewer: User, idea_id: int) -> Idea:
    """The gate to one idea, with everything its page shows; NotFound if it is missing or hidden from the
    viewer (the same answer, so existence never leaks)."""
    idea = (
        Idea.objects.filter(pk=idea_id)
        .filter(visibility_filter(viewer, "challenge__") | Q(team_id__in=my_team_ids(viewer)))
        .select_related("challenge", "challenge__organisation", "category", "team")
        .prefetch_related(
            Prefetch("team__members", queryset=TeamMember.objects.select_related("user").order_by("created_at")),
            Prefetch("answers", queryset=FieldAnswer.objects.select_related("field").order_by("field__position")),
            Prefetch("attachments", queryset=Attachment.objects.order_by("created_at")),
        )
        .first()
    )
    from opencall.ideas.permissions import can_view_idea

    if idea is None or not can_view_idea(viewer, idea):
        raise NotFound(_("No such idea, or it is not visible to you."))
    return idea


def _sees_idea(viewer: User, idea_id: int) -> bool:
    try:
        idea_for(viewer, idea_id)
    except NotFound:
        return False
    return True


def editable_idea_for(viewer: User, idea_id: int) -> Idea:
    """An idea whose edit form the viewer may open: refused exactly as `update_idea` would refuse."""
    from opencall.ideas.permissions import refusal_to_edit

    idea = idea_for(viewer, idea_id)
    if (refused := refusal_to_edit(viewer, idea)) is not None:
        raise refused
    return idea


def challenge_taking_ideas(viewer: User, slug: str) -> Challenge:
    """A challenge whose new-idea form the viewer may open: refused exactly as `create_idea` would refuse."""
    from opencall.ideas.permissions import refusal_to_create

    challenge = challenge_for(viewer, slug)
    if (refused := refusal_to_create(viewer, challenge)) is not None:
        raise refused
    return challenge


def versions_for(viewer: User, idea_id: int) -> tuple[Idea, QuerySet[IdeaVersion]]:
    """The gate to an idea's history: the idea and its versions, newest first (its team and organisers)."""
    from opencall.ideas.permissions import can_view_history

    idea = idea_for(viewer, idea_id)
    if not can_view_history(viewer, idea):
        raise PermissionDenied(_("Only the team and the organisers see an idea's history."))
    return idea, IdeaVersion.objects.filter(idea=idea).select_related("author").order_by("-number")


def ideas_of_person(viewer: User, user_id: int) -> tuple[User, list[Idea]]:
    """An active person and those of their ideas the viewer may see (their profile page)."""
    person = profile(user_id)
    if person is None:
        raise NotFound(_("No such person."))
    return person, ideas_of_user(viewer, person)


def ideas_of_user(viewer: User, user: User) -> list[Idea]:
    """A person's ideas as seen by the viewer (profile page)."""
    ideas = (
        Idea.objects.filter(team__members__user=user)
        .filter(visibility_filter(viewer, "challenge__") | Q(team_id__in=my_team_ids(viewer)))
        .select_related("challenge", "challenge__organisation", "team")
        .prefetch_related("challenge__sponsors", "challenge__invited_organisations")
        .distinct()
        .order_by("-created_at")
    )
    from opencall.ideas.permissions import can_view_idea

    return [i for i in ideas if can_view_idea(viewer, i)]


def team_for(viewer: User, team_id: int) -> Team:
    """The gate to one team with its members and positions; NotFound if missing or hidden."""
    team = (
        Team.objects.filter(pk=team_id)
        .select_related("challenge", "challenge__organisation", "idea")
        .prefetch_related(
            Prefetch("members", queryset=TeamMember.objects.select_related("user").order_by("created_at")),
            Prefetch("positions", queryset=Position.objects.prefetch_related("skills").order_by("-is_open", "title")),
        )
        .first()
    )
    from opencall.ideas.permissions import can_view_team

    if team is None or not can_view_team(viewer, team):
        raise NotFound(_("No such team, or it is not visible to you."))
    return team


def _sees_team(viewer: User, team_id: int) -> bool:
    try:
        team_for(viewer, team_id)
    except NotFound:
        return False
    return True


def team_page_for(viewer: User, team_id: int) -> Team | TeamInvitation:
    """The team, or for someone invited who may not see it yet (a draft's team) their invitation, so
    they can answer it; NotFound for everyone else."""
    try:
        return team_for(viewer, team_id)
    except NotFound:
        invitation = invitation_to_team(viewer, team_id)
        if invitation is None:
            raise
        return invitation


def open_positions(viewer: User, *, skill: str = "") -> QuerySet[Position]:
    """Open positions in teams whose idea the viewer may see: the 'looking for people' page."""
    qs = (
        Position.objects.filter(is_open=True, team__idea__hidden=False, team__idea__confidential=False)
        # Drafts are private to their team, so their positions (and titles) are not listed either.
        .exclude(team__idea__status__in=[IdeaStatus.DRAFT, IdeaStatus.WITHDRAWN, IdeaStatus.REJECTED])
        .filter(visibility_filter(viewer, "team__challenge__"))
        .select_related("team", "team__idea", "team__challenge")
        .prefetch_related("skills")
        .order_by("-created_at")
    )
    if skill:
        qs = qs.filter(skills__name__iexact=skill.strip())
    return qs.distinct()


def pending_invitations_for(user: User) -> QuerySet[TeamInvitation]:
    return TeamInvitation.objects.filter(user=user, status=RequestStatus.PENDING).select_related(
        "team", "team__idea", "invited_by")


def pending_join_requests(team: Team) -> QuerySet[JoinRequest]:
    return JoinRequest.objects.filter(team=team, status=RequestStatus.PENDING).select_related("user")


def team_member_ids(team: Team) -> list[int]:
    return list(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))


# Pages of the web UI ---------------------------------------------------------------------------


def attachment_for(viewer: User, attachment_id: int) -> Attachment:
    """An attachment whose idea the viewer may see; NotFound (the same for missing and hidden) else."""
    attachment = Attachment.objects.filter(pk=attachment_id).select_related("idea").first()
    if attachment is None or not _sees_idea(viewer, attachment.idea_id):
        raise NotFound(_("No such file."))
    return attachment


def pending_team_invitations(team: Team) -> QuerySet[TeamInvitation]:
    return TeamInvitation.objects.filter(team=team, status=RequestStatus.PENDING).select_related(
        "user", "invited_by").order_by("created_at")


def invitation_to_team(viewer: User, team_id: int) -> TeamInvitation | None:
    """The viewer's pending invitation to one team (it lets an invitee see the team's page)."""
    if not viewer.is_authenticated:
        return None
    return pending_invitations_for(viewer).filter(team_id=team_id).first()


def invitation_for(viewer: User, invitation_id: int) -> TeamInvitation:
    """The gate to an invitation addressed to the viewer; NotFound for any other."""
    invitation = (
        TeamInvitation.objects.filter(pk=invitation_id, user=viewer).select_related("team").first()
        if viewer.is_authenticated else None
    )
    if invitation is None:
        raise NotFound(_("No such invitation for you."))
    return invitation


def my_join_request(viewer: User, team: Team) -> JoinRequest | None:
    if not viewer.is_authenticated:
        return None
    return JoinRequest.objects.filter(team=team, user=viewer, status=RequestStatus.PENDING).first()


def join_request_for(viewer: User, request_id: int) -> JoinRequest:
    """The gate to a join request to a team the viewer belongs to (the action checks that they lead it)."""
    join_request = (
        JoinRequest.objects.filter(pk=request_id, team_id__in=my_team_ids(viewer))
        .select_related("team", "user")
        .first()
    )
    if join_request is None:
        raise NotFound(_("No such join request to a team of yours."))
    return join_request


def position_for(viewer: User, position_id: int) -> Position:
    """The gate to a position in a team the viewer may see."""
    position = Position.objects.filter(pk=position_id).select_related("team", "team__challenge").first()
    if position is None or not _sees_team(viewer, position.team_id):
        raise NotFound(_("No such position, or it is not visible to you."))
    return position


def my_ideas(viewer: User) -> QuerySet[Idea]:
    """Every idea whose team the viewer is in, drafts included (their dashboard)."""
    return (
        Idea.objects.filter(team_id__in=my_team_ids(viewer))
        .select_related("challenge", "challenge__organisation", "team")
        .order_by("-updated_at", "-id")
    )


@dataclass(frozen=True)
class ChallengeCounts:
    """One row of the organiser dashboard: a challenge and its ideas counted by status."""

    challenge: Challenge
    by_status: dict[str, int]

    @property
    def entries(self) -> int:
        return sum(n for s, n in self.by_status.items() if s != IdeaStatus.DRAFT)


def organiser_overview(viewer: User) -> list[ChallengeCounts]:
    """The challenges the viewer organises, with idea counts per status (two queries)."""
    if not viewer.is_authenticated:
        return []
    challenges = list(managed_challenges(viewer))
    counts: dict[int, dict[str, int]] = {c.pk: {} for c in challenges}
    rows = (
        Idea.objects.filter(challenge_id__in=list(counts))
        .values("challenge_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["challenge_id"]][row["status"]] = row["n"]
    return [ChallengeCounts(challenge=c, by_status=counts[c.pk]) for c in challenges]


@dataclass(frozen=True)
class ChallengeStats:
    by_status: dict[str, int]
    submitted_per_day: list[tuple[date, int]]
    top_liked: list[Idea]
    top_discussed: list[Idea]


def challenge_stats(viewer: User, challenge: Challenge) -> ChallengeStats:
    """Figures for one challenge's dashboard, for its organisers only; days are counted in the viewer's
    time zone."""
    if not is_organiser(viewer, challenge):
        raise PermissionDenied(_("Only the challenge's organisers see its dashboard."))
    ideas = Idea.objects.filter(challenge=challenge)
    by_status = {
        row["status"]: row["n"] for row in ideas.values("status").annotate(n=Count("id")).order_by()
    }
    per_day = (
        ideas.filter(submitted_at__isnull=False)
        .annotate(day=TruncDate("submitted_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    shown = visible_ideas(viewer, challenge).exclude(status__in=[IdeaStatus.DRAFT, IdeaStatus.WITHDRAWN])
    return ChallengeStats(
        by_status=by_status,
        submitted_per_day=[(row["day"], row["n"]) for row in per_day],
        top_liked=list(shown.filter(like_count__gt=0).order_by(*SORTS["liked"])[:5]),
        top_discussed=list(shown.filter(comment_count__gt=0).order_by(*SORTS["discussed"])[:5]),
    )
