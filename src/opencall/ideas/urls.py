from django.urls import path

from opencall.ideas import views

app_name = "ideas"
urlpatterns = [
    path("challenges/<slug:slug>/ideas/", views.idea_list, name="list"),
    path("challenges/<slug:slug>/ideas/new/", views.idea_create, name="create"),
    path("ideas/<int:idea_id>/", views.idea_detail, name="detail"),
    path("ideas/<int:idea_id>/edit/", views.idea_edit, name="edit"),
    path("ideas/<int:idea_id>/submit/", views.idea_submit, name="submit"),
    path("ideas/<int:idea_id>/withdraw/", views.idea_withdraw, name="withdraw"),
    path("ideas/<int:idea_id>/history/", views.idea_history, name="history"),
    path("ideas/<int:idea_id>/status/", views.idea_status, name="status"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("teams/<int:team_id>/", views.team_detail, name="team"),
    path("teams/<int:team_id>/invite/", views.team_invite, name="team_invite"),
    path("teams/<int:team_id>/join/", views.team_join, name="team_join"),
    path("teams/<int:team_id>/leave/", views.team_leave, name="team_leave"),
    path("teams/<int:team_id>/positions/new/", views.position_create, name="position_create"),
    path("positions/<int:position_id>/close/", views.position_close, name="position_close"),
    path("team-invitations/<int:invitation_id>/respond/", views.invitation_respond, name="invitation_respond"),
    path("join-requests/<int:request_id>/respond/", views.join_request_respond, name="join_request_respond"),
    path("teams-looking/", views.positions, name="positions"),
    path("people/<int:user_id>/ideas/", views.user_ideas, name="user_ideas"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<slug:slug>/", views.challenge_dashboard, name="challenge_dashboard"),
]
