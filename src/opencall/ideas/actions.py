"""Every write to ideas and teams: permission check, validation, one transaction, audit event."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from opencall.accounts.actions import normalise_skills, notify
from opencall.accounts.models import User
from opencall.accounts.queries import profile, verified_users_by_emails
from opencall.challenges.models import Challenge, CustomField, FieldKind
from opencall.challenges.phases import Action
from opencall.core import audit
from opencall.core.errors import Conflict, InvalidInput, PermissionDenied
from opencall.ideas.files import check_attachment
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
from opencall.ideas.permissions import (
    can_decide_status,
    can_manage_team,
    can_request_to_join,
    can_submit,
    can_withdraw,
    is_team_member,
    refusal,
    refusal_to_create,
    refusal_to_edit,
)
from opencall.ideas.queries import team_member_ids


@dataclass(frozen=True)
class IdeaDraft:
    title: str
    summary: str
    body: str = ""
    category: str = ""
    requested_budget_minor: int | None = None
    confidential: bool = False
    answers: Mapping[str, str] | None = None


AnswerValue = str | int | float | None


class IdeaChanges(TypedDict, total=False):
    """Only the fields a partial update sends (an API PATCH); left-out ones keep their value. A None
    `body`, `category` or `requested_budget_minor` clears it; `answers` are merged key by key, and a
    None answer clears that answer."""

    title: str
    summary: str
    body: str | None
    category: str | None
    requested_budget_minor: int | None
    confidential: bool
    answers: Mapping[str, AnswerValue] | None


def answer_texts(sent: Mapping[str, AnswerValue]) -> dict[str, str]:
    """Answers as sent in JSON (text, numbers, null) as the text stored; null is an empty answer."""
    return {key: "" if value is None else str(value) for key, value in sent.items()}


class SavedNotSubmitted(InvalidInput):
    """`update_idea(..., submit=True)` saved the edit, but the draft cannot be submitted yet: the errors
    say why. Raised after the edit was committed, so the draft keeps it."""


def _idea_url(idea: Idea) -> str:
    return reverse("ideas:detail", args=[idea.pk])


def _validate_core(draft: IdeaDraft, challenge: Challenge) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not draft.title.strip():
        errors["title"] = [_("A title is required.")]
    elif len(draft.title) > 160:
        errors["title"] = [_("At most 160 characters.")]
    if not draft.summary.strip():
        errors["summary"] = [_("A summary is required.")]
    elif len(draft.summary) > 400:
        errors["summary"] = [_("At most 400 characters.")]
    if len(draft.body) > 30000:
        errors["body"] = [_("At most 30,000 characters.")]
    if draft.requested_budget_minor is not None:
        if draft.requested_budget_minor < 0:
            errors["requested_budget_minor"] = [_("The requested budget cannot be negative.")]
        elif challenge.budget_minor is not None and draft.requested_budget_minor > challenge.budget_minor:
            errors["requested_budget_minor"] = [_("More than the challenge's whole budget.")]
    if draft.category and not any(c.name == draft.category for c in challenge.categories.all()):
        errors["category"] = [_("Unknown category %(name)s.") % {"name": repr(draft.category)}]
    return errors


def clean_answers(fields: Sequence[CustomField], answers: Mapping[str, str], *,
                  require: bool) -> tuple[dict[int, str], dict[str, list[str]]]:
    """Validate answers to a challenge's custom fields; `require` enforces required ones."""
    known = {f.key for f in fields}
    errors: dict[str, list[str]] = {}
    for key in answers:
        if key not in known:
            errors[f"answers.{key}"] = [_("Unknown field.")]
    clean: dict[int, str] = {}
    for f in fields:
        raw = str(answers.get(f.key, "") or "").strip()
        if not raw:
            if require and f.required:
                errors[f"answers.{f.key}"] = [_("%(label)s is required.") % {"label": f.label}]
            continue
        if len(raw) > 5000:
            errors[f"answers.{f.key}"] = [_("At most 5,000 characters.")]
            continue
        if f.kind == FieldKind.NUMBER:
            try:
                Decimal(raw)
                if not Decimal(raw).is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                errors[f"answers.{f.key}"] = [_("%(label)s must be a number.") % {"label": f.label}]
                continue
        elif f.kind == FieldKind.CHOICE and raw not in f.choices:
            errors[f"answers.{f.key}"] = [_("%(label)s must be one of: %(choices)s.")
                                          % {"label": f.label, "choices": ", ".join(f.choices)}]
            continue
        elif f.kind == FieldKind.URL:
            try:
                URLValidator(schemes=["http", "https"])(raw)
            except ValidationError:
                errors[f"answers.{f.key}"] = [_("%(label)s must be an http(s) URL.") % {"label": f.label}]
                continue
        clean[f.pk] = raw
    return clean, errors


