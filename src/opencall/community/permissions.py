from __future__ import annotations

from opencall.accounts.models import User
from opencall.challenges.permissions import can_comment, can_participate, can_vote, is_moderator
from opencall.community.models import Comment, Report
from opencall.ideas.models import Idea, IdeaStatus
from opencall.ideas.permissions import can_view_idea

_OPEN = (IdeaStatus.SUBMITTED, IdeaStatus.SHORTLISTED, IdeaStatus.FUNDED, IdeaStatus.AWARDED)


def can_comment_on(user: User, idea: Idea) -> bool:
    return can_view_idea(user, idea) and idea.status in _OPEN and can_comment(user, idea.challenge)


def can_like(user: User, idea: Idea) -> bool:
    return can_view_idea(user, idea) and idea.status in _OPEN and can_vote(user, idea.challenge)


def can_follow(user: User, idea: Idea) -> bool:
    return user.is_authenticated and can_view_idea(user, idea)


def can_report_idea(user: User, idea: Idea) -> bool:
    return user.is_authenticated and can_view_idea(user, idea)


def can_report_comment(user: User, comment: Comment) -> bool:
    return can_report_idea(user, comment.idea) and not comment.hidden


def can_handle_report(user: User, report: Report) -> bool:
    idea = report.idea if report.idea is not None else (report.comment.idea if report.comment is not None else None)
    return idea is not None and is_moderator(user, idea.challenge)


def can_block(user: User) -> bool:
    return user.is_authenticated and (user.is_moderator or user.is_staff)


__all__ = ["can_block", "can_comment_on", "can_follow", "can_handle_report", "can_like", "can_participate",
           "can_report_comment", "can_report_idea"]
