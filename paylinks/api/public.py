"""The public API the checkout page uses: no authentication, rate-limited, JSON only.

Unknown, malformed and foreign identifiers all answer the same 404, so the API tells
nobody which links or sessions exist beyond the one they hold.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from paylinks import money
from paylinks.gateways import GatewayError
from paylinks.models import AfterPayment, AmountType, LinkState, Payment, PaymentLink, PaymentStatus
from paylinks.models.links import cancel_token_valid
from paylinks.selectors.links import link_get_public, link_places, link_state
from paylinks.selectors.payments import (
    payment_get_by_public_id,
    payment_get_by_session,
    receipt_sent,
)
from paylinks.services import analytics as analytics_services
from paylinks.services import payments as payment_services

from . import public_schema as schema
from .errors import ApiError
from .negotiation import JSON, wants_plain_json
from .throttles import CheckoutIPThrottle, CheckoutLinkThrottle, PublicIPThrottle, client_ident

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


#: The state a customer meets when open checkouts hold every place left on a limited link:
#: not sold out (a place comes back when a checkout is abandoned), not payable right now.
PLACES_HELD = "places_held"


def public_state(link: PaymentLink) -> tuple[str, int | None, int | None]:
    """The link's state as a customer meets it now, for ``places_held`` in how many
    seconds the first open checkout expires (None when only slow payments hold places),
    and for a limited link the units (places) a customer can start paying for now."""
    now = timezone.now()
    if link.payment_limit is None:
        return link_state(link, now), None, None
    places = link_places(link, now)
    state = link.state_at(now, places.completed)
    left = max(0, link.payment_limit - places.held)
    if state != LinkState.ACTIVE or places.held < link.payment_limit:
        return state, None, left
    if places.next_free_at is None:
        return PLACES_HELD, None, left
    return PLACES_HELD, max(1, math.ceil((places.next_free_at - now).total_seconds())), left


def link_data(
    link: PaymentLink, state: str, retry_after: int | None = None, units_left: int | None = None
) -> dict[str, Any]:
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
        # Absolute, on Django's own address (paylinks/logos.py serves it); with its size,
        # so the page reserves the space before the image arrives.
        "image_url": link.image_url,
        "image_width": link.image_width if link.image else None,
        "image_height": link.image_height if link.image else None,
        "merchant": _merchant(link),
        **currency_data(link.currency),
        "amount_type": link.amount_type,
        "amount": _money(link.amount, link.currency),
        "custom_amount": custom,
        "quantity": {"min": link.quantity_floor, "max": link.quantity_ceiling}
        if link.quantity_enabled and link.amount_type == AmountType.FIXED
        else None,
        "units_left": units_left,
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
        # places_held only: seconds until the first open checkout gives its place back.
        "retry_after": retry_after,
        "places_message": payment_services.places_held_message(retry_after)
        if state == PLACES_HELD
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


def _link_read(slug: str) -> dict[str, Any]:
    link = link_get_public(slug)
    if link is None:
        raise ApiError("not_found", "This payment link does not exist.", 404)
    state, retry_after, units_left = public_state(link)
    return link_data(link, state, retry_after, units_left)


class LinkView(PublicView):
    # The busiest request Paylinks serves: every view of a checkout page reads it.
    # A GET or HEAD that wants plain JSON (what the checkout page sends) is answered by
    # _plain_json_read: the same rate limit, renderer and headers, without DRF's
    # per-request Request and Response objects (docs/decisions.md, "The public link read
    # skips DRF's request cycle"). Every other request, and every error, goes through
    # DRF's dispatch as before. (A comment, not a docstring: DRF publishes a view's
    # docstring in its OPTIONS answer and the OpenAPI schema.)

    @extend_schema(summary="A payment link as a customer sees it", responses=schema.LINK_RESPONSES)
    def get(self, request: Request, slug: str) -> Response:
        return Response(_link_read(slug))

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method in ("GET", "HEAD") and wants_plain_json(request):
            return self._plain_json_read(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def _plain_json_read(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """What ``dispatch`` answers: DRF's negotiation would pick the JSON renderer and
        authentication and ``AllowAny`` cannot refuse, so only the throttles run first;
        the body is the JSON renderer's, the headers those ``finalize_response`` sets."""
        self.args, self.kwargs = args, kwargs
        try:
            self.check_throttles(request)
            data = _link_read(kwargs["slug"])
        except Exception as exc:
            return self._answer_exception(request, exc)
        response = HttpResponse(_JSON.render(data, JSON), content_type=JSON)
        for name, value in self.default_response_headers.items():
            response[name] = value
        return response

    def _answer_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        """The rest of DRF's ``dispatch`` for an exception: the API's error answer (or
        the exception re-raised), rendered and finalised by DRF."""
        drf_request = self.initialize_request(request, *self.args, **self.kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        self.format_kwarg = self.get_format_suffix(**self.kwargs)
        neg = self.perform_content_negotiation(drf_request)
        drf_request.accepted_renderer, drf_request.accepted_media_type = neg
        response = self.handle_exception(exc)
        self.response = self.finalize_response(drf_request, response, *self.args, **self.kwargs)
        return self.response


_JSON = JSONRenderer()


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
            quantity=data.get("quantity"),
            email=data["email"],
            idempotency_key=key,
            client=client_ident(request),
        )
        payment = started.payment
        body = {
            "checkout_url": started.checkout_url,
            "session_id": started.session_id,
            "payment_id": payment.public_id,
            "amount": _money(payment.amount, payment.currency),
            "unit_amount": _money(payment.unit_price, payment.currency),
            "quantity": payment.quantity,
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
                "unit_amount": _money(payment.unit_price, payment.currency),
                "quantity": payment.quantity,
                **currency_data(payment.currency),
                "payment_intent_id": payment.payment_intent_id or None,
                "completed_at": payment.completed_at,
                "receipt_sent": receipt_sent(payment),
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
        request=schema.PublicCancelRequest,
        responses=schema.CANCEL_RESPONSES,
    )
    def post(self, request: Request, payment_id: str) -> Response:
        # The token from the cancel address proves the caller was handed that address; it
        # is checked before the payment is looked up, so a ``pay_`` id alone, a wrong
        # token and an unknown id all get the same 404 and nothing else.
        token = _valid(request, schema.PublicCancelRequest)["token"]
        payment = (
            payment_get_by_public_id(payment_id) if cancel_token_valid(payment_id, token) else None
        )
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
