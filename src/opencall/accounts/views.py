"""Placeholder views: each answers 501 until its page is built."""

from django.http import HttpRequest, HttpResponse

def profile(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('accounts.profile is not built yet', status=501)


def profile_edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('accounts.profile_edit is not built yet', status=501)


def notifications(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('accounts.notifications is not built yet', status=501)


def notifications_read(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('accounts.notifications_read is not built yet', status=501)


def tokens(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('accounts.tokens is not built yet', status=501)


def token_revoke(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('accounts.token_revoke is not built yet', status=501)

