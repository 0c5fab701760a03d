"""Every sandbox outcome end to end: public API -> hosted page -> signed webhook over HTTP
-> inbox -> task -> payment state. Nothing is called directly that a customer or the
gateway would reach over the network."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone

from paylinks.models import Payment, PaymentStatus, WebhookEvent
from paylinks.sweeper import sweep

from ..factories import PaymentLinkFactory
from .helpers import drain, pay, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)


def test_card_success(site, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=2500, currency="USD")
    started = start_checkout(site, link.slug, email="ada@example.test")
    response = pay(started.checkout_url)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/success?session_id={started.session_id}")
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert (payment.card_brand, payment.card_last4, payment.payment_method_type) == (
        "visa",
        "4242",
        "card",
    )
    assert payment.payment_intent_id.startswith("pi_")
    assert payment.amount == 2500
    assert (
        WebhookEvent.objects.filter(type="checkout.session.completed", status="processed").count()
        == 1
    )
    kinds = list(payment.events.values_list("kind", "to_status"))
    assert ("status_changed", "succeeded") in kinds


def payment_of(started) -> Payment:  # type: ignore[no-untyped-def]
    return Payment.objects.get(public_id=started.payment_id)


@pytest.mark.parametrize(
    ("number", "code", "shown"),
    [
        ("4000000000000002", "generic_decline", "Your card was declined."),
        ("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
        ("4000000000000069", "expired_card", "Your card has expired."),
        ("4000000000000127", "incorrect_cvc", "Your card's security code is incorrect."),
    ],
)
def test_card_declines_are_shown_recorded_and_retryable(site, acme, number, code, shown) -> None:
    link = PaymentLinkFactory(merchant=acme)
    started = start_checkout(site, link.slug)
    declined = pay(started.checkout_url, number=number)
    assert declined.status_code == 402
    assert shown.replace("'", "&#x27;") in declined.text
    drain()
    payment = payment_of(started)
    assert payment.status == PaymentStatus.PENDING
    assert payment.failure_code == code
    attempt = payment.events.get(kind="attempt_failed")
    assert attempt.data["code"] == code
    # The session stays open: the customer tries another card and it works.
    assert pay(started.checkout_url).status_code == 303
    drain()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.failure_code == ""


def _authenticate(response, outcome: str):  # type: ignore[no-untyped-def]
    assert response.status_code == 303 and response.headers["Location"].endswith("/authenticate")
    browser = response.browser
    url = response.url.rstrip("/") + "/authenticate"
    page = browser.get(url, timeout=10)
    assert "Authenticate your payment" in page.text
    token = page.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    return browser.post(
        url,
        data={"csrfmiddlewaretoken": token, "outcome": outcome},
        headers={"Referer": url},
        allow_redirects=False,
        timeout=10,
    )


def test_three_d_secure_passed(site, acme) -> None:
    link = PaymentLinkFactory(merchant=acme)
    started = start_checkout(site, link.slug)
    done = _authenticate(pay(started.checkout_url, number="4000002500003155"), "complete")
    assert done.status_code == 303 and "/success?session_id=" in done.headers["Location"]
    drain()
    assert payment_of(started).status == PaymentStatus.SUCCEEDED


def test_three_d_secure_failed_charges_nothing(site, acme) -> None:
    link = PaymentLinkFactory(merchant=acme)
    started = start_checkout(site, link.slug)
    failed = _authenticate(pay(started.checkout_url, number="4000000000003155"), "fail")
    assert failed.status_code == 402
    assert "unable to authenticate" in failed.text
    drain()
    payment = payment_of(started)
    assert payment.status == PaymentStatus.PENDING
    assert payment.failure_code == "payment_intent_authentication_failure"
    assert not payment.completed_at and payment.amount_refunded == 0


@pytest.mark.parametrize(
    ("iban", "final"),
    [
        ("DE89370400440532013000", PaymentStatus.SUCCEEDED),
        ("DE62370400440532013001", PaymentStatus.FAILED),
    ],
)
def test_sepa_debit_processes_then_settles_or_fails(site, acme, settings, iban, final) -> None:
    settings.SANDBOX_SETTLE_SECONDS = 20
    link = PaymentLinkFactory(merchant=acme, currency="EUR", amount=4900)
    started = start_checkout(site, link.slug)
    assert pay(started.checkout_url, method="sepa", iban=iban).status_code == 303
    drain()
    payment = payment_of(started)
    assert payment.status == PaymentStatus.PENDING
    assert payment.session_completed_at is not None
    assert payment.events.filter(kind="processing").exists()
    assert payment.payment_method_type == "sepa_debit" and payment.card_last4 == iban[-4:]
    with time_machine.travel(timezone.now() + timedelta(seconds=21)):
        drain()
    payment.refresh_from_db()
    assert payment.status == final
    if final == PaymentStatus.FAILED:
        assert payment.failure_message


def test_session_expiry(site, acme) -> None:

    link = PaymentLinkFactory(merchant=acme, payment_limit=1)
    started = start_checkout(site, link.slug)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        sweep()  # the sandbox's clock expires the session and emits the event
        drain()
        payment = payment_of(started)
        assert payment.status == PaymentStatus.EXPIRED
        # The expired checkout no longer holds the link's only place.
        again = start_checkout(site, link.slug)
        assert again.session_id != started.session_id
        page = requests.get(started.checkout_url, timeout=10)
        assert page.status_code == 410 and "expired" in page.text


def test_customer_cancels(site, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, payment_limit=1)
    started = start_checkout(site, link.slug)
    page = requests.get(started.checkout_url, timeout=10)
    found = re.search(
        rf'href="[^"]*/pay/{link.slug}/cancel\?payment={started.payment_id}&amp;token=([^"&]+)"',
        page.text,
    )
    assert found, page.text
    # The payment id alone cancels nothing; the token from the cancel link does.
    url = f"{site}/api/v1/public/payments/{started.payment_id}/cancel"
    assert requests.post(url, timeout=10).status_code == 404
    canceled = requests.post(url, json={"token": found.group(1)}, timeout=10)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    drain()
    payment = payment_of(started)
    assert payment.status == PaymentStatus.CANCELED
    closed = requests.get(started.checkout_url, timeout=10)
    assert closed.status_code == 410  # the session is closed at the gateway
    assert start_checkout(site, link.slug).session_id  # and the place is free again
