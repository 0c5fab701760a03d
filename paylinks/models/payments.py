from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from paylinks import money
from paylinks.crypto import (
    EmailSearchHashField,
    EncryptedCharField,
    EncryptedEmailField,
    EncryptedTextField,
)

from .links import PaymentLink
from .merchants import Merchant


def new_public_id() -> str:
    return f"pay_{secrets.token_urlsafe(12)}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"
    CANCELED = "canceled", "Canceled"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


# Forward-only: a payment never returns to an earlier state.
TRANSITIONS: dict[str, frozenset[str]] = {
    PaymentStatus.PENDING: frozenset(
        {
            PaymentStatus.SUCCEEDED,
            PaymentStatus.FAILED,
            PaymentStatus.EXPIRED,
            PaymentStatus.CANCELED,
        }
    ),
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset(
        {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
    ),
}

# Payments that took money: they count against a link's limit and towards revenue.
COMPLETED_STATUSES = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
)


#: What the analytics rollups are computed from (``paylinks.services.rollups``). A payment
#: remembers these as they were read from the database, so the service that changes it can
#: move its contribution to the rollups by the difference, in the same transaction.
ROLLUP_FIELDS = (
    "merchant_id",
    "link_id",
    "created_at",
    "currency",
    "status",
    "payment_method_type",
    "card_brand",
    "failure_code",
    "amount",
    "amount_refunded",
    "quantity",
)
PARTIALLY_LOADED = "partially loaded"


