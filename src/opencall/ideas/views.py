"""Placeholder views: each answers 501 until its page is built."""

from django.http import HttpRequest, HttpResponse

def idea_list(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.idea_list is not built yet', status=501)


def idea_create(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.idea_create is not built yet', status=501)


def idea_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.idea_detail is not built yet', status=501)


def idea_edit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.idea_edit is not built yet', status=501)


def idea_submit(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.idea_submit is not built yet', status=501)


def idea_withdraw(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.idea_withdraw is not built yet', status=501)


def idea_history(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.idea_history is not built yet', status=501)


def idea_status(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.idea_status is not built yet', status=501)


def attachment_download(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.attachment_download is not built yet', status=501)


def team_detail(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.team_detail is not built yet', status=501)


def team_invite(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.team_invite is not built yet', status=501)


def team_join(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.team_join is not built yet', status=501)


def team_leave(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.team_leave is not built yet', status=501)


def position_create(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.position_create is not built yet', status=501)


def position_close(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.position_close is not built yet', status=501)


def invitation_respond(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.invitation_respond is not built yet', status=501)


def join_request_respond(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.join_request_respond is not built yet', status=501)


def positions(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.positions is not built yet', status=501)


def dashboard(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.dashboard is not built yet', status=501)


def challenge_dashboard(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse('ideas.challenge_dashboard is not built yet', status=501)

