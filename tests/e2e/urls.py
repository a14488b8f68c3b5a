"""The site's URLs plus cover images from storage, as the front web server serves them in production."""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from opencall.config.urls import urlpatterns as site

urlpatterns = [
    *site,
    re_path(r"^media/(?P<path>covers/.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
]
