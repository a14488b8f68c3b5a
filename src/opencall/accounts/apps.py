from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "opencall.accounts"
    label = "accounts"
