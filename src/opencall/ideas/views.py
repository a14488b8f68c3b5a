"""Pages for ideas, teams and the organiser dashboard: parse, call one action or query, render."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from opencall.accounts.models import User
from opencall.accounts.queries import all_skills
from opencall.challenges.permissions import can_submit_idea
from opencall.challenges.phases import LIFECYCLE
from opencall.challenges.queries import challenge_for
from opencall.core.errors import Conflict, DomainError, InvalidInput
from opencall.core.media import upload_response
from opencall.core.web import add_form_errors
from opencall.ideas import actions, queries
from opencall.ideas.charts import submissions_chart
from opencall.ideas.files import attachment_type
from opencall.ideas.forms import (
    IdeaFilterForm,
    IdeaForm,
    InviteForm,
    JoinRequestForm,
    PositionForm,
    SkillFilterForm,
    StatusForm,
    SubmitForm,
)
from opencall.ideas.models import Idea, IdeaStatus, IdeaVersion, Team, TeamInvitation
from opencall.ideas.permissions import (
    can_decide_status,
    can_edit_idea,
    can_manage_team,
    can_request_to_join,
    can_submit,
    can_view_history,
    can_withdraw,
    is_team_member,
)

IDEAS_PER_PAGE = 12
POSITIONS_PER_PAGE = 20


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _is_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not bool(getattr(htmx, "boosted", False))


def _error_messages(request: HttpRequest, exc: DomainError) -> None:
    details = [m for msgs in exc.errors.values() for m in msgs]
    messages.error(request, " ".join([exc.detail, *details]) if details else exc.detail)


# Ideas ----------------------------------------------------------------------------------------


def idea_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The ideas of a challenge; an HTMX request gets the list alone (the challenge page embeds it)."""
    viewer = _viewer(request)
    challenge = challenge_for(viewer, slug)
    form = IdeaFilterForm(request.GET, challenge=challenge)
    sort = form.value("sort") or "newest"
    ideas = queries.visible_ideas(
        viewer,
        challenge,
        sort=sort,
        category=form.value("category"),
        status=form.value("status"),
        text=form.value("q").strip(),
    )
    page = Paginator(ideas, IDEAS_PER_PAGE).get_page(request.GET.get("page"))
    filters = {k: form.value(k) for k in ("q", "category", "status", "sort") if form.value(k)}
    context = {
        "challenge": challenge,
        "form": form,
        "page": page,
        "sort": sort,
        "query": urlencode(filters) + "&" if filters else "",
        "filtered": bool(filters.keys() - {"sort"}),
        "can_submit": can_submit_idea(viewer, challenge),
        "embedded": _is_fragment(request),
    }
    template = "ideas/_list.html" if _is_fragment(request) else "ideas/list.html"
    return render(request, template, context)


def _idea_form_page(request: HttpRequest, form: IdeaForm, *, idea: Idea | None, status: int = 200) -> HttpResponse:
    return render(request, "ideas/form.html", {"form": form, "challenge": form.challenge, "idea": idea}, status=status)


