from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from paylinks.admin import site as console
from paylinks.api.oauth import jwks, token
from paylinks.logos import LOGO_DIRECTORY, merchant_logo
from paylinks.webhooks.views import stripe_webhook
from project.health import healthz, readyz
from project.metrics import metrics_view

urlpatterns = [
    # The console's analytics pages (dashboards/), before the console's own catch-all.
    path("admin/analytics/", include("dashboards.urls")),
    # Probes and the scraper (project/health.py, project/metrics.py; docs/operations.md).
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", console.urls),
    path("api/v1/", include("paylinks.api.urls")),
    path("webhooks/stripe/", stripe_webhook, name="stripe-webhook"),
    path("sandbox/", include("paylinks.gateways.sandbox.urls")),
    path("accounts/", include("allauth.urls")),
    # OAuth 2.0 for the merchant API (allauth.idp.oidc): the token endpoint
    # /identity/o/api/token, the discovery document and the JWKS under /.well-known/.
    path(".well-known/jwks.json", jwks, name="jwks"),
    path("identity/o/api/token", token, name="token"),
    path("", include("allauth.idp.urls")),
    path("cms/", include(wagtailadmin_urls)),
    path("shop/", include(wagtail_urls)),
    # Merchant logos, with or without DEBUG (paylinks/logos.py); before the DEBUG-only
    # static route below, so development serves them the same way.
    path(
        f"{settings.MEDIA_URL.strip('/')}/{LOGO_DIRECTORY}/<path:name>",
        merchant_logo,
        name="merchant-logo",
    ),
]

# An unreachable database answers 503 with Retry-After, not 500 (docs/operations.md).
handler500 = "project.availability.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
