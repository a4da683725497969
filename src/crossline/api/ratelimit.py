"""Per-client rate limits in Django's cache (the database cache every worker process shares).

A fixed one-minute window per client and scope. The client is a keyed hash of its address
(an IPv6 client by its /64, which one subscriber controls); the address itself is never
stored. The database cache's `incr` is a read and a write, not one atomic statement, so
requests that race within the same instant may each see the same count: the limit is a brake
on floods, not an exact quota.

Use it from any view:

    verdict = ratelimit.hit(request, "submit")
    if not verdict.allowed:
        ...  # 429 with Retry-After: verdict.retry_after
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    count: int  # requests from this client in the current window, this one included
    limit: int
    retry_after: int  # seconds until the window resets


def hit(
    request: HttpRequest, scope: str, limit: int | None = None, now: float | None = None
) -> Verdict:
    """Count one request from this client; `limit` defaults to rate_limit_per_minute."""
    limit = settings.CROSSLINE.rate_limit_per_minute if limit is None else limit
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"ratelimit:{scope}:{client_key(request)}:{window}"
    count = _count(key)
    retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return Verdict(count <= limit, count, limit, retry_after)


def _count(key: str) -> int:
    try:
        return cache.incr(key)
    except ValueError:  # the client's first request in this window
        if cache.add(key, 1, timeout=WINDOW_SECONDS * 2):
            return 1
        return cache.incr(key)  # another request created the counter first


def client_key(request: HttpRequest) -> str:
    """A keyed hash of the client's network: counts requests without keeping an address.

    The client is REMOTE_ADDR — unless CROSSLINE_TRUSTED_PROXIES says N reverse proxies stand
    in front, each appending the address it saw to X-Forwarded-For: then the client is the
    N-th address from the right (anything further left is whatever the client claimed).
    """
    network = _network(client_address(request, settings.CROSSLINE.trusted_proxies))
    key = settings.CROSSLINE.index_key
    digest = hmac.new(key, f"ratelimit-client:{network}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def client_address(request: HttpRequest, trusted_proxies: int) -> str:
    remote = request.META.get("REMOTE_ADDR") or ""
    if trusted_proxies <= 0:
        return remote
    hops = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    return hops[-trusted_proxies] if len(hops) >= trusted_proxies else remote


def _network(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