def _check_uploads(idea: Idea | None, uploads: Sequence[UploadedFile[Any]]) -> list[str]:
    have = idea.attachments.count() if idea is not None and idea.pk else 0
    if have + len(uploads) > settings.OPENCALL_MAX_ATTACHMENTS_PER_IDEA:
        raise InvalidInput(_("Too many attachments."), errors={"attachments": [
            _("At most %(count)s files per idea.") % {"count": settings.OPENCALL_MAX_ATTACHMENTS_PER_IDEA}]})
    return [check_attachment(u) for u in uploads]


def _store(idea: Idea, draft: IdeaDraft, answers: dict[int, str], by: User) -> None:
    idea.title = draft.title.strip()
    idea.summary = draft.summary.strip()
    idea.body = draft.body
    idea.category = next((c for c in idea.challenge.categories.all() if c.name == draft.category), None)
    idea.requested_budget_minor = draft.requested_budget_minor
    idea.confidential = draft.confidential
    idea.version = F("version") + 1
    idea.save()
    idea.refresh_from_db(fields=["version"])
    FieldAnswer.objects.filter(idea=idea).exclude(field_id__in=list(answers)).delete()
    for field_id, value in answers.items():
        FieldAnswer.objects.update_or_create(idea=idea, field_id=field_id, defaults={"value": value})
    IdeaVersion.objects.create(
        idea=idea, number=idea.version, title=idea.title, summary=idea.summary, body=idea.body, author=by,
        data={"category": draft.category, "requested_budget_minor": draft.requested_budget_minor,
              "confidential": draft.confidential, "answers": {str(k): v for k, v in answers.items()}},
    )


def _attach(idea: Idea, uploads: Sequence[UploadedFile[Any]], types: Sequence[str], by: User) -> None:
    for upload, ctype in zip(uploads, types, strict=True):
        Attachment.objects.create(idea=idea, file=upload, name=(upload.name or "file")[:200],
                                  size=upload.size or 0, content_type=ctype, uploaded_by=by)


def create_idea(*, challenge: Challenge, by: User, draft: IdeaDraft, accept_terms: bool,
                uploads: Sequence[UploadedFile[Any]] = (), submit: bool = False, team_name: str = "") -> Idea:
    """Create an idea with its team of one; optionally submit it in the same step."""
    if (refused := refusal_to_create(by, challenge)) is not None:
        raise refused
    fields = list(challenge.custom_fields.all())
    errors = _validate_core(draft, challenge)
    answers, answer_errors = clean_answers(fields, draft.answers or {}, require=submit)
    errors |= answer_errors
    if challenge.terms and not accept_terms:
        errors["accept_terms"] = [_("You must accept the challenge's terms.")]
    if errors:
        raise InvalidInput(_("The idea has errors."), errors=errors)
    types = _check_uploads(None, uploads)
    with transaction.atomic():
        default_name = _("%(name)s's team") % {"name": by}
        team = Team.objects.create(challenge=challenge, name=(team_name.strip() or default_name)[:120])
        TeamMember.objects.create(team=team, user=by, role=TeamMember.Role.LEAD)
        idea = Idea(challenge=challenge, team=team, created_by=by, version=0,
                    terms_accepted_at=timezone.now() if accept_terms else None)
        idea.title, idea.summary = draft.title, draft.summary
        idea.save()
        _store(idea, draft, answers, by)
        _attach(idea, uploads, types, by)
        audit.record(actor=by, verb="idea.create", obj=idea, data={"challenge": challenge.pk})
        if submit:
            _submit(idea, by)
    return idea


