"""The site's URLs as the browser journeys use them (covers come through the site's own view now,
as they do in production: no storage path is served)."""

from opencall.config.urls import urlpatterns as site

urlpatterns = [*site]
