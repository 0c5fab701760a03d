"""Stripe echoes a parameter it refuses ("Invalid email address: ..."). The error's text
becomes the payment's failure message, a timeline entry and a log line, none of which is
encrypted: the adapter keeps the customer's address out of it."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from paylinks.models import Payment, PaymentEvent, PaymentStatus
from paylinks.services.payments import CheckoutError, checkout_start

from ..factories import PaymentLinkFactory
from .fake_stripe import FakeStripe

pytestmark = pytest.mark.django_db

EMAIL = "barnaby.q.thistlewood@example.test"


def test_a_refused_email_is_not_written_anywhere_in_clear(
    gateway: Any, fake_stripe: FakeStripe, acme: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake_stripe.fail_next(
        400,
        error={
            "type": "invalid_request_error",
            "code": "email_invalid",
            "param": "customer_email",
            "message": f"Invalid email address: {EMAIL}",
        },
    )
    link = PaymentLinkFactory(merchant=acme)
    caplog.set_level(logging.INFO)

    with pytest.raises(CheckoutError) as caught:
        checkout_start(slug=link.slug, email=EMAIL)

    assert caught.value.code == "gateway_unavailable"
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.FAILED
    assert payment.customer_email == EMAIL  # kept, encrypted, where it belongs
    assert "Invalid email address: [e-mail address]" in payment.failure_message
    written = [
        payment.failure_message,
        *PaymentEvent.objects.values_list("message", flat=True),
        caplog.text,
    ]
    assert not [text for text in written if "thistlewood" in text.lower()]
