"""Refunds from the payment's page in the console: amounts in major units, with a reason.

The payment is paid for real through the sandbox (live server, signed webhooks), and
the refund goes through the gateway and comes back as ``charge.refunded``.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from paylinks.models import Payment, PaymentStatus, Refund, User

from .helpers import drain, paid_payment

pytestmark = pytest.mark.django_db(transaction=True)


def console(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def refund_url(payment: Payment) -> str:
    return f"/admin/paylinks/payment/{payment.pk}/refund/"


def page_url(payment: Payment) -> str:
    return f"/admin/paylinks/payment/{payment.pk}/change/"


def ask_refund(client: Client, payment: Payment, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(refund_url(payment), {"_form_submitted": "on", **fields})


def test_manager_refunds_part_of_a_payment_in_major_units(site, acme, mallory) -> None:
    payment = paid_payment(site, acme, 4500, "USD")
    client = console(mallory)
    assert refund_url(payment) in client.get(page_url(payment)).content.decode()

    response = ask_refund(client, payment, amount="12.50", reason="duplicate", note="Sent twice")
    assert response.status_code == 302 and response["Location"] == page_url(payment)
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.reason, refund.note, refund.created_by) == (
        1250,
        "duplicate",
        "Sent twice",
        mallory,
    )
    drain()
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 1250)
    page = client.get(page_url(payment)).content.decode()
    assert "12.50 USD" in page and "Sent twice" in page


def test_an_empty_amount_refunds_what_is_left(site, acme, alice) -> None:
    payment = paid_payment(site, acme, 1500, "JPY")
    client = console(alice)
    assert (
        ask_refund(client, payment, amount="500", reason="requested_by_customer").status_code == 302
    )
    assert ask_refund(client, payment, amount="", reason="requested_by_customer").status_code == 302
    drain()
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 1500)
    assert sorted(payment.refunds.values_list("amount", flat=True)) == [500, 1000]
    # Nothing left: the button is gone and the URL refuses.
    assert refund_url(payment) not in client.get(page_url(payment)).content.decode()
    assert ask_refund(client, payment, amount="1", reason="duplicate").status_code == 403


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("45.01", "at most 45.00 USD"),
        ("12.345", "decimal"),
        ("-5", "plain number"),
        ("1e3", "plain number"),
        ("0", "greater than zero"),
    ],
)
def test_bad_amounts_are_form_errors_and_refund_nothing(site, acme, alice, amount, words) -> None:
    payment = paid_payment(site, acme, 4500, "USD")
    response = ask_refund(console(alice), payment, amount=amount, reason="duplicate")
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not Refund.objects.exists()


def test_a_reason_is_required(site, acme, alice) -> None:
    payment = paid_payment(site, acme, 4500, "USD")
    response = ask_refund(console(alice), payment, amount="1.00", reason="over_limit")
    assert response.status_code == 200 and not Refund.objects.exists()


def test_who_may_refund(site, acme, victor, sam, bob) -> None:
    payment = paid_payment(site, acme, 4500, "USD")
    viewer = console(victor)
    assert refund_url(payment) not in viewer.get(page_url(payment)).content.decode()
    assert ask_refund(viewer, payment, amount="1.00", reason="duplicate").status_code == 403
    assert ask_refund(console(sam), payment, amount="1.00", reason="duplicate").status_code == 403
    # Another merchant's payment does not exist for Globex's owner.
    assert ask_refund(console(bob), payment, amount="1.00", reason="duplicate").status_code == 404
    assert not Refund.objects.exists()


def test_the_dialog_gets_its_result_in_place(site, acme, alice) -> None:
    """The dialog posts through htmx: no redirect, an event naming the page to read again
    (console.js swaps it in); the page then shows the refund, its timeline entry and the
    message. Without JavaScript the same POST redirects (the tests above)."""
    payment = paid_payment(site, acme, 4500, "USD")
    client = console(alice)
    response = client.post(
        refund_url(payment),
        {"_form_submitted": "on", "amount": "5.00", "reason": "duplicate"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and "HX-Redirect" not in response
    assert json.loads(response["HX-Trigger"]) == {"paylinks:refresh": page_url(payment)}
    assert Refund.objects.get(payment=payment).amount == 500
    page = client.get(page_url(payment)).content.decode()
    assert "Refund of 5.00 USD sent" in page and "Refund requested" in page


def test_a_refused_amount_stays_in_the_dialog(site, acme, alice) -> None:
    payment = paid_payment(site, acme, 4500, "USD")
    response = console(alice).post(
        refund_url(payment),
        {"_form_submitted": "on", "amount": "99.00", "reason": "duplicate"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert 'id="dialog-form"' in response.content.decode()
    assert "at most 45.00 USD" in response.content.decode()
    assert not Refund.objects.exists()
