"""CSV exports of links and payments: the rows the list shows, amounts two ways."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.http import StreamingHttpResponse

from paylinks.models import AmountType, PaymentStatus

from ..factories import PaymentFactory, PaymentLinkFactory
from .conftest import ADMIN

pytestmark = pytest.mark.django_db


def rows_of(response: Any) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


class TestLinkExport:
    def test_columns_and_amounts(self, console, alice, acme_link, acme_yen_link) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/export/")
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith('attachment; filename="payment-links-')
        rows = {row["title"]: row for row in rows_of(response)}
        assert set(rows) == {acme_link.title, acme_yen_link.title}
        usd, jpy = rows[acme_link.title], rows[acme_yen_link.title]
        assert (usd["currency"], usd["amount_minor"], usd["amount"]) == ("USD", "4500", "45.00")
        assert (jpy["currency"], jpy["amount_minor"], jpy["amount"]) == ("JPY", "1500", "1500")
        assert usd["public_url"] == acme_link.public_url
        assert usd["state"] == "active"

    def test_customer_chooses_exports_its_range(self, console, alice, acme) -> None:
        PaymentLinkFactory(
            merchant=acme,
            amount=None,
            amount_type=AmountType.CUSTOMER,
            custom_amount_min=500,
            custom_amount_max=20000,
        )
        (row,) = rows_of(console(alice).get(f"{ADMIN}/paymentlink/export/"))
        assert (row["amount_minor"], row["amount"]) == ("", "")
        assert (row["minimum_minor"], row["minimum"]) == ("500", "5.00")
        assert (row["maximum_minor"], row["maximum"]) == ("20000", "200.00")

    def test_exports_the_filtered_list(self, console, alice, acme_link, acme_yen_link) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/export/?currency=JPY")
        assert [row["title"] for row in rows_of(response)] == [acme_yen_link.title]

    def test_exports_the_searched_list(self, console, alice, acme_link, acme_yen_link) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/export/?q=Tokyo")
        assert [row["title"] for row in rows_of(response)] == [acme_yen_link.title]

    def test_list_button_carries_the_current_filters(self, console, alice, acme_link) -> None:
        page = console(alice).get(f"{ADMIN}/paymentlink/?currency=USD&q=signed").content.decode()
        assert f"{ADMIN}/paymentlink/export/?currency=USD&amp;q=signed" in page

    def test_exports_selected_rows(self, console, alice, acme_link, acme_yen_link) -> None:
        response = console(alice).post(
            f"{ADMIN}/paymentlink/",
            {"action": "export_selected", "_selected_action": [acme_yen_link.pk]},
        )
        assert [row["title"] for row in rows_of(response)] == [acme_yen_link.title]

    def test_formulas_are_neutralised(self, console, alice, acme) -> None:
        PaymentLinkFactory(merchant=acme, title='=HYPERLINK("http://evil")')
        (row,) = rows_of(console(alice).get(f"{ADMIN}/paymentlink/export/"))
        assert row["title"].startswith("'=")

    def test_bad_filter_does_not_crash(self, console, alice, acme_link) -> None:
        response = console(alice).get(f"{ADMIN}/paymentlink/export/?nonsense__field=1")
        assert response.status_code == 302


class TestPaymentExport:
    def test_columns_and_amounts(self, console, alice, acme_payment) -> None:
        PaymentFactory(
            link=acme_payment.link, status=PaymentStatus.PARTIALLY_REFUNDED, amount_refunded=1000
        )
        rows = rows_of(console(alice).get(f"{ADMIN}/payment/export/"))
        by_id = {row["payment"]: row for row in rows}
        paid = by_id[acme_payment.public_id]
        assert (paid["currency"], paid["amount_minor"], paid["amount"]) == ("USD", "4500", "45.00")
        assert (paid["method"], paid["card_brand"], paid["card_last4"]) == ("card", "visa", "4242")
        assert paid["status"] == "succeeded"
        refunded = next(row for row in rows if row["status"] == "partially_refunded")
        assert (refunded["refunded_minor"], refunded["refunded"]) == ("1000", "10.00")

    def test_exports_the_filtered_list(self, console, alice, acme_link) -> None:
        ok = PaymentFactory(link=acme_link, status=PaymentStatus.SUCCEEDED)
        PaymentFactory(link=acme_link, status=PaymentStatus.FAILED)
        response = console(alice).get(f"{ADMIN}/payment/export/?status__exact=succeeded")
        assert [row["payment"] for row in rows_of(response)] == [ok.public_id]

    def test_viewers_may_export(self, console, victor, acme_payment) -> None:
        rows = rows_of(console(victor).get(f"{ADMIN}/payment/export/"))
        assert [row["payment"] for row in rows] == [acme_payment.public_id]
