from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.challenges.models import Challenge, ChallengeRole
from opencall.challenges.queries import challenge_for
from opencall.core.errors import NotFound, PermissionDenied
from opencall.ideas.models import Idea, IdeaStatus, TeamMember
from opencall.review.models import Conflict, Criterion, Review, ReviewAssignment, ReviewRound, Rubric
from opencall.review.permissions import can_manage_review


def review_desk_for(viewer: User, slug: str) -> Challenge:
    """The gate for the organisers' review desk (rubrics, rounds, crowd settings): the challenge,
    NotFound when the viewer may not see it, PermissionDenied when they see it but do not organise it."""
    challenge = challenge_for(viewer, slug)
    if not can_manage_review(viewer, challenge):
        raise PermissionDenied(_("Only the challenge's organisers run the review."))
    return challenge


def round_for(viewer: User, slug: str, number: int) -> ReviewRound:
    """The gate for one review round, through the review desk's: the round, or NotFound."""
    challenge = review_desk_for(viewer, slug)
    rnd = round_by_number(challenge, number)
    if rnd is None:
        raise NotFound(_("No such review round."))
    rnd.challenge = challenge  # the gated instance, with what the desk's pages read preloaded
    return rnd


def rubrics_of(challenge: Challenge) -> QuerySet[Rubric]:
    return Rubric.objects.filter(challenge=challenge).prefetch_related(
        Prefetch("criteria", queryset=Criterion.objects.order_by("position", "id")))


def rounds_of(challenge: Challenge) -> QuerySet[ReviewRound]:
    return (ReviewRound.objects.filter(challenge=challenge).select_related("rubric")
            .annotate(idea_count=Count("ideas", distinct=True),
                      assignment_count=Count("assignments", distinct=True),
                      done_count=Count("assignments", filter=Q(assignments__review__submitted_at__isnull=False),
                                       distinct=True))
            .order_by("number"))


def round_by_number(challenge: Challenge, number: int) -> ReviewRound | None:
    return ReviewRound.objects.filter(challenge=challenge, number=number).select_related(
        "rubric", "challenge", "challenge__organisation").first()


def default_round_ideas(challenge: Challenge, number: int) -> QuerySet[Idea]:
    """Round 1 reviews every submitted idea; later rounds the shortlisted ones."""
    status = IdeaStatus.SUBMITTED if number == 1 else IdeaStatus.SHORTLISTED
    return Idea.objects.filter(challenge=challenge, status=status, hidden=False).order_by("id")


def judges_of(challenge: Challenge) -> QuerySet[User]:
    return (User.objects.filter(challenge_roles__challenge=challenge, challenge_roles__kind=ChallengeRole.Kind.JUDGE)
            .prefetch_related("skills", "memberships").order_by("id"))


def round_ideas(rnd: ReviewRound) -> QuerySet[Idea]:
    return (rnd.ideas.select_related("category", "team")
            .prefetch_related(Prefetch("team__members", queryset=TeamMember.objects.select_related("user")))
            .order_by("id"))


def conflicts_of(challenge: Challenge) -> QuerySet[Conflict]:
    return Conflict.objects.filter(challenge=challenge).select_related("judge", "idea")


def assignments_of(rnd: ReviewRound) -> QuerySet[ReviewAssignment]:
    return (ReviewAssignment.objects.filter(round=rnd).select_related("judge", "idea")
            .prefetch_related("review").order_by("idea_id", "judge_id"))


def _still_judging(judge: User) -> Q:
    """Assignments a judge may still read: they still judge that challenge, and the idea is not hidden."""
    return Q(judge=judge, idea__hidden=False,
             round__challenge__roles__user=judge, round__challenge__roles__kind=ChallengeRole.Kind.JUDGE)


def assignments_for_judge(judge: User) -> QuerySet[ReviewAssignment]:
    return (ReviewAssignment.objects.filter(_still_judging(judge), round__state=ReviewRound.State.OPEN)
            .select_related("round", "round__challenge", "idea", "idea__team", "idea__category")
            .prefetch_related("review").order_by("round__challenge_id", "round__number", "idea_id"))


def assignment_for(judge: User, assignment_id: int) -> ReviewAssignment:
    """The gate for a judge's assignment: theirs while they still judge it, or NotFound."""
    found = (ReviewAssignment.objects.filter(_still_judging(judge), pk=assignment_id)
             .select_related("round", "round__challenge", "round__challenge__organisation", "round__rubric",
                             "idea", "idea__team", "idea__category")
             .first())
    if found is None:
        raise NotFound(_("This review is not assigned to you."))
    return found


def reviews_of(rnd: ReviewRound) -> QuerySet[Review]:
    return Review.objects.filter(assignment__round=rnd, submitted_at__isnull=False).select_related(
        "assignment", "assignment__judge", "assignment__idea")


def rubric_for(challenge: Challenge, rubric_id: int) -> Rubric | None:
    return Rubric.objects.filter(challenge=challenge, pk=rubric_id).first()


def assignment_in_round(rnd: ReviewRound, assignment_id: int | None) -> ReviewAssignment:
    """An assignment of a round the caller passed through `round_for`, or NotFound (also for no id)."""
    found = (ReviewAssignment.objects.filter(round=rnd, pk=assignment_id).select_related("round__challenge").first()
             if assignment_id is not None else None)
    if found is None:
        raise NotFound(_("No such assignment."))
    return found


def judge_in(challenge: Challenge, user_id: int) -> User | None:
    return judges_of(challenge).filter(pk=user_id).first()


def idea_in_round(rnd: ReviewRound, idea_id: int) -> Idea | None:
    return rnd.ideas.filter(pk=idea_id).first()


def review_of(assignment: ReviewAssignment) -> Review | None:
    return Review.objects.filter(assignment=assignment).first()


def criteria_of(rnd: ReviewRound) -> list[Criterion]:
    return list(rnd.rubric.criteria.all())
