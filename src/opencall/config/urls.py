from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path

from opencall.config.api import api

# A database failing in a middleware (session, user) answers 503 with Retry-After; anything else is a 500.
handler500 = "opencall.core.unavailable.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/", api.urls),
    path("", include("opencall.accounts.urls")),
    path("", include("opencall.organisations.urls")),
    path("", include("opencall.challenges.urls")),
    path("", include("opencall.ideas.urls")),
    path("", include("opencall.community.urls")),
    path("", include("opencall.voting.urls")),
    path("", include("opencall.funding.urls")),
    path("", include("opencall.review.urls")),
]

if settings.DEBUG:
    # Only cover images are served straight from storage; attachments go through a view that checks
    # who may see the idea (ideas:attachment), so a confidential file never leaks by its URL.
    from django.views.static import serve

    urlpatterns += [re_path(r"^media/(?P<path>covers/.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