@login_required
def idea_create(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _viewer(request)
    challenge = queries.challenge_taking_ideas(viewer, slug)
    if request.method != "POST":
        return _idea_form_page(request, IdeaForm(challenge=challenge), idea=None)
    form = IdeaForm(request.POST, request.FILES, challenge=challenge)
    if form.is_valid():
        submit = request.POST.get("action") == "submit"
        try:
            idea = actions.create_idea(
                challenge=challenge,
                by=viewer,
                draft=form.draft(),
                accept_terms=bool(form.cleaned_data.get("accept_terms")),
                uploads=form.uploads(),
                submit=submit,
                team_name=form.cleaned_data.get("team_name") or "",
            )
        except InvalidInput as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Your idea was submitted.") if submit else _("Your draft was saved."))
            return redirect("ideas:detail", idea_id=idea.pk)
    return _idea_form_page(request, form, idea=None, status=422)


@login_required
def idea_edit(request: HttpRequest, idea_id: int) -> HttpResponse:
    viewer = _viewer(request)
    idea = queries.editable_idea_for(viewer, idea_id)
    if request.method != "POST":
        return _idea_form_page(request, IdeaForm(challenge=idea.challenge, idea=idea), idea=idea)
    form = IdeaForm(request.POST, request.FILES, challenge=idea.challenge, idea=idea)
    if form.is_valid():
        try:
            updated = actions.update_idea(
                idea=idea,
                by=viewer,
                draft=form.draft(),
                uploads=form.uploads(),
                remove_attachments=form.removed(),
                submit=request.POST.get("action") == "submit",
                accept_terms=bool(form.cleaned_data.get("accept_terms")),
            )
        except actions.SavedNotSubmitted as exc:
            add_form_errors(form, exc)
            messages.warning(request, _("Your changes were saved as a draft, but the idea cannot be submitted yet."))
        except InvalidInput as exc:
            add_form_errors(form, exc)
        else:
            submitted = updated.status == IdeaStatus.SUBMITTED and idea.status == IdeaStatus.DRAFT
            messages.success(request, _("Your idea was submitted.") if submitted else _("Your changes were saved."))
            return redirect("ideas:detail", idea_id=idea.pk)
    return _idea_form_page(request, form, idea=idea, status=422)


def idea_detail(request: HttpRequest, idea_id: int) -> HttpResponse:
    viewer = _viewer(request)
    idea = queries.idea_for(viewer, idea_id)
    challenge = idea.challenge
    context: dict[str, Any] = {
        "idea": idea,
        "challenge": challenge,
        "members": list(idea.team.members.all()),
        "answers": [a for a in idea.answers.all() if a.value],
        "attachments": list(idea.attachments.all()),
        "is_member": is_team_member(viewer, idea.team),
        "can_edit": can_edit_idea(viewer, idea),
        "can_submit": can_submit(viewer, idea),
        "can_withdraw": can_withdraw(viewer, idea),
        "can_decide": can_decide_status(viewer, idea) and idea.status not in (IdeaStatus.DRAFT, IdeaStatus.WITHDRAWN),
        "can_history": can_view_history(viewer, idea),
        "needs_terms": bool(challenge.terms) and idea.terms_accepted_at is None,
        "status_form": StatusForm(),
        "submit_form": SubmitForm(),
    }
    return render(request, "ideas/detail.html", context)


@login_required
@require_POST
def idea_submit(request: HttpRequest, idea_id: int) -> HttpResponse:
    idea = queries.idea_for(_viewer(request), idea_id)
    form = SubmitForm(request.POST)
    form.is_valid()
    try:
        actions.submit_idea(idea=idea, by=_viewer(request), accept_terms=bool(form.cleaned_data.get("accept_terms")))
    except InvalidInput as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("Your idea was submitted."))
    return redirect("ideas:detail", idea_id=idea.pk)


@login_required
@require_POST
def idea_withdraw(request: HttpRequest, idea_id: int) -> HttpResponse:
    idea = queries.idea_for(_viewer(request), idea_id)
    actions.withdraw_idea(idea=idea, by=_viewer(request))
    messages.success(request, _("The idea was withdrawn."))
    return redirect("ideas:detail", idea_id=idea.pk)


