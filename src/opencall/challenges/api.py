"""API for challenges: search, detail, create and edit (organisers), phase plan and advance."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status, UploadedFile

from opencall.accounts.api import caller, page, user_auth, visitor
from opencall.accounts.models import User
from opencall.accounts.queries import profile
from opencall.challenges import actions, permissions, queries
from opencall.challenges.models import Challenge, ChallengeRole
from opencall.challenges.schemas import (
    ChallengeDetailOut,
    ChallengeFilters,
    ChallengeIn,
    ChallengePage,
    ChallengePatch,
    CustomFieldIn,
    CustomFieldsIn,
    PhaseIn,
    PhasePlanIn,
    RoleIn,
    RoleOut,
    RolePage,
)
from opencall.core.errors import InvalidInput
from opencall.core.schemas import FilterSchema, IdPath
from opencall.organisations.queries import organisation_by_slug

router = Router(tags=["challenges"])


def _detail(who: User, slug: str) -> Challenge:
    """The challenge with its idea count and what the caller may do with it, for ChallengeDetailOut."""
    challenge = queries.challenge_page_for(who, slug)
    challenge.viewer_rights = {  # type: ignore[attr-defined]
        "edit": permissions.can_edit_challenge(who, challenge),
        "advance_phase": permissions.can_advance_phase(who, challenge),
        "submit_idea": permissions.can_submit_idea(who, challenge),
        "comment": permissions.can_comment(who, challenge),
        "vote": permissions.can_vote(who, challenge),
    }
    return challenge


def _plan(phases: list[PhaseIn]) -> list[actions.PhaseSpec]:
    return [actions.PhaseSpec(p.kind, p.starts_at, p.ends_at) for p in phases]


def _fields(fields: list[CustomFieldIn]) -> list[actions.FieldSpec]:
    return [
        actions.FieldSpec(
            key=f.key, label=f.label, kind=f.kind, required=f.required, choices=tuple(f.choices), help_text=f.help_text
        )
        for f in fields
    ]


@router.get("/challenges", response=ChallengePage, summary="Challenges you may see, newest first")
def challenge_list(request: HttpRequest, filters: Query[ChallengeFilters]) -> dict[str, Any]:
    rows = queries.challenge_cards(
        visitor(request),
        text=filters.q.strip(),
        phase=filters.phase,
        organisation=filters.organisation,
        category=filters.category.strip(),
        visibility=filters.visibility,
    )
    return page(filters, rows)


@router.get(
    "/challenges/{slug:slug}",
    response=ChallengeDetailOut,
    summary="One challenge with its phases, categories and custom fields",
)
def challenge_detail(request: HttpRequest, slug: str) -> Challenge:
    return _detail(visitor(request), slug)


@router.post(
    "/challenges",
    response={201: ChallengeDetailOut},
    auth=user_auth,
    summary="Create a challenge (organisers of the organisation)",
)
def challenge_create(request: HttpRequest, payload: ChallengeIn) -> Status[Challenge]:
    user = caller(request)
    org = organisation_by_slug(payload.organisation)
    if org is None:
        raise InvalidInput(_("No such organisation."), errors={"organisation": [_("No organisation has this slug.")]})
    challenge = actions.create_challenge(
        organisation=org,
        by=user,
        title=payload.title,
        summary=payload.summary,
        description=payload.description,
        terms=payload.terms,
        budget_minor=payload.budget_minor,
        currency=payload.currency,
        visibility=payload.visibility,
        categories=payload.categories,
        plan=_plan(payload.phases),
        custom_fields=_fields(payload.custom_fields),
    )
    return Status(201, _detail(user, challenge.slug))


@router.patch(
    "/challenges/{slug:slug}", response=ChallengeDetailOut, auth=user_auth, summary="Change a challenge (organisers)"
)
def challenge_update(request: HttpRequest, slug: str, payload: ChallengePatch) -> Challenge:
    user = caller(request)
    changes = payload.model_dump(exclude_unset=True)
    for name in ("description", "terms"):
        if name in changes and changes[name] is None:
            changes[name] = ""
    actions.update_challenge(challenge=queries.challenge_for(user, slug), by=user, **changes)
    return _detail(user, slug)


@router.put(
    "/challenges/{slug:slug}/phases",
    response=ChallengeDetailOut,
    auth=user_auth,
    summary="Replace the phase plan (organisers)",
)
def challenge_phases(request: HttpRequest, slug: str, payload: PhasePlanIn) -> Challenge:
    user = caller(request)
    actions.set_phase_plan(challenge=queries.challenge_for(user, slug), by=user, plan=_plan(payload.phases))
    return _detail(user, slug)


@router.put(
    "/challenges/{slug:slug}/custom-fields",
    response=ChallengeDetailOut,
    auth=user_auth,
    summary="Replace the custom fields ideas answer (organisers)",
)
def challenge_custom_fields(request: HttpRequest, slug: str, payload: CustomFieldsIn) -> Challenge:
    user = caller(request)
    actions.set_custom_fields(challenge=queries.challenge_for(user, slug), by=user,
                              fields=_fields(payload.custom_fields))
    return _detail(user, slug)


@router.post(
    "/challenges/{slug:slug}/advance",
    response=ChallengeDetailOut,
    auth=user_auth,
    summary="Move the challenge to its next planned phase (organisers)",
)
def challenge_advance(request: HttpRequest, slug: str) -> Challenge:
    user = caller(request)
    actions.advance_phase(challenge=queries.challenge_for(user, slug), by=user)
    return _detail(user, slug)


@router.post(
    "/challenges/{slug:slug}/cover",
    response=ChallengeDetailOut,
    auth=user_auth,
    summary="Replace the cover image (organisers; multipart field `file`, PNG/JPEG/WebP/GIF up to 2 MB)",
)
def challenge_cover(request: HttpRequest, slug: str, file: File[UploadedFile]) -> Challenge:
    user = caller(request)
    actions.set_cover_image(challenge=queries.challenge_for(user, slug), by=user, upload=file)
    return _detail(user, slug)


@router.get(
    "/challenges/{slug:slug}/roles",
    response=RolePage,
    auth=user_auth,
    summary="Judges and moderators of a challenge (organisers)",
)
def challenge_roles(request: HttpRequest, slug: str, filters: Query[FilterSchema]) -> dict[str, Any]:
    user = caller(request)
    return page(filters, queries.roles_of(user, queries.challenge_for(user, slug)))


@router.post(
    "/challenges/{slug:slug}/roles",
    response={201: RoleOut},
    auth=user_auth,
    summary="Make someone a judge or moderator of the challenge (organisers)",
)
def challenge_role_add(request: HttpRequest, slug: str, payload: RoleIn) -> Status[ChallengeRole]:
    user = caller(request)
    person = profile(payload.user_id)
    if person is None:
        raise InvalidInput(_("No such person."), errors={"user_id": [_("No active account has this id.")]})
    role = actions.assign_role(challenge=queries.challenge_for(user, slug), user=person, kind=payload.kind, by=user)
    return Status(201, role)


@router.delete(
    "/challenges/{slug:slug}/roles/{role_id}",
    response={204: None},
    auth=user_auth,
    summary="Take a judge or moderator role away (organisers)",
)
def challenge_role_remove(request: HttpRequest, slug: str, role_id: IdPath) -> Status[None]:
    user = caller(request)
    actions.remove_role(challenge=queries.challenge_for(user, slug), role_id=role_id, by=user)
    return Status(204, None)