def _merged(idea: Idea, changes: IdeaChanges) -> IdeaDraft:
    """The whole draft a partial update makes: the idea as it is, with the sent fields over it."""
    answers = {a.field.key: a.value for a in idea.answers.all()}
    answers.update(answer_texts(changes.get("answers") or {}))
    category = (changes["category"] or "") if "category" in changes else (idea.category.name if idea.category else "")
    return IdeaDraft(
        title=changes.get("title", idea.title),
        summary=changes.get("summary", idea.summary),
        body=(changes["body"] or "") if "body" in changes else idea.body,
        category=category,
        requested_budget_minor=changes.get("requested_budget_minor", idea.requested_budget_minor),
        confidential=changes.get("confidential", idea.confidential),
        answers=answers,
    )


def update_idea(*, idea: Idea, by: User, draft: IdeaDraft | IdeaChanges, uploads: Sequence[UploadedFile[Any]] = (),
                remove_attachments: Iterable[int] = (), submit: bool = False, accept_terms: bool = False) -> Idea:
    """Edit an idea, from a whole draft (a form) or only the changed fields (a PATCH); every edit keeps a
    version. With `submit`, a draft is also submitted in the same transaction; if it cannot be yet, the
    edit is kept and SavedNotSubmitted says why."""
    if (refused := refusal_to_edit(by, idea)) is not None:
        raise refused
    whole = draft if isinstance(draft, IdeaDraft) else _merged(idea, draft)
    fields = list(idea.challenge.custom_fields.all())
    errors = _validate_core(whole, idea.challenge)
    answers, answer_errors = clean_answers(fields, whole.answers or {}, require=idea.status != IdeaStatus.DRAFT)
    errors |= answer_errors
    if errors:
        raise InvalidInput(_("The idea has errors."), errors=errors)
    remove = list(remove_attachments)
    types = _check_uploads(idea, uploads)
    not_submitted: dict[str, list[str]] = {}
    with transaction.atomic():
        locked = Idea.objects.select_for_update().select_related("challenge").get(pk=idea.pk)
        _store(locked, whole, answers, by)
        if remove:
            Attachment.objects.filter(idea=locked, pk__in=remove).delete()
        _attach(locked, uploads, types, by)
        audit.record(actor=by, verb="idea.update", obj=locked, data={"version": locked.version})
        # Only a draft is submitted; an edit of a submitted idea is just an edit. The edit rights
        # checked above are those to submit a draft (its team, in a phase that takes ideas).
        if submit and locked.status == IdeaStatus.DRAFT:
            not_submitted = _submission_errors(locked, accept_terms=accept_terms)
            if not not_submitted:
                _mark_submitted(locked, by, accept_terms=accept_terms)
    if not_submitted:
        raise SavedNotSubmitted(_("The idea cannot be submitted yet."), errors=not_submitted)
    return locked


def add_attachments(*, idea: Idea, by: User, uploads: Sequence[UploadedFile[Any]]) -> list[Attachment]:
    """Attach files to an idea the person may edit; each is checked by size, type and content."""
    if (refused := refusal_to_edit(by, idea, files=True)) is not None:
        raise refused
    if not uploads:
        raise InvalidInput(_("No file was sent."), errors={"files": [_("Send at least one file.")]})
    types = _check_uploads(idea, uploads)
    with transaction.atomic():
        _attach(idea, uploads, types, by)
        audit.record(actor=by, verb="idea.attach", obj=idea, data={"files": [u.name for u in uploads]})
    return list(idea.attachments.order_by("created_at", "id"))


