"""Delivering the sandbox's events to the webhook endpoint, the way Stripe does:
signed with ``Stripe-Signature``, POSTed over HTTP, retried with backoff for about three
days until the endpoint answers 2xx. Delivered events are deleted
``PAYLINKS_WEBHOOK_RETENTION_DAYS`` after delivery; undelivered ones never are."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from paylinks.logcontext import carries_request_id, current_request_id
from paylinks.queueing import enqueue_with_transaction

from .models import SandboxEvent

logger = logging.getLogger(__name__)

# Seconds to wait after the n-th failed attempt (Stripe retries for up to three days).
RETRY_DELAYS = [10, 60, 300, 1800, 7200, 21600, 43200, 86400, 86400, 86400]
LEASE_SECONDS = 60
TIMEOUT_SECONDS = 10


def sign(body: str, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header value for ``body``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def webhook_url() -> str:
    return settings.SANDBOX_WEBHOOK_URL or f"{settings.SITE_URL}/webhooks/stripe/"


@task()
@carries_request_id
def deliver_event(event_id: str) -> bool:
    return deliver(event_id)


def schedule_delivery(event_id: str) -> None:
    """Deliver a new event as soon as the transaction that emitted it commits."""
    enqueue_with_transaction(deliver_event, event_id)


def deliver(event_id: str) -> bool:
    """Try to deliver one event now. True when the endpoint accepted it.

    The event is leased (its next attempt pushed forward) before the HTTP call, so two
    workers never post it at the same time and no transaction is held during the call.
    """
    now = timezone.now()
    leased = SandboxEvent.objects.filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True),
        pk=event_id,
        delivered_at__isnull=True,
        given_up=False,
    ).update(next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
    if not leased:
        return False
    event = SandboxEvent.objects.get(pk=event_id)
    body = json.dumps(event.payload, separators=(",", ":"))
    status, error = _post(body)
    event.attempts += 1
    event.last_status = status
    event.last_error = error
    if status is not None and 200 <= status < 300:
        event.delivered_at = timezone.now()
        event.next_attempt_at = None
        logger.info("Sandbox delivered %s (%s): HTTP %s", event.id, event.type, status)
    elif event.attempts > len(RETRY_DELAYS):
        event.given_up = True
        event.next_attempt_at = None
        logger.error("Sandbox gave up delivering %s after %s attempts", event.id, event.attempts)
    else:
        delay = RETRY_DELAYS[event.attempts - 1]
        logger.warning(
            "Sandbox could not deliver %s (attempt %s, HTTP %s); retrying in %ss",
            event.id,
            event.attempts,
            status,
            delay,
        )
        event.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    event.save(
        update_fields=[
            "attempts",
            "last_status",
            "last_error",
            "delivered_at",
            "next_attempt_at",
            "given_up",
        ]
    )
    return event.delivered_at is not None


def _post(body: str) -> tuple[int | None, str]:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": sign(body, settings.STRIPE_WEBHOOK_SECRET),
        "User-Agent": "Paylinks-Sandbox/1.0 (+Stripe-compatible webhooks)",
    }
    # The id of the request that caused the event (a customer paying on the sandbox's
    # page), so its webhook and the processing after it log under the same id.
    if request_id := current_request_id():
        headers["X-Request-ID"] = request_id
    try:
        response = requests.post(
            webhook_url(), data=body.encode(), headers=headers, timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException as exc:
        return None, f"{exc.__class__.__name__}: {exc}"[:2000]
    error = "" if response.ok else response.text[:2000]
    return response.status_code, error


def due_events(limit: int = 200) -> list[str]:
    now = timezone.now()
    return list(
        SandboxEvent.objects.filter(
            Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True),
            delivered_at__isnull=True,
            given_up=False,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


PRUNE_BATCH = 500
PRUNE_BATCHES = 20


def prune_delivered(*, now: datetime | None = None) -> int:
    """Delete events delivered more than ``PAYLINKS_WEBHOOK_RETENTION_DAYS`` ago, oldest
    first, in at most ``PRUNE_BATCHES`` batches; returns how many. Events still being
    retried or given up on are kept."""
    days = settings.PAYLINKS_WEBHOOK_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = SandboxEvent.objects.filter(delivered_at__lt=cutoff)
    pruned = 0
    for _ in range(PRUNE_BATCHES):
        ids = list(old.order_by("delivered_at").values_list("pk", flat=True)[:PRUNE_BATCH])
        if not ids:
            break
        deleted, _by_model = old.filter(pk__in=ids).delete()
        pruned += deleted
        if len(ids) < PRUNE_BATCH:
            break
    return pruned
