"""Placeholder views: each answers 501 until its page is built."""

from django.http import HttpRequest, HttpResponse

def comment_create(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('community.comment_create is not built yet', status=501)


def like_toggle(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('community.like_toggle is not built yet', status=501)


def follow_toggle(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('community.follow_toggle is not built yet', status=501)


def idea_report(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('community.idea_report is not built yet', status=501)


def comment_report(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('community.comment_report is not built yet', status=501)


def challenge_join(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('community.challenge_join is not built yet', status=501)


def moderation(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('community.moderation is not built yet', status=501)


def report_resolve(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('community.report_resolve is not built yet', status=501)


def user_block(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('community.user_block is not built yet', status=501)