def _submission_errors(idea: Idea, *, accept_terms: bool = False) -> dict[str, list[str]]:
    """What keeps a saved draft from being submitted: required answers missing, terms not accepted."""
    fields = list(idea.challenge.custom_fields.all())
    have = {a.field.key: a.value for a in idea.answers.select_related("field")}
    _clean, errors = clean_answers(fields, have, require=True)
    if idea.challenge.terms and idea.terms_accepted_at is None and not accept_terms:
        errors["accept_terms"] = [_("You must accept the challenge's terms.")]
    return errors


def _submit(idea: Idea, by: User, *, accept_terms: bool = False) -> None:
    """Submit a draft inside the caller's transaction; `accept_terms` records the acceptance with it."""
    if errors := _submission_errors(idea, accept_terms=accept_terms):
        raise InvalidInput(_("The idea cannot be submitted yet."), errors=errors)
    _mark_submitted(idea, by, accept_terms=accept_terms)


def _mark_submitted(idea: Idea, by: User, *, accept_terms: bool) -> None:
    """The submission itself, for a draft already checked by `_submission_errors`."""
    idea.status = IdeaStatus.SUBMITTED
    idea.submitted_at = timezone.now()
    update = ["status", "submitted_at", "updated_at"]
    if accept_terms and idea.terms_accepted_at is None:
        idea.terms_accepted_at = timezone.now()
        update.append("terms_accepted_at")
    idea.save(update_fields=update)
    audit.record(actor=by, verb="idea.submit", obj=idea)


def submit_idea(*, idea: Idea, by: User, accept_terms: bool = False) -> Idea:
    if not can_submit(by, idea):
        if idea.status != IdeaStatus.DRAFT and is_team_member(by, idea.team):
            raise Conflict(_("The idea was already submitted."))
        raise refusal(by, idea.challenge, Action.SUBMIT, closed=_("Ideas cannot be submitted"),
                      denied=_("Only the idea's team can submit it."), entitled=is_team_member(by, idea.team))
    with transaction.atomic():
        locked = Idea.objects.select_for_update().select_related("challenge").get(pk=idea.pk)
        if locked.status != IdeaStatus.DRAFT:
            raise Conflict(_("The idea was already submitted."))
        _submit(locked, by, accept_terms=accept_terms)
    return locked


def withdraw_idea(*, idea: Idea, by: User) -> Idea:
    if not can_withdraw(by, idea):
        raise PermissionDenied(_("Only the team can withdraw an idea that is still in play."))
    with transaction.atomic():
        idea.status = IdeaStatus.WITHDRAWN
        idea.save(update_fields=["status", "updated_at"])
        audit.record(actor=by, verb="idea.withdraw", obj=idea)
    return idea


DECISIONS = {IdeaStatus.SHORTLISTED, IdeaStatus.REJECTED, IdeaStatus.FUNDED, IdeaStatus.AWARDED,
             IdeaStatus.SUBMITTED}


def decide_status(*, idea: Idea, status: str, by: User, reason: str = "") -> Idea:
    """An organiser's decision on an idea; the team is notified."""
    if not can_decide_status(by, idea):
        raise PermissionDenied(_("Only organisers decide an idea's status."))
    if status not in DECISIONS:
        raise InvalidInput(_("Unknown decision."),
                           errors={"status": [_("One of %(choices)s.") % {"choices": ", ".join(sorted(DECISIONS))}]})
    if idea.status in (IdeaStatus.DRAFT, IdeaStatus.WITHDRAWN):
        raise Conflict(_("Drafts and withdrawn ideas cannot be decided on."))
    with transaction.atomic():
        before = idea.status
        idea.status = status
        idea.save(update_fields=["status", "updated_at"])
        audit.record(actor=by, verb="idea.status", obj=idea, data={"from": before, "to": status, "reason": reason})
        notify(recipients=team_member_ids(idea.team), kind="status",
               text=_("“%(title)s” is now %(status)s") % {"title": idea.title, "status": IdeaStatus(status).label},
               url=_idea_url(idea))
    return idea


