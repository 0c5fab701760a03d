"""The analytics pages: the numbers shown are the database's, filters change them, and
each person sees only what their role allows.

Payments are made with the factories at chosen moments, the rollups rebuilt from them
(as ``manage.py rebuild_rollups`` would), and every expected figure is counted here from
the payments table, independently of the selectors the page uses.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count, Sum
from django.utils import timezone

from paylinks import money
from paylinks.models import Merchant, Payment, PaymentStatus
from paylinks.models.payments import COMPLETED_STATUSES
from paylinks.services import rollups

from ..factories import PaymentFactory

pytestmark = pytest.mark.django_db

URL = "/admin/analytics/"
SUPPORT = "/admin/analytics/support/"


def made(link: Any, status: str, days_ago: float, **kw: Any) -> Payment:
    payment = PaymentFactory(link=link, status=status, **kw)
    moment = timezone.now() - timedelta(days=days_ago)
    Payment.objects.filter(pk=payment.pk).update(created_at=moment)
    return payment


@pytest.fixture
def shop(acme_link, acme_yen_link, globex_link) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Acme: USD and JPY payments, now and 40 days ago; Globex: EUR ones."""
    visa = {"payment_method_type": "card", "card_brand": "visa"}
    sepa = {"payment_method_type": "sepa_debit"}
    made(acme_link, PaymentStatus.SUCCEEDED, 1, **visa)
    made(acme_link, PaymentStatus.SUCCEEDED, 3, amount=9900, **sepa)
    made(acme_link, PaymentStatus.PARTIALLY_REFUNDED, 10, amount_refunded=1000, **visa)
    made(acme_link, PaymentStatus.FAILED, 2, **visa)
    made(acme_link, PaymentStatus.EXPIRED, 12)
    made(acme_link, PaymentStatus.SUCCEEDED, 40, **visa)  # the previous period
    made(acme_yen_link, PaymentStatus.SUCCEEDED, 5, **visa)
    made(acme_yen_link, PaymentStatus.SUCCEEDED, 20, amount=3000, **sepa)
    made(globex_link, PaymentStatus.SUCCEEDED, 4, amount=77700, **visa)
    for merchant in Merchant.objects.all():
        rollups.rebuild(merchant=merchant)
    return {}


def in_days(merchant: Merchant, days: int) -> Any:
    """Payments of ``merchant`` in its last ``days`` local days (today included)."""
    today = timezone.localtime(timezone.now(), timezone=_zone(merchant)).date()
    first = today - timedelta(days=days - 1)
    return [
        p
        for p in Payment.objects.filter(merchant=merchant)
        if timezone.localtime(p.created_at, timezone=_zone(merchant)).date() >= first
    ]


def _zone(merchant: Merchant) -> Any:
    import zoneinfo

    return zoneinfo.ZoneInfo(merchant.timezone)


def expected(payments: list[Payment]) -> dict[str, dict[str, int]]:
    """Gross, refunded, net and paid count per currency, longhand."""
    out: dict[str, dict[str, int]] = {}
    for p in payments:
        if p.status not in COMPLETED_STATUSES:
            continue
        row = out.setdefault(p.currency, {"gross": 0, "refunded": 0, "paid": 0})
        row["gross"] += p.amount
        row["refunded"] += p.amount_refunded
        row["paid"] += 1
    for row in out.values():
        row["net"] = row["gross"] - row["refunded"]
    return out


def kpis(page: str) -> dict[tuple[str, str], str]:
    """``(kpi, currency) -> value`` as the page shows it."""
    found = re.findall(
        r'data-kpi="([a-z]+)"(?: data-kpi-currency="([A-Z]{3})")?>.*?data-value>([^<]*)<',
        page,
        flags=re.S,
    )
    return {(key, code): html.unescape(value).strip() for key, code, value in found}


