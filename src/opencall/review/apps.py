from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "opencall.review"
    label = "review"