@login_required
@require_POST
def idea_status(request: HttpRequest, idea_id: int) -> HttpResponse:
    idea = queries.idea_for(_viewer(request), idea_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a decision."))
        return redirect("ideas:detail", idea_id=idea.pk)
    try:
        actions.decide_status(
            idea=idea, status=form.cleaned_data["status"], by=_viewer(request), reason=form.cleaned_data["reason"]
        )
    except InvalidInput as exc:
        _error_messages(request, exc)
    else:
        messages.success(
            request, _("The idea is now %(status)s.") % {"status": IdeaStatus(form.cleaned_data["status"]).label}
        )
    return redirect("ideas:detail", idea_id=idea.pk)


def _blank(value: object) -> object:
    """Treat the empty forms of a value ("", {}, False, None) alike when comparing versions."""
    return None if value is None or value is False or value == "" or value == {} else value


def _changes(new: IdeaVersion, old: IdeaVersion | None) -> list[str]:
    """What an edit changed, named for people; empty for the first version."""
    if old is None:
        return []
    names = {"title": _("title"), "summary": _("summary"), "body": _("description")}
    changed = [str(label) for attr, label in names.items() if getattr(new, attr) != getattr(old, attr)]
    data_names = {
        "category": _("category"),
        "requested_budget_minor": _("requested budget"),
        "confidential": _("confidentiality"),
        "answers": _("answers"),
    }
    changed += [
        str(label) for key, label in data_names.items() if _blank(new.data.get(key)) != _blank(old.data.get(key))
    ]
    return changed or [_("No visible change")]


def idea_history(request: HttpRequest, idea_id: int) -> HttpResponse:
    idea, history = queries.versions_for(_viewer(request), idea_id)
    versions = list(history)
    rows = [(v, _changes(v, versions[i + 1] if i + 1 < len(versions) else None)) for i, v in enumerate(versions)]
    return render(request, "ideas/history.html", {"idea": idea, "challenge": idea.challenge, "rows": rows})


@require_safe
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    """An attachment, only to those who may see its idea (the same 404 for everyone else), always as
    a download: it may be any of the allowed types, and none is shown inside the site."""
    attachment = queries.attachment_for(_viewer(request), attachment_id)
    return upload_response(request, attachment.file, content_type=attachment_type(attachment.file.name or ""),
                           filename=attachment.name)


# Teams ----------------------------------------------------------------------------------------


def _team_page(request: HttpRequest, team: Team, *, status: int = 200, **forms: Any) -> HttpResponse:
    viewer = _viewer(request)
    lead = can_manage_team(viewer, team)
    context: dict[str, Any] = {
        "team": team,
        "idea": getattr(team, "idea", None),
        "challenge": team.challenge,
        "members": list(team.members.all()),
        "positions": list(team.positions.all()),
        "is_member": is_team_member(viewer, team),
        "is_lead": lead,
        "can_request": can_request_to_join(viewer, team),
        "my_request": queries.my_join_request(viewer, team),
        "my_invitation": queries.invitation_to_team(viewer, team.pk),
        "join_requests": list(queries.pending_join_requests(team)) if lead else [],
        "invitations": list(queries.pending_team_invitations(team)) if lead else [],
        "invite_form": forms.get("invite_form") or InviteForm(),
        "join_form": forms.get("join_form") or JoinRequestForm(),
        "position_form": forms.get("position_form") or PositionForm(),
    }
    return render(request, "ideas/team.html", context, status=status)


def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    shown = queries.team_page_for(_viewer(request), team_id)
    if isinstance(shown, TeamInvitation):
        # An invitee may not see a draft idea yet, but must be able to answer the invitation.
        return render(request, "ideas/team_invited.html", {"invitation": shown})
    return _team_page(request, shown)


@login_required
@require_POST
def team_invite(request: HttpRequest, team_id: int) -> HttpResponse:
    team = queries.team_for(_viewer(request), team_id)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = actions.invite_by_email(team=team, email=form.cleaned_data["email"], by=_viewer(request))
        except (InvalidInput, Conflict) as exc:  # a conflict such as "already invited"
            add_form_errors(form, exc)
        else:
            messages.success(request, _("%(name)s was invited to the team.") % {"name": invitation.user})
            return redirect("ideas:team", team_id=team.pk)
    return _team_page(request, team, status=422, invite_form=form)


@login_required
@require_POST
def team_join(request: HttpRequest, team_id: int) -> HttpResponse:
    team = queries.team_for(_viewer(request), team_id)
    form = JoinRequestForm(request.POST)
    if form.is_valid():
        try:
            actions.request_to_join(team=team, by=_viewer(request), message=form.cleaned_data["message"])
        except (InvalidInput, Conflict) as exc:  # a conflict such as "already asked"
            add_form_errors(form, exc)
        else:
            messages.success(request, _("Your request was sent to the team lead."))
            return redirect("ideas:team", team_id=team.pk)
    return _team_page(request, team, status=422, join_form=form)


@login_required
@require_POST
def team_leave(request: HttpRequest, team_id: int) -> HttpResponse:
    team = queries.team_for(_viewer(request), team_id)
    try:
        actions.leave_team(team=team, by=_viewer(request))
    except DomainError as exc:
        _error_messages(request, exc)
        return redirect("ideas:team", team_id=team.pk)
    messages.success(request, _("You left the team “%(name)s”.") % {"name": team.name})
    return redirect("ideas:dashboard")


@login_required
@require_POST
def position_create(request: HttpRequest, team_id: int) -> HttpResponse:
    team = queries.team_for(_viewer(request), team_id)
    form = PositionForm(request.POST)
    if form.is_valid():
        try:
            actions.add_position(
                team=team,
                by=_viewer(request),
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                skills=form.skill_list(),
            )
        except InvalidInput as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _("The position was posted."))
            return redirect("ideas:team", team_id=team.pk)
    return _team_page(request, team, status=422, position_form=form)


