"""The payment link form in the console: amounts in major units, mistakes as field errors.

Every bad input is a POST to the admin's add view that comes back as the form again
(200), with the message on the field the merchant has to fix, in words they use, and
no link created. Never a 500.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from paylinks.models import AmountType, PaymentLink

from ..factories import PaymentFactory
from .conftest import ADMIN, change_url

pytestmark = pytest.mark.django_db

ADD = f"{ADMIN}/paymentlink/add/"


def form(**fields: Any) -> dict[str, Any]:
    data = {
        "title": "Signed first edition",
        "description": "",
        "currency": "USD",
        "amount_type": AmountType.FIXED,
        "amount": "25.00",
        "after_payment": "message",
        "confirmation_message": "",
        "redirect_url": "",
        "metadata": "{}",
        "_save": "Save",
    }
    data.update(fields)
    return data


def past() -> dict[str, str]:
    moment = timezone.localtime() - timedelta(days=1)
    return {"expires_at_0": moment.strftime("%Y-%m-%d"), "expires_at_1": moment.strftime("%H:%M")}


BAD_INPUT = [
    pytest.param({"amount": "0.10"}, "amount", "smallest amount", id="below-minimum"),
    pytest.param({"amount": "1000000"}, "amount", "largest amount", id="above-maximum"),
    pytest.param({"currency": "JPY", "amount": "12.5"}, "amount", "whole number", id="half-a-yen"),
    pytest.param({"currency": "KWD", "amount": "1.255"}, "amount", "multiple of", id="kwd-step"),
    pytest.param({"amount": "12,50"}, "amount", "plain number", id="decimal-comma"),
    pytest.param({"amount": "1e3"}, "amount", "plain number", id="exponent"),
    pytest.param({"amount": "١٢"}, "amount", "plain number", id="arabic-indic-digits"),
    pytest.param({"amount": "２５.００"}, "amount", "plain number", id="fullwidth-digits"),
    pytest.param({"amount": ""}, "amount", "Enter the amount", id="missing-amount"),
    pytest.param(past(), "expires_at", "in the past", id="expiry-in-past"),
    pytest.param({"currency": "XXX"}, "currency", "currencies in the list", id="unknown-currency"),
    pytest.param(
        {
            "amount_type": AmountType.CUSTOMER,
            "custom_amount_min": "50.00",
            "custom_amount_max": "20.00",
        },
        "custom_amount_max",
        "at least the minimum",
        id="min-above-max",
    ),
    pytest.param(
        {"amount_type": AmountType.CUSTOMER, "custom_amount_preset": "0.20"},
        "custom_amount_preset",
        "smallest amount",
        id="preset-below-minimum",
    ),
    pytest.param(
        {"after_payment": "redirect", "redirect_url": "javascript:alert(1)"},
        "redirect_url",
        "http:// or https://",
        id="javascript-redirect",
    ),
    pytest.param(
        {"after_payment": "redirect", "redirect_url": "https://shop.example@evil.example/"},
        "redirect_url",
        "user name or password",
        id="user-info-redirect",
    ),
    pytest.param(
        {"after_payment": "redirect", "redirect_url": "https://shop.example\\evil.example/"},
        "redirect_url",
        "backslash",
        id="backslash-redirect",
    ),
    pytest.param(
        {"after_payment": "redirect", "redirect_url": "https://shop.example/\x7fthanks"},
        "redirect_url",
        "control characters",
        id="control-character-redirect",
    ),
    pytest.param(
        {"after_payment": "redirect", "redirect_url": ""},
        "redirect_url",
        "web address",
        id="redirect-without-address",
    ),
    pytest.param(
        {"payment_limit": "0"}, "payment_limit", "greater than or equal to 1", id="limit-0"
    ),
    pytest.param({"metadata": "[1, 2]"}, "metadata", "key: value", id="metadata-not-object"),
    pytest.param({"title": ""}, "title", "required", id="no-title"),
]


@pytest.mark.parametrize(("fields", "field", "message"), BAD_INPUT)
def test_bad_input_is_a_field_error(console, alice, fields, field, message) -> None:
    response = console(alice).post(ADD, form(**fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert message.lower() in " ".join(errors[field]).lower()
    assert not PaymentLink.objects.exists()


@pytest.mark.parametrize(
    ("currency", "typed", "stored"),
    [
        ("USD", "12.50", 1250),
        ("JPY", "1500", 1500),
        ("KWD", "1.250", 1250),
        ("EUR", "1,234.5", 123450),
    ],
)
def test_amount_is_typed_in_major_units(console, alice, currency, typed, stored) -> None:
    response = console(alice).post(ADD, form(currency=currency, amount=typed))
    assert response.status_code == 302
    link = PaymentLink.objects.get()
    assert (link.currency, link.amount) == (currency, stored)


def test_customer_chooses_stores_the_range(console, alice) -> None:
    response = console(alice).post(
        ADD,
        form(
            amount_type=AmountType.CUSTOMER,
            amount="99.00",  # typed before switching: ignored for "customer chooses"
            custom_amount_min="5",
            custom_amount_max="500",
            custom_amount_preset="25",
        ),
    )
    assert response.status_code == 302
    link = PaymentLink.objects.get()
    assert link.amount is None
    assert (link.custom_amount_min, link.custom_amount_max, link.custom_amount_preset) == (
        500,
        50000,
        2500,
    )


def test_edit_form_shows_amounts_in_major_units(console, alice, acme_yen_link) -> None:
    form_ = console(alice).get(change_url(acme_yen_link)).context["adminform"].form
    assert form_.initial["amount"] == "1500"


def test_edit_changes_the_price(console, alice, acme_link) -> None:
    response = console(alice).post(
        change_url(acme_link), form(title=acme_link.title, amount="49.99")
    )
    assert response.status_code == 302
    acme_link.refresh_from_db()
    assert acme_link.amount == 4999


def test_currency_is_locked_once_the_link_has_payments(console, alice, acme_link) -> None:
    PaymentFactory(link=acme_link)
    response = console(alice).post(change_url(acme_link), form(currency="EUR", amount="45.00"))
    assert response.status_code == 302
    acme_link.refresh_from_db()
    assert acme_link.currency == "USD"


def test_form_carries_what_to_type_for_each_currency(console, alice) -> None:
    response = console(alice).get(ADD)
    hints = response.context["currency_hints"]
    assert hints["JPY"]["example"] == "1250"
    assert "no decimals" in hints["JPY"]["hint"]
    assert hints["USD"]["example"] == "12.50"
    assert 'id="paylinks-currencies"' in response.content.decode()


def test_add_form_starts_with_the_merchants_currency(console, bob) -> None:
    initial = console(bob).get(ADD).context["adminform"].form.initial
    assert initial["currency"] == "EUR"
