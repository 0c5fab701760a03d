"""allauth's OAuth 2.0 provider, as the merchant API uses it.

allauth (``allauth.idp.oidc``) runs the token endpoint, the JWKS and the discovery
document, and stores clients and tokens. Paylinks decides:

- the issuer is ``SITE_URL``, never the ``Host`` header of whoever asks;
- client ids and secrets are recognisable (``plc_...``, ``pls_...``), so a secret pasted
  into a ticket or a repository is easy to spot;
- an access token's ``sub`` is the client (RFC 9068: client credentials act for
  themselves), and the discovery document lists only what Paylinks supports;
- parsed keys are cached per process: loading an RSA private key from PEM checks it,
  which costs far more than verifying a signature (about 150 ms against 0.1 ms here), so
  it must not happen once per request; the list of keys is read from the settings once
  too, and only filtered by expiry per request.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allauth.core.internal import jwkkit
from allauth.idp.oidc import app_settings
from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from allauth.idp.oidc.models import Client
from django.conf import settings
from django.utils import timezone

from paylinks.models import ApiScope

CLIENT_ID_PREFIX = "plc_"
CLIENT_SECRET_PREFIX = "pls_"  # noqa: S105 - a prefix, not a secret


class PaylinksOIDCAdapter(DefaultOIDCAdapter):
    scope_display = {scope.value: scope.label for scope in ApiScope}

    def generate_client_id(self) -> str:
        return CLIENT_ID_PREFIX + secrets.token_hex(16)

    def generate_client_secret(self) -> str:
        return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)

    def get_issuer(self) -> str:
        return str(settings.SITE_URL)

    def populate_access_token(
        self,
        access_token: dict[str, Any],
        *,
        client: Client,
        scopes: Iterable[str],
        user: Any,
        **kwargs: Any,
    ) -> None:
        if user is None:
            access_token["sub"] = client.id

    def populate_server_metadata(self, data: dict[str, str | list[str]]) -> None:
        data["scopes_supported"] = list(ApiScope.values)
        data["grant_types_supported"] = [Client.GrantType.CLIENT_CREDENTIALS.value]
        data["token_endpoint_auth_methods_supported"] = list(app_settings.AUTH_METHODS)


@functools.cache
def _jwk(pem: str) -> tuple[dict[str, Any], Any]:
    jwk, private_key = jwkkit.load_jwk_from_pem(pem)
    return jwk, private_key.public_key()


@dataclass(frozen=True)
class _Key:
    kid: str
    jwk: dict[str, Any]
    public_key: Any
    expires_at: datetime | None


# The configured keys, parsed, with the settings objects they were read from: a test's
# override_settings (or a reload) brings new objects, and with them a new list.
_configured: tuple[Any, Any, tuple[_Key, ...]] | None = None


def _keys() -> tuple[_Key, ...]:
    """Every configured key, parsed once per process (the settings are read, not copied,
    so a changed setting is seen at once)."""
    global _configured
    many = getattr(settings, "IDP_OIDC_PRIVATE_KEYS", None)
    one = getattr(settings, "IDP_OIDC_PRIVATE_KEY", None)
    cached = _configured
    if cached is not None and cached[0] is many and cached[1] is one:
        return cached[2]
    keys = []
    for key in PaylinksOIDCAdapter().list_private_keys():
        jwk, public_key = _jwk(key.pem)
        keys.append(_Key(jwk["kid"], jwk, public_key, key.expires_at))
    _configured = (many, one, tuple(keys))
    return _configured[2]


def _active(now: datetime | None = None) -> list[_Key]:
    """The keys past none of their ``expires_at`` (allauth's ``is_active``): a key that
    has not started signing yet (``not_before``) already verifies and is published."""
    now = now or timezone.now()
    return [key for key in _keys() if key.expires_at is None or key.expires_at > now]


def verification_keys() -> dict[str, Any]:
    """kid -> RSA public key, for every key that may have signed a live token."""
    return {key.kid: key.public_key for key in _active()}


def public_jwks() -> list[dict[str, Any]]:
    """The JWKS allauth serves, from the cached keys."""
    return [key.jwk for key in _active()]
