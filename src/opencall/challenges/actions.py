"""Every write to challenges: checked, atomic, audited; jobs queued on commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from opencall.accounts.actions import notify
from opencall.accounts.models import User
from opencall.challenges.models import Category, Challenge, ChallengeRole, CustomField, FieldKind, Phase, Visibility
from opencall.challenges.permissions import can_advance_phase, can_edit_challenge, viewers_among
from opencall.challenges.phases import DEFAULT_PLAN, LABELS, PhaseKind, next_phase, validate_plan
from opencall.challenges.queries import organiser_ids
from opencall.core import audit
from opencall.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from opencall.core.images import image_size
from opencall.core.money import CURRENCIES
from opencall.organisations.models import Organisation
from opencall.organisations.permissions import can_create_challenge


@dataclass(frozen=True)
class PhaseSpec:
    kind: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: str = FieldKind.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    help_text: str = ""


def _unique_slug(title: str) -> str:
    base = slugify(title)[:80] or "challenge"
    slug, n = base, 2
    while Challenge.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_fields(title: str, summary: str, description: str, terms: str, currency: str,
                  budget_minor: int | None, visibility: str) -> None:
    errors: dict[str, list[str]] = {}
    if not title.strip() or len(title) > 160:
        errors["title"] = [_("A title of 1-160 characters is required.")]
    if not summary.strip() or len(summary) > 300:
        errors["summary"] = [_("A summary of 1-300 characters is required.")]
    if len(description) > 20000:
        errors["description"] = [_("At most 20,000 characters.")]
    if len(terms) > 20000:
        errors["terms"] = [_("At most 20,000 characters.")]
    if currency not in CURRENCIES:
        errors["currency"] = [_("One of %(list)s.") % {"list": ", ".join(CURRENCIES)}]
    if budget_minor is not None and budget_minor < 0:
        errors["budget_minor"] = [_("The budget cannot be negative.")]
    if visibility not in Visibility.values:
        errors["visibility"] = [_("Unknown visibility.")]
    if errors:
        raise InvalidInput(_("The challenge has errors."), errors=errors)


def _check_plan(plan: Sequence[PhaseSpec]) -> None:
    errors = validate_plan([p.kind for p in plan])
    last_end: datetime | None = None
    for p in plan:
        if p.starts_at and p.ends_at and p.ends_at <= p.starts_at:
            errors.append(_("Phase %(phase)s ends before it starts.") % {"phase": p.kind})
        if last_end and p.starts_at and p.starts_at < last_end:
            errors.append(_("Phase %(phase)s starts before the previous phase ends.") % {"phase": p.kind})
        last_end = p.ends_at or last_end
    if errors:
        raise InvalidInput(_("The phase plan has errors."), errors={"phases": errors})


def _check_custom_fields(fields: Sequence[FieldSpec]) -> None:
    errors: list[str] = []
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        errors.append(_("Field keys must be unique."))
    for f in fields:
        if f.kind not in FieldKind.values:
            errors.append(_("Field %(key)s: unknown kind %(kind)r.") % {"key": f.key, "kind": f.kind})
        if f.kind == FieldKind.CHOICE and not f.choices:
            errors.append(_("Field %(key)s: a choice field needs choices.") % {"key": f.key})
        if not f.key or slugify(f.key) != f.key or len(f.key) > 40:
            errors.append(_("Field %(key)r: keys are lowercase slugs of at most 40 characters.") % {"key": f.key})
        if not f.label or len(f.label) > 120:
            errors.append(_("Field %(key)s: a label of 1-120 characters is required.") % {"key": f.key})
    if len(fields) > 20:
        errors.append(_("At most 20 custom fields."))
    if errors:
        raise InvalidInput(_("The custom fields have errors."), errors={"custom_fields": errors})


def create_challenge(*, organisation: Organisation, by: User, title: str, summary: str,
                     description: str = "", terms: str = "", budget_minor: int | None = None,
                     currency: str = "EUR", visibility: str = Visibility.PUBLIC,
                     categories: Iterable[str] = (), plan: Sequence[PhaseSpec] = (),
                     custom_fields: Sequence[FieldSpec] = (), sponsors: Iterable[Organisation] = (),
                     invited_organisations: Iterable[Organisation] = (),
                     invited_users: Iterable[User] = (), cover_image: Any = None) -> Challenge:
    if not can_create_challenge(by, organisation):
        raise PermissionDenied(_("Only the organisation's owners and organisers create challenges."))
    _check_fields(title, summary, description, terms, currency, budget_minor, visibility)
    plan = list(plan) or [PhaseSpec(k) for k in DEFAULT_PLAN]
    _check_plan(plan)
    _check_custom_fields(custom_fields)
    cover_ext = check_cover_image(cover_image) if cover_image else ""
    cats = sorted({c.strip()[:60] for c in categories if c.strip()})
    with transaction.atomic():
        ch = Challenge.objects.create(
            organisation=organisation, title=title.strip(), slug=_unique_slug(title), summary=summary.strip(),
            description=description, terms=terms, budget_minor=budget_minor, currency=currency,
            visibility=visibility, created_by=by,
        )
        Category.objects.bulk_create([Category(challenge=ch, name=c) for c in cats])
        Phase.objects.bulk_create([Phase(challenge=ch, kind=p.kind, starts_at=p.starts_at, ends_at=p.ends_at)
                                   for p in plan])
        CustomField.objects.bulk_create([
            CustomField(challenge=ch, key=f.key, label=f.label, kind=f.kind, required=f.required,
                        choices=list(f.choices), help_text=f.help_text, position=i)
            for i, f in enumerate(custom_fields)
        ])
        ch.sponsors.set(list(sponsors))
        ch.invited_organisations.set(list(invited_organisations))
        ch.invited_users.set(list(invited_users))
        if cover_ext:
            _store_cover(ch, cover_image, cover_ext)
        audit.record(actor=by, verb="challenge.create", obj=ch, data={"title": ch.title})
    return ch


def update_challenge(*, challenge: Challenge, by: User, **changes: Any) -> Challenge:
    if not can_edit_challenge(by, challenge):
        raise PermissionDenied(_("Only organisers edit a challenge."))
    editable = {"title", "summary", "description", "terms", "budget_minor", "currency", "visibility", "cover_image"}
    unknown = set(changes) - editable - {"categories"}
    if unknown:
        raise InvalidInput(_("Cannot change: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    merged = {k: changes.get(k, getattr(challenge, k)) for k in editable - {"cover_image"}}
    _check_fields(merged["title"], merged["summary"], merged["description"], merged["terms"],
                  merged["currency"], merged["budget_minor"], merged["visibility"])
    with transaction.atomic():
        for key in editable:
            if key in changes:
                setattr(challenge, key, changes[key])
        challenge.save()
        if "categories" in changes:
            names = sorted({c.strip()[:60] for c in changes["categories"] if c.strip()})
            challenge.categories.exclude(name__in=names).delete()
            have = set(challenge.categories.values_list("name", flat=True))
            Category.objects.bulk_create([Category(challenge=challenge, name=n) for n in names if n not in have])
        audit.record(actor=by, verb="challenge.update", obj=challenge,
                     data={"fields": sorted(k for k in changes if k != "cover_image")})
    return challenge


def set_phase_plan(*, challenge: Challenge, by: User, plan: Sequence[PhaseSpec]) -> list[Phase]:
    if not can_edit_challenge(by, challenge):
        raise PermissionDenied(_("Only organisers change the phase plan."))
    _check_plan(plan)
    kinds = [p.kind for p in plan]
    if challenge.phase not in (PhaseKind.DRAFT, PhaseKind.CLOSED) and challenge.phase not in kinds:
        raise Conflict(_("The current phase cannot be removed from the plan."))
    with transaction.atomic():
        challenge.phases.all().delete()
        phases = Phase.objects.bulk_create([Phase(challenge=challenge, kind=p.kind, starts_at=p.starts_at,
                                                  ends_at=p.ends_at) for p in plan])
        audit.record(actor=by, verb="challenge.plan", obj=challenge, data={"plan": kinds})
        transaction.on_commit(lambda: schedule_phase_end(challenge))
    return phases


def schedule_phase_end(challenge: Challenge) -> None:
    """Queue the job that advances the current phase when it ends (idempotent: the job re-checks)."""
    from opencall.challenges.tasks import advance_due_phase

    ends = Phase.objects.filter(challenge=challenge, kind=challenge.phase).values_list("ends_at", flat=True).first()
    if ends is None:
        return
    if ends <= timezone.now():
        advance_due_phase.enqueue(challenge.pk, challenge.phase)
    elif advance_due_phase.get_backend().supports_defer:
        advance_due_phase.using(run_after=ends).enqueue(challenge.pk, challenge.phase)
    # A backend that cannot defer (the immediate one in tests) leaves it to `opencall tick`.


def advance_phase(*, challenge: Challenge, by: User | None, expected: str | None = None) -> Challenge:
    """Move to the next planned phase. `by=None` is the scheduler, which passes `expected` so a
    late job never skips a phase someone already advanced by hand."""
    if by is not None and not can_advance_phase(by, challenge):
        raise PermissionDenied(_("Only organisers advance the phase."))
    with transaction.atomic():
        locked = Challenge.objects.select_for_update().get(pk=challenge.pk)
        if expected is not None and locked.phase != expected:
            return locked
        if locked.phase == PhaseKind.CLOSED:
            raise Conflict(_("The challenge is closed."))
        plan = [p.kind for p in sorted(locked.phases.all(), key=lambda p: p.position)]
        before = locked.phase
        locked.phase = next_phase(before, plan)
        locked.save(update_fields=["phase", "updated_at"])
        audit.record(actor=by, verb="challenge.advance", obj=locked, data={"from": before, "to": locked.phase})
        _notify_phase_change(locked)
        transaction.on_commit(lambda: schedule_phase_end(locked))
    challenge.phase = locked.phase
    return locked


def _notify_phase_change(challenge: Challenge) -> None:

    participant_ids = set(
        Challenge.objects.filter(pk=challenge.pk).values_list("ideas__team__members__user_id", flat=True)
    )
    participant_ids.discard(None)
    follower_ids = set(Challenge.objects.filter(pk=challenge.pk).values_list("followers__user_id", flat=True))
    follower_ids.discard(None)
    # Following outlives access (someone leaves the organisation): only those who still see it hear of it.
    follower_ids = viewers_among(challenge, follower_ids)
    url = reverse("challenges:detail", args=[challenge.slug])
    notify(recipients=participant_ids | follower_ids | set(organiser_ids(challenge)), kind="phase",
           text=f"{challenge.title} is now in the {LABELS[PhaseKind(challenge.phase)]} phase", url=url)


def assign_role(*, challenge: Challenge, user: User, kind: str, by: User) -> ChallengeRole:
    if not can_edit_challenge(by, challenge):
        raise PermissionDenied(_("Only organisers add judges and moderators."))
    if kind not in ChallengeRole.Kind.values:
        raise InvalidInput(_("Unknown role."), errors={"kind": [_("judge or moderator")]})
    with transaction.atomic():
        role, created = ChallengeRole.objects.get_or_create(challenge=challenge, user=user, kind=kind)
        if not created:
            raise Conflict(_("%(name)s is already a %(role)s.") % {"name": user, "role": kind})
        audit.record(actor=by, verb="challenge.role", obj=role, data={"user": user.pk, "kind": kind})
    return role


def invite_to_challenge(*, challenge: Challenge, by: User, users: Iterable[User] = (),
                        organisations: Iterable[Organisation] = ()) -> None:
    if not can_edit_challenge(by, challenge):
        raise PermissionDenied(_("Only organisers invite."))
    users, organisations = list(users), list(organisations)
    with transaction.atomic():
        challenge.invited_users.add(*users)
        challenge.invited_organisations.add(*organisations)
        audit.record(actor=by, verb="challenge.invite", obj=challenge,
                     data={"users": [u.pk for u in users], "organisations": [o.pk for o in organisations]})
        notify(recipients=users, kind="org_invite", text=f"You are invited to the challenge {challenge.title}",
               url=reverse("challenges:detail", args=[challenge.slug]))


COVER_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}
# What a stored cover is sent as, by the extension it was stored under (its checked format).
COVER_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}
MAX_COVER_BYTES = 2 * 1024 * 1024


def check_cover_image(upload: Any) -> str:
    """The file extension to store a cover under; InvalidInput unless it is a real image of at most 2 MB."""
    from PIL import Image, UnidentifiedImageError

    if upload.size is None or upload.size > MAX_COVER_BYTES:
        raise InvalidInput(_("The cover image is too large."), errors={"cover_image": [_("At most 2 MB.")]})
    # Dimensions first, from the header alone: verify() below must never meet a decompression bomb.
    try:
        image_size(upload)
    except InvalidInput as exc:
        raise InvalidInput(_("The cover image has too many pixels."),
                           errors={"cover_image": exc.errors["image"]}) from exc
    try:
        with Image.open(upload) as img:
            fmt = img.format or ""
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(_("That file is not an image."),
                           errors={"cover_image": [_("Upload a PNG, JPEG or WebP image.")]}) from exc
    finally:
        upload.seek(0)
    if fmt not in COVER_FORMATS:
        raise InvalidInput(_("Unsupported image type."), errors={"cover_image": [_("Upload a PNG, JPEG or WebP image.")]})
    return COVER_FORMATS[fmt]


def _store_cover(challenge: Challenge, upload: Any, ext: str) -> None:
    challenge.cover_image.save(f"{challenge.slug}.{ext}", upload, save=False)
    challenge.save(update_fields=["cover_image", "updated_at"])


def set_cover_image(*, challenge: Challenge, by: User, upload: Any) -> Challenge:
    """Replace the cover: an image (checked by its content, not its name) of at most 2 MB."""
    if not can_edit_challenge(by, challenge):
        raise PermissionDenied(_("Only organisers change the cover."))
    ext = check_cover_image(upload)
    with transaction.atomic():
        _store_cover(challenge, upload, ext)
        audit.record(actor=by, verb="challenge.cover", obj=challenge)
    return challenge


def set_partners(*, challenge: Challenge, by: User, sponsors: Iterable[Organisation],
                 invited_organisations: Iterable[Organisation], invited_users: Iterable[User]) -> Challenge:
    """Replace the co-sponsors and the invitation lists; newly invited people are notified."""
    if not can_edit_challenge(by, challenge):
        raise PermissionDenied(_("Only organisers change sponsors and invitations."))
    sponsors, orgs, users = list(sponsors), list(invited_organisations), list(invited_users)
    if any(o.pk == challenge.organisation_id for o in sponsors):
        raise InvalidInput(_("The organiser cannot co-sponsor itself."),
                           errors={"sponsors": [_("The organising organisation is already in charge.")]})
    with transaction.atomic():
        before = set(challenge.invited_users.values_list("pk", flat=True))
        challenge.sponsors.set(sponsors)
        challenge.invited_organisations.set(orgs)
        challenge.invited_users.set(users)
        audit.record(actor=by, verb="challenge.partners", obj=challenge,
                     data={"sponsors": [o.pk for o in sponsors], "organisations": [o.pk for o in orgs],
                           "users": [u.pk for u in users]})
        new = [u for u in users if u.pk not in before]
        if new:
            notify(recipients=new, kind="org_invite", text=f"You are invited to the challenge {challenge.title}",
                   url=reverse("challenges:detail", args=[challenge.slug]))
    return challenge


def set_custom_fields(*, challenge: Challenge, by: User, fields: Sequence[FieldSpec]) -> list[CustomField]:
    """Replace the custom fields, matched by key so answers to kept fields survive."""
    if not can_edit_challenge(by, challenge):
        raise PermissionDenied(_("Only organisers change custom fields."))
    _check_custom_fields(fields)
    with transaction.atomic():
        existing = {f.key: f for f in challenge.custom_fields.all()}
        kept: list[CustomField] = []
        for i, spec in enumerate(fields):
            field = existing.pop(spec.key, None) or CustomField(challenge=challenge, key=spec.key)
            field.label, field.kind, field.required = spec.label, spec.kind, spec.required
            field.choices, field.help_text, field.position = list(spec.choices), spec.help_text, i
            field.save()
            kept.append(field)
        CustomField.objects.filter(pk__in=[f.pk for f in existing.values()]).delete()
        audit.record(actor=by, verb="challenge.fields", obj=challenge, data={"keys": [f.key for f in fields]})
    return kept


def edit_challenge(*, challenge: Challenge, by: User, changes: dict[str, Any],
                   custom_fields: Sequence[FieldSpec], sponsors: Iterable[Organisation],
                   invited_organisations: Iterable[Organisation], invited_users: Iterable[User],
                   cover_image: Any = None) -> Challenge:
    """The edit form's save: fields, custom fields, partners and a new cover together, all or nothing."""
    with transaction.atomic():
        update_challenge(challenge=challenge, by=by, **changes)
        set_custom_fields(challenge=challenge, by=by, fields=custom_fields)
        set_partners(challenge=challenge, by=by, sponsors=sponsors, invited_organisations=invited_organisations,
                     invited_users=invited_users)
        if cover_image:
            set_cover_image(challenge=challenge, by=by, upload=cover_image)
    return challenge


def remove_role(*, challenge: Challenge, role_id: int, by: User) -> None:
    """Take a judge or moderator role away again."""
    if not can_edit_challenge(by, challenge):
        raise PermissionDenied(_("Only organisers remove judges and moderators."))
    with transaction.atomic():
        role = ChallengeRole.objects.select_related("user").filter(pk=role_id, challenge=challenge).first()
        if role is None:
            raise NotFound(_("No such role on this challenge."))
        audit.record(actor=by, verb="challenge.role_remove", obj=challenge,
                     data={"user": role.user_id, "kind": role.kind})
        role.delete()
