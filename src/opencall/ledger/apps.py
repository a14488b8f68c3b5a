from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "opencall.ledger"
    label = "ledger"
    verbose_name = "Ledger"
