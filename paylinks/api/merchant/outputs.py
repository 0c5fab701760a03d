"""How the merchant API writes links, payments and refunds: money as an integer in the
currency's minor unit (``{"value": 2500, "display": "USD 25.00"}``) next to the same four
currency fields as the public API (``paylinks.api.public.currency_data``)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from paylinks import money
from paylinks.api.schema import page_of
from paylinks.labels import payment_method_label
from paylinks.models import (
    AfterPayment,
    AmountType,
    Payment,
    PaymentEvent,
    PaymentLink,
    PaymentStatus,
    Refund,
    RefundReason,
)
from paylinks.selectors.links import link_completed_count
from paylinks.selectors.payments import payment_timeline

_SHARED: dict[type[serializers.Serializer], serializers.Serializer] = {}


def _shared(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    shared = _SHARED.get(serializer_class)
    if shared is None:
        shared = _SHARED.setdefault(serializer_class, serializer_class())
    return shared


def render(serializer_class: type[serializers.Serializer], obj: Any) -> dict[str, Any]:
    """``serializer_class(obj).data``, without building the serializer's fields again.

    DRF deep-copies every declared field for each serializer instance; for these output
    serializers (30 fields, several nested) that copy cost more than the rest of a
    request. Writing out is read-only, so one instance per class serves every request.
    """
    return dict(_shared(serializer_class).to_representation(obj))


def render_many(serializer_class: type[serializers.Serializer], objs: Any) -> list[Any]:
    shared = _shared(serializer_class)
    return [dict(shared.to_representation(obj)) for obj in objs]


class MoneyOutput(serializers.Serializer):
    value = serializers.IntegerField(help_text="In the currency's minor unit (cents, öre, yen).")
    display = serializers.CharField(help_text="For people, with the currency: “USD 25.00”.")


def money_data(minor: int | None, currency: str) -> dict[str, Any] | None:
    if minor is None:
        return None
    return {"value": minor, "display": money.format_money(minor, currency)}


class CurrencyFields(serializers.Serializer):
    """``currency`` and how to read its amounts, from ``paylinks.money``."""

    currency = serializers.SerializerMethodField(help_text="ISO 4217 code, upper case.")
    currency_exponent = serializers.SerializerMethodField(
        help_text="Decimal places of the minor unit: amounts are value / 10**exponent."
    )
    currency_decimals = serializers.SerializerMethodField(
        help_text="Decimal places a person sees and types (0 for ISK and HUF at Stripe)."
    )
    currency_step = serializers.SerializerMethodField(
        help_text="Every amount must be a multiple of this many minor units."
    )

    def _currency(self, obj: Any) -> money.Currency:
        return money.get_currency(obj.currency)

    def get_currency(self, obj: Any) -> str:
        return self._currency(obj).code

    def get_currency_exponent(self, obj: Any) -> int:
        return self._currency(obj).exponent

    def get_currency_decimals(self, obj: Any) -> int:
        return self._currency(obj).places

    def get_currency_step(self, obj: Any) -> int:
        return self._currency(obj).step


class CustomAmountOutput(serializers.Serializer):
    min = MoneyOutput(help_text="The least a customer may pay (the currency's minimum unless set).")
    max = MoneyOutput(help_text="The most a customer may pay.")
    preset = MoneyOutput(allow_null=True, help_text="Pre-filled on the payment page, or null.")


class AfterPaymentOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["message", "redirect"])
    message = serializers.CharField(required=False, allow_null=True)
    url = serializers.CharField(required=False)


class CollectOutput(serializers.Serializer):
    email = serializers.BooleanField(help_text="Always true: receipts need it.")
    name = serializers.BooleanField()
    phone = serializers.BooleanField()
    billing_address = serializers.BooleanField()


class QuantityOutput(serializers.Serializer):
    min = serializers.IntegerField()
    max = serializers.IntegerField(
        help_text="The most units one payment buys: quantity_max, at most 999, and no more "
        "than the currency's largest charge allows."
    )


class LinkOutput(CurrencyFields):
    id = serializers.CharField(source="slug", help_text="The link's id: the code in its URL.")
    object = serializers.SerializerMethodField()
    url = serializers.CharField(source="public_url", help_text="Where customers pay.")
    state = serializers.SerializerMethodField(
        help_text="What a customer meets: active, expired, inactive or sold_out."
    )
    active = serializers.BooleanField(source="is_active")
    title = serializers.CharField()
    description = serializers.CharField()
    amount_type = serializers.ChoiceField(choices=AmountType.choices)
    amount = serializers.SerializerMethodField()
    custom_amount = serializers.SerializerMethodField()
    quantity = serializers.SerializerMethodField(
        help_text="When the customer chooses a quantity (quantity_enabled); null: one unit."
    )
    expires_at = serializers.DateTimeField(allow_null=True)
    payment_limit = serializers.IntegerField(allow_null=True)
    completed_payments = serializers.SerializerMethodField(
        help_text="What payment_limit counts: payments that took money, or on a link with "
        "a quantity the units they bought (the same as units_sold)."
    )
    units_sold = serializers.SerializerMethodField(
        help_text="Units bought by payments that took money (one per payment without a quantity)."
    )
    inactive_message = serializers.CharField(source="effective_inactive_message")
    after_payment = serializers.SerializerMethodField()
    collect = serializers.SerializerMethodField()
    metadata = serializers.DictField(child=serializers.CharField())
    image_url = serializers.URLField(
        allow_null=True,
        help_text="The product image's absolute address (uploaded in the console), or null.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_object(self, link: PaymentLink) -> str:
        return "payment_link"

    def get_state(self, link: PaymentLink) -> str:
        state = getattr(link, "state", None)
        if state:
            return str(state)
        return str(link.state_at(timezone.now(), link_completed_count(link)).value)

    @extend_schema_field(MoneyOutput(allow_null=True))
    def get_amount(self, link: PaymentLink) -> dict[str, Any] | None:
        return money_data(link.amount, link.currency)

    @extend_schema_field(CustomAmountOutput(allow_null=True))
    def get_custom_amount(self, link: PaymentLink) -> dict[str, Any] | None:
        if link.amount_type != AmountType.CUSTOMER:
            return None
        return {
            "min": money_data(link.effective_min, link.currency),
            "max": money_data(link.effective_max, link.currency),
            "preset": money_data(link.custom_amount_preset, link.currency),
        }

    @extend_schema_field(QuantityOutput(allow_null=True))
    def get_quantity(self, link: PaymentLink) -> dict[str, int] | None:
        if not link.quantity_enabled:
            return None
        return {"min": link.quantity_floor, "max": link.quantity_ceiling}

    def get_completed_payments(self, link: PaymentLink) -> int:
        return link_completed_count(link)

    def get_units_sold(self, link: PaymentLink) -> int:
        return link_completed_count(link)

    @extend_schema_field(AfterPaymentOutput)
    def get_after_payment(self, link: PaymentLink) -> dict[str, Any]:
        if link.after_payment == AfterPayment.REDIRECT:
            return {"type": "redirect", "url": link.redirect_url}
        return {"type": "message", "message": link.confirmation_message or None}

    @extend_schema_field(CollectOutput)
    def get_collect(self, link: PaymentLink) -> dict[str, bool]:
        return {
            "email": True,
            "name": link.collect_name,
            "phone": link.collect_phone,
            "billing_address": link.collect_billing_address,
        }


class LinkRef(serializers.Serializer):
    id = serializers.CharField(source="slug")
    title = serializers.CharField()


class MethodOutput(serializers.Serializer):
    type = serializers.CharField(help_text="Stripe's payment method type: card, sepa_debit, …")
    card_brand = serializers.CharField(allow_null=True)
    card_last4 = serializers.CharField(allow_null=True)
    label = serializers.CharField(help_text="For people: “Visa •••• 4242”.")


class CustomerOutput(serializers.Serializer):
    email = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)


class FailureOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PaymentOutput(CurrencyFields):
    id = serializers.CharField(source="public_id", help_text="Paylinks' id: pay_…")
    object = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    amount = serializers.SerializerMethodField(help_text="The total: unit_amount x quantity.")
    unit_amount = serializers.SerializerMethodField()
    quantity = serializers.IntegerField(help_text="Units bought (1 on a link without quantity).")
    amount_refunded = serializers.SerializerMethodField()
    link = LinkRef()
    payment_intent_id = serializers.SerializerMethodField(help_text="The gateway's pi_… id.")
    checkout_session_id = serializers.SerializerMethodField(help_text="The gateway's cs_… id.")
    method = serializers.SerializerMethodField()
    customer = serializers.SerializerMethodField()
    failure = serializers.SerializerMethodField()
    over_limit = serializers.BooleanField(
        help_text="Paid beyond the link's payment limit, so Paylinks refunded it."
    )
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the checkout session closes (or closed)."
    )

    def get_object(self, payment: Payment) -> str:
        return "payment"

    @extend_schema_field(MoneyOutput)
    def get_amount(self, payment: Payment) -> dict[str, Any] | None:
        return money_data(payment.amount, payment.currency)

    @extend_schema_field(MoneyOutput)
    def get_unit_amount(self, payment: Payment) -> dict[str, Any] | None:
        return money_data(payment.unit_price, payment.currency)

    @extend_schema_field(MoneyOutput)
    def get_amount_refunded(self, payment: Payment) -> dict[str, Any] | None:
        return money_data(payment.amount_refunded, payment.currency)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_payment_intent_id(self, payment: Payment) -> str | None:
        return payment.payment_intent_id or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_checkout_session_id(self, payment: Payment) -> str | None:
        return payment.gateway_session_id or None

    @extend_schema_field(MethodOutput(allow_null=True))
    def get_method(self, payment: Payment) -> dict[str, Any] | None:
        if not payment.payment_method_type:
            return None
        return {
            "type": payment.payment_method_type,
            "card_brand": payment.card_brand or None,
            "card_last4": payment.card_last4 or None,
            "label": payment_method_label(
                payment.payment_method_type, payment.card_brand, payment.card_last4
            ),
        }

    @extend_schema_field(CustomerOutput)
    def get_customer(self, payment: Payment) -> dict[str, Any]:
        return {
            "email": payment.customer_email or None,
            "name": payment.customer_name or None,
            "phone": payment.customer_phone or None,
        }

    @extend_schema_field(FailureOutput(allow_null=True))
    def get_failure(self, payment: Payment) -> dict[str, Any] | None:
        if not (payment.failure_code or payment.failure_message):
            return None
        return {"code": payment.failure_code, "message": payment.failure_message}


class EventOutput(serializers.Serializer):
    kind = serializers.CharField(help_text="created, status_changed, attempt_failed, …")
    from_status = serializers.SerializerMethodField()
    to_status = serializers.SerializerMethodField()
    message = serializers.CharField()
    source = serializers.ChoiceField(choices=PaymentEvent.Source.choices)
    created_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_from_status(self, event: PaymentEvent) -> str | None:
        return event.from_status or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_to_status(self, event: PaymentEvent) -> str | None:
        return event.to_status or None


class PaymentDetailOutput(PaymentOutput):
    timeline = serializers.SerializerMethodField(help_text="What happened, oldest first.")

    @extend_schema_field(EventOutput(many=True))
    def get_timeline(self, payment: Payment) -> list[dict[str, Any]]:
        return render_many(EventOutput, payment_timeline(payment))


class RefundOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    object = serializers.SerializerMethodField()
    payment = serializers.CharField(source="payment.public_id", help_text="The payment's pay_… id.")
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField(source="payment.currency")
    reason = serializers.ChoiceField(choices=RefundReason.choices)
    note = serializers.CharField()
    status = serializers.ChoiceField(choices=Refund.Status.choices)
    created_at = serializers.DateTimeField()

    def get_object(self, refund: Refund) -> str:
        return "refund"

    @extend_schema_field(MoneyOutput)
    def get_amount(self, refund: Refund) -> dict[str, Any] | None:
        return money_data(refund.amount, refund.payment.currency)


LinkPage = page_of(LinkOutput, "LinkPage")
PaymentPage = page_of(PaymentOutput, "PaymentPage")
RefundPage = page_of(RefundOutput, "RefundPage")
