"""The outbox of outgoing webhooks, and the e-mails that go with payment events.

``event_record`` is called by the service that makes a change, inside its transaction:
it writes the ``OutgoingEvent`` (the exact payload endpoints receive), one ``Delivery``
per enabled endpoint that subscribed to the type, and wakes the worker when the
transaction commits. A rolled-back change leaves no event, and a committed change
always has one: the worker (and the sweeper, if a wake-up is lost) finds the deliveries
in the table.

Payload shape (documented in docs/api.md, "Outgoing webhooks", and in the OpenAPI
document's ``webhooks``)::

    {"id": "evt_...", "type": "payment.succeeded", "timestamp": "2026-...Z",
     "data": {"object": "payment", "id": "pay_...", ...}}

Events are not kept for ever (``prune_finished``, run by the sweeper): once every delivery
of an event has finished -- delivered, or given up -- more than
``PAYLINKS_OUTGOING_RETENTION_DAYS`` ago, the event and its deliveries are deleted. An
event with a delivery still waiting or retrying is never deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from paylinks import money
from paylinks.labels import payment_method_label
from paylinks.models import (
    Delivery,
    EventType,
    OutgoingEvent,
    Payment,
    PaymentLink,
    PaymentStatus,
    WebhookEndpoint,
)

from . import payment_mail
from .delivery import wake

#: The payment event for each status a payment can move to (canceled tells no one).
PAYMENT_EVENTS: dict[str, str] = {
    PaymentStatus.SUCCEEDED: EventType.PAYMENT_SUCCEEDED,
    PaymentStatus.FAILED: EventType.PAYMENT_FAILED,
    PaymentStatus.EXPIRED: EventType.PAYMENT_EXPIRED,
    PaymentStatus.REFUNDED: EventType.PAYMENT_REFUNDED,
    PaymentStatus.PARTIALLY_REFUNDED: EventType.PAYMENT_PARTIALLY_REFUNDED,
}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def payment_data(payment: Payment, link: PaymentLink) -> dict[str, Any]:
    """A payment as webhook receivers see it: amounts in minor units, with the currency."""
    method = None
    if payment.payment_method_type:
        method = {
            "type": payment.payment_method_type,
            "card_brand": payment.card_brand or None,
            "card_last4": payment.card_last4 or None,
            "label": payment_method_label(
                payment.payment_method_type, payment.card_brand, payment.card_last4
            ),
        }
    failure = None
    if payment.failure_code or payment.failure_message:
        failure = {"code": payment.failure_code, "message": payment.failure_message}
    return {
        "object": "payment",
        "id": payment.public_id,
        "status": payment.status,
        "amount": payment.amount,
        "unit_amount": payment.unit_price,
        "quantity": payment.quantity,
        "amount_refunded": payment.amount_refunded,
        "currency": payment.currency,
        "amount_display": money.format_money(payment.amount, payment.currency),
        "link": {"id": link.slug, "title": link.title, "metadata": link.metadata or {}},
        "payment_intent_id": payment.payment_intent_id or None,
        "checkout_session_id": payment.gateway_session_id or None,
        "method": method,
        "customer": {
            "email": payment.customer_email or None,
            "name": payment.customer_name or None,
        },
        "failure": failure,
        "over_limit": payment.over_limit,
        "created_at": _iso(payment.created_at),
        "completed_at": _iso(payment.completed_at),
    }


def link_data(link: PaymentLink, *, completed: int | None = None) -> dict[str, Any]:
    return {
        "object": "link",
        "id": link.slug,
        "title": link.title,
        "url": link.public_url,
        "active": link.is_active,
        "currency": link.currency,
        "amount": link.amount,
        "expires_at": _iso(link.expires_at),
        "quantity": {"min": link.quantity_floor, "max": link.quantity_ceiling}
        if link.quantity_enabled
        else None,
        "payment_limit": link.payment_limit,
        "completed_payments": completed,
        "metadata": link.metadata or {},
    }


def event_record(
    *,
    merchant_id: int,
    type: str,
    object_id: str,
    data: dict[str, Any],
    endpoints: list[WebhookEndpoint] | None = None,
) -> OutgoingEvent:
    """Write one event and its deliveries; call inside the transaction of the change.

    ``endpoints`` sends to exactly those (the console's test event); by default, to
    every enabled endpoint of the merchant that subscribed to ``type``.
    """
    now = timezone.now()
    event = OutgoingEvent(merchant_id=merchant_id, type=type, object_id=object_id[:64])
    event.payload = {"id": event.public_id, "type": type, "timestamp": _iso(now), "data": data}
    event.save()
    if endpoints is None:
        endpoints = [
            e
            for e in WebhookEndpoint.objects.filter(merchant_id=merchant_id, enabled=True)
            if e.wants(type)
        ]
    if endpoints:
        Delivery.objects.bulk_create(
            [Delivery(event=event, endpoint=e, next_attempt_at=now) for e in endpoints]
        )
        wake()
    return event


def payment_event(payment: Payment, link: PaymentLink) -> OutgoingEvent | None:
    """Tell endpoints (and people) that ``payment`` moved to its current status."""
    type = PAYMENT_EVENTS.get(payment.status)
    if type is None:
        return None
    event = event_record(
        merchant_id=payment.merchant_id,
        type=type,
        object_id=payment.public_id,
        data=payment_data(payment, link),
    )
    payment_mail.queue_for(event, payment)
    return event


def link_event(link: PaymentLink, type: str, *, completed: int | None = None) -> OutgoingEvent:
    return event_record(
        merchant_id=link.merchant_id,
        type=type,
        object_id=link.slug,
        data=link_data(link, completed=completed),
    )


def test_event(endpoint: WebhookEndpoint) -> OutgoingEvent:
    return event_record(
        merchant_id=endpoint.merchant_id,
        type=EventType.TEST,
        object_id="",
        data={"object": "test", "message": "A test event sent from the Paylinks console."},
        endpoints=[endpoint],
    )


# --- retention --------------------------------------------------------------------------
PRUNE_BATCH = 500
PRUNE_BATCHES = 20


def _finished_before(cutoff: datetime) -> Q:
    """Deliveries finished before ``cutoff``: delivered then, or given up at a last
    attempt then. Anything else (waiting, being sent, retrying) is not finished."""
    return Q(status=Delivery.Status.SUCCEEDED, delivered_at__lt=cutoff) | Q(
        status=Delivery.Status.FAILED, last_attempt_at__lt=cutoff
    )


def prunable_events(cutoff: datetime) -> QuerySet[OutgoingEvent]:
    """Events created before ``cutoff`` whose every delivery finished before it (an event
    no endpoint subscribed to has none: it goes once it is older than ``cutoff``)."""
    kept = Delivery.objects.filter(event=OuterRef("pk")).exclude(_finished_before(cutoff))
    return OutgoingEvent.objects.filter(created_at__lt=cutoff).filter(~Exists(kept))


def prune_finished(*, now: datetime | None = None) -> int:
    """Delete outgoing events (with their deliveries) whose deliveries all finished more
    than ``PAYLINKS_OUTGOING_RETENTION_DAYS`` ago, oldest first; returns how many events.

    A delivery waiting, being sent or retrying keeps its event, however old. At most
    ``PRUNE_BATCHES`` batches of ``PRUNE_BATCH`` events per call, each a short transaction
    of its own, so a first run over a long history spreads over several sweeps. A batch
    locks its events (skipping those another transaction holds, such as a replay adding
    deliveries to them: ``endpoint_replay`` locks the events it replays), deletes only
    deliveries that are still finished, then only events left without any delivery, so a
    delivery resent meanwhile keeps its event.
    """
    days = settings.PAYLINKS_OUTGOING_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    pruned = 0
    for _ in range(PRUNE_BATCHES):
        with transaction.atomic():
            batch = prunable_events(cutoff).order_by("created_at", "id")
            if connection.features.has_select_for_update_skip_locked:
                batch = batch.select_for_update(skip_locked=True)
            ids = list(batch.values_list("pk", flat=True)[:PRUNE_BATCH])
            if not ids:
                break
            Delivery.objects.filter(_finished_before(cutoff), event_id__in=ids).delete()
            bare = ~Exists(Delivery.objects.filter(event=OuterRef("pk")))
            _total, by_model = OutgoingEvent.objects.filter(bare, pk__in=ids).delete()
        pruned += by_model.get(OutgoingEvent._meta.label, 0)
        if len(ids) < PRUNE_BATCH:
            break
    return pruned
