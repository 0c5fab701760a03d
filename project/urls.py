from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from paylinks.admin import site as console
from paylinks.api.oauth import jwks, token
from paylinks.webhooks.views import stripe_webhook

urlpatterns = [
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
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
