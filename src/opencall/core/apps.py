from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "opencall.core"
    label = "core"

    def ready(self) -> None:
        from opencall.core.cache import create_cache_tables

        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="opencall.core.cache_tables")
