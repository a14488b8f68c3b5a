"""Reads of organisations and their members; the gates for one organisation, member or invitation."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from opencall.accounts.models import User
from opencall.core.errors import NotFound, PermissionDenied
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


def organisation_for(viewer: User, slug: str, *, manage: bool = False) -> Organisation:
    """The gate for one organisation, annotated with `member_count` as in `organisations()`.

    Every organisation is public, so only a missing one is NotFound; with `manage`, PermissionDenied
    unless the viewer runs it (owners and organisers)."""
    # The predicates read roles through this module, so they are imported when a gate runs.
    from opencall.organisations.permissions import can_manage_organisation

    org = organisations().filter(slug=slug).first()
    if org is None:
        raise NotFound(_("No such organisation."))
    if manage and not can_manage_organisation(viewer, org):
        raise PermissionDenied(_("Only the organisation's owners and organisers can do this."))
    return org


def members_of(viewer: User, org: Organisation) -> QuerySet[Membership]:
    """The member list with roles; PermissionDenied unless the viewer is a member (or staff)."""
    from opencall.organisations.permissions import can_view_members

    if not can_view_members(viewer, org):
        raise PermissionDenied(_("Only the organisation's members see its member list."))
    return Membership.objects.filter(organisation=org).select_related("user").order_by("role", "user__display_name")


def pending_invitations(org: Organisation) -> QuerySet[Invitation]:
    return Invitation.objects.filter(organisation=org, accepted_at__isnull=True).order_by("-created_at")


def invitation_for(token: str) -> Invitation:
    """The gate for an invitation: its token is the secret that names it, so anyone holding it may
    read it (whether they may accept it is the action's question)."""
    invitation = Invitation.objects.select_related("organisation").filter(token=token).first()
    if invitation is None:
        raise NotFound(_("This invitation does not exist."))
    return invitation


def organisations_by_slugs(slugs: list[str]) -> tuple[list[Organisation], list[str]]:
    """The organisations named by slug, in the given order, and the slugs that match none."""
    found = {o.slug: o for o in Organisation.objects.filter(slug__in=slugs)}
    return [found[s] for s in slugs if s in found], [s for s in slugs if s not in found]


def memberships_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("organisation").order_by("organisation__name")


def membership_in(org: Organisation, membership_id: int) -> Membership:
    """One membership of the organisation, or NotFound (who may change it is the action's question)."""
    membership = Membership.objects.select_related("user", "organisation").filter(pk=membership_id,
                                                                                organisation=org).first()
    if membership is None:
        raise NotFound(_("No such member."))
    return membership
