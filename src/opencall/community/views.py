"""Comments, likes, follows, reports, joining challenges and the moderation queue.

The idea page (ideas app) cannot import this app, so it loads the like and follow buttons and the
discussion from these URLs with HTMX; a plain GET of the comments URL is the discussion page.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opencall.accounts.models import User
from opencall.challenges.phases import Action, allows
from opencall.challenges.queries import challenge_for
from opencall.community import actions, queries
from opencall.community.forms import BlockForm, CommentForm, ModerationFilterForm, ReportForm, ResolveForm
from opencall.community.models import Comment, Report
from opencall.community.permissions import can_block, can_comment_on, can_follow, can_like
from opencall.core.errors import Conflict, DomainError, InvalidInput
from opencall.core.web import add_form_errors, local_url, parse_id
from opencall.ideas.models import Idea, IdeaStatus
from opencall.ideas.queries import idea_for

REPORTS_PER_PAGE = 25
_OPEN = (IdeaStatus.SUBMITTED, IdeaStatus.SHORTLISTED, IdeaStatus.FUNDED, IdeaStatus.AWARDED)


def _viewer(request: HttpRequest) -> User:
    return cast(User, request.user)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _back_to_idea(idea: Idea, anchor: str = "") -> HttpResponse:
    return redirect(reverse("ideas:detail", args=[idea.pk]) + anchor)


# Likes and follows ----------------------------------------------------------------------------


def like_closed_reason(viewer: User, idea: Idea) -> str:
    """Why the like button is disabled for this viewer ('' when they may like)."""
    if can_like(viewer, idea):
        return ""
    if not viewer.is_authenticated:
        return _("Log in to like ideas.")
    if idea.status not in _OPEN:
        return _("Only submitted ideas can be liked.")
    if not allows(idea.challenge.phase, Action.VOTE):
        return _("Likes are open only during the community phase.")
    return _("You cannot like ideas in this challenge.")


def _like_box(request: HttpRequest, idea: Idea, *, error: str = "") -> HttpResponse:
    viewer = _viewer(request)
    return render(
        request,
        "community/_like.html",
        {
            "idea": idea,
            "liked": queries.has_liked(viewer, idea),
            "reason": error or like_closed_reason(viewer, idea),
            "error": error,
        },
    )


def like_toggle(request: HttpRequest, idea_id: int) -> HttpResponse:
    """GET: the like button; POST like=1|0: like or unlike (idempotent)."""
    idea = idea_for(_viewer(request), idea_id)
    if request.method != "POST":
        return _like_box(request, idea) if _is_htmx(request) else _back_to_idea(idea)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={reverse('ideas:detail', args=[idea.pk])}")
    viewer = _viewer(request)
    error = ""
    try:
        if request.POST.get("like", "1") == "1":
            actions.like_idea(idea=idea, by=viewer)
        else:
            actions.unlike_idea(idea=idea, by=viewer)
    except DomainError as exc:
        error = exc.detail
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        return _back_to_idea(idea)
    return _like_box(request, idea_for(_viewer(request), idea_id), error=error)


def _follow_box(request: HttpRequest, idea: Idea, *, error: str = "") -> HttpResponse:
    viewer = _viewer(request)
    return render(
        request,
        "community/_follow.html",
        {
            "idea": idea,
            "following": queries.is_following(viewer, idea=idea),
            "can_follow": can_follow(viewer, idea),
            "error": error,
        },
    )


def follow_toggle(request: HttpRequest, idea_id: int) -> HttpResponse:
    """GET: the follow button; POST follow=1|0."""
    idea = idea_for(_viewer(request), idea_id)
    if request.method != "POST":
        return _follow_box(request, idea) if _is_htmx(request) else _back_to_idea(idea)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={reverse('ideas:detail', args=[idea.pk])}")
    on = request.POST.get("follow", "1") == "1"
    error = ""
    try:
        actions.follow_idea(idea=idea, by=_viewer(request), on=on)
    except DomainError as exc:
        error = exc.detail
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("You follow this idea.") if on else _("You no longer follow this idea."))
        return _back_to_idea(idea)
    return _follow_box(request, idea, error=error)


# Comments -------------------------------------------------------------------------------------


def comment_closed_reason(viewer: User, idea: Idea) -> str:
    if can_comment_on(viewer, idea):
        return ""
    if not viewer.is_authenticated:
        return _("Log in to join the discussion.")
    if idea.status not in _OPEN:
        return _("Comments open once the idea is submitted.")
    if not allows(idea.challenge.phase, Action.COMMENT):
        return _("The discussion is closed in this phase.")
    return _("You cannot comment in this challenge.")


def _discussion(
    request: HttpRequest,
    idea: Idea,
    *,
    form: CommentForm | None = None,
    reply_to: int | None = None,
    new_comment: int | None = None,
    status: int = 200,
) -> HttpResponse:
    viewer = _viewer(request)
    comments = queries.comments_for(viewer, idea)
    if reply_to is not None and all(c.pk != reply_to for c in comments):
        reply_to = None  # no such reply form on the page: show the errors on the main form
    context: dict[str, Any] = {
        "idea": idea,
        "comments": comments,
        "closed_reason": comment_closed_reason(viewer, idea),
        "can_report": viewer.is_authenticated,
        "form": form if form is not None and reply_to is None else CommentForm(),
        "reply_form": form if reply_to is not None else None,
        "reply_to": reply_to,
        "new_comment": new_comment,
        "jump_to_hash": request.method == "GET",
    }
    if _is_htmx(request):
        return render(request, "community/_discussion.html", context)
    return render(request, "community/discussion.html", context, status=status)


def comment_create(request: HttpRequest, idea_id: int) -> HttpResponse:
    """GET: the discussion (a fragment for HTMX). POST: add a comment or a reply."""
    idea = idea_for(_viewer(request), idea_id)
    if request.method != "POST":
        return _discussion(request, idea)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={reverse('ideas:detail', args=[idea.pk])}")
    viewer = _viewer(request)
    form = CommentForm(request.POST)
    reply_to: int | None = None
    if form.is_valid():
        reply_to = form.cleaned_data["parent"]
        try:
            parent = queries.reply_target_for(viewer, reply_to) if reply_to is not None else None
            comment = actions.add_comment(idea=idea, by=viewer, body=form.cleaned_data["body"], parent=parent)
        except DomainError as exc:
            add_form_errors(form, exc)
        else:
            if not _is_htmx(request):
                messages.success(request, _("Your comment was posted."))
                return _back_to_idea(idea, f"#comment-{comment.pk}")
            return _discussion(request, idea_for(viewer, idea_id), new_comment=comment.pk)
    else:
        reply_to = parse_id(request.POST.get("parent", ""))
    return _discussion(request, idea, form=form, reply_to=reply_to, status=422)


# Reports --------------------------------------------------------------------------------------


def _report_page(
    request: HttpRequest,
    *,
    idea: Idea,
    comment: Comment | None,
    form: ReportForm,
    done: bool = False,
    status: int = 200,
) -> HttpResponse:
    context = {
        "idea": idea,
        "comment": comment,
        "form": form,
        "done": done,
        "action": reverse("community:comment_report", args=[comment.pk])
        if comment
        else reverse("community:idea_report", args=[idea.pk]),
    }
    if _is_htmx(request):
        return render(request, "community/_report_form.html", context)
    return render(request, "community/report.html", context, status=status)


def _report(request: HttpRequest, *, idea: Idea, comment: Comment | None) -> HttpResponse:
    if request.method != "POST":
        return _report_page(request, idea=idea, comment=comment, form=ReportForm())
    form = ReportForm(request.POST)
    if form.is_valid():
        try:
            if comment is not None:
                created = actions.report_comment(
                    comment=comment, by=_viewer(request), reason=form.cleaned_data["reason"]
                )[1]
            else:
                created = actions.report_idea(idea=idea, by=_viewer(request), reason=form.cleaned_data["reason"])[1]
        except InvalidInput as exc:
            add_form_errors(form, exc)
        else:
            if not _is_htmx(request):
                messages.success(
                    request,
                    _("Thank you. A moderator will look at your report.")
                    if created
                    else _("You already reported this; a moderator will look at your report."),
                )
                return _back_to_idea(idea)
            return _report_page(request, idea=idea, comment=comment, form=form, done=True)
    return _report_page(request, idea=idea, comment=comment, form=form, status=422)


@login_required
def idea_report(request: HttpRequest, idea_id: int) -> HttpResponse:
    # Signed in and able to see the idea is all it takes to report it (the action checks it again).
    return _report(request, idea=idea_for(_viewer(request), idea_id), comment=None)


@login_required
def comment_report(request: HttpRequest, comment_id: int) -> HttpResponse:
    comment = queries.comment_to_report(_viewer(request), comment_id)
    return _report(request, idea=comment.idea, comment=comment)


# Joining a challenge --------------------------------------------------------------------------


@login_required
@require_POST
def challenge_join(request: HttpRequest, slug: str) -> HttpResponse:
    """Join (follow) or leave a challenge, then go back where the person came from."""
    challenge = challenge_for(_viewer(request), slug)
    on = request.POST.get("join", "1") != "0"
    actions.follow_challenge(challenge=challenge, by=_viewer(request), on=on)
    if on:
        messages.success(
            request, _("You joined “%(title)s”. You will hear of every phase change.") % {"title": challenge.title}
        )
    else:
        messages.info(request, _("You left “%(title)s”.") % {"title": challenge.title})
    return redirect(local_url(request, request.POST.get("next", ""), reverse("challenges:detail", args=[challenge.slug])))


# Moderation -----------------------------------------------------------------------------------


def _moderation_page(
    request: HttpRequest,
    *,
    errors: dict[int, ResolveForm] | None = None,
    block_errors: dict[int, BlockForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    viewer = _viewer(request)
    filters = ModerationFilterForm(request.GET)
    state = (filters.cleaned_data.get("status") if filters.is_valid() else "") or Report.Status.OPEN
    page = Paginator(queries.moderation_queue(viewer, status=state), REPORTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "community/moderation.html",
        {
            "page": page,
            "state": state,
            "filters": filters,
            "can_block": can_block(viewer),
            "errors": errors or {},
            "block_errors": block_errors or {},
            "query": f"status={state}&",
        },
        status=status,
    )


@login_required
def moderation(request: HttpRequest) -> HttpResponse:
    return _moderation_page(request)


@login_required
@require_POST
def report_resolve(request: HttpRequest, report_id: int) -> HttpResponse:
    report = queries.report_for(_viewer(request), report_id)
    form = ResolveForm(request.POST)
    if form.is_valid():
        hide = form.cleaned_data["decision"] == "hide"
        try:
            actions.resolve_report(
                report=report, by=_viewer(request), hide=hide, resolution=form.cleaned_data["resolution"]
            )
        except InvalidInput as exc:
            add_form_errors(form, exc)
        except Conflict as exc:  # someone else handled it meanwhile
            messages.info(request, exc.detail)
            return redirect("community:moderation")
        else:
            messages.success(request, _("The content was hidden.") if hide else _("The report was dismissed."))
            return redirect("community:moderation")
    return _moderation_page(request, errors={report.pk: form}, status=422)


@login_required
@require_POST
def user_block(request: HttpRequest, user_id: int) -> HttpResponse:
    viewer = _viewer(request)
    person = queries.person_to_block(viewer, user_id)
    form = BlockForm(request.POST)
    if form.is_valid():
        try:
            actions.block_account(user=person, by=viewer, reason=form.cleaned_data["reason"])
        except InvalidInput as exc:
            add_form_errors(form, exc)
            messages.error(request, exc.detail)
        else:
            messages.success(request, _("%(name)s's account was blocked.") % {"name": person})
            return redirect("community:moderation")
    return _moderation_page(request, block_errors={person.pk: form}, status=422)
