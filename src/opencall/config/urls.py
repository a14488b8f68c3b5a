from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from opencall.config.api import api

# Errors Django answers outside any view: a problem+json under /api/, Django's usual page elsewhere.
handler400 = "opencall.config.api.bad_request"
handler403 = "opencall.config.api.permission_denied"
handler404 = "opencall.config.api.page_not_found"
handler500 = "opencall.config.api.server_error"

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

# No route serves uploads by their storage path (MEDIA_URL), not even under DEBUG: a static file view
# there once normalised `covers/../attachments/...` into a confidential file. Covers and attachments are
# sent by views that ask who may see them first (docs/decisions/0007-media-serving.md).
