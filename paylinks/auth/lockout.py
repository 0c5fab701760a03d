"""django-axes hooks: which username and which client address a sign-in attempt counts for."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from paylinks.client_address import client_address, limit_key


def username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    """The e-mail being tried, normalised the way accounts store it.

    allauth authenticates with ``email=...`` (not ``username``), its form field is
    ``login``, and axes itself passes ``{"login": ...}`` when it resets a person's
    failures after a successful sign-in: accept all three, so failures and the reset
    count against the same key, whatever the letter case typed.
    """
    value = None
    for key in ("login", "email", "username"):
        if credentials and credentials.get(key):
            value = credentials[key]
            break
    if value is None:
        value = request.POST.get("login") if request.method == "POST" else None
    return str(value).strip().lower() if value else None


def client_ip(request: HttpRequest) -> str | None:
    """The address a sign-in attempt counts against, for axes and allauth's limits alike.

    ``REMOTE_ADDR``, or with ``PAYLINKS_SIGNIN_TRUSTED_PROXIES=N`` the N-th address from
    the right of ``X-Forwarded-For`` (entries further left are the client's to invent and
    never count, or a lockout could be dodged per request); fewer entries than N is never
    an error (allauth's own reading raised ImproperlyConfigured: a 500). An IPv6 client
    counts as its /64, which it holds whole.
    """
    address = client_address(request, settings.ALLAUTH_TRUSTED_PROXY_COUNT)
    return limit_key(address) if address else None


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """axes' lockout page, ``account/lockout.html``, answered with 429 Too Many Requests."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": minutes,
    }
    return render(request, "account/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
