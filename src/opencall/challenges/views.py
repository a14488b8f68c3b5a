"""Placeholder views: each answers 501 until its page is built."""

from django.http import HttpRequest, HttpResponse

def home(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('challenges.home is not built yet', status=501)


def challenge_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('challenges.challenge_list is not built yet', status=501)


def challenge_create(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('challenges.challenge_create is not built yet', status=501)


def challenge_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('challenges.challenge_detail is not built yet', status=501)


def challenge_edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('challenges.challenge_edit is not built yet', status=501)


def challenge_phases(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('challenges.challenge_phases is not built yet', status=501)


def challenge_advance(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('challenges.challenge_advance is not built yet', status=501)


def challenge_roles(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('challenges.challenge_roles is not built yet', status=501)


def challenge_cover(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('challenges.challenge_cover is not built yet', status=501)

