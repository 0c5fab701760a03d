"""The merchant API's paths, under /api/v1/ (see ``paylinks.api.urls``)."""

from django.urls import path

from . import analytics, links, payments
from .base import route

Links = route("Links", links.LinkListApi, links.LinkCreateApi)
Link = route("Link", links.LinkRetrieveApi, links.LinkUpdateApi)
Refunds = route("Refunds", payments.RefundListApi, payments.RefundCreateApi)

urlpatterns = [
    path("links", Links.as_view(), name="links"),
    path("links/<str:link_id>", Link.as_view(), name="link"),
    path(
        "links/<str:link_id>/deactivate", links.LinkDeactivateApi.as_view(), name="link-deactivate"
    ),
    path("links/<str:link_id>/activate", links.LinkActivateApi.as_view(), name="link-activate"),
    path("links/<str:link_id>/qr.svg", links.LinkQrSvgApi.as_view(), name="link-qr-svg"),
    path("links/<str:link_id>/qr.png", links.LinkQrPngApi.as_view(), name="link-qr-png"),
    path("payments", payments.PaymentListApi.as_view(), name="payments"),
    path("payments/<str:payment_id>", payments.PaymentRetrieveApi.as_view(), name="payment"),
    path("payments/<str:payment_id>/refunds", Refunds.as_view(), name="refunds"),
    path("analytics/summary", analytics.AnalyticsSummaryApi.as_view(), name="analytics-summary"),
]
