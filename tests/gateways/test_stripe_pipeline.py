"""The whole pipeline with ``PAYLINKS_GATEWAY=stripe``, against the stand-in Stripe server.

The public API creates the Checkout Session through the real ``stripe`` SDK; the fake
moves it along as a customer and the banks would; its signed events are POSTed over HTTP
to the live server's ``/webhooks/stripe/``; the worker re-retrieves the session from
"Stripe" and applies the transition. The same code path a real Stripe account uses.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone

from paylinks.models import Payment, PaymentStatus, WebhookEvent
from paylinks.services import refunds as refund_services

from ..factories import MerchantFactory, PaymentLinkFactory
from ..payments.helpers import drain, start_checkout
from .fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stripe_site(live_server, settings, gateway):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    settings.PUBLIC_CHECKOUT_URL = "https://pay.example.test"
    settings.PAYLINKS_RATE_LIMITS = {}
    return live_server.url


@pytest.fixture
def acme(db):  # type: ignore[no-untyped-def]
    return MerchantFactory(name="Acme Books", slug="acme")


def post_event(site: str, fake: FakeStripe, event: dict[str, Any]) -> dict[str, Any]:
    """POST ``event`` as Stripe would: the raw body, signed with the webhook secret."""
    body, header = fake.signed(event)
    response = requests.post(
        f"{site}/webhooks/stripe/",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return event


def deliver(site: str, fake: FakeStripe, event_type: str, object_id: str) -> dict[str, Any]:
    """The event Stripe would send about the object's current state."""
    return post_event(site, fake, fake.event_for(event_type, object_id))


def test_a_card_payment_and_a_partial_refund_through_stripe(
    stripe_site, fake_stripe: FakeStripe, acme
) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=4200, currency="EUR", title="Atlas")
    started = start_checkout(stripe_site, link.slug, email="jenny@example.com")
    assert started.checkout_url.startswith("https://checkout.stripe.com/")
    assert started.session_id in fake_stripe.sessions
    sent = fake_stripe.calls("post", "/v1/checkout/sessions")[-1].typed
    payment = Payment.objects.get(public_id=started.payment_id)
    assert sent["client_reference_id"] == payment.public_id
    assert sent["line_items"][0]["price_data"]["unit_amount"] == 4200

    fake_stripe.complete_with_card(started.session_id, brand="mastercard", last4="4444")
    event = deliver(stripe_site, fake_stripe, "checkout.session.completed", started.session_id)
    assert WebhookEvent.objects.filter(event_id=event["id"]).exists()
    drain()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.payment_intent_id == fake_stripe.sessions[started.session_id]["payment_intent"]
    assert (payment.card_brand, payment.card_last4) == ("mastercard", "4444")
    status = requests.get(
        f"{stripe_site}/api/v1/public/checkout/{started.session_id}", timeout=10
    ).json()
    assert (status["status"], status["payment_intent_id"]) == (
        "succeeded",
        payment.payment_intent_id,
    )

    # The same event again, and an older one late: nothing moves twice or backwards.
    deliver(stripe_site, fake_stripe, "checkout.session.completed", started.session_id)
    drain()
    assert payment.events.filter(to_status="succeeded").count() == 1

    refund = refund_services.refund_create(
        payment=payment, actor=None, amount=1200, reason="requested_by_customer"
    )
    assert refund.gateway_refund_id.startswith("re_")
    assert fake_stripe.refunds[refund.gateway_refund_id]["amount"] == 1200
    charge_id = fake_stripe.intents[payment.payment_intent_id]["latest_charge"]
    deliver(stripe_site, fake_stripe, "charge.refunded", charge_id)
    drain()
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 1200)


def test_a_sepa_debit_waits_for_the_bank_then_settles(
    stripe_site, fake_stripe: FakeStripe, acme
) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=990, currency="EUR")
    started = start_checkout(stripe_site, link.slug)
    payment = Payment.objects.get(public_id=started.payment_id)

    fake_stripe.complete_with_sepa(started.session_id)
    deliver(stripe_site, fake_stripe, "checkout.session.completed", started.session_id)
    drain()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING  # unpaid: the bank has not said yet
    assert payment.session_completed_at is not None  # the page shows "processing"
    assert payment.payment_method_type == "sepa_debit"

    fake_stripe.settle(started.session_id)
    deliver(
        stripe_site, fake_stripe, "checkout.session.async_payment_succeeded", started.session_id
    )
    drain()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def test_out_of_order_events_end_in_the_right_state(
    stripe_site, fake_stripe: FakeStripe, acme
) -> None:
    """Stripe delivers async_payment_succeeded before completed, and expired after it."""
    link = PaymentLinkFactory(merchant=acme, amount=990, currency="EUR")
    started = start_checkout(stripe_site, link.slug)
    payment = Payment.objects.get(public_id=started.payment_id)
    fake_stripe.complete_with_sepa(started.session_id)
    completed = fake_stripe.event_for("checkout.session.completed", started.session_id)
    fake_stripe.settle(started.session_id)

    deliver(
        stripe_site, fake_stripe, "checkout.session.async_payment_succeeded", started.session_id
    )
    post_event(stripe_site, fake_stripe, completed)  # the older event, arriving late
    deliver(stripe_site, fake_stripe, "checkout.session.expired", started.session_id)
    drain()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.events.filter(to_status="succeeded").count() == 1


