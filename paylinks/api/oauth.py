"""The OAuth endpoints Paylinks wraps: the JWKS from cached keys, and the token
endpoint behind a per-IP rate limit.

The JWKS document is served from keys parsed once per process.

allauth's own view parses every private key's PEM on each request (about 150 ms each
on this machine): the JWKS is public, so that would let anyone keep a worker busy for
free. Same document, same headers, from ``paylinks.auth.oidc.public_jwks``.
"""

from __future__ import annotations

from typing import Any

from allauth.idp.oidc import views as allauth_views
from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.views import JwksView
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from paylinks import ratelimit
from paylinks.auth.oidc import public_jwks


class CachedJwksView(JwksView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        response = JsonResponse({"keys": public_jwks()})
        response["Access-Control-Allow-Origin"] = "*"
        response["Cache-Control"] = (
            f"max-age={get_adapter().get_jwks_cache_control()}, must-revalidate"
        )
        return response


jwks = CachedJwksView.as_view()


@csrf_exempt
@login_not_required
def token(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
    """allauth's token endpoint behind a per-IP limit (``PAYLINKS_RATE_TOKEN_IP``).

    Checking a client secret costs a password hash on purpose, so without a limit the
    endpoint would let anyone spend the server's CPU; a well-behaved client asks once an
    hour. Over the limit: 429 with ``Retry-After``, in OAuth's error shape."""
    rate = settings.PAYLINKS_RATE_LIMITS.get("token_ip")
    if rate:
        allowed, duration = SimpleRateThrottle.parse_rate(None, rate)
        ident = BaseThrottle().get_ident(request)
        verdict = ratelimit.hit(f"token-ip:{ident}", allowed, duration)
        if not verdict.allowed:
            wait = verdict.wait
            response = JsonResponse(
                {
                    "error": "rate_limited",
                    "error_description": f"Too many token requests. Try again in {wait} seconds.",
                },
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
    return allauth_views.token(request, *args, **kwargs)
