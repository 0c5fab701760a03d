"""A declined attempt is recorded from the gateway, never from the event (issue 10, finding 8).

``payment_intent.payment_failed`` events used to put their own ``last_payment_error``
(decline code and message) on the payment's timeline. "The body only finds the payment"
now holds for them too: the handler asks the gateway about the session and records the
failure the gateway reports, once per failed attempt. These tests use the sandbox
gateway over real HTTP (its signed events reach the live server's webhook endpoint);
tests/gateways/test_stripe_failed_attempts.py does the same against the Stripe adapter.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from paylinks.gateways.sandbox import objects
from paylinks.gateways.sandbox.delivery import sign
from paylinks.gateways.sandbox.models import SandboxPaymentIntent
from paylinks.models import Payment, PaymentEvent, PaymentStatus, WebhookEvent

from ..factories import PaymentLinkFactory
from .helpers import drain, pay, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)

FORGED = "Your card is blocked. Call +1 555 0100 to unlock it."


def post_signed(site: str, settings, event_id: str, data_object: dict) -> None:  # type: ignore[no-untyped-def]
    """A ``payment_intent.payment_failed`` event signed with the real webhook secret: what a
    leaked secret, or a replayed-and-edited body, would let someone send."""
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "payment_intent.payment_failed",
            "created": int(time.time()),
            "data": {"object": data_object},
            "livemode": False,
        }
    )
    response = requests.post(
        f"{site}/webhooks/stripe/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign(body, settings.STRIPE_WEBHOOK_SECRET),
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text


def timeline_text(payment: Payment) -> str:
    events = PaymentEvent.objects.filter(payment=payment)
    return json.dumps([[e.kind, e.message, e.data] for e in events]) + payment.failure_message


def test_an_edited_decline_is_recorded_as_the_gateway_reports_it(site, settings, acme) -> None:
    link = PaymentLinkFactory(merchant=acme)
    started = start_checkout(site, link.slug)
    assert pay(started.checkout_url, number="4000000000009995").status_code == 402
    drain()  # the sandbox's own (true) events arrive and are processed
    payment = Payment.objects.get(public_id=started.payment_id)
    intent = SandboxPaymentIntent.objects.get(session_id=started.session_id)

    # The same intent, with the decline's code and message edited in the body.
    edited = objects.payment_intent_object(intent)
    edited["last_payment_error"] |= {"decline_code": "call_the_bank", "message": FORGED}
    post_signed(site, settings, "evt_edited_decline", edited)
    drain()

    payment.refresh_from_db()
    assert FORGED not in timeline_text(payment) and "call_the_bank" not in timeline_text(payment)
    attempts = payment.events.filter(kind="attempt_failed")
    assert [(a.message, a.data["code"]) for a in attempts] == [
        ("Your card has insufficient funds.", "insufficient_funds")
    ]  # one entry per failed attempt, however many events mention it
    assert (payment.failure_code, payment.failure_message) == (
        "insufficient_funds",
        "Your card has insufficient funds.",
    )
    assert WebhookEvent.objects.get(event_id="evt_edited_decline").status == "processed"
    assert payment.status == PaymentStatus.PENDING  # the session stays open


def test_a_decline_the_gateway_never_saw_records_nothing(site, settings, acme) -> None:
    link = PaymentLinkFactory(merchant=acme)
    started = start_checkout(site, link.slug)
    payment = Payment.objects.get(public_id=started.payment_id)

    # Nobody has tried to pay: a made-up intent, found through the payment's metadata.
    post_signed(
        site,
        settings,
        "evt_invented_decline",
        {
            "id": "pi_invented",
            "object": "payment_intent",
            "metadata": {"paylinks_payment": payment.public_id},
            "last_payment_error": {"code": "card_declined", "message": FORGED},
        },
    )
    drain()

    payment.refresh_from_db()
    assert not payment.events.filter(kind="attempt_failed").exists()
    assert FORGED not in timeline_text(payment)
    assert payment.failure_code == "" and payment.status == PaymentStatus.PENDING
    assert WebhookEvent.objects.get(event_id="evt_invented_decline").status == "ignored"


def test_every_real_decline_is_its_own_attempt(site, settings, acme) -> None:
    """Two declines on one session are two entries, each with the gateway's reason."""
    link = PaymentLinkFactory(merchant=acme)
    started = start_checkout(site, link.slug)
    assert pay(started.checkout_url, number="4000000000000002").status_code == 402
    drain()
    assert pay(started.checkout_url, number="4000000000000069").status_code == 402
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)
    codes = list(payment.events.filter(kind="attempt_failed").values_list("data__code", flat=True))
    assert codes == ["generic_decline", "expired_card"]
