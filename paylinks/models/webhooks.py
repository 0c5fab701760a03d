from __future__ import annotations

from django.db import models
from django.db.models import Q

from paylinks.crypto import EncryptedJSONField


class WebhookEvent(models.Model):
    """The webhook inbox: every verified event, stored before it is acknowledged.

    A row is unique per (gateway, event id), so a duplicate delivery is recognised
    before any processing. Processing happens later, from this row; a failure keeps the
    row with its error and a time for the next attempt.

    The payload (the event as the gateway sent it, customer details included) is
    encrypted with the customer-data key; the columns that route it stay readable.
    Finished events are deleted after ``PAYLINKS_WEBHOOK_RETENTION_DAYS`` (the sweeper).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed, will retry"

    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True)
    payload = EncryptedJSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    #: The X-Request-ID of the delivery that stored it: its processing logs under the same
    #: id, in whichever worker and however late (paylinks/logcontext.py).
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="webhook_unique_event")
        ]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="webhook_unfinished",
            ),
            # Retention: finished events, oldest first (none is in it when first stored).
            models.Index(
                fields=["processed_at"],
                condition=Q(status__in=["processed", "ignored"]),
                name="webhook_finished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
