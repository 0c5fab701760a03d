"""Rate limits for the public endpoints: per client IP and per payment link.

Rates come from ``PAYLINKS_RATE_LIMITS`` (read on every request, so tests and operators
can change them without a restart). Limiting checkout creation per IP and per link is
also the first defence against card testing through a public link.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from paylinks import ratelimit
from paylinks.client_address import client_address, limit_key


def client_ident(request: Request) -> str:
    """The client as the public rate limits count it. With NUM_PROXIES =
    PAYLINKS_TRUSTED_PROXIES = 1, the right-most X-Forwarded-For entry: the one the
    checkout page wrote. Never text that is not an address, and an IPv6 client counts as
    its /64. The checkout also counts the places one client holds on a limited link by it.
    """
    return limit_key(client_address(request, api_settings.NUM_PROXIES or 0))


class _Throttle(SimpleRateThrottle):
    def __init__(self) -> None:
        # Nothing to do: the rate is read and parsed in allow_request, on every request
        # (DRF's __init__ would read and parse it once more, for nothing).
        pass

    def get_ident(self, request: Request) -> str:
        return client_ident(request)

    def get_rate(self) -> str | None:
        # An empty value turns the limit off (PAYLINKS_RATE_*=""): DRF wants None for that.
        return settings.PAYLINKS_RATE_LIMITS.get(self.scope) or None

    def allow_request(self, request: Request, view: Any) -> bool:
        """Counted atomically in the shared cache (``paylinks.ratelimit``), not DRF's
        read-modify-write list of timestamps, which a burst sent at once slips through."""
        self.rate = self.get_rate()
        self._wait = 0
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        verdict = ratelimit.hit(key, self.num_requests, self.duration)
        self._wait = verdict.wait
        return verdict.allowed

    def wait(self) -> float | None:
        return self._wait or None


class PublicIPThrottle(_Throttle):
    scope = "public_ip"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class CheckoutIPThrottle(PublicIPThrottle):
    scope = "checkout_ip"


# What a slug can look like (paylinks.models.links.new_slug; checkout/lib/config.ts).
SLUG = re.compile(r"[A-Za-z0-9_-]{1,64}")


class CheckoutLinkThrottle(_Throttle):
    scope = "checkout_link"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        # Something that cannot be a slug names no link: it gets its 404 under the
        # per-IP limit alone, and never becomes a cache key (spaces, CR/LF, 10 KB).
        slug = str(view.kwargs.get("slug", ""))
        if not SLUG.fullmatch(slug):
            return None
        return self.cache_format % {"scope": self.scope, "ident": slug}
