from django.urls import path

from opencall.organisations import views

app_name = "organisations"
urlpatterns = [
    path("organisations/", views.organisation_list, name="list"),
    path("organisations/new/", views.organisation_create, name="create"),
    path("organisations/<slug:slug>/", views.organisation_detail, name="detail"),
    path("organisations/<slug:slug>/invite/", views.organisation_invite, name="invite"),
    path("organisations/<slug:slug>/members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("invitations/<str:token>/", views.invitation_accept, name="accept"),
]
