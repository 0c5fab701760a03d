"""The public API the checkout page uses: no authentication, rate-limited, JSON only.

Unknown, malformed and foreign identifiers all answer the same 404, so the API tells
nobody which links or sessions exist beyond the one they hold.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.http import JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from paylinks import money
from paylinks.gateways import GatewayError
from paylinks.models import AfterPayment, AmountType, LinkState, Payment, PaymentLink, PaymentStatus
from paylinks.selectors.links import link_get_public, link_state
from paylinks.selectors.payments import payment_get_by_public_id, payment_get_by_session
from paylinks.services import analytics as analytics_services
from paylinks.services import payments as payment_services

from . import public_schema as schema
from .errors import ApiError
from .throttles import CheckoutIPThrottle, CheckoutLinkThrottle, PublicIPThrottle

MAX_BODY_BYTES = 16 * 1024
STATUS_SYNC_INTERVAL = timedelta(seconds=3)


class PublicView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicIPThrottle]


def _merchant(link: PaymentLink) -> dict[str, Any]:
    merchant = link.merchant
    return {
        "name": merchant.name,
        "brand_color": merchant.brand_color,
        "logo_url": merchant.logo.url if merchant.logo else None,
        "support_email": merchant.support_email or None,
    }


def _money(minor: int | None, currency: str) -> dict[str, Any] | None:
    if minor is None:
        return None
    return {"value": minor, "display": money.format_money(minor, currency)}


def currency_data(code: str) -> dict[str, Any]:
    """A currency as every answer carries it, from ``paylinks.money`` (the one place that
    knows its rules): the code, the minor unit's decimal places, the places a person sees
    and types, and the step every amount must be a multiple of."""
    currency = money.get_currency(code)
    return {
        "currency": currency.code,
        "currency_exponent": currency.exponent,
        "currency_decimals": currency.places,
        "currency_step": currency.step,
    }


def link_data(link: PaymentLink, state: str) -> dict[str, Any]:
    custom = None
    if link.amount_type == AmountType.CUSTOMER:
        custom = {
            "min": _money(link.effective_min, link.currency),
            "max": _money(link.effective_max, link.currency),
            "preset": _money(link.custom_amount_preset, link.currency),
        }
    return {
        "slug": link.slug,
        "state": state,
        "title": link.title,
        "description": link.description,
        "merchant": _merchant(link),
        **currency_data(link.currency),
        "amount_type": link.amount_type,
        "amount": _money(link.amount, link.currency),
        "custom_amount": custom,
        "collect": {
            "email": True,
            "name": link.collect_name,
            "phone": link.collect_phone,
            "billing_address": link.collect_billing_address,
        },
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
        "inactive_message": link.effective_inactive_message
        if state == LinkState.INACTIVE
        else None,
    }


def _valid(request: Request, serializer_class: type[Serializer]) -> dict[str, Any]:
    """The request body, checked by ``serializer_class`` (``public_schema``): too large
    or not a JSON object is a 400, and so is the first field it refuses, with its
    message (no ``field``: the public API's errors never had one)."""
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
        raise ApiError("payload_too_large", "The request body is too large.", 400)
    serializer = serializer_class(data=request.data if request.body else {})
    if not serializer.is_valid():
        raise ApiError("invalid_request", schema.first_error(serializer.errors), 400)
    return dict(serializer.validated_data)


class LinkView(PublicView):
    @extend_schema(summary="A payment link as a customer sees it", responses=schema.LINK_RESPONSES)
    def get(self, request: Request, slug: str) -> Response:
        link = link_get_public(slug)
        if link is None:
            raise ApiError("not_found", "This payment link does not exist.", 404)
        return Response(link_data(link, link_state(link)))


class CheckoutCreateView(PublicView):
    throttle_classes = [CheckoutIPThrottle, CheckoutLinkThrottle]

    @extend_schema(
        summary="Start a hosted checkout for a link",
        request=schema.PublicCheckoutRequest,
        responses=schema.CHECKOUT_RESPONSES,
    )
    def post(self, request: Request, slug: str) -> Response:
        data = _valid(request, schema.PublicCheckoutRequest)
        key = request.headers.get("Idempotency-Key", "")
        started = payment_services.checkout_start(
            slug=slug,
            amount=data.get("amount"),
            email=data["email"],
            idempotency_key=key,
        )
        payment = started.payment
        body = {
            "checkout_url": started.checkout_url,
            "session_id": started.session_id,
            "payment_id": payment.public_id,
            "amount": _money(payment.amount, payment.currency),
            **currency_data(payment.currency),
            "expires_at": payment.expires_at.isoformat() if payment.expires_at else None,
        }
        return Response(body, status=201 if started.created else 200)


def _sync_if_stale(payment: Payment) -> Payment:
    """A pending payment is re-checked with the gateway at most every few seconds, so the
    confirmation page is right even when a webhook is late."""
    if payment.status != PaymentStatus.PENDING or not payment.gateway_session_id:
        return payment
    if not cache.add(f"paylinks:status-sync:{payment.pk}", 1, STATUS_SYNC_INTERVAL.seconds):
        return payment
    try:
        return payment_services.payment_refresh(payment=payment)
    except (GatewayError, payment_services.PaymentMismatch):
        return payment


def _after_payment(link: PaymentLink) -> dict[str, Any]:
    if link.after_payment == AfterPayment.REDIRECT and link.redirect_url:
        return {"type": "redirect", "url": link.redirect_url}
    return {"type": "message", "message": link.confirmation_message or None}


class CheckoutStatusView(PublicView):
    throttle_classes = [PublicIPThrottle]

    @extend_schema(summary="The status of a checkout session", responses=schema.STATUS_RESPONSES)
    def get(self, request: Request, session_id: str) -> Response:
        payment = payment_get_by_session(session_id)
        if payment is None:
            raise ApiError("not_found", "This checkout session does not exist.", 404)
        payment = _sync_if_stale(payment)
        link = payment.link
        failed = payment.status in (
            PaymentStatus.FAILED,
            PaymentStatus.EXPIRED,
            PaymentStatus.CANCELED,
        )
        return Response(
            {
                "session_id": session_id,
                "status": payment.status,
                "processing": payment.status == PaymentStatus.PENDING
                and payment.session_completed_at is not None,
                "amount": _money(payment.amount, payment.currency),
                **currency_data(payment.currency),
                "payment_intent_id": payment.payment_intent_id or None,
                "link": {"slug": link.slug, "title": link.title},
                "merchant": _merchant(link),
                "after_payment": _after_payment(link),
                "failure": {"code": payment.failure_code, "message": payment.failure_message}
                if failed and payment.failure_code
                else None,
                "retry_url": link.public_url,
            }
        )


class CheckoutCancelView(PublicView):
    @extend_schema(
        summary="The customer left the hosted checkout",
        request=None,
        responses=schema.CANCEL_RESPONSES,
    )
    def post(self, request: Request, payment_id: str) -> Response:
        payment = payment_get_by_public_id(payment_id)
        if payment is None:
            raise ApiError("not_found", "This payment does not exist.", 404)
        payment = payment_services.checkout_cancel(payment=payment)
        return Response(
            {"payment_id": payment.public_id, "status": payment.status, "link": payment.link.slug}
        )


def not_found(request: Any, *args: Any, **kwargs: Any) -> JsonResponse:
    return JsonResponse({"error": {"code": "not_found", "message": "Not found."}}, status=404)


class LinkViewRecordView(PublicView):
    @extend_schema(
        summary="Count a visit to a link's checkout page",
        request=schema.PublicViewRequest,
        responses=schema.VIEW_RESPONSES,
    )
    def post(self, request: Request, slug: str) -> Response:
        visitor = _valid(request, schema.PublicViewRequest)["visitor"]
        link = link_get_public(slug)
        if link is None:
            raise ApiError("not_found", "This payment link does not exist.", 404)
        recorded = analytics_services.link_view_record(link=link, visitor=visitor)
        return Response({"recorded": recorded}, status=202)
