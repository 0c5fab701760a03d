from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.images.views.serve import ServeView

from paylinks.admin import site as console
from paylinks.api.oauth import jwks, token
from paylinks.logos import LOGO_DIRECTORY, link_image, merchant_logo
from paylinks.models.links import LINK_IMAGE_DIRECTORY
from paylinks.webhooks.views import stripe_webhook
from project.health import healthz, readyz
from project.metrics import metrics_view
from storefront.views import old_shop_address

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
    # The shop used to live under /shop/: old addresses lead to the same page at /.
    path("shop/", old_shop_address),
    path("shop/<path:rest>", old_shop_address),
    # Book covers, resized on first request (signed URLs), with or without DEBUG.
    re_path(
        r"^images/([^/]*)/(\d*)/([^/]*)/[^/]*$",
        ServeView.as_view(action="serve"),
        name="wagtailimages_serve",
    ),
    # Merchant logos, with or without DEBUG (paylinks/logos.py); before the DEBUG-only
    # static route below, so development serves them the same way.
    path(
        f"{settings.MEDIA_URL.strip('/')}/{LOGO_DIRECTORY}/<path:name>",
        merchant_logo,
        name="merchant-logo",
    ),
    # Payment links' product images, the same way (public: Stripe Checkout fetches them).
    path(
        f"{settings.MEDIA_URL.strip('/')}/{LINK_IMAGE_DIRECTORY}/<path:name>",
        link_image,
        name="link-image",
    ),
]

# Styled error pages of their own for the shop, the console and /cms/ (project/errors.py).
handler403 = "project.errors.permission_denied"
handler404 = "project.errors.page_not_found"

# An unreachable database answers 503 with Retry-After, not 500 (docs/operations.md).
handler500 = "project.availability.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# The shop (Wagtail's pages) answers everything else, at the site's root: last.
urlpatterns += [path("", include(wagtail_urls))]
