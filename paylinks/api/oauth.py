"""The JWKS document, served from keys parsed once per process.

allauth's own view parses every private key's PEM on each request (about 150 ms each
on this machine): the JWKS is public, so that would let anyone keep a worker busy for
free. Same document, same headers, from ``paylinks.auth.oidc.public_jwks``.
"""

from __future__ import annotations

from typing import Any

from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.views import JwksView
from django.http import HttpRequest, JsonResponse

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
