"""Rate limits on writes: fixed-window counters in the shared cache, keyed per account, per client
address and per target.

A scope ("comment", "sign-up", ...) has rates per kind of key in `settings.OPENCALL_RATE_LIMITS`:
`{"comment": {"account": "6/m,60/h", "address": "30/m"}}`. A rate is `N/period`, the period a unit
(`s`, `m`, `h`, `d`) with an optional count (`10m`), as in allauth's ACCOUNT_RATE_LIMITS. Every attempt
counts until the first rate it exceeds, so a refused burst from one account does not also use up the
budget of the people who share its address, nor its own longer windows.

Counters live in the cache named by OPENCALL_RATE_LIMIT_CACHE: the database cache by default (shared by
every worker with nothing to start; `opencall.core.cache.DatabaseCache` makes its increment atomic) or
Redis when REDIS_URL is set. Fixed windows are aligned on multiples of the period, so a client may get up
to twice a rate across a window boundary; the shorter rate of a pair ("6/m,60/h") bounds that burst.
Identities are hashed before they become keys: no address or e-mail is stored in the cache.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from opencall.core.problem import problem
from opencall.core.unavailable import unless_busy

log = logging.getLogger("opencall.ratelimit")

ACCOUNT, ADDRESS, TARGET = "account", "address", "target"
# Counted in this order, so a refusal stops before the keys others share: the person's own account, then
# the address (shared behind a NAT), then the target (shared by everyone reaching for it).
KINDS = (ACCOUNT, ADDRESS, TARGET)

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# What a scope limits, as the person reads it in "Too many ... in a short time".
SCOPE_LABELS = {
    "idea": gettext_lazy("new ideas"),
    "comment": gettext_lazy("comments"),
    "report": gettext_lazy("reports"),
    "like": gettext_lazy("likes"),
    "follow": gettext_lazy("follows"),
    "crowd-vote": gettext_lazy("pairwise votes"),
    "ballot": gettext_lazy("ballot changes"),
    "review": gettext_lazy("review saves"),
    "invitation": gettext_lazy("invitations"),
    "join-request": gettext_lazy("join requests"),
    "sign-up": gettext_lazy("sign-ups"),
    "sign-in": gettext_lazy("sign-in attempts"),
    "password-reset": gettext_lazy("password reset requests"),
    "token": gettext_lazy("new API tokens"),
    "live-device": gettext_lazy("new voting devices"),
    "write": gettext_lazy("changes"),
}


@dataclass(frozen=True)
class Rate:
    limit: int
    period: int  # seconds


@dataclass(frozen=True)
class Refusal:
    """Why an attempt was refused: the scope, the kind of key that ran out, and the seconds until it resets."""

    scope: str
    kind: str
    retry_after: int

    @property
    def message(self) -> str:
        what = SCOPE_LABELS.get(self.scope, SCOPE_LABELS["write"])
        values = {"what": what, "wait": wait_text(self.retry_after)}
        if self.kind == ACCOUNT:
            return _("Too many %(what)s from your account in a short time. Try again in %(wait)s.") % values
        if self.kind == ADDRESS:
            return _("Too many %(what)s from your network in a short time. Try again in %(wait)s.") % values
        return _("Too many %(what)s in a short time. Try again in %(wait)s.") % values


@lru_cache(maxsize=256)
def parse_rates(text: str) -> tuple[Rate, ...]:
    """`"6/m,60/h"` → two rates; an empty text → no limit. A malformed rate is a configuration error."""
    rates = []
    for part in text.split(","):
        if not part.strip():
            continue
        match = _RATE.match(part)
        if match is None:
            raise ValueError(f"Not a rate (N/period, e.g. 5/m or 100/10m): {part!r}")
        count, per, unit = match.groups()
        rates.append(Rate(int(count), int(per or 1) * _UNITS[unit]))
    return tuple(sorted(rates, key=lambda rate: rate.period))


def wait_text(seconds: int) -> str:
    if seconds < 120:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    if seconds < 7200:
        minutes = math.ceil(seconds / 60)
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = math.ceil(seconds / 3600)
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


def client_ip(request: HttpRequest) -> str:
    """The client's own address: REMOTE_ADDR, or with OPENCALL_TRUSTED_PROXIES = N the N-th address from the
    right of X-Forwarded-For (each trusted proxy appends the one it saw; anything further left is the
    client's own word)."""
    raw = str(request.META.get("REMOTE_ADDR", ""))
    proxies = int(getattr(settings, "OPENCALL_TRUSTED_PROXIES", 0))
    if proxies > 0:
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
        # Fewer hops than proxies: the request did not come the configured way; keep the peer address.
        if len(hops) >= proxies:
            raw = hops[-proxies]
    return raw


def client_address(request: HttpRequest) -> str:
    """The client's address (`client_ip`) as a rate-limit key. IPv6 clients are grouped by /64, what one
    host usually holds."""
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False).network_address) + "/64"
    return str(address)


def _now() -> float:
    return time.time()


def _count(key: str, timeout: int) -> int:
    cache = caches[settings.OPENCALL_RATE_LIMIT_CACHE]
    if cache.add(key, 1, timeout):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr: this attempt opens the next window
        cache.add(key, 1, timeout)
        return 1


def hit(scope: str, identities: Mapping[str, str]) -> Refusal | None:
    """Count one attempt at `scope` for each kind of key (account, target, address → who) and return the
    first limit it exceeds, or None. When the cache fails the attempt is let through (and logged): a
    broken limiter must not stop every write."""
    if not getattr(settings, "OPENCALL_RATE_LIMITS_ENABLED", True):
        return None
    rates_by_kind = settings.OPENCALL_RATE_LIMITS.get(scope, {})
    # Parsed before the store is touched: a malformed setting is an error, not a silently open limit.
    plan = [(kind, identities[kind], parse_rates(rates_by_kind.get(kind, ""))) for kind in KINDS if identities.get(kind)]
    now = _now()
    try:
        # The counters live in the database cache by default: when the database is busy the count is
        # skipped after a short wait rather than holding the request for the whole busy timeout (the
        # write behind it meets the same lock and answers 503).
        refusal = None  # stays None when a busy database skips the count
        with unless_busy():
            refusal = _count_plan(scope, plan, now)
    except Exception:  # fail open: the write itself will meet the same store trouble
        log.warning("Rate limiter unavailable for %s; letting the attempt through", scope, exc_info=True)
        return None
    return refusal


def _count_plan(scope: str, plan: list[tuple[str, str, tuple[Rate, ...]]], now: float) -> Refusal | None:
    for kind, who, rates in plan:
        digest = hashlib.sha256(who.encode()).hexdigest()[:32]
        for rate in rates:
            window = int(now // rate.period)
            reset = max(1, math.ceil((window + 1) * rate.period - now))
            key = f"rl:{scope}:{kind}:{digest}:{rate.period}:{window}"
            if _count(key, reset + 5) > rate.limit:
                return Refusal(scope, kind, reset)
    return None


def too_many_problem(refusal: Refusal) -> HttpResponse:
    """The API's answer: 429 problem+json with Retry-After (also in the body, for clients that drop headers)."""
    response = problem(
        429,
        _("Too many requests"),
        refusal.message,
        code="rate-limited",
        limit=refusal.scope,
        retry_after=refusal.retry_after,
    )
    response["Retry-After"] = str(refusal.retry_after)
    return response
