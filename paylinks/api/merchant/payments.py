"""Payments (list with filters, retrieve with the timeline) and their refunds."""

from __future__ import annotations

import hashlib
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from paylinks.api.errors import ApiError
from paylinks.api.schema import COMMON, errors
from paylinks.models import ApiScope, Payment, PaymentStatus, RefundReason
from paylinks.selectors.payments import (
    PaymentFilters,
    payment_find,
    payments_filtered,
    payments_of_merchant,
    refunds_of,
)
from paylinks.services import refunds as refund_services

from .base import IDEMPOTENCY_KEY, MerchantApi, paginate
from .outputs import (
    PaymentDetailOutput,
    PaymentOutput,
    PaymentPage,
    RefundOutput,
    RefundPage,
    render,
)

TAGS = ["Payments"]
PAYMENT_ID = OpenApiParameter(
    "payment_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Paylinks' id (`pay_…`), the gateway's payment intent (`pi_…`) or its "
    "checkout session (`cs_…`).",
)


def _payment(view: MerchantApi, payment_id: str) -> Payment:
    payment = payment_find(view.merchant, payment_id)
    if payment is None:
        raise ApiError("not_found", "No payment with this id.", 404)
    return payment


class PaymentListApi(MerchantApi):
    required_scope = ApiScope.PAYMENTS_READ

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False)
        currency = serializers.CharField(required=False, min_length=3, max_length=3)
        method = serializers.CharField(
            required=False, max_length=40, help_text="A payment method type: card, sepa_debit, …"
        )
        link = serializers.CharField(required=False, max_length=64, help_text="A link's id.")
        created_after = serializers.DateTimeField(
            required=False, help_text="Created at or after this moment (ISO 8601)."
        )
        created_before = serializers.DateTimeField(
            required=False, help_text="Created before this moment (ISO 8601)."
        )
        amount_min = serializers.IntegerField(
            required=False, min_value=0, max_value=10**15, help_text="In minor units."
        )
        amount_max = serializers.IntegerField(
            required=False, min_value=0, max_value=10**15, help_text="In minor units."
        )
        cursor = serializers.CharField(required=False, help_text="From `next` or `previous`.")
        limit = serializers.IntegerField(required=False, min_value=1, max_value=100)

    OutputSerializer = PaymentOutput

    @extend_schema(
        operation_id="payments_list",
        summary="List payments",
        description="Newest first. Filters combine; amounts are compared in minor units, "
        "so an amount range is only meaningful together with `currency`.",
        tags=TAGS,
        parameters=[FilterSerializer],
        responses={200: PaymentPage, **errors(*COMMON)},
    )
    def get(self, request: Request) -> Response:
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = PaymentFilters(
            status=data.get("status", ""),
            currency=data.get("currency", ""),
            method=data.get("method", ""),
            link=data.get("link", ""),
            created_from=data.get("created_after"),
            created_to=data.get("created_before"),
            amount_min=data.get("amount_min"),
            amount_max=data.get("amount_max"),
        )
        payments = payments_filtered(payments_of_merchant(self.merchant), filters)
        return paginate(self, payments, self.OutputSerializer)


class PaymentRetrieveApi(MerchantApi):
    required_scope = ApiScope.PAYMENTS_READ
    OutputSerializer = PaymentDetailOutput

    @extend_schema(
        operation_id="payments_retrieve",
        description="By Paylinks' id (`pay_…`), the gateway's payment intent (`pi_…`) or "
        "checkout session (`cs_…`), with its timeline, oldest first.",
        summary="Retrieve a payment with its timeline",
        tags=TAGS,
        parameters=[PAYMENT_ID],
        responses={200: OutputSerializer, **errors(*COMMON, 404)},
    )
    def get(self, request: Request, payment_id: str) -> Response:
        return Response(render(self.OutputSerializer, _payment(self, payment_id)))


class RefundListApi(MerchantApi):
    required_scope = ApiScope.PAYMENTS_READ

    class FilterSerializer(serializers.Serializer):
        cursor = serializers.CharField(required=False, help_text="From `next` or `previous`.")
        limit = serializers.IntegerField(required=False, min_value=1, max_value=100)

    OutputSerializer = RefundOutput

    @extend_schema(
        operation_id="refunds_list",
        description="Newest first, with where each refund stands with the gateway.",
        summary="List a payment's refunds",
        tags=["Refunds"],
        parameters=[PAYMENT_ID, FilterSerializer],
        responses={200: RefundPage, **errors(*COMMON, 404)},
    )
    def get(self, request: Request, payment_id: str) -> Response:
        payment = _payment(self, payment_id)
        refunds = refunds_of(payment).select_related("payment")
        return paginate(self, refunds, self.OutputSerializer)


REASONS = [(v, label) for v, label in RefundReason.choices if v != RefundReason.OVER_LIMIT]


class RefundCreateApi(MerchantApi):
    required_scope = ApiScope.REFUNDS_WRITE

    @extend_schema_serializer(component_name="RefundCreateInput")
    class InputSerializer(serializers.Serializer):
        amount = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            max_value=10**15,
            help_text="In minor units; leave out to refund everything not yet refunded.",
        )
        reason = serializers.ChoiceField(
            choices=REASONS, required=False, default=RefundReason.REQUESTED_BY_CUSTOMER
        )
        note = serializers.CharField(required=False, allow_blank=True, max_length=255)

    OutputSerializer = RefundOutput

    @extend_schema(
        operation_id="refunds_create",
        summary="Refund a payment, in full or in part",
        description="Never more than what is left to refund, even when two requests race. "
        "With an Idempotency-Key the gateway is asked with a key derived from it, so a "
        "retried refund can never pay twice.",
        tags=["Refunds"],
        parameters=[PAYMENT_ID, IDEMPOTENCY_KEY],
        request=InputSerializer,
        responses={201: OutputSerializer, **errors(*COMMON, 404, 413, 422)},
    )
    def post(self, request: Request, payment_id: str) -> Response:
        key = request.headers.get("Idempotency-Key", "")

        def run() -> tuple[int, Any]:
            payment = _payment(self, payment_id)
            data = self.InputSerializer(data=self.body(request))
            data.is_valid(raise_exception=True)
            refund = refund_services.refund_create(
                payment=payment,
                actor=None,
                api_client=self.api_client,
                amount=data.validated_data.get("amount"),
                reason=data.validated_data["reason"],
                note=data.validated_data.get("note", ""),
                idempotency_key=_refund_key(self, key),
            )
            return 201, render(self.OutputSerializer, refund)

        return self.idempotent(request, run)


def _refund_key(view: MerchantApi, key: str) -> str:
    """The gateway's idempotency key for a refund asked with this Idempotency-Key."""
    if not key:
        return ""
    return f"api-{view.api_client.pk}-{hashlib.sha256(key.encode()).hexdigest()[:48]}"
