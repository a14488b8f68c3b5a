from django.apps import AppConfig


class VotingConfig(AppConfig):
    name = "opencall.voting"
    label = "voting"
