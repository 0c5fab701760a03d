"""The console's home page and the aggregates behind it (``dashboards.selectors``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from dashboards import selectors
from paylinks.models import Merchant, Payment, PaymentLink, PaymentStatus
from paylinks.services import rollups

from ..factories import PaymentFactory, PaymentLinkFactory

pytestmark = pytest.mark.django_db


def pay(link: PaymentLink, status: str = PaymentStatus.SUCCEEDED, **kw) -> Payment:  # type: ignore[no-untyped-def]
    """A payment as the services leave it: saved, and counted in the rollups and its link's
    counter (the home page reads those)."""
    with transaction.atomic():
        payment = PaymentFactory(link=link, status=status, **kw)
        rollups.payment_changed(payment)
    return payment


def of(*merchants: Merchant):  # type: ignore[no-untyped-def]
    return Merchant.objects.filter(pk__in=[m.pk for m in merchants])


class TestOverview:
    def test_money_received_is_per_currency_never_summed(
        self, acme, acme_link, acme_yen_link
    ) -> None:
        pay(acme_link)
        pay(acme_link)
        pay(acme_yen_link)
        totals = {
            t.currency: (t.amount, t.count) for t in selectors.overview(merchants=of(acme)).received
        }
        assert totals == {"USD": (9000, 2), "JPY": (1500, 1)}

    def test_only_completed_payments_count_as_received(self, acme, acme_link) -> None:
        pay(acme_link, PaymentStatus.SUCCEEDED)
        pay(acme_link, PaymentStatus.REFUNDED, amount_refunded=4500)
        pay(acme_link, PaymentStatus.FAILED)
        pay(acme_link, PaymentStatus.PENDING)
        (usd,) = selectors.overview(merchants=of(acme)).received
        assert (usd.amount, usd.refunded, usd.net, usd.count) == (9000, 4500, 4500, 2)

    def test_success_rate_ignores_open_checkouts(self, acme, acme_link) -> None:
        for status in ["succeeded", "succeeded", "succeeded", "failed", "pending", "pending"]:
            pay(acme_link, status)
        data = selectors.overview(merchants=of(acme))
        assert (data.paid_count, data.finished_count) == (3, 4)
        assert data.success_rate == 0.75

    def test_no_finished_checkout_means_no_rate(self, acme, acme_link) -> None:
        pay(acme_link, PaymentStatus.PENDING)
        assert selectors.overview(merchants=of(acme)).success_rate is None

    def test_counts_every_status(self, acme, acme_link) -> None:
        pay(acme_link, PaymentStatus.FAILED)
        counts = {s.status: s.count for s in selectors.overview(merchants=of(acme)).by_status}
        assert counts[PaymentStatus.FAILED] == 1
        assert set(counts) == set(PaymentStatus.values)

    def test_window_excludes_older_payments(self, acme, acme_link) -> None:
        old = pay(acme_link)
        Payment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
        pay(acme_link)
        (usd,) = selectors.overview(merchants=of(acme), days=30).received
        assert usd.count == 1

    def test_active_links_by_state(self, acme, acme_link) -> None:
        PaymentLinkFactory(merchant=acme, is_active=False)
        PaymentLinkFactory(merchant=acme, payment_limit=1)
        sold_out = PaymentLink.objects.get(payment_limit=1)
        pay(sold_out)
        data = selectors.overview(merchants=of(acme))
        states = {s.status: s.count for s in data.links_by_state}
        assert (data.active_links, data.links) == (1, 3)
        assert (states["inactive"], states["sold_out"], states["expired"]) == (1, 1, 0)

    def test_is_scoped_to_the_merchants_given(self, acme, acme_link, globex_link) -> None:
        pay(acme_link)
        pay(globex_link)
        currencies = {t.currency for t in selectors.overview(merchants=of(acme)).received}
        assert currencies == {"USD"}
        recent = selectors.recent_payments(merchants=of(acme))
        assert {p.merchant_id for p in recent} == {acme.pk}
        assert {link.merchant_id for link in selectors.recent_links(merchants=of(acme))} == {
            acme.pk
        }


class TestHomePage:
    def test_states_each_currency(self, console, alice, acme_link, acme_yen_link) -> None:
        pay(acme_link)
        pay(acme_yen_link)
        page = console(alice).get("/admin/").content.decode()
        assert "45.00 USD" in page
        assert "1,500 JPY" in page

    def test_shows_only_own_merchants_figures(self, console, alice, acme_link, globex_link) -> None:
        pay(acme_link)
        globex_payment = pay(globex_link)
        page = console(alice).get("/admin/").content.decode()
        assert "28.00 EUR" not in page
        assert globex_payment.public_id not in page
        assert globex_link.title not in page

    def test_lists_recent_payments_and_links(self, console, alice, acme_link) -> None:
        payment = pay(acme_link)
        page = console(alice).get("/admin/").content.decode()
        assert payment.public_id in page
        assert acme_link.title in page

    def test_new_merchant_gets_a_first_step(self, console, alice) -> None:
        page = console(alice).get("/admin/").content.decode()
        assert "Create your first payment link" in page
        assert "/admin/paylinks/paymentlink/add/" in page

    def test_viewer_is_not_offered_to_create_links(self, console, victor) -> None:
        page = console(victor).get("/admin/").content.decode()
        assert "/admin/paylinks/paymentlink/add/" not in page

    def test_support_staff_see_all_merchants(self, console, sam, acme_link, globex_link) -> None:
        pay(acme_link)
        pay(globex_link)
        page = console(sam).get("/admin/").content.decode()
        assert "45.00 USD" in page and "28.00 EUR" in page
