from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "opencall.organisations"
    label = "organisations"