# Teams ---------------------------------------------------------------------------------------


def _refuse_unless_team_lead(team: Team, by: User) -> None:
    if not can_manage_team(by, team):
        raise PermissionDenied(_("Only the team lead invites members."))


def invite_to_team(*, team: Team, user: User, by: User) -> TeamInvitation:
    _refuse_unless_team_lead(team, by)
    if is_team_member(user, team) or TeamMember.objects.filter(team=team, user=user).exists():
        raise Conflict(_("%(name)s is already in the team.") % {"name": user})
    if user.is_blocked:
        raise InvalidInput(_("That account is blocked."))
    try:
        with transaction.atomic():
            inv = TeamInvitation.objects.create(team=team, user=user, invited_by=by)
            audit.record(actor=by, verb="team.invite", obj=inv, data={"user": user.pk})
            notify(recipients=[user], kind="team_invite",
                   text=_("%(name)s invited you to join the team “%(team)s”") % {"name": by, "team": team.name},
                   url=reverse("ideas:team", args=[team.pk]))
    except IntegrityError as exc:
        raise Conflict(_("%(name)s already has a pending invitation.") % {"name": user}) from exc
    return inv


def invite_by_email(*, team: Team, email: str, by: User) -> TeamInvitation:
    """Invite the person who has verified this email address (they need an account)."""
    # The right first: otherwise anyone who sees the team could learn which addresses have accounts.
    _refuse_unless_team_lead(team, by)
    email = email.strip()
    if not email:
        raise InvalidInput(_("Give an email address."), errors={"email": [_("An email address is required.")]})
    # Only a verified address names a person: anyone may sign up first with someone else's address.
    found, _missing = verified_users_by_emails([email])
    if not found:
        message = _("No one has an account with that verified email address yet.")
        raise InvalidInput(message, errors={"email": [message]})
    return invite_to_team(team=team, user=found[0], by=by)


def invite_someone(*, team: Team, by: User, user_id: int | None = None, email: str | None = None) -> TeamInvitation:
    """Invite exactly one person, named by their account id or by a verified email address."""
    _refuse_unless_team_lead(team, by)  # before anything tells whether an account exists
    if (user_id is None) == (email is None):
        raise InvalidInput(_("Name exactly one person."), errors={"user_id": [_("Give either user_id or email.")]})
    if email is not None:
        return invite_by_email(team=team, email=email, by=by)
    invitee = profile(user_id) if user_id is not None else None
    if invitee is None:
        raise InvalidInput(_("No such person."), errors={"user_id": [_("No active account has this id.")]})
    return invite_to_team(team=team, user=invitee, by=by)


def _add_member(team: Team, user: User) -> TeamMember:
    try:
        with transaction.atomic():
            member = TeamMember.objects.create(team=team, user=user, role=TeamMember.Role.MEMBER)
    except IntegrityError as exc:
        raise Conflict(_("Already a member of this team.")) from exc
    return member


def respond_to_invitation(*, invitation: TeamInvitation, by: User, accept: bool) -> TeamInvitation:
    if invitation.user_id != by.pk:
        raise PermissionDenied(_("This invitation is for someone else."))
    with transaction.atomic():
        locked = TeamInvitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.status != RequestStatus.PENDING:
            raise Conflict(_("This invitation was already answered."))
        locked.status = RequestStatus.ACCEPTED if accept else RequestStatus.DECLINED
        locked.save(update_fields=["status", "updated_at"])
        if accept:
            _add_member(locked.team, by)
        audit.record(actor=by, verb="team.invitation." + locked.status, obj=locked)
        notify(recipients=team_member_ids(locked.team), exclude=by, kind="team",
               text=(_("%(name)s joined “%(team)s”") if accept else _("%(name)s declined to join “%(team)s”"))
               % {"name": by, "team": locked.team.name},
               url=reverse("ideas:team", args=[locked.team_id]))
    return locked