def get(client: Any, url: str = URL, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


class TestNumbers:
    def test_headline_equals_the_databases_totals_per_currency(
        self, console, alice, acme, shop
    ) -> None:
        shown = kpis(get(console(alice)))
        totals = expected(in_days(acme, 30))
        assert set(totals) == {"USD", "JPY"}
        for code, row in totals.items():
            assert shown[("net", code)] == money.format_money(row["net"], code)
            assert shown[("gross", code)] == money.format_money(row["gross"], code)
            assert shown[("refunded", code)] == money.format_money(row["refunded"], code)
            assert shown[("paid", code)] == str(row["paid"])
        assert ("net", "EUR") not in shown  # Globex's money is not Acme's

    def test_success_rate_and_checkouts_started(self, console, alice, acme, shop) -> None:
        shown = kpis(get(console(alice)))
        recent = in_days(acme, 30)
        paid = sum(p.status in COMPLETED_STATUSES for p in recent)
        finished = sum(p.status != PaymentStatus.PENDING for p in recent)
        assert shown[("started", "")] == str(len(recent))
        assert shown[("success", "")] == f"{paid / finished * 100:.1f} %"

    def test_previous_period_is_beside_each_figure(self, console, alice, acme, shop) -> None:
        page = get(console(alice))
        before = [p for p in in_days(acme, 60) if p not in in_days(acme, 30)]
        previous = expected(before)["USD"]
        block = re.search(r'data-kpi="gross" data-kpi-currency="USD">(.*?)</div>', page, re.S)
        assert block is not None
        assert f"vs {money.format_money(previous['gross'], 'USD')}" in html.unescape(block[1])

    def test_period_changes_the_numbers(self, console, alice, acme, shop) -> None:
        shown = kpis(get(console(alice), period="7d"))
        totals = expected(in_days(acme, 7))
        assert shown[("gross", "USD")] == money.format_money(totals["USD"]["gross"], "USD")
        assert shown[("gross", "USD")] != kpis(get(console(alice)))[("gross", "USD")]

    def test_currency_filter_keeps_one_currency(self, console, alice, acme, shop) -> None:
        shown = kpis(get(console(alice), currency="JPY"))
        totals = expected(in_days(acme, 30))
        assert shown[("gross", "JPY")] == money.format_money(totals["JPY"]["gross"], "JPY")
        assert ("gross", "USD") not in shown

    def test_method_filter(self, console, alice, acme, shop) -> None:
        shown = kpis(get(console(alice), method="sepa_debit"))
        totals = expected([p for p in in_days(acme, 30) if p.payment_method_type == "sepa_debit"])
        for code, row in totals.items():
            assert shown[("gross", code)] == money.format_money(row["gross"], code)

    def test_amount_range_in_major_units_of_the_currency(self, console, alice, acme, shop) -> None:
        shown = kpis(get(console(alice), currency="USD", amount_from="50", amount_to="100"))
        totals = expected(
            [p for p in in_days(acme, 30) if p.currency == "USD" and 5000 <= p.amount <= 10000]
        )
        assert totals["USD"]["gross"] == 9900
        assert shown[("gross", "USD")] == money.format_money(9900, "USD")

    def test_link_filter(self, console, alice, acme, acme_yen_link, shop) -> None:
        shown = kpis(get(console(alice), link=str(acme_yen_link.pk)))
        assert ("gross", "USD") not in shown and ("gross", "JPY") in shown

    def test_custom_range(self, console, alice, acme, shop) -> None:
        today = timezone.localdate()
        start, end = today - timedelta(days=15), today - timedelta(days=8)
        page = get(console(alice), period="custom", start=start.isoformat(), end=end.isoformat())
        assert f'data-period="{start.isoformat()}/{end.isoformat()}"' in page
        in_range = [p for p in in_days(acme, 16) if p not in in_days(acme, 8)]
        totals = expected(in_range)
        assert kpis(page)[("gross", "USD")] == money.format_money(totals["USD"]["gross"], "USD")

    def test_top_links_table(self, console, alice, acme_link, shop) -> None:
        page = get(console(alice))
        table = re.search(r'data-table="top_links">(.*?)</table>', page, re.S)
        assert table is not None and acme_link.title in table[1]

    def test_method_breakdown_counts(self, console, alice, acme, shop) -> None:
        rows = csv_rows(console(alice).get(URL, {"csv": "methods"}))
        visa_usd = [r for r in rows[1:] if r[1] == "USD" and "Visa" in r[0]]
        count = Payment.objects.filter(
            merchant=acme,
            currency="USD",
            card_brand="visa",
            status__in=COMPLETED_STATUSES,
            created_at__gte=timezone.now() - timedelta(days=29),
        ).aggregate(n=Count("pk"), total=Sum("amount"))
        assert visa_usd and int(visa_usd[0][2]) == count["n"]
        assert visa_usd[0][3] == money.format_money(count["total"], "USD")


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.content.decode())))


