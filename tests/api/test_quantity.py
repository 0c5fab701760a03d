"""Quantity through the merchant API: link settings in and out, units sold, and each
payment's quantity and unit amount."""

from __future__ import annotations

import pytest

from paylinks.models import PaymentStatus

from ..factories import PaymentFactory, PaymentLinkFactory

pytestmark = pytest.mark.django_db


def test_create_a_link_with_a_quantity(acme_api) -> None:
    response = acme_api.post(
        "/api/v1/links",
        {
            "title": "Moby-Dick",
            "currency": "USD",
            "amount": 1450,
            "quantity_enabled": True,
            "quantity_max": 5,
            "payment_limit": 40,
        },
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["quantity"] == {"min": 1, "max": 5}
    assert (data["payment_limit"], data["units_sold"]) == (40, 0)


def test_update_turns_quantity_on_and_refuses_a_customer_chosen_amount(acme_api, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=900)
    response = acme_api.patch(
        f"/api/v1/links/{link.slug}", {"quantity_enabled": True, "quantity_min": 2}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["quantity"] == {"min": 2, "max": 999}
    response = acme_api.patch(
        f"/api/v1/links/{link.slug}", {"amount_type": "customer", "amount": None}
    )
    assert response.status_code == 400
    assert "fixed-amount" in str(response.json())


@pytest.mark.parametrize(
    "fields",
    [{"quantity_max": 1000}, {"quantity_min": 0}, {"quantity_min": 3, "quantity_max": 2}],
)
def test_bad_quantity_settings_are_a_400(acme_api, fields) -> None:
    body = {"title": "Zines", "currency": "USD", "amount": 500, "quantity_enabled": True}
    response = acme_api.post("/api/v1/links", body | fields)
    assert response.status_code == 400, response.json()


def test_units_sold_and_payment_quantity(acme_api, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=1450, quantity_enabled=True)
    payment = PaymentFactory(link=link, amount=2900, unit_amount=1450, quantity=2,
                             status=PaymentStatus.SUCCEEDED)  # fmt: skip
    assert acme_api.get(f"/api/v1/links/{link.slug}").json()["units_sold"] == 2
    data = acme_api.get(f"/api/v1/payments/{payment.public_id}").json()
    assert (data["quantity"], data["unit_amount"]["value"], data["amount"]["value"]) == (
        2,
        1450,
        2900,
    )


def test_a_payment_from_before_quantities_is_one_unit(acme_api, acme) -> None:
    payment = PaymentFactory(link=PaymentLinkFactory(merchant=acme, amount=700))
    data = acme_api.get(f"/api/v1/payments/{payment.public_id}").json()
    assert (data["quantity"], data["unit_amount"]["value"]) == (1, 700)