@login_required
@require_POST
def position_close(request: HttpRequest, position_id: int) -> HttpResponse:
    position = queries.position_for(_viewer(request), position_id)
    actions.close_position(position=position, by=_viewer(request))
    messages.success(request, _("The position “%(title)s” was closed.") % {"title": position.title})
    return redirect("ideas:team", team_id=position.team_id)


@login_required
@require_POST
def invitation_respond(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = queries.invitation_for(_viewer(request), invitation_id)
    accept = request.POST.get("accept") == "1"
    actions.respond_to_invitation(invitation=invitation, by=_viewer(request), accept=accept)
    if accept:
        messages.success(request, _("Welcome to the team “%(name)s”.") % {"name": invitation.team.name})
        return redirect("ideas:team", team_id=invitation.team_id)
    messages.info(request, _("You declined the invitation."))
    return redirect("ideas:dashboard")


@login_required
@require_POST
def join_request_respond(request: HttpRequest, request_id: int) -> HttpResponse:
    join_request = queries.join_request_for(_viewer(request), request_id)
    accept = request.POST.get("accept") == "1"
    actions.respond_to_join_request(request=join_request, by=_viewer(request), accept=accept)
    name = str(join_request.user)
    if accept:
        messages.success(request, _("%(name)s joined the team.") % {"name": name})
    else:
        messages.info(request, _("You declined %(name)s's request.") % {"name": name})
    return redirect("ideas:team", team_id=join_request.team_id)


def positions(request: HttpRequest) -> HttpResponse:
    """Teams looking for people, filtered by a wanted skill."""
    form = SkillFilterForm(request.GET)
    skill = form.cleaned_data["skill"].strip() if form.is_valid() else ""
    page = Paginator(queries.open_positions(_viewer(request), skill=skill), POSITIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "ideas/positions.html",
        {
            "form": form,
            "page": page,
            "skill": skill,
            "skills": list(all_skills()[:500]),
            "query": urlencode({"skill": skill}) + "&" if skill else "",
        },
    )


def user_ideas(request: HttpRequest, user_id: int) -> HttpResponse:
    """A person's ideas that the viewer may see (embedded on their profile page)."""
    person, ideas = queries.ideas_of_person(_viewer(request), user_id)
    template = "ideas/_user_ideas.html" if request.headers.get("HX-Request") else "ideas/user_ideas.html"
    return render(request, template, {"person": person, "ideas": ideas})


# Dashboards -----------------------------------------------------------------------------------

STATUS_COLUMNS = [
    IdeaStatus.DRAFT,
    IdeaStatus.SUBMITTED,
    IdeaStatus.SHORTLISTED,
    IdeaStatus.FUNDED,
    IdeaStatus.AWARDED,
    IdeaStatus.REJECTED,
    IdeaStatus.WITHDRAWN,
]


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The viewer's ideas and invitations, and for organisers their challenges by phase and status."""
    viewer = _viewer(request)
    overview = queries.organiser_overview(viewer)
    per_phase = {str(k): 0 for k in LIFECYCLE}
    for row in overview:
        per_phase[row.challenge.phase] = per_phase.get(row.challenge.phase, 0) + 1
    rows = [(row, [row.by_status.get(s, 0) for s in STATUS_COLUMNS]) for row in overview]
    return render(
        request,
        "ideas/dashboard.html",
        {
            "overview": rows,
            "per_phase": per_phase,
            "status_columns": STATUS_COLUMNS,
            "my_ideas": list(queries.my_ideas(viewer)[:50]),
            "invitations": list(queries.pending_invitations_for(viewer)),
        },
    )


@login_required
def challenge_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    viewer = _viewer(request)
    challenge = challenge_for(viewer, slug)
    stats = queries.challenge_stats(viewer, challenge)
    return render(
        request,
        "ideas/challenge_dashboard.html",
        {
            "challenge": challenge,
            "stats": stats,
            "chart": submissions_chart(stats.submitted_per_day),
            "statuses": [(s, stats.by_status.get(s, 0)) for s in STATUS_COLUMNS],
            "entries": sum(n for s, n in stats.by_status.items() if s != IdeaStatus.DRAFT),
        },
    )
