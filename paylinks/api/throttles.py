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


class _Throttle(SimpleRateThrottle):
    def __init__(self) -> None:
        # Nothing to do: the rate is read and parsed in allow_request, on every request
        # (DRF's __init__ would read and parse it once more, for nothing).
        pass

    def get_rate(self) -> str | None:
        # An empty value turns the limit off (PAYLINKS_RATE_*=""): DRF wants None for that.
        return settings.PAYLINKS_RATE_LIMITS.get(self.scope) or None

    def allow_request(self, request: Request, view: Any) -> bool:
        self.rate = self.get_rate()
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_ident(self, request: Request) -> str | None:
        """DRF's client address (the right-most of ``NUM_PROXIES`` trusted proxies' in
        X-Forwarded-For, else REMOTE_ADDR), read from ``META``: ``request.headers`` would
        build a mapping of every header, on every public read, for this one."""
        meta = getattr(request, "_request", request).META
        xff = meta.get("HTTP_X_FORWARDED_FOR")
        remote_addr = meta.get("REMOTE_ADDR")
        num_proxies = api_settings.NUM_PROXIES
        if num_proxies is not None:
            if num_proxies == 0 or xff is None:
                return remote_addr
            addrs = xff.split(",")
            return addrs[-min(num_proxies, len(addrs))].strip()
        return "".join(xff.split()) if xff else remote_addr


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
