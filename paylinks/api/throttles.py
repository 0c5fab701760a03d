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
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


class _Throttle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        # An empty value turns the limit off (PAYLINKS_RATE_*=""): DRF wants None for that.
        return settings.PAYLINKS_RATE_LIMITS.get(self.scope) or None

    def allow_request(self, request: Request, view: Any) -> bool:
        self.rate = self.get_rate()
        if not self.rate:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


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


def client_address(request: Request) -> str:
    """The client's IP address exactly as the rate limits count it: REMOTE_ADDR, or with
    ``PAYLINKS_TRUSTED_PROXIES`` the address the trusted proxies report. The checkout uses
    it to count the places one client holds on a limited link."""
    return str(BaseThrottle().get_ident(request))
