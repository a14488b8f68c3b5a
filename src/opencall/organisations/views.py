"""Placeholder views: each answers 501 until its page is built."""

from django.http import HttpRequest, HttpResponse

def organisation_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('organisations.organisation_list is not built yet', status=501)


def organisation_create(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('organisations.organisation_create is not built yet', status=501)


def organisation_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('organisations.organisation_detail is not built yet', status=501)


def organisation_invite(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('organisations.organisation_invite is not built yet', status=501)


def member_role(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('organisations.member_role is not built yet', status=501)


def invitation_accept(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('organisations.invitation_accept is not built yet', status=501)

