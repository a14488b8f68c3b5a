from django.apps import AppConfig


class IdeasConfig(AppConfig):
    name = "opencall.ideas"
    label = "ideas"
