"""Quantity on payment links: the customer chooses how many units at a fixed price; the
server computes the total, and a limited link's places are units (a book's stock)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from paylinks import money
from paylinks.models import AmountType, LinkState, Payment, PaymentLink, PaymentStatus
from paylinks.models.outgoing import OutgoingEvent
from paylinks.selectors.links import link_state, with_state
from paylinks.services import links as link_services

from ..factories import PaymentFactory, PaymentLinkFactory
from .helpers import drain, pay

pytestmark = pytest.mark.django_db(transaction=True)


def checkout(site: str, slug: str, client: str = "", **body: object) -> requests.Response:
    headers = {"X-Forwarded-For": client} if client else {}
    return requests.post(
        f"{site}/api/v1/public/links/{slug}/checkout", json=body, headers=headers, timeout=60
    )


def book(acme, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "merchant": acme,
        "title": "Moby-Dick",
        "amount": 1450,
        "currency": "USD",
        "quantity_enabled": True,
        "quantity_max": 5,
    }
    return PaymentLinkFactory(**(values | overrides))


# --- the link's rules -------------------------------------------------------------------
class TestLinkRules:
    def test_only_a_fixed_price_takes_a_quantity(self, acme, alice) -> None:
        with pytest.raises(ValidationError) as caught:
            link_services.payment_link_create(
                merchant=acme,
                actor=alice,
                title="Tip jar",
                currency="USD",
                amount_type=AmountType.CUSTOMER,
                quantity_enabled=True,
            )
        assert "fixed-amount" in str(caught.value.message_dict["quantity_enabled"])

    def test_maximum_below_minimum_and_beyond_999_are_refused(self, acme, alice) -> None:
        with pytest.raises(ValidationError) as caught:
            link_services.payment_link_create(
                merchant=acme, actor=alice, title="Zines", currency="USD", amount=500,
                quantity_enabled=True, quantity_min=4, quantity_max=2,
            )  # fmt: skip
        assert "at least the minimum" in caught.value.message_dict["quantity_max"][0]
        with pytest.raises(ValidationError) as caught:
            link_services.payment_link_create(
                merchant=acme, actor=alice, title="Zines", currency="USD", amount=500,
                quantity_enabled=True, quantity_max=1000,
            )  # fmt: skip
        assert "999" in caught.value.message_dict["quantity_max"][0]

    def test_a_total_beyond_the_currencys_largest_charge_is_refused_clearly(
        self, acme, alice
    ) -> None:
        largest = money.maximum_minor("USD")
        with pytest.raises(ValidationError) as caught:
            link_services.payment_link_create(
                merchant=acme, actor=alice, title="Yacht", currency="USD", amount=largest // 2,
                quantity_enabled=True, quantity_max=3,
            )  # fmt: skip
        message = caught.value.message_dict["quantity_max"][0]
        assert "largest charge" in message and "at most 2" in message

    def test_without_quantity_the_settings_fall_back(self, acme, alice) -> None:
        link = link_services.payment_link_create(
            merchant=acme, actor=alice, title="Atlas", currency="EUR", amount=900,
            quantity_enabled=False, quantity_min=3, quantity_max=7,
        )  # fmt: skip
        link.refresh_from_db()
        assert (link.quantity_min, link.quantity_max) == (1, None)

    def test_the_database_refuses_a_quantity_on_a_customer_chosen_amount(self, acme) -> None:
        link = PaymentLinkFactory(merchant=acme, amount_type=AmountType.CUSTOMER, amount=None)
        with pytest.raises(IntegrityError), transaction.atomic():
            PaymentLink.objects.filter(pk=link.pk).update(quantity_enabled=True)

    def test_the_database_refuses_an_amount_that_is_not_unit_times_quantity(self, acme) -> None:
        link = book(acme)
        with pytest.raises(IntegrityError), transaction.atomic():
            PaymentFactory(link=link, amount=3000, unit_amount=1450, quantity=2)


# --- checkout -----------------------------------------------------------------------------
class TestCheckout:
    def test_the_server_multiplies_the_unit_price(self, site, acme) -> None:
        link = book(acme)
        response = checkout(site, link.slug, quantity=3, email="ishmael@example.test")
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["amount"] == {"value": 4350, "display": "43.50 USD"}
        assert (body["unit_amount"]["value"], body["quantity"]) == (1450, 3)
        payment = Payment.objects.get(public_id=body["payment_id"])
        assert (payment.amount, payment.unit_amount, payment.quantity) == (4350, 1450, 3)

    def test_quantity_is_optional_and_defaults_to_the_minimum(self, site, acme) -> None:
        link = book(acme, quantity_min=2)
        body = checkout(site, link.slug).json()
        assert (body["quantity"], body["amount"]["value"]) == (2, 2900)

    @pytest.mark.parametrize(
        "quantity", [0, 6, -1, "2.5", "two", True, [2], {"n": 2}, 1.5, "１", "9" * 10]
    )
    def test_a_quantity_outside_the_range_or_not_a_whole_number_is_a_clear_400(
        self, site, acme, quantity
    ) -> None:
        link = book(acme)
        response = checkout(site, link.slug, quantity=quantity)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_quantity"
        assert error["message"]
        assert not Payment.objects.filter(link=link).exists()

    def test_a_link_without_quantity_refuses_more_than_one(self, site, acme) -> None:
        link = PaymentLinkFactory(merchant=acme, amount=1000)
        assert checkout(site, link.slug, quantity=1).status_code == 201
        response = checkout(site, link.slug, quantity=2)
        assert (response.status_code, response.json()["error"]["code"]) == (
            400,
            "invalid_quantity",
        )

    def test_the_link_json_shows_the_quantity_and_units_left(self, site, acme) -> None:
        link = book(acme, payment_limit=4)
        data = requests.get(f"{site}/api/v1/public/links/{link.slug}", timeout=10).json()
        assert data["quantity"] == {"min": 1, "max": 5}
        assert data["units_left"] == 4
        checkout(site, link.slug, quantity=3)
        data = requests.get(f"{site}/api/v1/public/links/{link.slug}", timeout=10).json()
        assert data["units_left"] == 1
        plain = PaymentLinkFactory(merchant=acme)
        data = requests.get(f"{site}/api/v1/public/links/{plain.slug}", timeout=10).json()
        assert (data["quantity"], data["units_left"]) == (None, None)

    def test_the_sandbox_shows_the_quantity_and_the_total(self, site, acme) -> None:
        link = book(acme)
        body = checkout(site, link.slug, quantity=2).json()
        page = requests.get(body["checkout_url"], timeout=10).text
        assert "2 × 14.50 USD" in page
        assert "29.00 USD" in page

    def test_a_paid_quantity_reaches_the_webhook_payload_and_the_receipt(
        self, site, acme, mailoutbox
    ) -> None:
        link = book(acme)
        body = checkout(site, link.slug, quantity=2, email="ishmael@example.test").json()
        assert pay(body["checkout_url"]).status_code == 303
        drain()
        payment = Payment.objects.get(public_id=body["payment_id"])
        assert payment.status == PaymentStatus.SUCCEEDED
        event = OutgoingEvent.objects.filter(type="payment.succeeded").latest("pk")
        data = event.payload["data"]
        assert (data["quantity"], data["unit_amount"], data["amount"]) == (2, 1450, 2900)
        drain()
        receipt = next(m for m in mailoutbox if "ishmael@example.test" in m.to)
        assert "2 × Moby-Dick" in receipt.body
        assert "14.50 USD" in receipt.body and "29.00 USD" in receipt.body


# --- limits count units ---------------------------------------------------------------------
class TestUnits:
    def test_a_limit_counts_units_sold(self, acme) -> None:
        link = book(acme, payment_limit=5)
        PaymentFactory(link=link, amount=4350, unit_amount=1450, quantity=3,
                       status=PaymentStatus.SUCCEEDED)  # fmt: skip
        assert link_state(link) == LinkState.ACTIVE
        PaymentFactory(link=link, amount=2900, unit_amount=1450, quantity=2,
                       status=PaymentStatus.SUCCEEDED)  # fmt: skip
        assert link_state(link) == LinkState.SOLD_OUT
        annotated = with_state(PaymentLink.objects.filter(pk=link.pk)).get()
        assert (annotated.completed_count, annotated.state) == (5, LinkState.SOLD_OUT)

    def test_more_units_than_are_left_is_refused_with_how_many_are(self, site, acme) -> None:
        link = book(acme, payment_limit=3)
        PaymentFactory(link=link, amount=2900, unit_amount=1450, quantity=2,
                       status=PaymentStatus.SUCCEEDED)  # fmt: skip
        response = checkout(site, link.slug, quantity=2)
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "quantity_unavailable"
        assert "Only 1 left" in error["message"]
        assert checkout(site, link.slug, quantity=1).status_code == 201
        assert checkout(site, link.slug, quantity=1).json()["error"]["code"] == "places_held"

    def test_the_last_units_sold_send_link_sold_out_once(self, site, acme) -> None:
        link = book(acme, payment_limit=3)
        first = checkout(site, link.slug, quantity=2, client="").json()
        assert pay(first["checkout_url"]).status_code == 303
        drain()
        assert not OutgoingEvent.objects.filter(type="link.sold_out").exists()
        last = checkout(site, link.slug, quantity=1).json()
        assert pay(last["checkout_url"]).status_code == 303
        drain()
        (sold_out,) = OutgoingEvent.objects.filter(type="link.sold_out")
        assert sold_out.payload["data"]["completed_payments"] == 3

    def test_units_paid_beyond_the_limit_are_refunded(self, site, acme) -> None:
        link = book(acme, payment_limit=3)
        started = checkout(site, link.slug, quantity=2).json()
        # Two units were sold elsewhere meanwhile (the merchant lowered the limit, say).
        PaymentFactory(link=link, amount=2900, unit_amount=1450, quantity=2,
                       status=PaymentStatus.SUCCEEDED)  # fmt: skip
        assert pay(started["checkout_url"]).status_code == 303
        drain()
        payment = Payment.objects.get(public_id=started["payment_id"])
        assert payment.over_limit is True
        assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 2900)
        assert "2 units" in payment.events.get(kind="over_limit").message


@pytest.fixture
def behind_a_proxy(settings):  # type: ignore[no-untyped-def]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


@pytest.mark.postgres
def test_forty_customers_race_for_ten_copies_in_twos_and_threes(site, acme, behind_a_proxy) -> None:
    """Concurrent checkouts take units under the link's row lock: never more than the
    stock is held or sold, whatever quantities the customers ask for."""
    link = book(acme, payment_limit=10)

    def customer(n: int) -> tuple[int, str, int]:
        wanted = 2 if n % 2 else 3
        response = checkout(site, link.slug, client=f"203.0.113.{n}", quantity=wanted)
        if response.status_code != 201:
            return response.status_code, response.json()["error"]["code"], 0
        return pay(response.json()["checkout_url"]).status_code, "paid", wanted

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(customer, range(40)))
    drain()
    sold = sum(units for status, code, units in results if code == "paid")
    assert 9 <= sold <= 10  # 3+3+2+2 = 10 or 3+3+3 = 9 (+1 left, asked for by nobody)
    refused = {code for status, code, _ in results if status == 409}
    assert refused <= {"sold_out", "places_held", "quantity_unavailable"}
    units = sum(
        p.quantity for p in Payment.objects.filter(link=link, status=PaymentStatus.SUCCEEDED)
    )
    assert units == sold
    assert not Payment.objects.filter(link=link, over_limit=True).exists()
