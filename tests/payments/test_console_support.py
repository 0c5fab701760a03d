"""What support sees of real payments (public API -> sandbox page -> signed webhooks):
a declined card is a declined attempt with its reason, the customer's e-mail finds the
payment whichever way it reached Paylinks, and refunds are in the audit log in money."""

from __future__ import annotations

import pytest
from django.test import Client

from paylinks.crypto import email_search_hash
from paylinks.models import AuditEntry, Payment, PaymentStatus, User

from ..factories import PaymentLinkFactory
from .helpers import drain, paid_payment, pay, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)

PAYMENTS = "/admin/paylinks/payment/"


def console(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_declined_card_shows_as_a_declined_attempt_not_just_pending(site, acme, alice) -> None:
    link = PaymentLinkFactory(merchant=acme)
    started = start_checkout(site, link.slug)
    assert pay(started.checkout_url, number="4000000000009995").status_code == 402
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)
    assert payment.status == PaymentStatus.PENDING
    client = console(alice)
    listing = client.get(PAYMENTS).content.decode()
    assert "1 declined attempt (insufficient funds)" in listing
    page = client.get(f"{PAYMENTS}{payment.pk}/change/").content.decode()
    assert "1 declined attempt (insufficient funds)" in page
    assert "Attempt declined: insufficient funds" in page


@pytest.mark.parametrize("given_at", ["checkout", "hosted page"])
def test_the_customers_email_finds_the_payment(site, acme, alice, sam, given_at) -> None:
    link = PaymentLinkFactory(merchant=acme)
    email = "Ada.Lovelace@Example.test"
    body = {"email": email} if given_at == "checkout" else {}
    started = start_checkout(site, link.slug, **body)
    assert pay(started.checkout_url, email=email).status_code == 303
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)
    assert payment.customer_email_hash == email_search_hash("ada.lovelace@example.test")
    for person in (alice, sam):
        found = console(person).get(PAYMENTS, {"q": "ada.lovelace@example.test"})
        assert payment.public_id in found.content.decode()


def test_refunds_are_in_the_audit_log_in_money(site, acme, alice) -> None:
    payment = paid_payment(site, acme, 4500, "USD")
    client = console(alice)
    refund = client.post(
        f"{PAYMENTS}{payment.pk}/refund/",
        {"_form_submitted": "on", "amount": "12.50", "reason": "requested_by_customer"},
    )
    assert refund.status_code == 302
    audit = "/admin/paylinks/auditentry/"
    listing = client.get(audit, {"action": "group:refunds"}).content.decode()
    assert "Refund requested" in listing and payment.public_id in listing
    entry = AuditEntry.objects.get(action="payment.refund_requested")
    detail = client.get(f"{audit}{entry.pk}/change/").content.decode()
    assert "12.50 USD" in detail and "Requested by the customer" in detail
    assert ">1250<" not in detail and "requested_by_customer" not in detail
    assert f"{PAYMENTS}{payment.pk}/change/" in detail
