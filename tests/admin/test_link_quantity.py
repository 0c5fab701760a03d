"""Quantity in the console: the link form's fields (with field errors, never a 500),
units sold on the link's page and list, quantity on a payment's page and list."""

from __future__ import annotations

import pytest

from paylinks.models import AmountType, PaymentLink, PaymentStatus

from ..factories import PaymentFactory, PaymentLinkFactory
from .conftest import ADMIN, change_url
from .test_export import rows_of
from .test_link_form import ADD, form

pytestmark = pytest.mark.django_db


def test_a_link_with_a_quantity_is_saved(console, alice) -> None:
    response = console(alice).post(
        ADD, form(quantity_enabled="on", quantity_min="1", quantity_max="4", payment_limit="40")
    )
    assert response.status_code == 302
    link = PaymentLink.objects.get()
    assert (link.quantity_enabled, link.quantity_min, link.quantity_max) == (True, 1, 4)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"quantity_min": "5", "quantity_max": "2"}, "quantity_max", "at least the minimum"),
        ({"quantity_max": "1000"}, "quantity_max", "at most 999"),
        ({"quantity_min": "0"}, "quantity_min", "greater than or equal to 1"),
        ({"quantity_min": "two"}, "quantity_min", "whole number"),
        ({"amount": "999999.00", "quantity_max": "5"}, "quantity_max", "largest charge"),
        ({"quantity_min": "3", "payment_limit": "2"}, "quantity_min", "nobody could buy"),
        (
            {"amount_type": AmountType.CUSTOMER, "amount": ""},
            "quantity_enabled",
            "fixed-amount",
        ),
    ],
)
def test_bad_quantities_are_field_errors(console, alice, fields, field, message) -> None:
    response = console(alice).post(ADD, form(quantity_enabled="on", **fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert message.lower() in " ".join(errors[field]).lower()
    assert not PaymentLink.objects.exists()


def test_the_link_page_and_list_show_units_sold(console, alice, acme) -> None:
    link = PaymentLinkFactory(
        merchant=acme, title="Moby-Dick", amount=1450, quantity_enabled=True, payment_limit=10
    )
    PaymentFactory(link=link, amount=4350, unit_amount=1450, quantity=3,
                   status=PaymentStatus.SUCCEEDED)  # fmt: skip
    page = console(alice).get(change_url(link)).content.decode()
    assert "3 of 10 units sold, 7 left" in page
    listing = console(alice).get(f"{ADMIN}/paymentlink/").content.decode()
    assert "3 of 10 units" in listing


def test_payments_show_their_quantity(console, alice, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=1450, quantity_enabled=True)
    payment = PaymentFactory(link=link, amount=2900, unit_amount=1450, quantity=2,
                             status=PaymentStatus.SUCCEEDED)  # fmt: skip
    listing = console(alice).get(f"{ADMIN}/payment/").content.decode()
    assert "2 × 14.50 USD" in listing
    detail = console(alice).get(change_url(payment)).content.decode()
    assert "2 × 14.50 USD" in detail
    (row,) = rows_of(console(alice).get(f"{ADMIN}/payment/export/"))
    assert (row["quantity"], row["unit_amount"], row["amount"]) == ("2", "14.50", "29.00")
