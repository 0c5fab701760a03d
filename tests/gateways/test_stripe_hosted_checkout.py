"""The Stripe stand-in's hosted Checkout page (``fake_stripe_checkout.py``), over HTTP.

A checkout started through Paylinks' public API with ``PAYLINKS_GATEWAY=stripe`` gets the
stand-in's page as its ``checkout_url``; paying there completes the session, redirects to
Paylinks' success URL and POSTs the signed event to Paylinks' real webhook endpoint, which
the worker then processes. The browser journey (tests/e2e/test_shop_journey.py) walks the
same page in Chromium; these tests pin its answers without a browser.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from paylinks.models import Payment, PaymentStatus, WebhookEvent

from ..factories import MerchantFactory, PaymentLinkFactory
from ..payments.helpers import drain, start_checkout
from .fake_stripe import FakeStripe
from .fake_stripe_checkout import Delivery

pytestmark = pytest.mark.django_db(transaction=True)

CARD = {"email": "ada@example.test", "expiry": "12 / 34", "cvc": "123", "name": "Ada Lovelace"}


@pytest.fixture
def site(live_server, settings, gateway, fake_stripe: FakeStripe):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    settings.PUBLIC_CHECKOUT_URL = "https://pay.example.test"
    settings.PAYLINKS_RATE_LIMITS = {}
    fake_stripe.serve_checkout(f"{live_server.url}/webhooks/stripe/")
    return live_server.url


@pytest.fixture
def link(db):  # type: ignore[no-untyped-def]
    merchant = MerchantFactory(name="Acme Books", slug="acme")
    return PaymentLinkFactory(merchant=merchant, amount=1450, currency="USD", title="Moby-Dick")


def until(check: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return found


def delivery(fake: FakeStripe, event_type: str) -> Delivery:
    assert fake.checkout is not None
    return until(
        lambda: next((d for d in fake.checkout.deliveries if d.type == event_type), None),
        event_type,
    )


def post(url: str, **form: str) -> requests.Response:
    return requests.post(url, data=form, allow_redirects=False, timeout=10)


def test_paying_on_the_page_redirects_and_sends_the_signed_event(
    site, fake_stripe: FakeStripe, link
) -> None:
    started = start_checkout(site, link.slug, email="ada@example.test")
    assert started.checkout_url == f"{fake_stripe.url}/c/pay/{started.session_id}"
    page = requests.get(started.checkout_url, timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Moby-Dick" in page.text and "14.50 USD" in page.text
    assert 'value="ada@example.test"' in page.text  # the e-mail Paylinks passed on

    paid = post(started.checkout_url, number="4242 4242 4242 4242", **CARD)
    assert paid.status_code == 303
    session = fake_stripe.sessions[started.session_id]
    assert paid.headers["Location"] == session["success_url"].replace(
        "{CHECKOUT_SESSION_ID}", started.session_id
    )
    assert (session["status"], session["payment_status"]) == ("complete", "paid")

    sent = delivery(fake_stripe, "checkout.session.completed")
    until(lambda: sent.delivered, "the delivery")
    assert sent.attempts == [200]
    stored = WebhookEvent.objects.get(gateway="stripe", event_id=sent.event_id)
    assert stored.object_id == started.session_id
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.payment_intent_id == session["payment_intent"]
    assert payment.payment_intent_id.startswith("pi_")
    assert (payment.card_brand, payment.card_last4, payment.customer_name) == (
        "visa",
        "4242",
        "Ada Lovelace",
    )
    # Back on the page later: Stripe sends a paid session's customer on to success_url.
    again = requests.get(started.checkout_url, allow_redirects=False, timeout=10)
    assert again.status_code == 303 and again.headers["Location"] == paid.headers["Location"]


def test_a_declined_card_stays_on_the_page_and_a_bad_number_charges_nothing(
    site, fake_stripe: FakeStripe, link
) -> None:
    started = start_checkout(site, link.slug, email="ada@example.test")
    invalid = post(started.checkout_url, number="1234 5678 9012 3456", **CARD)
    assert invalid.status_code == 200 and "Your card number is invalid." in invalid.text
    incomplete = post(started.checkout_url, number="4242 4242 4242 4242", **(CARD | {"cvc": ""}))
    assert "security code is incomplete" in incomplete.text
    assert fake_stripe.sessions[started.session_id]["payment_intent"] is None
    assert fake_stripe.checkout is not None and fake_stripe.checkout.deliveries == []

    declined = post(started.checkout_url, number="4000 0000 0000 0002", **CARD)
    assert declined.status_code == 402 and "Your card was declined." in declined.text
    assert fake_stripe.sessions[started.session_id]["status"] == "open"
    failed = delivery(fake_stripe, "payment_intent.payment_failed")
    until(lambda: failed.delivered, "the delivery")
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)
    assert payment.status == PaymentStatus.PENDING  # the customer may try another card
    attempt = payment.events.get(kind="attempt_failed")
    assert attempt.message == "Your card was declined."

    # The next card goes through on the same session.
    assert post(started.checkout_url, number="4242424242424242", **CARD).status_code == 303
    until(lambda: delivery(fake_stripe, "checkout.session.completed").delivered, "the delivery")
    drain()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def test_an_event_the_endpoint_refuses_is_sent_again(
    site, settings, fake_stripe: FakeStripe, link
) -> None:
    """Stripe retries a delivery Paylinks did not acknowledge: here the endpoint's secret
    is wrong at first (400), then right, and the same event gets through."""
    started = start_checkout(site, link.slug)
    real_secret = settings.STRIPE_WEBHOOK_SECRET
    settings.STRIPE_WEBHOOK_SECRET = "whsec_not_the_one_stripe_signs_with"
    post(started.checkout_url, number="4242424242424242", **CARD)
    sent = delivery(fake_stripe, "checkout.session.completed")
    until(lambda: sent.attempts, "the first attempt")
    assert sent.attempts[0] == 400 and not sent.delivered
    assert not WebhookEvent.objects.filter(event_id=sent.event_id).exists()
    settings.STRIPE_WEBHOOK_SECRET = real_secret
    until(lambda: sent.delivered, "the retried delivery")
    assert WebhookEvent.objects.filter(event_id=sent.event_id).count() == 1


def test_pages_that_are_not_an_open_session(site, fake_stripe: FakeStripe, link) -> None:
    assert requests.get(f"{fake_stripe.url}/c/pay/cs_test_nope", timeout=10).status_code == 404
    assert requests.get(f"{fake_stripe.url}/favicon.ico", timeout=10).status_code == 404
    started = start_checkout(site, link.slug)
    fake_stripe.expire(started.session_id)
    closed = requests.get(started.checkout_url, timeout=10)
    assert closed.status_code == 410 and "no longer available" in closed.text
    assert post(started.checkout_url, number="4242424242424242", **CARD).status_code == 410
    # None of this is the API's business: nothing recorded as a request Stripe would refuse.
    assert not fake_stripe.violations
