from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import internal, public

app_name = "api"
urlpatterns = [
    path("public/links/<str:slug>", public.LinkView.as_view(), name="public-link"),
    path(
        "public/links/<str:slug>/checkout",
        public.CheckoutCreateView.as_view(),
        name="public-checkout-create",
    ),
    path(
        "public/links/<str:slug>/views",
        public.LinkViewRecordView.as_view(),
        name="public-link-view",
    ),
    path(
        "public/checkout/<str:session_id>",
        public.CheckoutStatusView.as_view(),
        name="public-checkout-status",
    ),
    path(
        "public/payments/<str:payment_id>/cancel",
        public.CheckoutCancelView.as_view(),
        name="public-checkout-cancel",
    ),
    # The checkout page's batched visit counts (a shared token; not in the schema).
    path("internal/views", internal.view_batch, name="internal-view-batch"),
    # The OpenAPI 3.1 schema and its browsable docs (Swagger UI, Redoc), served from our
    # own static files (drf-spectacular-sidecar): no CDN.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path(
        "docs/redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"),
        name="redoc",
    ),
    # The merchant API (OAuth 2.0 client credentials): paylinks/api/merchant/.
    path("", include("paylinks.api.merchant.urls")),
]

# Anything else under /api/v1/ answers in the API's own error shape, never an HTML page.
urlpatterns.append(re_path(r"^.*$", public.not_found, name="not-found"))
