"""Django REST framework and the OpenAPI schema for /api/v1/."""

from .env import env_bool, env_int, env_str

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

# Public endpoint rate limits ("N/s", "N/min", "N/hour"); an empty value disables one.
PAYLINKS_RATE_LIMITS = {
    "public_ip": env_str("PAYLINKS_RATE_PUBLIC_IP", "300/min"),
    "checkout_ip": env_str("PAYLINKS_RATE_CHECKOUT_IP", "20/min"),
    "checkout_link": env_str("PAYLINKS_RATE_CHECKOUT_LINK", "120/min"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Paylinks API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}
