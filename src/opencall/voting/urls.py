from django.urls import path

from opencall.voting import views

app_name = "voting"
urlpatterns = [
    path("challenges/<slug:slug>/live/", views.live_list, name="list"),
    path("live/<slug:code>/console/", views.console, name="console"),
    path("live/<slug:code>/open/", views.open_vote, name="open"),
    path("live/<slug:code>/extend/", views.extend_vote, name="extend"),
    path("live/<slug:code>/stop/", views.stop_vote, name="stop"),
    path("live/<slug:code>/publish/", views.publish_results, name="publish"),
    path("live/<slug:code>/rewards/", views.add_rewards, name="rewards"),
    path("live/<slug:code>/redeem/", views.redeem, name="redeem"),
    path("live/<slug:code>/screen/", views.projector, name="projector"),
    path("live/<slug:code>/results/", views.results, name="results"),
    path("v/<slug:code>/", views.voter, name="vote"),
    path("v/<slug:code>/reward/", views.claim_reward, name="claim"),
]
