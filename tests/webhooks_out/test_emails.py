"""Receipts, refund notices and team notices: sent by the worker, with the right amount
and ids; a mail server that fails never touches the payment and is retried; every send
is on the payment's timeline."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from paylinks.models import Membership, Payment, PaymentStatus
from paylinks.services.refunds import refund_create

from ..factories import PaymentLinkFactory
from ..payments.helpers import drain, paid_payment, pay, start_checkout
from .flaky_mail import FlakyBackend

pytestmark = pytest.mark.django_db(transaction=True)


def test_receipt_and_refund_notice(site, acme, alice) -> None:
    acme.support_email = "help@acme.test"
    acme.timezone = "Europe/Copenhagen"
    acme.save()
    payment = paid_payment(site, acme, 2500, "USD")
    [receipt] = [m for m in mail.outbox if m.to == ["ada@example.test"]]
    html = receipt.alternatives[0][0]
    assert "25.00 USD" in receipt.subject and "Acme Books" in receipt.subject
    for text in (receipt.body, html):
        assert "25.00 USD" in text
        assert payment.payment_intent_id in text and payment.payment_intent_id.startswith("pi_")
        assert payment.public_id in text
        assert "help@acme.test" in text
        # the date in the merchant's zone, saying which, as the console writes it
        assert re.search(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} CES?T\b", text), text
    assert acme.brand_color in html
    assert receipt.reply_to == ["help@acme.test"]
    assert payment.events.filter(kind="email_sent", data__email="receipt").count() == 1

    mail.outbox.clear()
    refund_create(payment=payment, actor=alice, amount=1000)
    drain()
    [notice] = mail.outbox
    assert notice.to == ["ada@example.test"]
    assert "10.00 USD" in notice.subject
    assert "10.00 USD" in notice.body and "25.00 USD" in notice.body
    assert payment.payment_intent_id in notice.body
    assert payment.events.filter(kind="email_sent", data__email="refund").count() == 1


def test_team_members_who_opted_in_hear_of_payments(site, acme, alice, mallory) -> None:
    Membership.objects.filter(user=mallory).update(notify_payments=True)
    paid_payment(site, acme, 1500, "USD")
    team = [m for m in mail.outbox if m.to == ["mallory@acme.test"]]
    assert len(team) == 1 and "New payment: 15.00 USD" in team[0].subject
    assert not [m for m in mail.outbox if "alice@acme.test" in m.to]


def test_a_failing_mail_server_never_affects_the_payment_and_is_retried(
    site, acme, settings
) -> None:
    settings.EMAIL_BACKEND = "tests.webhooks_out.flaky_mail.FlakyBackend"
    FlakyBackend.failures = 1
    link = PaymentLinkFactory(merchant=acme, amount=4200, currency="EUR")
    started = start_checkout(site, link.slug)
    assert pay(started.checkout_url).status_code == 303
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert mail.outbox == []
    failed = payment.events.get(kind="email_failed")
    assert "trying again" in failed.message
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        drain()
    [receipt] = mail.outbox
    assert "42.00 EUR" in receipt.body and payment.public_id in receipt.body
    assert payment.events.filter(kind="email_sent").count() == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
