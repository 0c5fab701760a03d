"""One definition of each filter (``dashboards.filters``), used by the analytics pages and
the console's payments list alike."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards.filters import PaymentFilterSet, minor_bounds
from paylinks.models import Merchant, Payment, PaymentStatus
from paylinks.services import rollups

from ..admin.conftest import ADMIN
from ..factories import PaymentFactory, PaymentLinkFactory

pytestmark = pytest.mark.django_db

PAYMENTS = f"{ADMIN}/payment/"


def paid(link: Any, amount: int, **kw: Any) -> Payment:
    payment = PaymentFactory(link=link, amount=amount, status=PaymentStatus.SUCCEEDED, **kw)
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(days=2))
    return payment


def listed(response: Any) -> set[str]:
    assert response.status_code == 200
    return {p.public_id for p in response.context["cl"].result_list}


@pytest.mark.parametrize(
    "code, low, high, expected",
    [
        ("USD", "10", "20.5", (1000, 2050)),
        ("USD", "10.001", "10.009", (1001, 1000)),  # whole cents inside the range
        ("JPY", "1500", None, (1500, None)),
        ("BHD", "1.5", "2", (1500, 2000)),
    ],
)
def test_major_units_become_minor_units_of_the_currency(code, low, high, expected) -> None:
    as_decimal = (None if v is None else Decimal(v) for v in (low, high))
    assert minor_bounds(code, *as_decimal) == expected


class TestPaymentsList:
    def test_amount_range_in_major_units(self, console, alice, acme_link) -> None:
        small, middle, large = (paid(acme_link, a) for a in (999, 4500, 12000))
        response = console(alice).get(
            PAYMENTS, {"currency": "USD", "amount_from": "10", "amount_to": "45"}
        )
        assert listed(response) == {middle.public_id}
        assert small and large

    def test_amount_range_without_a_currency_says_so(self, console, alice, acme_link) -> None:
        payments = {paid(acme_link, a).public_id for a in (999, 4500)}
        response = console(alice).get(PAYMENTS, {"amount_from": "10"}, follow=True)
        assert listed(response) == payments  # nothing filtered
        assert "Choose a currency to filter by amount" in response.content.decode()

    def test_link_filter(self, console, alice, acme, acme_link) -> None:
        other = PaymentLinkFactory(merchant=acme, title="Other")
        mine = paid(acme_link, 4500)
        paid(other, 4500)
        assert listed(console(alice).get(PAYMENTS, {"link": acme_link.pk})) == {mine.public_id}

    def test_another_merchants_link_is_not_offered(
        self, console, alice, acme_link, globex_link
    ) -> None:
        paid(acme_link, 4500)
        response = console(alice).get(PAYMENTS)
        spec = next(s for s in response.context["cl"].filter_specs if s.title == "link")
        assert [v for v, _ in spec.lookup_choices] == [str(acme_link.pk)]

    def test_method_choices_name_card_brands(self, console, alice, acme_link) -> None:
        paid(acme_link, 4500, payment_method_type="card", card_brand="visa")
        rollups.rebuild(merchant=acme_link.merchant)
        response = console(alice).get(PAYMENTS)
        spec = next(s for s in response.context["cl"].filter_specs if s.title == "payment method")
        assert dict(spec.lookup_choices) == {"card": "Card", "card:visa": "Visa"}
        assert len(listed(console(alice).get(PAYMENTS, {"method": "card:visa"}))) == 1

    def test_choices_never_scan_the_payments(self, acme, acme_link) -> None:
        """Choice lists read links and rollups; the payments table only for open ones
        (through the (merchant, status) index)."""
        paid(acme_link, 4500)
        with CaptureQueriesContext(connection) as queries:
            filters = PaymentFilterSet({}, merchants=Merchant.objects.filter(pk=acme.pk))
            filters.form.fields  # noqa: B018 - builds the choices
        on_payments = [
            q["sql"] for q in queries.captured_queries if '"paylinks_payment"' in q["sql"]
        ]
        assert on_payments, "expected the open payments' methods to be read"
        for sql in on_payments:
            assert "\"status\" = 'pending'" in sql, sql
