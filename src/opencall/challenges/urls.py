from django.urls import path

from opencall.challenges import views

app_name = "challenges"
urlpatterns = [
    path("", views.home, name="home"),
    path("challenges/", views.challenge_list, name="list"),
    path("organisations/<slug:org_slug>/challenges/new/", views.challenge_create, name="create"),
    path("challenges/<slug:slug>/", views.challenge_detail, name="detail"),
    path("challenges/<slug:slug>/edit/", views.challenge_edit, name="edit"),
    path("challenges/<slug:slug>/phases/", views.challenge_phases, name="phases"),
    path("challenges/<slug:slug>/advance/", views.challenge_advance, name="advance"),
    path("challenges/<slug:slug>/roles/", views.challenge_roles, name="roles"),
    path("challenges/<slug:slug>/cover/", views.challenge_cover, name="cover"),
    path("challenges/<slug:slug>/cover/image", views.cover_image, name="cover_image"),
]