class Payment(models.Model):
    """One customer attempt at paying a link, bound to one gateway checkout session."""

    #: ``ROLLUP_FIELDS`` as last read from (or written to) the database; None for a payment
    #: not read from it, ``PARTIALLY_LOADED`` when some of them were deferred.
    rollup_loaded: tuple[Any, ...] | str | None = None

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="payments")
    link = models.ForeignKey(PaymentLink, on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveBigIntegerField(
        help_text="In the currency's minor unit: the unit amount times the quantity."
    )
    unit_amount = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="The price of one unit, in the currency's minor unit (empty on payments "
        "made before quantities: their amount is one unit's).",
    )
    quantity = models.PositiveIntegerField(default=1, help_text="Units bought.")
    currency = models.CharField(max_length=3, choices=money.CURRENCY_CHOICES)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    gateway = models.CharField(max_length=20)
    gateway_session_id = models.CharField("checkout session", max_length=255, blank=True)
    payment_intent_id = models.CharField("payment intent", max_length=255, blank=True)
    payment_method_type = models.CharField("payment method", max_length=40, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField("card last 4", max_length=4, blank=True)
    customer_email = EncryptedEmailField("customer e-mail", blank=True)
    # A keyed hash of the e-mail, computed whenever the row is written, so support can find
    # a customer's payments by exact e-mail without decrypting every row (paylinks.crypto).
    customer_email_hash = EmailSearchHashField(source="customer_email")
    customer_name = EncryptedCharField(max_length=200, blank=True)
    customer_phone = EncryptedCharField(max_length=40, blank=True)
    billing_address = EncryptedTextField(blank=True)
    checkout_url = models.URLField("checkout URL", max_length=2000, blank=True)
    expires_at = models.DateTimeField(
        "session expires at", null=True, blank=True, help_text="When the checkout session closes."
    )
    idempotency_key = models.CharField(
        max_length=100,
        blank=True,
        help_text="The client's key: a retried checkout reuses this payment.",
    )
    client_key = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="A keyed hash of the address the checkout came from (never the address): "
        "how many places one client holds on a limited link.",
    )
    session_completed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The customer finished checkout (a delayed method may still be processing).",
    )
    over_limit = models.BooleanField(
        default=False, help_text="Succeeded beyond the link's payment limit, so it was refunded."
    )
    failure_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The analytics' direct reads (an amount range, open payments) find what they
            # sum in the index itself: an index-only scan of the period, not its rows.
            models.Index(
                fields=["merchant", "-created_at"],
                include=[
                    "currency",
                    "amount",
                    "amount_refunded",
                    "status",
                    "link",
                    "payment_method_type",
                    "card_brand",
                    "failure_code",
                ],
                name="payment_merchant_created",
            ),
            models.Index(
                fields=["merchant", "status", "-created_at"], name="payment_merchant_status"
            ),
            models.Index(fields=["link", "status"], name="payment_link_status"),
            models.Index(fields=["payment_intent_id"], name="payment_intent"),
            models.Index(
                fields=["customer_email_hash"],
                condition=~Q(customer_email_hash=""),
                name="payment_customer_email_hash",
            ),
            models.Index(
                fields=["status", "expires_at"],
                condition=Q(status="pending"),
                name="payment_pending_expiry",
            ),
            # Payments of more than one unit: the analytics' units sold per link are the
            # paid payments (from the rollups) plus these payments' extra units.
            models.Index(
                fields=["merchant", "-created_at"],
                include=["link", "quantity", "status"],
                condition=Q(quantity__gt=1),
                name="payment_multi_unit",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "gateway_session_id"],
                condition=~Q(gateway_session_id=""),
                name="payment_unique_session",
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=models.F("amount")),
                name="payment_refund_lte_amount",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1)
                & (
                    Q(unit_amount__isnull=True)
                    | Q(amount=models.F("unit_amount") * models.F("quantity"))
                ),
                name="payment_amount_is_unit_times_quantity",
            ),
            models.UniqueConstraint(
                fields=["link", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="payment_unique_idempotency_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {money.format_money(self.amount, self.currency)}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The e-mail's search hash is written with it, even when only the e-mail is saved.
        fields = kwargs.get("update_fields")
        if fields is not None and "customer_email" in fields:
            kwargs["update_fields"] = {*fields, "customer_email_hash"}
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Payment:
        instance = super().from_db(db, field_names, values)
        instance.rollup_loaded = instance.rollup_values()
        return instance

    def refresh_from_db(
        self, using: str | None = None, fields: Any = None, from_queryset: Any = None
    ) -> None:
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        if fields is None:
            self.rollup_loaded = self.rollup_values()
        elif isinstance(self.rollup_loaded, tuple):
            names = {getattr(self._meta.get_field(f), "attname", f) for f in fields}
            self.rollup_loaded = tuple(
                self.__dict__[name] if name in names else old
                for name, old in zip(ROLLUP_FIELDS, self.rollup_loaded, strict=True)
            )

    def rollup_values(self) -> tuple[Any, ...] | str:
        """``ROLLUP_FIELDS`` as they are now (without loading deferred ones)."""
        loaded = self.__dict__
        if any(name not in loaded for name in ROLLUP_FIELDS):
            return PARTIALLY_LOADED
        return tuple(loaded[name] for name in ROLLUP_FIELDS)

    def can_transition_to(self, status: str) -> bool:
        return status in TRANSITIONS.get(self.status, frozenset())

    @property
    def is_completed(self) -> bool:
        return self.status in COMPLETED_STATUSES

    @property
    def amount_display(self) -> str:
        return money.format_money(self.amount, self.currency)

    @property
    def unit_price(self) -> int:
        """One unit's price (a payment from before quantities bought one unit)."""
        return self.unit_amount if self.unit_amount is not None else self.amount


class PaymentEvent(models.Model):
    """One entry in a payment's timeline: what happened, from where, and when."""

    class Source(models.TextChoices):
        GATEWAY = "gateway", "Gateway"
        CONSOLE = "console", "Console"
        API = "api", "API"
        SYSTEM = "system", "System"

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    message = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SYSTEM)
    gateway_event_id = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Small partial indexes for rebuilding the analytics rollups by day: declined
            # attempts and refunds are a few percent of all events, and a checkout's own
            # "created" event never enters them.
            models.Index(
                fields=["created_at"],
                condition=Q(kind="attempt_failed"),
                name="paymentevent_declines",
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(
                    kind="status_changed",
                    to_status__in=["partially_refunded", "refunded"],
                ),
                name="paymentevent_refunds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}→{self.to_status}".strip()


class RefundReason(models.TextChoices):
    REQUESTED_BY_CUSTOMER = "requested_by_customer", "Requested by the customer"
    DUPLICATE = "duplicate", "Duplicate payment"
    FRAUDULENT = "fraudulent", "Fraudulent"
    OVER_LIMIT = "over_limit", "Beyond the link's payment limit"
    OTHER = "other", "Other"


class Refund(models.Model):
    """Money sent back for a payment. The payment's own status follows the gateway's
    ``charge.refunded`` event; these rows stop two refunds from exceeding what was paid."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveBigIntegerField(help_text="In the payment's currency's minor unit.")
    reason = models.CharField(max_length=30, choices=RefundReason.choices)
    note = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    gateway_refund_id = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive")]

    def __str__(self) -> str:
        return f"Refund {money.format_money(self.amount, self.payment.currency)}"