def test_a_declined_card_leaves_the_session_open_and_a_link_expiring_soon_is_refused(
    stripe_site, fake_stripe: FakeStripe, acme
) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=1500, currency="USD")
    started = start_checkout(stripe_site, link.slug)
    fake_stripe.decline(started.session_id)
    status = requests.get(
        f"{stripe_site}/api/v1/public/checkout/{started.session_id}", timeout=10
    ).json()
    assert (status["status"], status["processing"]) == ("pending", False)

    closing = PaymentLinkFactory(
        merchant=acme, amount=1500, currency="USD", expires_at=timezone.now() + timedelta(minutes=5)
    )
    response = requests.post(
        f"{stripe_site}/api/v1/public/links/{closing.slug}/checkout", json={}, timeout=10
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "link_closing"
    assert "closes in a few minutes" in response.json()["error"]["message"]
    refused = Payment.objects.get(link=closing)
    assert refused.status == PaymentStatus.FAILED  # its place on the link is free again
    assert not fake_stripe.calls("post", "/v1/checkout/sessions")[1:]  # no second session


FORGED = "Your card is blocked. Call +1 555 0100 to unlock it."


def test_a_decline_is_recorded_from_stripe_not_from_the_event(
    stripe_site, fake_stripe: FakeStripe, acme
) -> None:
    """Issue 10, finding 8: a signed ``payment_intent.payment_failed`` whose decline was
    edited puts nothing of its own on the timeline; the adapter asks Stripe."""
    link = PaymentLinkFactory(merchant=acme, amount=1500, currency="USD")
    started = start_checkout(stripe_site, link.slug)
    payment = Payment.objects.get(public_id=started.payment_id)
    intent = fake_stripe.decline(started.session_id)  # what Stripe knows

    edited = fake_stripe.event_for("payment_intent.payment_failed", intent["id"])
    edited["data"]["object"]["last_payment_error"].update(
        decline_code="call_the_bank", message=FORGED
    )
    post_event(stripe_site, fake_stripe, edited)
    deliver(stripe_site, fake_stripe, "payment_intent.payment_failed", intent["id"])  # the true one
    drain()

    payment.refresh_from_db()
    attempts = payment.events.filter(kind="attempt_failed")
    assert [(a.message, a.data["code"]) for a in attempts] == [
        ("Your card has insufficient funds.", "insufficient_funds")
    ]
    shown = " ".join(payment.events.values_list("message", flat=True)) + payment.failure_message
    assert FORGED not in shown and "call_the_bank" not in str(list(attempts.values("data")))
    assert payment.failure_code == "insufficient_funds"
    assert fake_stripe.calls("get", f"/v1/checkout/sessions/{started.session_id}")

    # An event about another session's intent, pointed at this payment by its metadata.
    other = start_checkout(stripe_site, link.slug)
    other_intent = fake_stripe.decline(other.session_id, decline_code="lost_card")
    pointed = fake_stripe.event_for("payment_intent.payment_failed", other_intent["id"])
    pointed["data"]["object"]["metadata"] = {"paylinks_payment": payment.public_id}
    post_event(stripe_site, fake_stripe, pointed)
    drain()
    assert WebhookEvent.objects.get(event_id=pointed["id"]).status == "ignored"
    assert payment.events.filter(kind="attempt_failed").count() == 1


def test_two_copies_through_stripe_charge_the_unit_price_twice(
    stripe_site, fake_stripe: FakeStripe, acme
) -> None:
    link = PaymentLinkFactory(
        merchant=acme,
        amount=1450,
        currency="USD",
        title="Moby-Dick",
        quantity_enabled=True,
        quantity_max=5,
        payment_limit=10,
    )
    started = start_checkout(stripe_site, link.slug, quantity=2)
    assert started.body["amount"]["value"] == 2900 and started.body["quantity"] == 2
    (item,) = fake_stripe.calls("post", "/v1/checkout/sessions")[-1].typed["line_items"]
    assert (item["price_data"]["unit_amount"], item["quantity"]) == (1450, 2)
    # A limited link reserved two units: the customer cannot change them on Stripe.
    assert "adjustable_quantity" not in item

    fake_stripe.complete_with_card(started.session_id)
    deliver(stripe_site, fake_stripe, "checkout.session.completed", started.session_id)
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)
    assert (payment.status, payment.quantity, payment.amount) == ("succeeded", 2, 2900)
    link_json = requests.get(f"{stripe_site}/api/v1/public/links/{link.slug}", timeout=10).json()
    assert link_json["units_left"] == 8


def test_a_quantity_changed_on_stripe_is_what_the_payment_records(
    stripe_site, fake_stripe: FakeStripe, acme
) -> None:
    link = PaymentLinkFactory(
        merchant=acme,
        amount=700,
        currency="EUR",
        title="Postcards",
        quantity_enabled=True,
        quantity_min=2,
        quantity_max=20,
    )
    started = start_checkout(stripe_site, link.slug, quantity=3)
    (item,) = fake_stripe.calls("post", "/v1/checkout/sessions")[-1].typed["line_items"]
    assert item["adjustable_quantity"] == {"enabled": True, "minimum": 2, "maximum": 20}

    fake_stripe.change_quantity(started.session_id, 7)
    fake_stripe.complete_with_card(started.session_id)
    deliver(stripe_site, fake_stripe, "checkout.session.completed", started.session_id)
    drain()

    payment = Payment.objects.get(public_id=started.payment_id)
    assert (payment.status, payment.quantity, payment.amount) == ("succeeded", 7, 4900)
    assert payment.unit_amount == 700
    change = payment.events.get(kind="quantity_changed")
    assert change.data == {"quantity": 7, "previous": 3}
    status = requests.get(
        f"{stripe_site}/api/v1/public/checkout/{started.session_id}", timeout=10
    ).json()
    assert (status["quantity"], status["amount"]["value"]) == (7, 4900)
