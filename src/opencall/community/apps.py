from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "opencall.community"
    label = "community"
