"""The shared rate limiter (paylinks.ratelimit): exact under concurrency, sliding, and
honest about how long to wait. Run against the in-process cache and against real Redis."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from django.core.cache import caches
from django.test import override_settings

from paylinks import ratelimit


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/15",
        "KEY_PREFIX": "paylinks-test-ratelimit",
    }
}


@pytest.fixture(params=["locmem", "redis"])
def backend(request):  # type: ignore[no-untyped-def]
    if request.param == "redis" and not _redis_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    with override_settings(CACHES=LOCMEM if request.param == "locmem" else REDIS):
        caches["default"].clear() if request.param == "locmem" else None
        yield request.param
        caches["default"].close()


def key() -> str:
    return f"test:{uuid.uuid4().hex}"


def test_allows_the_limit_then_refuses_until_the_oldest_ages_out(backend) -> None:
    k, start = key(), 6000.0
    verdicts = [ratelimit.hit(k, 3, 60, now=start + i) for i in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    # Hits at +0, +1, +2: the one at +0 leaves the window at +60, 57 s after the refusal.
    assert verdicts[-1].wait == 57
    assert not ratelimit.hit(k, 3, 60, now=start + 59.5).allowed
    # A refused request is not counted, so waiting what Retry-After said is enough...
    assert ratelimit.hit(k, 3, 60, now=start + 60.5).allowed
    # ...and only one got in: the hits at +1 and +2 are still in the window.
    assert not ratelimit.hit(k, 3, 60, now=start + 60.6).allowed
    assert ratelimit.hit(k, 3, 60, now=start + 61.5).allowed


def test_keys_are_counted_apart(backend) -> None:
    one, two = key(), key()
    assert ratelimit.hit(one, 1, 60, now=100.0).allowed
    assert not ratelimit.hit(one, 1, 60, now=100.5).allowed
    assert ratelimit.hit(two, 1, 60, now=100.5).allowed


def test_a_burst_sent_at_once_gets_exactly_the_limit(backend) -> None:
    """What DRF's own throttle got wrong: every thread read the same history."""
    k, now, limit = key(), 7000.0 + 5, 5
    barrier = threading.Barrier(24)
    results: list[bool] = []
    lock = threading.Lock()

    def send() -> None:
        barrier.wait()
        verdict = ratelimit.hit(k, limit, 60, now=now)
        with lock:
            results.append(verdict.allowed)

    threads = [threading.Thread(target=send) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 24
    assert results.count(True) == limit