class TestCsv:
    def test_each_chart_downloads_its_table(self, console, alice, shop) -> None:
        client = console(alice)
        for key in ("received", "statuses", "success_rate", "methods", "funnel",
                    "distribution", "refunds", "reasons", "top_links"):  # fmt: skip
            rows = csv_rows(client.get(URL, {"csv": key}))
            assert rows[0], key

    def test_keeps_the_filters(self, console, alice, shop) -> None:
        rows = csv_rows(console(alice).get(URL, {"csv": "received", "currency": "JPY"}))
        assert {r[1] for r in rows[1:]} == {"JPY"}

    def test_links_on_the_page_keep_the_filters(self, console, alice, shop) -> None:
        page = get(console(alice), currency="JPY", period="7d")
        assert "currency=JPY&amp;period=7d&amp;csv=received" in page

    def test_unknown_chart_is_404(self, console, alice, shop) -> None:
        assert console(alice).get(URL, {"csv": "passwords"}).status_code == 404


class TestInvalidFilters:
    @pytest.mark.parametrize(
        "params, message",
        [
            ({"amount_from": "10"}, "Choose a currency to filter by amount"),
            ({"period": "forever"}, "Select a valid choice"),
            ({"period": "custom", "start": "yesterday", "end": "2026-01-01"}, "Enter a valid date"),
            ({"period": "custom", "start": "2026-02-01", "end": "2026-01-01"}, "before the first"),
            ({"currency": "XXX"}, "Select a valid choice"),
            ({"currency": "USD", "amount_from": "-5"}, "greater than or equal to 0"),
            ({"currency": "USD", "amount_from": "1e400"}, "Amount from"),
            ({"link": "²"}, "Select a valid choice"),
            ({"method": "card:nonsense"}, "Select a valid choice"),
        ],
    )
    def test_answer_the_page_with_an_error(self, console, alice, shop, params, message) -> None:
        page = get(console(alice), **params)
        assert "data-filter-errors" in page
        assert message in html.unescape(page)
        assert "data-kpi=" in page  # the figures are still there, without the bad filter

    def test_amount_without_currency_is_not_applied(self, console, alice, acme, shop) -> None:
        shown = kpis(get(console(alice), amount_from="50"))
        assert shown == kpis(get(console(alice)))


