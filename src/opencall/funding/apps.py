from django.apps import AppConfig


class FundingConfig(AppConfig):
    name = "opencall.funding"
    label = "funding"
