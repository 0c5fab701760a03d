"""Who a request comes from, for rate limits and sign-in lockouts.

``REMOTE_ADDR`` is the TCP peer. Behind reverse proxies that is the nearest proxy, and each
proxy appends the address it saw to ``X-Forwarded-For``: with ``trusted`` proxies in front
of Django, the client is the ``trusted``-th entry from the right (fewer entries than that:
the left-most there is). Entries further left are the client's to invent and never count.
One rule for the public API's limits (``PAYLINKS_TRUSTED_PROXIES``) and the sign-in limits
and lockout (``PAYLINKS_SIGNIN_TRUSTED_PROXIES``); docs/security.md, "Proxies and rate
limits", says who sets what.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Protocol

# An IPv6 client holds a whole /64 (2^64 addresses): one address each would be no limit.
IPV6_PREFIX = 64


class _Request(Protocol):  # Django's HttpRequest or DRF's Request
    @property
    def META(self) -> Mapping[str, Any]: ...


def client_address(request: _Request, trusted: int) -> str | None:
    """The client's address as the trusted proxies report it, else ``REMOTE_ADDR``.

    Anything that is not an IP address (a proxy that writes ``unknown``, text a client
    made up that reached a misconfigured count) identifies nobody: ``REMOTE_ADDR`` is
    used instead, never the text as sent.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if trusted > 0 and forwarded:
        candidate = forwarded[-min(trusted, len(forwarded))]
        if _parse(candidate) is not None:
            return candidate
    return remote


def limit_key(address: str | None) -> str:
    """What a per-address limit counts: an IPv4 address, or an IPv6 address's /64
    (written as its network address, ``2001:db8:1:2::``, still a valid address)."""
    parsed = _parse(address or "")
    if parsed is None:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_PREFIX), strict=False).network_address)
    return str(parsed)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None
