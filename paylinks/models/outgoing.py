"""Outgoing webhooks: a merchant's endpoints, the event outbox, and one delivery per
(event, endpoint).

An ``OutgoingEvent`` is written in the same transaction as the change it tells about (a
payment's transition, a link sold out or deactivated): no event without its change and
no change without its event. Its ``public_id`` (``evt_...``) is the ``webhook-id`` of every
delivery attempt, so a receiver recognises a retry. Deliveries are sent by the worker
(``paylinks.notifications.delivery``).
"""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from paylinks.crypto import EncryptedCharField, EncryptedJSONField

from .merchants import Merchant


class EventType(models.TextChoices):
    PAYMENT_SUCCEEDED = "payment.succeeded", "A payment succeeded"
    PAYMENT_FAILED = "payment.failed", "A payment failed"
    PAYMENT_EXPIRED = "payment.expired", "A checkout expired unpaid"
    PAYMENT_REFUNDED = "payment.refunded", "A payment was refunded in full"
    PAYMENT_PARTIALLY_REFUNDED = "payment.partially_refunded", "A payment was partly refunded"
    LINK_SOLD_OUT = "link.sold_out", "A link reached its payment limit"
    LINK_EXPIRED = "link.expired", "A link passed its expiry date"
    LINK_DEACTIVATED = "link.deactivated", "A link was deactivated"
    TEST = "test", "Test event (sent from the console)"


#: What an endpoint can subscribe to (the test event goes to the endpoint it is sent to).
SUBSCRIBABLE = [value for value in EventType.values if value != EventType.TEST]


def new_event_id() -> str:
    return f"evt_{secrets.token_urlsafe(18)}"


def new_signing_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    """Where a merchant wants its events POSTed, signed with the endpoint's secret."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.URLField("URL", max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="The event types sent to this endpoint.")
    enabled = models.BooleanField(default=True)
    secret = EncryptedCharField("signing secret", max_length=100, default=new_signing_secret)
    previous_secret = EncryptedCharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="Every delivery has failed since then."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook endpoint"
        verbose_name_plural = "webhook endpoints"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "enabled"], name="endpoint_merchant")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return event_type == EventType.TEST or event_type in (self.events or [])


class OutgoingEvent(models.Model):
    """The outbox: one thing that happened at a merchant, as its endpoints receive it.

    ``payload`` is the exact JSON body sent (it may hold the customer's e-mail, so it is
    encrypted at rest); ``object_id`` names what it is about (``pay_...`` or a link's id).
    Deleted with its deliveries once they all finished ``PAYLINKS_OUTGOING_RETENTION_DAYS``
    ago (the sweeper); never while one is still waiting or retrying.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=40, unique=True, default=new_event_id)
    type = models.CharField(max_length=40, choices=EventType.choices)
    object_id = models.CharField(max_length=64, blank=True)
    payload = EncryptedJSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="outevent_merchant"),
            models.Index(fields=["type", "object_id"], name="outevent_object"),
            # Retention (notifications.outbox.prune_finished): the oldest events first.
            models.Index(fields=["created_at"], name="outevent_created"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"


class Delivery(models.Model):
    """One event to one endpoint: its attempts, last answer and next try."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Gave up"

    event = models.ForeignKey(OutgoingEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="delivery_unique_pair")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="delivery_due",
            ),
            models.Index(
                fields=["endpoint", "lease_until"],
                condition=Q(status="sending"),
                name="delivery_in_flight",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.endpoint.url}"
