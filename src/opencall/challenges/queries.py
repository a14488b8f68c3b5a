"""Reads of challenges, always filtered to what the viewer may see."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.challenges.models import Challenge, ChallengeRole, Phase, Visibility
from opencall.challenges.phases import PhaseKind
from opencall.core.errors import NotFound, PermissionDenied
from opencall.core.viewer import forget_when_changed, recall
from opencall.organisations.queries import member_org_ids, organiser_org_ids


def _read_challenge_roles(user: User) -> dict[int, set[str]]:
    roles: dict[int, set[str]] = {}
    for cid, kind in ChallengeRole.objects.filter(user=user).values_list("challenge_id", "kind"):
        roles.setdefault(cid, set()).add(kind)
    return roles


forget_when_changed("challenge-roles", ChallengeRole)


def challenge_roles(user: User) -> dict[int, set[str]]:
    """challenge id → {'judge', 'moderator'} for this user, read once per request (core.viewer)."""
    if not user.is_authenticated:
        return {}
    return recall("challenge-roles", user.pk, lambda: _read_challenge_roles(user))


def sees_every_challenge(user: User) -> bool:
    """Site administrators (staff) see every challenge, whatever its visibility or phase."""
    return user.is_authenticated and user.is_staff


def visibility_filter(user: User, prefix: str = "") -> Q:
    """A Q over challenges (or over a relation to them, with `prefix`) the user may see.

    Never the empty Q(): Django drops an empty Q from `a | b`, so callers that add "or my own team's"
    would silently narrow a site administrator to their own teams (every other idea a 404)."""
    p = prefix
    if sees_every_challenge(user):
        # True for every row that exists, and unlike Q() it keeps its meaning inside `|`.
        return Q(**{f"{p}pk__isnull": False})
    public = Q(**{f"{p}visibility": Visibility.PUBLIC}) & ~Q(**{f"{p}phase": PhaseKind.DRAFT})
    if not user.is_authenticated:
        return public
    orgs = member_org_ids(user)
    organised = organiser_org_ids(user)
    roles = challenge_roles(user)
    opened = ~Q(**{f"{p}phase": PhaseKind.DRAFT})
    internal = Q(**{f"{p}visibility": Visibility.INTERNAL}) & (
        Q(**{f"{p}organisation_id__in": orgs}) | Q(**{f"{p}sponsors__in": orgs})
    )
    invited = Q(**{f"{p}visibility": Visibility.INVITE_ONLY}) & (
        Q(**{f"{p}organisation_id__in": orgs})
        | Q(**{f"{p}sponsors__in": orgs})
        | Q(**{f"{p}invited_organisations__in": orgs})
        | Q(**{f"{p}invited_users": user})
    )
    return (
        public
        | (opened & (internal | invited))
        | Q(**{f"{p}organisation_id__in": organised})
        | Q(**{f"{p}pk__in": list(roles)})
    )


def visible_challenges(viewer: User) -> QuerySet[Challenge]:
    return (
        Challenge.objects.filter(visibility_filter(viewer))
        .distinct()
        .select_related("organisation")
        .annotate(idea_count=Count("ideas", filter=~Q(ideas__status="draft"), distinct=True))
    )


def search_challenges(viewer: User, *, text: str = "", phase: str = "", organisation: str = "",
                      category: str = "", visibility: str = "") -> QuerySet[Challenge]:
    qs = visible_challenges(viewer)
    if text:
        qs = qs.filter(Q(title__icontains=text) | Q(summary__icontains=text))
    if phase:
        qs = qs.filter(phase=phase)
    if organisation:
        qs = qs.filter(organisation__slug=organisation)
    if category:
        qs = qs.filter(categories__name__iexact=category)
    if visibility:
        qs = qs.filter(visibility=visibility)
    return qs.order_by("-created_at", "-id")


def open_challenges(viewer: User) -> QuerySet[Challenge]:
    return visible_challenges(viewer).exclude(phase__in=[PhaseKind.DRAFT, PhaseKind.CLOSED]).order_by("-created_at")


def _not_found() -> NotFound:
    return NotFound(_("No such challenge, or it is not visible to you."))


def challenge_for(viewer: User, slug: str, *, manage: bool = False) -> Challenge:
    """The gate for one challenge: it, with what its pages show, or NotFound (missing and not
    visible to this viewer answer alike, so existence never leaks). With `manage`, PermissionDenied
    unless the viewer organises it (the pages that edit it)."""
    # The predicates read roles through this module, so they are imported when a gate runs.
    from opencall.challenges.permissions import can_edit_challenge

    challenge = (
        Challenge.objects.filter(visibility_filter(viewer), slug=slug)
        .distinct()
        .select_related("organisation")
        .prefetch_related("categories", "phases", "custom_fields", "sponsors")
        .first()
    )
    if challenge is None:
        raise _not_found()
    if manage and not can_edit_challenge(viewer, challenge):
        raise PermissionDenied(_("Only the challenge's organisers can do this."))
    return challenge


def cover_for(viewer: User, slug: str) -> Challenge:
    """The challenge whose cover the viewer asks for, by the same rule as `challenge_for`, without
    the relations a page needs (covers are fetched once per card); NotFound when there is none."""
    challenge = (
        # Only names under the covers folder: a cover field pointing anywhere else (say, at an
        # attachment) must not turn this view into a way around the idea gate.
        Challenge.objects.filter(visibility_filter(viewer), slug=slug, cover_image__startswith="covers/")
        .exclude(cover_image__contains="..")
        .only("pk", "slug", "cover_image", "updated_at")
        .first()
    )
    if challenge is None:
        raise NotFound(_("No such file."))
    return challenge


def phases_of(challenge: Challenge) -> list[Phase]:
    return sorted(challenge.phases.all(), key=lambda p: p.position)


def managed_challenges(user: User) -> QuerySet[Challenge]:
    if user.is_staff:
        return Challenge.objects.select_related("organisation").order_by("-created_at")
    return Challenge.objects.filter(organisation_id__in=organiser_org_ids(user)).select_related(
        "organisation").order_by("-created_at")


def judges_of(challenge: Challenge) -> QuerySet[User]:
    return User.objects.filter(challenge_roles__challenge=challenge, challenge_roles__kind="judge")


def organiser_ids(challenge: Challenge) -> list[int]:
    from opencall.organisations.models import Membership, Role

    return list(
        Membership.objects.filter(organisation_id=challenge.organisation_id,
                                  role__in=[Role.OWNER, Role.ORGANISER]).values_list("user_id", flat=True)
    )


def due_phase_challenges() -> QuerySet[Challenge]:
    """Challenges whose current phase has an end date in the past."""
    from django.db.models import OuterRef, Subquery
    from django.utils import timezone

    ends = Phase.objects.filter(challenge=OuterRef("pk"), kind=OuterRef("phase")).values("ends_at")[:1]
    return Challenge.objects.annotate(current_ends=Subquery(ends)).filter(current_ends__lte=timezone.now())


def challenge_cards(viewer: User, **filters: str) -> QuerySet[Challenge]:
    """`search_challenges` with what a card shows (categories) preloaded."""
    return search_challenges(viewer, **filters).prefetch_related("categories")


def category_names(viewer: User) -> list[str]:
    """Distinct category names over the challenges the viewer may see, for the search filter."""
    from opencall.challenges.models import Category

    visible = visible_challenges(viewer).values("pk")
    names = Category.objects.filter(challenge__in=visible).values_list("name", flat=True).distinct()
    return sorted(set(names), key=str.lower)


def is_following(user: User, challenge: Challenge) -> bool:
    """Whether the user joined (follows) the challenge; the Follow rows belong to community."""
    if not user.is_authenticated:
        return False
    return Challenge.objects.filter(pk=challenge.pk, followers__user=user).exists()


def roles_of(viewer: User, challenge: Challenge) -> QuerySet[ChallengeRole]:
    """The judges and moderators; PermissionDenied unless the viewer organises the challenge."""
    from opencall.challenges.permissions import can_edit_challenge

    if not can_edit_challenge(viewer, challenge):
        raise PermissionDenied(_("Only organisers see the judges and moderators."))
    return ChallengeRole.objects.filter(challenge=challenge).select_related("user").order_by("kind", "user__email")


def partners_of(challenge: Challenge) -> dict[str, list[object]]:
    """Invited organisations and people of a challenge (organiser views only)."""
    return {"organisations": list(challenge.invited_organisations.order_by("name")),
            "users": list(challenge.invited_users.order_by("email"))}


def organisation_challenges(viewer: User, organisation_id: int) -> QuerySet[Challenge]:
    return visible_challenges(viewer).filter(organisation_id=organisation_id).order_by("-created_at")


def open_challenge_cards(viewer: User, limit: int = 6) -> list[Challenge]:
    """The newest challenges that are open (neither draft nor closed), with categories, for the home page."""
    return list(open_challenges(viewer).prefetch_related("categories")[:limit])


def challenge_page_for(viewer: User, slug: str) -> Challenge:
    """`challenge_for` plus the `idea_count` annotation of `visible_challenges` (API detail)."""
    challenge = (
        visible_challenges(viewer).filter(slug=slug)
        .prefetch_related("categories", "phases", "custom_fields", "sponsors")
        .first()
    )
    if challenge is None:
        raise _not_found()
    return challenge


def joined_challenges(viewer: User, limit: int = 8) -> list[Challenge]:
    """Challenges the viewer joined (follows) and may still see, newest first."""
    if not viewer.is_authenticated:
        return []
    return list(visible_challenges(viewer).filter(followers__user=viewer).order_by("-created_at")[:limit])
