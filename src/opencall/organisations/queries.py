from __future__ import annotations

from django.db.models import Count, QuerySet

from opencall.accounts.models import User
from opencall.core.viewer import forget_when_changed, recall
from opencall.organisations.models import Invitation, Membership, Organisation, Role


def _org_roles(user: User) -> dict[int, str]:
    """organisation id → this user's role there, read once per request (core.viewer)."""
    return recall("org-roles", user.pk, lambda: dict(
        Membership.objects.filter(user=user).values_list("organisation_id", "role")))


forget_when_changed("org-roles", Membership)


def role_in(user: User, organisation_id: int) -> str | None:
    """The viewer's role in one organisation."""
    if not user.is_authenticated:
        return None
    return _org_roles(user).get(organisation_id)


def member_org_ids(user: User) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(_org_roles(user))


def organiser_org_ids(user: User) -> set[int]:
    if not user.is_authenticated:
        return set()
    return {o for o, r in _org_roles(user).items() if r in (Role.OWNER, Role.ORGANISER)}


def organisations() -> QuerySet[Organisation]:
    return Organisation.objects.annotate(member_count=Count("memberships")).order_by("name")


def organisation_by_slug(slug: str) -> Organisation | None:
    return Organisation.objects.filter(slug=slug).first()


def organisation_with_counts(slug: str) -> Organisation | None:
    """One organisation annotated with `member_count`, as in `organisations()`."""
    return organisations().filter(slug=slug).first()


def members_of(org: Organisation) -> QuerySet[Membership]:
    return Membership.objects.filter(organisation=org).select_related("user").order_by("role", "user__display_name")


def pending_invitations(org: Organisation) -> QuerySet[Invitation]:
    return Invitation.objects.filter(organisation=org, accepted_at__isnull=True).order_by("-created_at")


def invitation_by_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("organisation").filter(token=token).first()


def organisations_by_slugs(slugs: list[str]) -> tuple[list[Organisation], list[str]]:
    """The organisations named by slug, in the given order, and the slugs that match none."""
    found = {o.slug: o for o in Organisation.objects.filter(slug__in=slugs)}
    return [found[s] for s in slugs if s in found], [s for s in slugs if s not in found]


def memberships_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organisation").order_by("organisation__name")


def membership_in(org: Organisation, membership_id: int) -> Membership | None:
    return Membership.objects.select_related("user", "organisation").filter(pk=membership_id,
                                                                          organisation=org).first()