class TestWhoSeesWhat:
    def test_viewer_sees_what_the_owner_sees(self, console, alice, victor, shop) -> None:
        assert kpis(get(console(victor))) == kpis(get(console(alice)))

    def test_another_merchants_member_sees_only_their_own(
        self, console, bob, globex, acme_link, shop
    ) -> None:
        page = get(console(bob))
        shown = kpis(page)
        assert shown[("gross", "EUR")] == money.format_money(77700, "EUR")
        assert ("gross", "USD") not in shown and acme_link.title not in page

    def test_picking_another_merchant_is_404(self, console, bob, acme, shop) -> None:
        assert console(bob).get(URL, {"merchant": acme.pk}).status_code == 404
        assert console(bob).get(URL, {"merchant": "abc"}).status_code == 404

    def test_picking_ones_own_merchant_is_fine(self, console, bob, globex, shop) -> None:
        assert console(bob).get(URL, {"merchant": globex.pk}).status_code == 200

    def test_another_merchants_link_is_not_a_choice(self, console, bob, acme_link, shop) -> None:
        page = get(console(bob), link=str(acme_link.pk))
        assert "Select a valid choice" in page and acme_link.title not in page

    def test_outsider_and_anonymous_do_not_get_in(self, client, console, olivia) -> None:
        assert client.get(URL).status_code == 302
        assert console(olivia).get(URL).status_code in (302, 403, 404)

    def test_support_sees_every_merchant_or_one(self, console, sam, acme, shop) -> None:
        every = kpis(get(console(sam)))
        assert ("gross", "EUR") in every and ("gross", "USD") in every
        one = kpis(get(console(sam), merchant=str(acme.pk)))
        assert ("gross", "EUR") not in one and ("gross", "USD") in one

    def test_sidebar_offers_the_pages(self, console, alice, sam) -> None:
        assert f'href="{URL}"' in get(console(alice), "/admin/")
        assert f'href="{SUPPORT}"' not in get(console(alice), "/admin/")
        assert f'href="{SUPPORT}"' in get(console(sam), "/admin/")


class TestSupportOverview:
    def test_members_get_404(self, console, alice, bob, victor) -> None:
        for person in (alice, bob, victor):
            assert console(person).get(SUPPORT).status_code == 404

    def test_lists_every_merchant_with_its_figures(self, console, sam, acme, globex, shop) -> None:
        page = get(console(sam), SUPPORT)
        for merchant in (acme, globex):
            row = re.search(rf'data-merchant="{merchant.slug}">(.*?)</tr>', page, re.S)
            assert row is not None
            recent = in_days(merchant, 30)
            cells = re.findall(r'<td class="is-number">([^<]*)</td>', row[1])
            assert cells[1] == str(len(recent))  # payments started
            volume = expected(recent)
            assert html.unescape(cells[0]) == ", ".join(
                money.format_money(volume[c]["gross"], c) for c in sorted(volume)
            )

    def test_csv(self, console, sam, shop) -> None:
        rows = csv_rows(console(sam).get(SUPPORT, {"csv": "merchants"}))
        assert rows[0][0] == "Merchant" and len(rows) == 3

    def test_superuser_gets_in(self, console, shop) -> None:
        from ..factories import UserFactory

        root = UserFactory(email="root@paylinks.test", is_superuser=True)
        assert console(root).get(SUPPORT).status_code == 200


class TestPage:
    def test_charts_are_data_for_the_script_not_inline_code(self, console, alice, shop) -> None:
        page = get(console(alice))
        assert '<script id="paylinks-charts-data" type="application/json">' in page
        assert "dashboards/plotly.min.js" in page and "dashboards/analytics.js" in page
        assert "cdn.plot.ly" not in page
        for key in ("received", "statuses", "methods", "distribution", "refunds", "reasons"):
            assert f'data-chart="{key}"' in page
            assert f'data-table="{key}"' in page

    def test_says_the_time_zone(self, console, alice, acme, shop) -> None:
        Merchant.objects.filter(pk=acme.pk).update(timezone="Europe/Berlin")
        assert "days in Europe/Berlin" in get(console(alice))

    def test_home_links_to_analytics(self, console, alice) -> None:
        assert "data-analytics-link" in get(console(alice), "/admin/")


def test_chart_data_cannot_close_its_script_element() -> None:
    from dashboards.views import json_data_script

    block = str(json_data_script('["</script><script>alert(1)</script>&"]', "x"))
    assert block.count("</script>") == 1 and block.endswith("</script>")
    assert "\\u003C/script\\u003E" in block and "\\u0026" in block
