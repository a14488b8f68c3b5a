from django.urls import path

from opencall.review import views

app_name = "review"
urlpatterns = [
    path("challenges/<slug:slug>/review/", views.desk, name="desk"),
    path("challenges/<slug:slug>/review/rounds/<int:number>/", views.round_detail, name="round"),
    path("challenges/<slug:slug>/compare/", views.compare, name="compare"),
    path("challenges/<slug:slug>/crowd-ranking/", views.crowd, name="crowd"),
    path("review/", views.judge_dashboard, name="dashboard"),
    path("review/assignments/<int:assignment_id>/", views.review_form, name="review"),
    path("review/assignments/<int:assignment_id>/conflict/", views.declare_conflict, name="conflict"),
]
