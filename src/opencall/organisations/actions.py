from __future__ import annotations

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from opencall.accounts.actions import notify
from opencall.accounts.models import User
from opencall.core import audit
from opencall.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from opencall.organisations.models import Invitation, Membership, Organisation, Role
from opencall.organisations.permissions import can_change_roles, can_manage_organisation


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "org"
    slug, n = base, 2
    while Organisation.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_organisation(*, name: str, by: User, description: str = "", website: str = "") -> Organisation:
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("A name of 1-120 characters is required.", errors={"name": ["1-120 characters."]})
    with transaction.atomic():
        org = Organisation.objects.create(name=name, slug=_unique_slug(name), description=description,
                                          website=website)
        Membership.objects.create(organisation=org, user=by, role=Role.OWNER)
        audit.record(actor=by, verb="organisation.create", obj=org)
    return org


def invite_member(*, org: Organisation, email: str, role: str, by: User) -> Invitation:
    if not can_manage_organisation(by, org):
        raise PermissionDenied("Only owners and organisers can invite.")
    if role not in Role.values or (role == Role.OWNER and not can_change_roles(by, org)):
        raise InvalidInput("Unknown or forbidden role.", errors={"role": ["Choose member or organiser."]})
    email = email.strip().lower()
    if Membership.objects.filter(organisation=org, user__email=email).exists():
        raise Conflict("That person is already a member.")
    with transaction.atomic():
        inv = Invitation.objects.create(organisation=org, email=email, role=role, invited_by=by)
        audit.record(actor=by, verb="organisation.invite", obj=inv, data={"email": email, "role": role})
        link = reverse("organisations:accept", args=[inv.token])
        existing = User.objects.filter(email=email).first()
        if existing is not None:
            notify(recipients=[existing], kind="org_invite", text=f"{by} invited you to join {org.name}", url=link)
        transaction.on_commit(lambda: send_mail(
            f"Invitation to {org.name} on Opencall",
            f"{by} invited you to join {org.name} as {role}. Accept here: {link}",
            None, [email], fail_silently=True,
        ))
    return inv


def accept_invitation(*, token: str, by: User) -> Membership:
    with transaction.atomic():
        inv = Invitation.objects.select_for_update().filter(token=token).first()
        if inv is None:
            raise NotFound("This invitation does not exist.")
        if inv.accepted_at is not None:
            raise Conflict("This invitation was already used.")
        if inv.email.lower() != by.email.lower():
            raise PermissionDenied("This invitation was sent to another email address.")
        try:
            with transaction.atomic():
                membership = Membership.objects.create(organisation=inv.organisation, user=by, role=inv.role)
        except IntegrityError as exc:
            raise Conflict("You are already a member.") from exc
        inv.accepted_at = timezone.now()
        inv.save(update_fields=["accepted_at"])
        audit.record(actor=by, verb="organisation.join", obj=membership)
    return membership


def change_role(*, membership: Membership, role: str, by: User) -> Membership:
    if not can_change_roles(by, membership.organisation):
        raise PermissionDenied("Only owners change roles.")
    if role not in Role.values:
        raise InvalidInput("Unknown role.", errors={"role": ["Unknown role."]})
    with transaction.atomic():
        if membership.role == Role.OWNER and role != Role.OWNER:
            owners = Membership.objects.filter(organisation=membership.organisation, role=Role.OWNER).count()
            if owners <= 1:
                raise Conflict("An organisation keeps at least one owner.")
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(actor=by, verb="organisation.role", obj=membership, data={"role": role})
    return membership
