from django.urls import path

from opencall.community import views

app_name = "community"
urlpatterns = [
    path("ideas/<int:idea_id>/comments/", views.comment_create, name="comment"),
    path("ideas/<int:idea_id>/like/", views.like_toggle, name="like"),
    path("ideas/<int:idea_id>/follow/", views.follow_toggle, name="follow"),
    path("ideas/<int:idea_id>/report/", views.idea_report, name="idea_report"),
    path("comments/<int:comment_id>/report/", views.comment_report, name="comment_report"),
    path("challenges/<slug:slug>/join/", views.challenge_join, name="challenge_join"),
    path("moderation/", views.moderation, name="moderation"),
    path("moderation/reports/<int:report_id>/resolve/", views.report_resolve, name="report_resolve"),
    path("moderation/people/<int:user_id>/block/", views.user_block, name="user_block"),
]
