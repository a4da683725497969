"""Per-client rate limits, counted in a table every worker process shares.

A fixed one-minute window per client and scope. The client is a keyed hash of its address
(an IPv6 client by its /64, which one subscriber controls); the address itself is never
stored. A request is counted by one atomic upsert (`INSERT … ON CONFLICT DO UPDATE …
RETURNING`, SQLite ≥ 3.35 and PostgreSQL), so requests racing in the same instant each get
their own count, and in the caller's transaction: a submission counts itself in the
transaction that stores it (one commit), and a request refused as over the limit rolls its
count back with everything else, so it stores nothing. Outside a transaction the upsert
commits by itself.

Use it from any view:

    verdict = ratelimit.hit(request, "submit")
    if not verdict.allowed:
        ...  # 429 with Retry-After: verdict.retry_after
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest

from crossline.api.models import RateCounter

WINDOW_SECONDS = 60
MAX_SCOPE_LENGTH = 64  # the bucket: "scope:", a 32-character client hash, ":minute" (≤ 128)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    count: int  # requests from this client in the current window, this one included
    limit: int
    retry_after: int  # seconds until the window resets


def hit(
    request: HttpRequest, scope: str, limit: int | None = None, now: float | None = None
) -> Verdict:
    """Count one request from this client; `limit` defaults to rate_limit_per_minute.

    Inside `transaction.atomic()` the count belongs to that transaction (a rollback takes it
    back); outside, it is committed at once.
    """
    return count(window(request, scope, limit, now))


@dataclass(frozen=True, slots=True)
class Window:
    """One client's counter in one scope's current window: what `count` increments."""

    bucket: str  # "scope:client:minute"
    minute: int
    limit: int
    now: float


def window(
    request: HttpRequest, scope: str, limit: int | None = None, now: float | None = None
) -> Window:
    """The client's window, computed without the database: a caller that counts inside a
    transaction computes it beforehand (the client's keyed hash is not work for the lock)."""
    if not 0 < len(scope) <= MAX_SCOPE_LENGTH:
        raise ValueError(f"rate-limit scope must be 1 to {MAX_SCOPE_LENGTH} characters")
    limit = settings.CROSSLINE.rate_limit_per_minute if limit is None else limit
    now = time.time() if now is None else now
    minute = int(now // WINDOW_SECONDS)
    return Window(f"{scope}:{client_key(request)}:{minute}", minute, limit, now)


def count(w: Window) -> Verdict:
    """Count one request in `w` (in the caller's transaction, if any)."""
    n = _count(w.bucket, w.minute)
    if n > w.limit:
        _refused(w.bucket, w.minute, n)
    return Verdict(n <= w.limit, n, w.limit, _retry_after(w.minute, w.now))


def refused_already(
    request: HttpRequest, scope: str, limit: int | None = None, now: float | None = None
) -> Verdict | None:
    """The refusal `hit` would give, without touching the database, when this process has
    refused this client in the current window already; otherwise None (then `hit` counts).

    A caller checks this first so that a flood from one client costs no work once refused:
    no evaluation, no transaction, no write lock taken from everyone else. A client under its
    limit is never refused from here: a window's count only grows, and a refused request's
    count rolls back with it, so the next request reaches at least the count remembered.
    """
    if not _over:  # nobody refused lately: no client key to compute
        return None
    w = window(request, scope, limit, now)
    seen = _over.get(w.bucket) if _over_minute == w.minute else None
    if seen is None or seen <= w.limit:
        return None
    return Verdict(False, seen, w.limit, _retry_after(w.minute, w.now))


def forget_refusals() -> None:
    """Forget the clients this process refused (tests: each starts from an empty database)."""
    global _over_minute
    _over.clear()
    _over_minute = None


# Buckets this process refused in the current window, with the count that refused them.
# Bounded by one window: a new minute starts it afresh. Keys are keyed hashes, never addresses.
_over: dict[str, int] = {}
_over_minute: int | None = None


def _refused(bucket: str, minute: int, count: int) -> None:
    global _over_minute
    if _over_minute != minute:
        _over.clear()
        _over_minute = minute
    _over[bucket] = count


def _retry_after(minute: int, now: float) -> int:
    return max(1, math.ceil((minute + 1) * WINDOW_SECONDS - now))


def _count(bucket: str, minute: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(_sql()[0], [bucket, minute])
        row = cursor.fetchone()
    count = int(row[0])
    if count == 1:  # this client's first request in a new window: forget the stale ones
        transaction.on_commit(lambda: _forget_before(minute - 1))
    return count


def _forget_before(minute: int) -> None:
    """Delete counters of windows before `minute` (the previous window is kept: clocks differ).

    Runs after the commit that counted, never inside a submission's transaction (two such
    deletes could lock each other's rows on PostgreSQL). It is housekeeping: a failure is
    logged and the request it follows is not failed.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute(_sql()[1], [minute])
    except DatabaseError as exc:
        logger.warning("rate-limit counters not pruned: %s", type(exc).__name__)


@cache
def _sql() -> tuple[str, str]:
    """The upsert and the prune, with the table's and the columns' quoted names."""
    q = connection.ops.quote_name
    meta = RateCounter._meta
    table = q(meta.db_table)
    bucket, minute, hits = (q(f) for f in ("bucket", "minute", "hits"))  # columns = names
    # A window's bucket names its minute, so the update sets only `hits`: no index changes
    # (SQLite rewrites one table page, PostgreSQL can update in place).
    upsert = (
        f"INSERT INTO {table} ({bucket}, {minute}, {hits}) VALUES (%s, %s, 1)"
        f" ON CONFLICT ({bucket}) DO UPDATE SET {hits} = {table}.{hits} + 1"
        f" RETURNING {hits}"
    )
    prune = f"DELETE FROM {table} WHERE {minute} < %s"
    return upsert, prune


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
