from __future__ import annotations

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from opencall.accounts.actions import notify
from opencall.accounts.links import absolute_url, site_name
from opencall.accounts.models import User
from opencall.accounts.queries import has_verified_email, holds_email, verified_users_by_emails
from opencall.core import audit
from opencall.core.errors import (
    Conflict,
    DomainError,
    EmailNotVerified,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
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
        raise InvalidInput(_("A name of 1-120 characters is required."), errors={"name": [_("1-120 characters.")]})
    with transaction.atomic():
        org = Organisation.objects.create(name=name, slug=_unique_slug(name), description=description,
                                          website=website)
        Membership.objects.create(organisation=org, user=by, role=Role.OWNER)
        audit.record(actor=by, verb="organisation.create", obj=org)
    return org


def invite_member(*, org: Organisation, email: str, role: str, by: User, mail_invitee: bool = True) -> Invitation:
    """Invite an address to join; the invitation is e-mailed to it unless `mail_invitee` is False
    (the demo loader, whose addresses are fictitious)."""
    if not can_manage_organisation(by, org):
        raise PermissionDenied(_("Only owners and organisers can invite."))
    if role not in Role.values or (role == Role.OWNER and not can_change_roles(by, org)):
        raise InvalidInput(_("Unknown or forbidden role."), errors={"role": [_("Choose member or organiser.")]})
    email = email.strip().lower()
    if Membership.objects.filter(organisation=org, user__email=email).exists():
        raise Conflict(_("That person is already a member."))
    with transaction.atomic():
        inv = Invitation.objects.create(organisation=org, email=email, role=role, invited_by=by)
        audit.record(actor=by, verb="organisation.invite", obj=inv, data={"email": email, "role": role})
        path = reverse("organisations:accept", args=[inv.token])
        # Only the proven owner of the address hears of it on the site; an account that merely typed
        # the address at sign-up sees nothing (it may be someone squatting a new hire's address).
        owners, _missing = verified_users_by_emails([email])
        if owners:
            notify(recipients=owners, kind="org_invite", text=f"{by} invited you to join {org.name}", url=path)
        if mail_invitee:
            transaction.on_commit(lambda: _send_invitation_mail(inv))
    return inv


def _send_invitation_mail(inv: Invitation) -> None:
    context = {
        "invitation": inv,
        "organisation": inv.organisation.name,
        "inviter": str(inv.invited_by) if inv.invited_by else site_name(),
        "role": inv.get_role_display(),
        "site_name": site_name(),
        "accept_url": absolute_url(reverse("organisations:accept", args=[inv.token])),
        "signup_url": absolute_url(reverse("account_signup")),
    }
    subject = " ".join(render_to_string("organisations/email/invitation_subject.txt", context).split())
    body = render_to_string("organisations/email/invitation_message.txt", context)
    send_mail(subject, body, None, [inv.email], fail_silently=True)


def acceptance_refusal(*, invitation: Invitation, by: User) -> DomainError | None:
    """Why `by` may not accept this invitation, or None. It is bound to its address, and only a
    verified address counts: anyone can sign up with an address that is not theirs."""
    if invitation.accepted_at is not None:
        return Conflict(_("This invitation was already used."))
    if has_verified_email(by, invitation.email):
        return None
    if holds_email(by, invitation.email):
        return EmailNotVerified(
            _("Verify your email address %(email)s first: open the link we emailed you, or have it sent "
              "again. The invitation can be accepted once the address is verified.") % {"email": invitation.email}
        )
    return PermissionDenied(
        _("This invitation was sent to %(email)s. Log in with that address to accept it.")
        % {"email": invitation.email}
    )


def accept_invitation(*, token: str, by: User) -> Membership:
    with transaction.atomic():
        inv = Invitation.objects.select_for_update().filter(token=token).first()
        if inv is None:
            raise NotFound(_("This invitation does not exist."))
        refusal = acceptance_refusal(invitation=inv, by=by)
        if refusal is not None:
            raise refusal
        try:
            with transaction.atomic():
                membership = Membership.objects.create(organisation=inv.organisation, user=by, role=inv.role)
        except IntegrityError as exc:
            raise Conflict(_("You are already a member.")) from exc
        inv.accepted_at = timezone.now()
        inv.save(update_fields=["accepted_at"])
        audit.record(actor=by, verb="organisation.join", obj=membership)
    return membership


def change_role(*, membership: Membership, role: str, by: User) -> Membership:
    if not can_change_roles(by, membership.organisation):
        raise PermissionDenied(_("Only owners change roles."))
    if role not in Role.values:
        raise InvalidInput(_("Unknown role."), errors={"role": [_("Unknown role.")]})
    with transaction.atomic():
        if membership.role == Role.OWNER and role != Role.OWNER:
            owners = Membership.objects.filter(organisation=membership.organisation, role=Role.OWNER).count()
            if owners <= 1:
                raise Conflict(_("An organisation keeps at least one owner."))
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(actor=by, verb="organisation.role", obj=membership, data={"role": role})
    return membership
