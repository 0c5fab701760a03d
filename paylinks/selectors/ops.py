"""Figures for the operators' metrics (``/metrics``, project/metrics.py), read at scrape time.

Each is one small query on an index Paylinks already keeps; docs/scaling.md says what
they cost. Nothing here is scoped to a merchant: these are the platform's own figures,
counts only, and never leave the metrics endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from paylinks.models import Delivery, Payment, WebhookEvent


@dataclass(frozen=True)
class InboxFigures:
    pending: int
    failed: int
    #: Seconds since the oldest unfinished event arrived (0 with none).
    oldest_age_seconds: float


def payments_by_status() -> list[tuple[str, str, int]]:
    """(gateway, status, payments) for every combination that has payments."""
    rows = Payment.objects.order_by().values_list("gateway", "status").annotate(n=Count("pk"))
    return [(gateway, status, n) for gateway, status, n in rows]


def inbox_figures(now: datetime | None = None) -> InboxFigures:
    """The webhook inbox's unfinished events (its ``webhook_unfinished`` partial index)."""
    now = now or timezone.now()
    unfinished = WebhookEvent.objects.order_by().filter(
        status__in=[WebhookEvent.Status.PENDING, WebhookEvent.Status.FAILED]
    )
    counts = dict(unfinished.values_list("status").annotate(n=Count("pk")))
    oldest = unfinished.aggregate(oldest=Min("received_at"))["oldest"]
    return InboxFigures(
        pending=counts.get(WebhookEvent.Status.PENDING, 0),
        failed=counts.get(WebhookEvent.Status.FAILED, 0),
        oldest_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    )


@dataclass(frozen=True)
class DeliveryFigures:
    """Outgoing webhook deliveries not finished yet (paylinks/notifications/delivery.py)."""

    waiting: int
    sending: int
    #: Seconds since the oldest unfinished delivery was queued (0 with none).
    oldest_age_seconds: float


def delivery_figures(now: datetime | None = None) -> DeliveryFigures:
    """The outgoing backlog: deliveries waiting for their (next) attempt or being sent
    (the partial indexes on pending and sending deliveries keep this small)."""
    now = now or timezone.now()
    unfinished = Delivery.objects.order_by().filter(
        status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
    )
    counts = dict(unfinished.values_list("status").annotate(n=Count("pk")))
    oldest = unfinished.aggregate(oldest=Min("created_at"))["oldest"]
    return DeliveryFigures(
        waiting=counts.get(Delivery.Status.PENDING, 0),
        sending=counts.get(Delivery.Status.SENDING, 0),
        oldest_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    )


def database_task_queue_depth() -> int:
    """Tasks waiting in the database task backend (due now or deferred)."""
    return DBTaskResult.objects.order_by().filter(status="READY").count()
