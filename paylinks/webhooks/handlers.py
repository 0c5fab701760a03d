"""What each gateway event means for a payment: an explicit ``{event type: handler}`` table.

A handler finds the payment the event is about (``payment_for_gateway_object``) and asks
the gateway again (``payment_refresh``); the event's payload never sets a status. An event
type missing from ``HANDLERS`` is stored and marked ignored.
"""

from __future__ import annotations

from collections.abc import Callable

from paylinks.gateways import WebhookEvent
from paylinks.models import WebhookEvent as InboxEvent
from paylinks.selectors.payments import payment_for_gateway_object
from paylinks.services.payments import payment_attempt_failed, payment_refresh

Handler = Callable[[InboxEvent, WebhookEvent], str]
NOT_OURS = "ignored: not a Paylinks payment"


def as_event(row: InboxEvent) -> WebhookEvent:
    """The stored row as the gateway port's event."""
    data = row.payload
    return WebhookEvent(
        id=row.event_id,
        type=row.type,
        created=int(data.get("created") or 0),
        data_object=(data.get("data") or {}).get("object") or {},
        payload=data,
    )


def refresh_payment(row: InboxEvent, event: WebhookEvent) -> str:
    """Any event about a session, its intent or its charge: re-read the session, apply it."""
    payment = payment_for_gateway_object(row.gateway, event.data_object)
    is_session = event.data_object.get("object") == "checkout.session"
    if payment is None or not (payment.gateway_session_id or is_session):
        return NOT_OURS
    synced = payment_refresh(
        payment=payment,
        session_id=event.object_id if is_session else "",
        gateway_event_id=event.id,
    )
    return f"processed: {synced.public_id} is {synced.status}"


def attempt_failed(row: InboxEvent, event: WebhookEvent) -> str:
    """A declined attempt: the session stays open, the timeline records the decline as
    the gateway reports it when asked -- the event's own ``last_payment_error`` is not
    read (the body only finds the payment)."""
    payment = payment_for_gateway_object(row.gateway, event.data_object)
    if payment is None:
        return NOT_OURS
    is_intent = event.data_object.get("object") == "payment_intent"
    return payment_attempt_failed(
        payment=payment,
        intent_id=event.object_id if is_intent else "",
        gateway_event_id=event.id,
    )


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": refresh_payment,
    "checkout.session.async_payment_succeeded": refresh_payment,
    "checkout.session.async_payment_failed": refresh_payment,
    "checkout.session.expired": refresh_payment,
    "charge.refunded": refresh_payment,
    "payment_intent.payment_failed": attempt_failed,
}
