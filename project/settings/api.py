"""Django REST framework, the OpenAPI schema, and the merchant API's tokens for /api/v1/.

Merchant API tokens are issued by allauth's OAuth 2.0 / OpenID Connect provider
(``allauth.idp.oidc``) with the client-credentials grant, as RS256-signed JWTs. The
signing key comes from the environment like every other secret:

- ``API_TOKEN_PRIVATE_KEY`` (or ``API_TOKEN_PRIVATE_KEY_FILE``): the RSA private key (PEM)
  that signs new tokens;
- ``API_TOKEN_PREVIOUS_KEYS`` (or ``..._FILE``): after a rotation, the key(s) that signed
  tokens still in circulation, one PEM block after another. They stay in the JWKS and keep
  verifying until the last token they signed expires (``PAYLINKS_API_TOKEN_SECONDS``),
  then can be removed.

With ``DEBUG`` and no key, a development key is created once in ``var/`` (git-ignored) and
shared by every local process; outside ``DEBUG`` Paylinks refuses to start without one.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

from .base import BASE_DIR, DEBUG
from .env import env_bool, env_int, env_secret, env_str

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # DRF's negotiation, answered without parsing for the Accept headers every client sends.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "paylinks.api.negotiation.JSONFirstNegotiation",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "paylinks.api.errors.exception_handler",
    # How many reverse proxies (the checkout page, or a TLS proxy) sit in front of Django:
    # with 0, the client IP for rate limits is REMOTE_ADDR and X-Forwarded-For is ignored;
    # with 1, the right-most X-Forwarded-For entry (what that one hop wrote). Behind a TLS
    # proxy (BEHIND_TLS_PROXY) it is 1 unless set: Django is then reached only through
    # the proxy, which SECURE_PROXY_SSL_HEADER already relies on (docs/security.md).
    "NUM_PROXIES": env_int("PAYLINKS_TRUSTED_PROXIES", 1 if env_bool("BEHIND_TLS_PROXY") else 0),
}

# Rate limits ("N/s", "N/min", "N/hour"); an empty value disables one. The public
# endpoints count per client IP and per link, the merchant API per API client, the
# OAuth token endpoint per client IP.
PAYLINKS_RATE_LIMITS = {
    "public_ip": env_str("PAYLINKS_RATE_PUBLIC_IP", "300/min"),
    "checkout_ip": env_str("PAYLINKS_RATE_CHECKOUT_IP", "20/min"),
    "checkout_link": env_str("PAYLINKS_RATE_CHECKOUT_LINK", "120/min"),
    "api_client": env_str("PAYLINKS_RATE_API_CLIENT", "1200/min"),
    "token_ip": env_str("PAYLINKS_RATE_TOKEN_IP", "30/min"),
}

# --- merchant API tokens (allauth.idp.oidc) ----------------------------------------------
PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.S
)
DEV_KEY_PATH = BASE_DIR / "var" / "dev-api-token-key.pem"


def _development_key(path: Path) -> str:
    """A key for local development, made once and shared by every local process."""
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        scratch.write_bytes(pem)
        scratch.chmod(0o600)
        try:
            os.link(scratch, path)  # atomic: the first process to get here wins
        except FileExistsError:
            pass
        finally:
            scratch.unlink()
    return path.read_text()


def api_token_keys() -> list[dict[str, Any]]:
    """``IDP_OIDC_PRIVATE_KEYS``: the signing key first (it is the one "issued" last, so
    allauth signs with it), then the previous keys, which only verify."""
    current = env_secret("API_TOKEN_PRIVATE_KEY").strip()
    if not current:
        if not DEBUG:
            raise ImproperlyConfigured(
                "API_TOKEN_PRIVATE_KEY is missing: the merchant API signs its access tokens "
                "with it. Set it (or API_TOKEN_PRIVATE_KEY_FILE) to an RSA private key in "
                "PEM form, e.g. from `openssl genpkey -algorithm RSA -pkeyopt "
                "rsa_keygen_bits:2048`, or run with DEBUG=true for local development."
            )
        current = _development_key(DEV_KEY_PATH)
    if len(PEM_BLOCK.findall(current)) != 1:
        raise ImproperlyConfigured("API_TOKEN_PRIVATE_KEY must hold exactly one PEM private key.")
    previous = PEM_BLOCK.findall(env_secret("API_TOKEN_PREVIOUS_KEYS"))
    keys: list[dict[str, Any]] = [
        {"pem": current.strip(), "issued_at": "2000-01-01T00:00:00+00:00"}
    ]
    keys += [{"pem": pem} for pem in previous if pem != current.strip()]
    return keys


IDP_OIDC_PRIVATE_KEYS = api_token_keys()
IDP_OIDC_ACCESS_TOKEN_FORMAT = "jwt"  # noqa: S105 - a format name
IDP_OIDC_ACCESS_TOKEN_EXPIRES_IN = env_int("PAYLINKS_API_TOKEN_SECONDS", 3600)
IDP_OIDC_ADAPTER = "paylinks.auth.oidc.PaylinksOIDCAdapter"
# Confidential clients only: every client authenticates with its secret.
IDP_OIDC_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
IDP_OIDC_JWKS_CACHE_CONTROL = 15 * 60

# --- OpenAPI (drf-spectacular) ------------------------------------------------------------
SPECTACULAR_SETTINGS = {
    "TITLE": "Paylinks API",
    "DESCRIPTION": (
        "The merchant API (`/api/v1/`): payment links, payments, refunds and analytics for "
        "one merchant, with OAuth 2.0 client-credentials access tokens (JWT). The public "
        "API (`/api/v1/public/`) is what the checkout page uses: no authentication, "
        "rate-limited per IP. Amounts are integers in the currency's minor unit; errors "
        'are `{"error": {"code": ..., "message": ..., "field": ...}}`.'
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Only Paylinks' API: Wagtail's admin API under /cms/ is the CMS's own business.
    "PREPROCESSING_HOOKS": ["paylinks.api.schema.only_paylinks_api"],
    # The default hook, then the outgoing webhooks (OpenAPI 3.1 ``webhooks``).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "paylinks.api.webhooks_schema.add_outgoing_webhooks",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        "persistAuthorization": False,
        "validatorUrl": None,
    },
    "ENUM_NAME_OVERRIDES": {
        "PaymentStatusEnum": "paylinks.models.payments.PaymentStatus",
        "LinkStateEnum": "paylinks.models.links.LinkState",
        "AmountTypeEnum": "paylinks.models.links.AmountType",
        "AfterPaymentEnum": "paylinks.models.links.AfterPayment",
        "RefundReasonEnum": "paylinks.models.payments.RefundReason",
    },
}
