"""The fast path's configuration, read once from Django settings (the environment is read there, in
opencall.config.settings.base, under the OPENCALL_LIVE_* names). The only module of the live path
that touches Django."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LiveConfig:
    secret_key: str
    database: dict[str, Any]
    redis_url: str = ""
    flush_seconds: float = 0.005
    max_batch: int = 5000
    ip_rate: tuple[float, float] = (200.0, 400.0)
    token_rate: tuple[float, float] = (5.0, 10.0)
    trusted_proxies: frozenset[str] = frozenset()
    allowed_origins: frozenset[str] = frozenset()
    cache_seconds: float = 0.5
    tick_seconds: float = 0.5
    checkpoint_seconds: float = 1.0

    @classmethod
    def from_settings(cls) -> LiveConfig:
        from django.conf import settings

        return cls(
            secret_key=str(settings.SECRET_KEY),
            database=dict(settings.DATABASES["default"]),
            redis_url=str(settings.REDIS_URL or ""),
            flush_seconds=float(settings.OPENCALL_LIVE_FLUSH_MS) / 1000,
            max_batch=int(settings.OPENCALL_LIVE_MAX_BATCH),
            ip_rate=settings.OPENCALL_LIVE_RATE_IP,
            token_rate=settings.OPENCALL_LIVE_RATE_TOKEN,
            trusted_proxies=frozenset(settings.OPENCALL_LIVE_TRUSTED_PROXIES),
            allowed_origins=frozenset(settings.OPENCALL_LIVE_ALLOWED_ORIGINS),
        )
