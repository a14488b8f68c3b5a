from django.apps import AppConfig


class ChallengesConfig(AppConfig):
    name = "opencall.challenges"
    label = "challenges"