def request_to_join(*, team: Team, by: User, message: str = "") -> JoinRequest:
    if not can_request_to_join(by, team):
        raise PermissionDenied(_("You cannot ask to join this team."))
    if len(message) > 500:
        raise InvalidInput(_("The message is too long."), errors={"message": [_("At most 500 characters.")]})
    try:
        with transaction.atomic():
            req = JoinRequest.objects.create(team=team, user=by, message=message.strip())
            audit.record(actor=by, verb="team.request", obj=req)
            leads = TeamMember.objects.filter(team=team, role=TeamMember.Role.LEAD).values_list("user_id", flat=True)
            notify(recipients=list(leads), kind="team",
                   text=_("%(name)s asks to join “%(team)s”") % {"name": by, "team": team.name},
                   url=reverse("ideas:team", args=[team.pk]))
    except IntegrityError as exc:
        raise Conflict(_("You already asked to join this team.")) from exc
    return req


def respond_to_join_request(*, request: JoinRequest, by: User, accept: bool) -> JoinRequest:
    if not can_manage_team(by, request.team):
        raise PermissionDenied(_("Only the team lead answers join requests."))
    with transaction.atomic():
        locked = JoinRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != RequestStatus.PENDING:
            raise Conflict(_("This request was already answered."))
        locked.status = RequestStatus.ACCEPTED if accept else RequestStatus.DECLINED
        locked.save(update_fields=["status", "updated_at"])
        if accept:
            _add_member(locked.team, locked.user)
        audit.record(actor=by, verb="team.request." + locked.status, obj=locked)
        notify(recipients=[locked.user_id], kind="team",
               text=(_("Your request to join “%(team)s” was accepted") if accept
                     else _("Your request to join “%(team)s” was declined")) % {"team": locked.team.name},
               url=reverse("ideas:team", args=[locked.team_id]))
    return locked


def leave_team(*, team: Team, by: User) -> None:
    with transaction.atomic():
        member = TeamMember.objects.select_for_update().filter(team=team, user=by).first()
        if member is None:
            raise Conflict(_("You are not in this team."))
        others = list(TeamMember.objects.filter(team=team).exclude(pk=member.pk).order_by("created_at"))
        if not others:
            raise Conflict(_("The last member cannot leave; withdraw the idea instead."))
        if member.role == TeamMember.Role.LEAD and not any(o.role == TeamMember.Role.LEAD for o in others):
            others[0].role = TeamMember.Role.LEAD
            others[0].save(update_fields=["role"])
        member.delete()
        audit.record(actor=by, verb="team.leave", obj=team)
        notify(recipients=[o.user_id for o in others], kind="team",
               text=_("%(name)s left “%(team)s”") % {"name": by, "team": team.name},
               url=reverse("ideas:team", args=[team.pk]))


def add_position(*, team: Team, by: User, title: str, description: str = "",
                 skills: Iterable[str] = ()) -> Position:
    if not can_manage_team(by, team):
        raise PermissionDenied(_("Only the team lead posts positions."))
    errors: dict[str, list[str]] = {}
    if not title.strip() or len(title) > 120:
        errors["title"] = [_("A title of 1-120 characters is required.")]
    if len(description) > 2000:
        errors["description"] = [_("At most 2,000 characters.")]
    if errors:
        raise InvalidInput(_("The position has errors."), errors=errors)
    with transaction.atomic():
        pos = Position.objects.create(team=team, title=title.strip(), description=description)
        pos.skills.set(normalise_skills(skills))
        audit.record(actor=by, verb="team.position", obj=pos)
    return pos


def close_position(*, position: Position, by: User) -> Position:
    if not can_manage_team(by, position.team):
        raise PermissionDenied(_("Only the team lead closes positions."))
    with transaction.atomic():
        position.is_open = False
        position.save(update_fields=["is_open", "updated_at"])
        audit.record(actor=by, verb="team.position.close", obj=position)
    return position


def bump_counter(idea_id: int, field: str, delta: int) -> None:
    """Keep the denormalised like/comment counters used for sorting."""
    Idea.objects.filter(pk=idea_id).update(**{field: F(field) + delta})
