from django.urls import path, re_path

from . import public

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
]

# Anything else under /api/v1/ answers in the API's own error shape, never an HTML page.
urlpatterns.append(re_path(r"^.*$", public.not_found, name="not-found"))
