"""The public API's requests and answers, described for the OpenAPI schema.

``paylinks/api/public.py`` writes its answers as plain dicts (its contract is what the
checkout page reads, byte for byte); these serializers only say what those dicts hold,
so the public endpoints appear in ``/api/v1/schema/`` with real types, and schemathesis
checks every answer against them.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from paylinks.models import AmountType, LinkState, PaymentStatus

from .schema import ErrorOutput, errors


class PublicMoney(serializers.Serializer):
    value = serializers.IntegerField(help_text="In the currency's minor unit.")
    display = serializers.CharField(help_text="For people, with the currency.")


class PublicCurrency(serializers.Serializer):
    currency = serializers.CharField()
    currency_exponent = serializers.IntegerField()
    currency_decimals = serializers.IntegerField()
    currency_step = serializers.IntegerField()


class PublicMerchant(serializers.Serializer):
    name = serializers.CharField()
    brand_color = serializers.CharField()
    logo_url = serializers.CharField(allow_null=True)
    support_email = serializers.CharField(allow_null=True)


class PublicCustomAmount(serializers.Serializer):
    min = PublicMoney()
    max = PublicMoney()
    preset = PublicMoney(allow_null=True)


class PublicCollect(serializers.Serializer):
    email = serializers.BooleanField()
    name = serializers.BooleanField()
    phone = serializers.BooleanField()
    billing_address = serializers.BooleanField()


class PublicLink(PublicCurrency):
    slug = serializers.CharField()
    state = serializers.ChoiceField(choices=LinkState.choices)
    title = serializers.CharField()
    description = serializers.CharField()
    merchant = PublicMerchant()
    amount_type = serializers.ChoiceField(choices=AmountType.choices)
    amount = PublicMoney(allow_null=True)
    custom_amount = PublicCustomAmount(allow_null=True)
    collect = PublicCollect()
    expires_at = serializers.DateTimeField(allow_null=True)
    inactive_message = serializers.CharField(allow_null=True)


class PublicCheckoutRequest(serializers.Serializer):
    email = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=254)
    amount = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="For a link where the customer chooses: the amount in major units, "
        'as typed ("12.50"). Leave out for a fixed price.',
    )


class PublicCheckoutStarted(PublicCurrency):
    checkout_url = serializers.CharField()
    session_id = serializers.CharField()
    payment_id = serializers.CharField()
    amount = PublicMoney()
    expires_at = serializers.DateTimeField(allow_null=True)


class PublicLinkRef(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()


class PublicAfterPayment(serializers.Serializer):
    type = serializers.ChoiceField(choices=["message", "redirect"])
    message = serializers.CharField(required=False, allow_null=True)
    url = serializers.CharField(required=False)


class PublicFailure(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PublicCheckoutStatus(PublicCurrency):
    session_id = serializers.CharField()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    processing = serializers.BooleanField()
    amount = PublicMoney()
    payment_intent_id = serializers.CharField(allow_null=True)
    link = PublicLinkRef()
    merchant = PublicMerchant()
    after_payment = PublicAfterPayment()
    failure = PublicFailure(allow_null=True)
    retry_url = serializers.CharField()


class PublicCancelled(serializers.Serializer):
    payment_id = serializers.CharField()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    link = serializers.CharField(help_text="The link's slug.")


class PublicViewRequest(serializers.Serializer):
    visitor = serializers.CharField(
        min_length=16, max_length=128, help_text="An opaque id the page keeps per visitor."
    )


class PublicViewRecorded(serializers.Serializer):
    recorded = serializers.BooleanField()


PUBLIC = (429, 503)
LINK_RESPONSES = {200: PublicLink, **errors(404, *PUBLIC)}
CHECKOUT_RESPONSES = {
    201: OpenApiResponse(PublicCheckoutStarted, description="A new checkout."),
    200: OpenApiResponse(
        PublicCheckoutStarted, description="The checkout this Idempotency-Key already started."
    ),
    **errors(400, 404, 409, 410, 429, 502, 503),
}
STATUS_RESPONSES = {200: PublicCheckoutStatus, **errors(404, *PUBLIC)}
CANCEL_RESPONSES = {200: PublicCancelled, **errors(400, 404, 409, *PUBLIC)}
VIEW_RESPONSES = {202: PublicViewRecorded, **errors(400, 404, *PUBLIC)}

__all__ = [
    "CANCEL_RESPONSES",
    "CHECKOUT_RESPONSES",
    "LINK_RESPONSES",
    "STATUS_RESPONSES",
    "VIEW_RESPONSES",
    "ErrorOutput",
    "PublicCheckoutRequest",
    "PublicViewRequest",
]
