"""Google Analytics 4, server-side and off by default: ``view_item``, ``begin_checkout``
and ``purchase``.

A merchant who enters a GA4 measurement ID and a Measurement Protocol API secret (both
stored encrypted) gets these events sent by the worker, so the public pay page never
loads a third-party script. Each event is a task enqueued with the change it reports
(``enqueue_with_transaction``: it exists exactly when the change commits) and sent with a
timeout (``PAYLINKS_GA4_TIMEOUT_SECONDS``); a failure is logged and dropped. Analytics
never hold up, fail or undo a payment.

Client ids are pseudonymous and cannot be turned back into anything Paylinks knows: a
keyed hash of the visitor's opaque cookie id for a page view, of the payment for its
checkout and purchase (Paylinks does not tie a payment to a visitor, so GA4 sees them as
separate clients).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings
from django.tasks import task
from django.utils import timezone

from paylinks import money
from paylinks.logcontext import carries_request_id
from paylinks.models import LinkView, Merchant, Payment, PaymentLink
from paylinks.queueing import enqueue_with_transaction

logger = logging.getLogger(__name__)


def client_id(value: str) -> str:
    """A GA4-style client id ("<n>.<n>") from a keyed hash of ``value``."""
    key = f"{settings.SECRET_KEY}:ga4-client".encode()
    digest = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return f"{int(digest[:8], 16)}.{int(digest[8:16], 16)}"


def _major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-money.get_currency(currency).exponent)


def _item(link: PaymentLink, amount: int | None) -> dict[str, Any]:
    item: dict[str, Any] = {"item_id": f"link_{link.pk}", "item_name": link.title, "quantity": 1}
    if amount is not None:
        item["price"] = _major(amount, link.currency)
    return item


def _enqueue(
    merchant_id: int, client: str, name: str, params: dict[str, Any], at: datetime
) -> None:
    event = {"name": name, "params": params}
    enqueue_with_transaction(
        send_event, merchant_id, client, _plain(event), int(at.timestamp() * 1_000_000)
    )


def _plain(value: Any) -> Any:
    """Task arguments are JSON: amounts travel as exact decimal strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    return value


def link_viewed(*, view: LinkView, visitor: str) -> None:
    """``view_item`` for a counted page view, when the link's merchant sends to GA4."""
    link = view.link
    configured = (
        Merchant.objects.filter(pk=link.merchant_id)
        .exclude(ga4_measurement_id="")
        .exclude(ga4_api_secret="")
        .exists()
    )
    if not configured:
        return
    params: dict[str, Any] = {"currency": link.currency, "items": [_item(link, link.amount)]}
    if link.amount is not None:
        params["value"] = _major(link.amount, link.currency)
    _enqueue(
        link.merchant_id, client_id(f"visitor:{visitor}"), "view_item", params, view.created_at
    )


def checkout_started(payment: Payment, link: PaymentLink) -> None:
    """``begin_checkout`` for a new payment (the link's merchant is loaded with it)."""
    if link.merchant.sends_to_ga4:
        _enqueue(
            payment.merchant_id,
            client_id(f"payment:{payment.public_id}"),
            "begin_checkout",
            _payment_params(payment, link),
            payment.created_at or timezone.now(),
        )


def payment_paid(payment: Payment) -> None:
    """``purchase`` for a payment that has just succeeded (once: a payment succeeds once)."""
    if payment.merchant.sends_to_ga4:
        params = _payment_params(payment, payment.link)
        params["transaction_id"] = payment.public_id
        _enqueue(
            payment.merchant_id,
            client_id(f"payment:{payment.public_id}"),
            "purchase",
            params,
            payment.completed_at or timezone.now(),
        )


def _payment_params(payment: Payment, link: PaymentLink) -> dict[str, Any]:
    return {
        "currency": payment.currency,
        "value": _major(payment.amount, payment.currency),
        "items": [_item(link, payment.amount)],
    }


def _number(value: Any) -> Any:
    """Back from task arguments; GA4 wants JSON numbers (the shortest float text of a
    decimal with a few places is that decimal)."""
    if isinstance(value, dict) and set(value) == {"decimal"}:
        return float(Decimal(value["decimal"]))
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_number(v) for v in value]
    return value


@task()
@carries_request_id
def send_event(merchant_id: int, client: str, event: dict[str, Any], at_micros: int) -> str:
    """POST one event to the Measurement Protocol. Never raises: a lost analytics event
    is logged, not retried into the merchant's figures twice."""
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None or not merchant.sends_to_ga4:
        return "skipped: GA4 is not configured"
    body: dict[str, Any] = {
        "client_id": client,
        "timestamp_micros": at_micros,
        "events": [_number(event)],
    }
    try:
        response = requests.post(
            settings.PAYLINKS_GA4_URL,
            params={
                "measurement_id": merchant.ga4_measurement_id,
                "api_secret": merchant.ga4_api_secret,
            },
            json=body,
            timeout=settings.PAYLINKS_GA4_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        logger.warning("GA4 %s for merchant %s not sent: %s", event["name"], merchant_id, exc)
        return f"failed: {type(exc).__name__}"
    if response.status_code >= 300:
        logger.warning(
            "GA4 %s for merchant %s refused: HTTP %s",
            event["name"],
            merchant_id,
            response.status_code,
        )
        return f"failed: HTTP {response.status_code}"
    return f"sent: {event['name']}"
