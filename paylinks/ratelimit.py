"""One rate limiter for every limit Paylinks keeps: public reads and checkouts per client
address and per link, the merchant API per client, the token endpoint per address.

A sliding log, as Django REST framework's throttle keeps (the time of each request let
through in the last ``duration`` seconds), but checked and updated atomically in the
shared cache. With Redis, one request is one ``MULTI``: drop the entries older than the
window, add this request, count, read the oldest; a request that finds itself over the
limit takes its own entry back out. Two requests at the same instant, on one host or on
two, get distinct counts, so a burst sent at once (what card testing looks like) gets
exactly the limit through. DRF's own throttle reads the list, appends and writes it back:
concurrent requests all read the same list, and such a burst got through in full.

Refused requests are not counted, so a client that waits the ``Retry-After`` it was given
gets in; the wait is when the oldest request in the window ages out (at most
``duration``). The in-process cache (the embedded default: one process) keeps the same
log under a lock.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    #: Seconds until a request would be allowed again (0 when allowed).
    wait: int


_LOCAL = threading.Lock()


def _redis_hit(backend: RedisCache, key: str, limit: int, duration: int, now: float) -> float:
    """Returns 0 when allowed, else the time the oldest entry was let through."""
    name = backend.make_and_validate_key(f"rl:{key}")
    client = backend._cache.get_client(name, write=True)
    member = f"{now:.6f}:{uuid.uuid4().hex[:8]}"
    pipe = client.pipeline(transaction=True)
    pipe.zremrangebyscore(name, "-inf", now - duration)
    pipe.zadd(name, {member: now})
    pipe.zcard(name)
    pipe.zrange(name, 0, 0, withscores=True)
    pipe.expire(name, duration + 1)
    _, _, count, oldest, _ = pipe.execute()
    if count <= limit:
        return 0.0
    client.zrem(name, member)
    return float(oldest[0][1]) if oldest else now


def _local_hit(key: str, limit: int, duration: int, now: float) -> float:
    backend = caches["default"]
    with _LOCAL:
        log = [t for t in backend.get(f"rl:{key}", []) if t > now - duration]
        if len(log) >= limit:
            return min(log)
        log.append(now)
        backend.set(f"rl:{key}", log, duration + 1)
        return 0.0


def hit(key: str, limit: int, duration: int, *, now: float | None = None) -> Verdict:
    """Count one request against ``limit`` per ``duration`` seconds under ``key``."""
    now = time.time() if now is None else now
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        oldest = _redis_hit(backend, key, limit, duration, now)
    else:
        oldest = _local_hit(key, limit, duration, now)
    if not oldest:
        return Verdict(allowed=True, wait=0)
    return Verdict(allowed=False, wait=max(1, math.ceil(oldest + duration - now)))
