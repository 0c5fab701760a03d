"""The public API's requests and answers, as serializers.

The request serializers (``PublicCheckoutRequest``, ``PublicViewRequest``) are what
``paylinks/api/public.py`` validates bodies with; their error messages are the API's
contract (the checkout page and its tests read them), so they are spelled out here. The
answer serializers say what ``public.py``'s dicts hold, for ``/api/v1/schema/`` and for
schemathesis, which checks every answer against them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.validators import MaxLengthValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
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


class PublicQuantity(serializers.Serializer):
    min = serializers.IntegerField(help_text="The fewest units one payment buys.")
    max = serializers.IntegerField(
        help_text="The most units one payment buys (the link's maximum, at most 999, and no "
        "more than the currency's largest charge allows); units_left may be lower."
    )


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
    image_url = serializers.URLField(
        allow_null=True, help_text="The product image, absolute (PNG, JPEG or WebP)."
    )
    image_width = serializers.IntegerField(allow_null=True, help_text="In pixels.")
    image_height = serializers.IntegerField(allow_null=True, help_text="In pixels.")
    merchant = PublicMerchant()
    amount_type = serializers.ChoiceField(choices=AmountType.choices)
    amount = PublicMoney(allow_null=True)
    custom_amount = PublicCustomAmount(allow_null=True)
    quantity = PublicQuantity(
        allow_null=True,
        help_text="When the customer chooses how many units to buy (fixed-amount links "
        "only); null: one.",
    )
    units_left = serializers.IntegerField(
        allow_null=True,
        help_text="A limited link: the units (payments, for a link without a quantity) a "
        "customer can still start paying for now; null without a limit.",
    )
    collect = PublicCollect()
    expires_at = serializers.DateTimeField(allow_null=True)
    inactive_message = serializers.CharField(allow_null=True)


NOT_AN_OBJECT = "The request body must be a JSON object."


class Text(serializers.CharField):
    """A string as the public API has always taken it: a JSON string or null (read as
    ""), kept exactly as sent (no trimming; the services judge its content), at most
    ``max_length`` characters. Anything else is "<name> must be a string."."""

    def __init__(self, *, max_length: int, **kwargs: Any) -> None:
        super().__init__(
            required=False, allow_null=True, allow_blank=True, trim_whitespace=False, **kwargs
        )
        # CharField's own NUL/surrogate validators would answer differently from before;
        # the services refuse such input with their own messages.
        self.validators = [MaxLengthValidator(max_length, message="")]
        self.max_length = max_length

    def bind(self, field_name: str, parent: Any) -> None:
        super().bind(field_name, parent)
        self.error_messages["invalid"] = f"{field_name} must be a string."
        self.validators[0].message = f"{field_name} is too long."

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


@extend_schema_field(
    {
        "oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}],
        "description": "For a link where the customer chooses: the amount in major units, "
        'as typed ("12.50"). Leave out for a fixed price.',
    }
)
class CustomerAmount(serializers.Field):
    """Passed to the checkout service as sent: it alone decides what an amount is."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}],
        "description": "For a link with a quantity: how many units to buy, a whole number "
        "within the link's quantity.min and quantity.max (default: the minimum). The "
        "server computes the total.",
    }
)
class CustomerQuantity(CustomerAmount):
    """Passed to the checkout service as sent: it alone decides what a quantity is."""


class PublicRequest(serializers.Serializer):
    """A JSON object, or the answer every public endpoint gives to anything else.

    (Raised as a dict: a serializer whose own errors are a plain list breaks DRF's
    ``errors``.)"""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is None:
            raise serializers.ValidationError({"non_field_errors": [NOT_AN_OBJECT]})
        return super().validate_empty_values(data)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": [NOT_AN_OBJECT]})
        return super().to_internal_value(data)


class PublicCheckoutRequest(PublicRequest):
    email = Text(max_length=254, default="")
    amount = CustomerAmount()
    quantity = CustomerQuantity()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {"non_field_errors": [f"Unknown field(s): {', '.join(sorted(unknown))}."]}
                )
        return super().to_internal_value(data)


class PublicCheckoutStarted(PublicCurrency):
    checkout_url = serializers.CharField()
    session_id = serializers.CharField()
    payment_id = serializers.CharField()
    amount = PublicMoney(help_text="The total: unit_amount x quantity.")
    unit_amount = PublicMoney()
    quantity = serializers.IntegerField()
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
    amount = PublicMoney(help_text="The total: unit_amount x quantity.")
    unit_amount = PublicMoney()
    quantity = serializers.IntegerField()
    payment_intent_id = serializers.CharField(allow_null=True)
    completed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the payment succeeded or failed (UTC); null while pending."
    )
    receipt_sent = serializers.BooleanField(
        help_text="Whether the receipt e-mail has gone to the customer (never the address)."
    )
    link = PublicLinkRef()
    merchant = PublicMerchant()
    after_payment = PublicAfterPayment()
    failure = PublicFailure(allow_null=True)
    retry_url = serializers.CharField()


class PublicCancelled(serializers.Serializer):
    payment_id = serializers.CharField()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    link = serializers.CharField(help_text="The link's slug.")


@extend_schema_field(OpenApiTypes.STR)
class CancelToken(serializers.Field):
    """The cancel token, never a reason for a 400: anything that is not a string of a
    token's length reads as no token, so a wrong one gets the same 404 as an unknown
    payment and the answer tells nothing about why."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return data if isinstance(data, str) and len(data) <= 200 else ""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if data is serializers.empty or data is None:
            return True, ""
        return super().validate_empty_values(data)


class PublicCancelRequest(PublicRequest):
    token = CancelToken(
        help_text="The token in the cancel address Paylinks gave the gateway (cancel_url)."
    )


class PublicViewRequest(PublicRequest):
    visitor = Text(max_length=128, default="", help_text="An opaque id the page keeps per visitor.")

    def validate_visitor(self, value: str) -> str:
        if len(value) < 16:
            raise serializers.ValidationError("visitor must be an opaque id of 16-128 characters.")
        return value


def first_error(errors: Any) -> str:
    """The first message of a serializer's errors: what the public API answers with."""
    if isinstance(errors, Mapping):
        return first_error(next(iter(errors.values())))
    if isinstance(errors, list):
        return first_error(errors[0])
    return str(errors)


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
    "PublicCancelRequest",
    "PublicCheckoutRequest",
    "PublicViewRequest",
]
