from django.urls import path

from opencall.funding import views

app_name = "funding"
urlpatterns = [
    path("challenges/<slug:slug>/budget-ballot/", views.ballot, name="ballot"),
    path("challenges/<slug:slug>/allocations/", views.allocations, name="allocations"),
    path("challenges/<slug:slug>/allocations/<int:allocation_id>/", views.allocation_detail, name="allocation"),
    path("challenges/<slug:slug>/allocations/<int:allocation_id>/publish/", views.publish, name="publish"),
    path("challenges/<slug:slug>/results/", views.results, name="results"),
]
