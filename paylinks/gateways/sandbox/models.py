"""The sandbox gateway's own state. It plays Stripe's part, so it keeps what Stripe keeps:
sessions, payment intents (with their charge), refunds and the events it must deliver.
It never stores a full card number: only the brand and the last four digits."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from paylinks.crypto import (
    EncryptedCharField,
    EncryptedEmailField,
    EncryptedJSONField,
    EncryptedTextField,
)


def _id(prefix: str, n: int = 24) -> str:
    return f"{prefix}_{secrets.token_urlsafe(n)[:n].replace('-', 'x').replace('_', 'y')}"


def new_session_id() -> str:
    return _id("cs_test_sbx", 40)


def new_intent_id() -> str:
    return _id("pi_sbx")


def new_charge_id() -> str:
    return _id("ch_sbx")


def new_refund_id() -> str:
    return _id("re_sbx")


def new_event_id() -> str:
    return _id("evt_sbx")


class SandboxSession(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        COMPLETE = "complete"
        EXPIRED = "expired"

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid"
        PAID = "paid"

    id = models.CharField(primary_key=True, max_length=80, default=new_session_id, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    payment_status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    amount_total = models.PositiveBigIntegerField()
    #: Units of the one line item: ``amount_total`` is ``quantity`` x the unit price.
    quantity = models.PositiveIntegerField(default=1)
    currency = models.CharField(max_length=3)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    merchant_name = models.CharField(max_length=200)
    client_reference_id = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict)
    customer_email = EncryptedEmailField(blank=True)
    customer_name = EncryptedCharField(max_length=200, blank=True)
    customer_phone = EncryptedCharField(max_length=40, blank=True)
    billing_address = EncryptedTextField(blank=True)
    collect_name = models.BooleanField(default=False)
    collect_phone = models.BooleanField(default=False)
    collect_billing_address = models.BooleanField(default=False)
    success_url = models.CharField(max_length=2000)
    cancel_url = models.CharField(max_length=2000)
    expires_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"], name="sbx_session_open")]

    def __str__(self) -> str:
        return self.id


class SandboxPaymentIntent(models.Model):
    class Status(models.TextChoices):
        REQUIRES_PAYMENT_METHOD = "requires_payment_method"
        REQUIRES_ACTION = "requires_action"
        PROCESSING = "processing"
        SUCCEEDED = "succeeded"
        CANCELED = "canceled"

    id = models.CharField(primary_key=True, max_length=80, default=new_intent_id, editable=False)
    session = models.OneToOneField(
        SandboxSession, on_delete=models.CASCADE, related_name="payment_intent"
    )
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=30, choices=Status.choices, default=Status.REQUIRES_PAYMENT_METHOD
    )
    payment_method_type = models.CharField(max_length=30, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    charge_id = models.CharField(max_length=80, blank=True)
    amount_refunded = models.PositiveBigIntegerField(default=0)
    last_error_code = models.CharField(max_length=60, blank=True)
    last_error_decline_code = models.CharField(max_length=60, blank=True)
    last_error_message = models.CharField(max_length=255, blank=True)
    settle_at = models.DateTimeField(null=True, blank=True)
    settle_outcome = models.CharField(max_length=10, blank=True)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "settle_at"], name="sbx_intent_settle")]

    def __str__(self) -> str:
        return self.id


class SandboxRefund(models.Model):
    id = models.CharField(primary_key=True, max_length=80, default=new_refund_id, editable=False)
    payment_intent = models.ForeignKey(
        SandboxPaymentIntent, on_delete=models.CASCADE, related_name="refunds"
    )
    amount = models.PositiveBigIntegerField()
    reason = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=20, default="succeeded")
    idempotency_key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.id


class SandboxEvent(models.Model):
    """The outbox: events the sandbox owes the webhook endpoint, delivered with retries.

    The payload carries the customer's details, so it is encrypted like them; delivered
    events are deleted after ``PAYLINKS_WEBHOOK_RETENTION_DAYS``.
    """

    id = models.CharField(primary_key=True, max_length=80, default=new_event_id, editable=False)
    type = models.CharField(max_length=100)
    payload = EncryptedJSONField()
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    given_up = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(delivered_at__isnull=True, given_up=False),
                name="sbx_event_undelivered",
            ),
            models.Index(
                fields=["delivered_at"],
                condition=models.Q(delivered_at__isnull=False),
                name="sbx_event_delivered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
