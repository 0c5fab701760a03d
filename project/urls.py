from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from paylinks import webhooks
from paylinks.admin import site as console

urlpatterns = [
    path("admin/", console.urls),
    path("api/v1/", include("paylinks.api.urls")),
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe-webhook"),
    path("sandbox/", include("paylinks.gateways.sandbox.urls")),
    path("accounts/", include("allauth.urls")),
    path("cms/", include(wagtailadmin_urls)),
    path("shop/", include(wagtail_urls)),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
