"""Writes for accounts: profiles, tokens, notifications, blocking."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opencall.accounts.models import ApiToken, Notification, Skill, User
from opencall.accounts.names import clean_display_name
from opencall.core import audit
from opencall.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from opencall.core.unavailable import unless_busy

TOKEN_PREFIX = "oc_"  # noqa: S105  (a public marker on tokens, not a secret)


def normalise_skills(names: Iterable[str]) -> list[Skill]:
    wanted = sorted({n.strip().lower()[:60] for n in names if n and n.strip()})
    if len(wanted) > 30:
        raise InvalidInput(_("Too many skills."), errors={"skills": [_("At most 30 skills.")]})
    existing = {s.name: s for s in Skill.objects.filter(name__in=wanted)}
    for name in wanted:
        if name not in existing:
            existing[name] = Skill.objects.create(name=name)
    return [existing[n] for n in wanted]


def update_profile(*, user: User, by: User, display_name: str, bio: str, skills: Iterable[str],
                   languages: str, timezone_name: str = "") -> User:
    if by.pk != user.pk:
        raise PermissionDenied(_("You can only edit your own profile."))
    errors: dict[str, list[str]] = {}
    try:
        display_name = clean_display_name(display_name)
    except ValueError as exc:
        errors["display_name"] = [str(exc)]
    if len(bio) > 2000:
        errors["bio"] = [_("At most 2000 characters.")]
    if len(languages) > 200:
        errors["languages"] = [_("At most 200 characters.")]
    if timezone_name and timezone_name not in zoneinfo.available_timezones():
        errors["timezone"] = [_("Unknown time zone %(name)r; use an IANA name such as Europe/Berlin.")
                              % {"name": timezone_name[:64]}]
    if errors:
        raise InvalidInput(_("The profile has errors."), errors=errors)
    with transaction.atomic():
        user.display_name = display_name
        user.bio = bio
        user.languages = languages.strip()
        user.timezone = timezone_name
        user.save(update_fields=["display_name", "bio", "languages", "timezone"])
        user.skills.set(normalise_skills(skills))
        audit.record(actor=by, verb="profile.update", obj=user)
    return user


def check_new_administrator(*, email: str) -> str:
    """The address, normalised, if an administrator may be created with it (asked before the password)."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput(_("not a valid email address: %(email)r") % {"email": email}) from exc
    if User.objects.filter(email=email).exists():
        raise Conflict(_("an account with %(email)s exists already") % {"email": email})
    return email


def create_administrator(*, email: str, password: str, display_name: str) -> User:
    """A site administrator, created by the operator on the server (`opencall createadmin`)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    email = check_new_administrator(email=email)
    try:
        validate_password(password)
    except ValidationError as exc:
        raise InvalidInput(_("password rejected: %(reasons)s") % {"reasons": " ".join(exc.messages)}) from exc
    with transaction.atomic():
        admin = User.objects.create_superuser(email, password, display_name=display_name, is_moderator=True)
        # The operator typed this address on the server: it counts as verified (sign-in requires that).
        EmailAddress.objects.create(user=admin, email=email, primary=True, verified=True)
        audit.record(actor=None, verb="account.create_admin", obj=admin)
    return admin


def issue_token(*, user: User, label: str) -> tuple[ApiToken, str]:
    """Create a token; the clear text is returned once and never stored."""
    label = label.strip()
    if not label or len(label) > 80:
        raise InvalidInput(_("A token needs a label of 1-80 characters."), errors={"label": [_("1-80 characters.")]})
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, label=label, prefix=clear[:10],
                                        digest=hashlib.sha256(clear.encode()).hexdigest())
        audit.record(actor=user, verb="token.issue", obj=token)
    return token, clear


def revoke_token(*, token_id: int, by: User) -> None:
    with transaction.atomic():
        token = ApiToken.objects.filter(pk=token_id, user=by, revoked_at__isnull=True).first()
        if token is None:
            raise NotFound(_("No such token."))
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=by, verb="token.revoke", obj=token)


def revoke_tokens_after_password_change(*, user: User) -> int:
    """A new password ends every personal token: whoever learnt the old one may have made some."""
    with transaction.atomic():
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if revoked:
            audit.record(actor=user, verb="token.revoke_all", obj=user,
                         data={"reason": "password_changed", "count": revoked})
    return revoked


def user_for_token(clear: str) -> User | None:
    if not clear.startswith(TOKEN_PREFIX):
        return None
    digest = hashlib.sha256(clear.encode()).hexdigest()
    token = ApiToken.objects.select_related("user").filter(digest=digest, revoked_at__isnull=True).first()
    if token is None or not token.user.is_active or token.user.is_blocked:
        return None
    # Bookkeeping on what may be a read: a busy database skips it rather than delaying or failing the call.
    with unless_busy():
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def notify(*, recipients: Iterable[User | int], kind: str, text: str, url: str = "",
           exclude: User | None = None) -> int:
    ids = {r if isinstance(r, int) else r.pk for r in recipients}
    if exclude is not None:
        ids.discard(exclude.pk)
    Notification.objects.bulk_create(
        [Notification(recipient_id=i, kind=kind, text=text[:300], url=url) for i in sorted(ids)]
    )
    return len(ids)


def mark_notifications_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def block_user(*, user: User, by: User, reason: str) -> None:
    if not (by.is_moderator or by.is_staff):
        raise PermissionDenied(_("Only moderators can block accounts."))
    if user.pk == by.pk:
        raise InvalidInput(_("You cannot block yourself."))
    if not reason.strip():
        raise InvalidInput(_("Give a reason."), errors={"reason": [_("A reason is required.")]})
    with transaction.atomic():
        user.is_blocked = True
        user.is_active = False
        user.blocked_reason = reason.strip()[:300]
        user.save(update_fields=["is_blocked", "is_active", "blocked_reason"])
        audit.record(actor=by, verb="user.block", obj=user, data={"reason": user.blocked_reason})
