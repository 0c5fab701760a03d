"""The analytics rollups stay exact as payments change, and rebuild to the same rows.

A seeded random walk drives the real services and the in-process sandbox gateway --
views, checkouts, cards that pay, decline or ask for 3-D Secure, SEPA debits that settle
or fail, cancels, expiries, partial and full refunds, repeated syncs -- across local
midnights of two merchants in far-apart time zones, then compares every rollup row with
the same figures computed from the raw rows by ``rollup_oracle``.
"""

from __future__ import annotations

import threading
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from paylinks.gateways import get_gateway
from paylinks.gateways.sandbox import engine
from paylinks.gateways.sandbox.cards import CARDS
from paylinks.models import Merchant, Payment, PaymentLink, PaymentStatus
from paylinks.models.analytics import LinkView, PaymentRollup
from paylinks.services import payments as payment_services
from paylinks.services import rollups
from paylinks.services.merchants import merchant_update
from paylinks.services.refunds import refund_create

from ..factories import MerchantFactory, PaymentLinkFactory
from .helpers import drain
from .rollup_oracle import assert_exact
from .shop import CUSTOMER, walk


@pytest.fixture(autouse=True)
def _sandbox(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_GATEWAY = "sandbox"
    get_gateway.cache_clear()
    yield
    get_gateway.cache_clear()


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [11, 2026])
def test_rollups_match_the_raw_rows_after_a_random_mix(seed: int) -> None:
    shop = walk(seed, steps=260)
    assert shop.paid or shop.done, "the walk made payments"
    assert_exact()


@pytest.mark.django_db
def test_a_rebuild_gives_the_same_rows_and_repairs_damage() -> None:
    walk(7, steps=150)
    PaymentRollup.objects.filter(pk__in=PaymentRollup.objects.values("pk")[:3]).update(payments=999)
    PaymentRollup.objects.create(
        merchant=Merchant.objects.first(),
        link=PaymentLink.objects.first(),
        day=datetime(2020, 1, 1).date(),
        currency="USD",
        status="succeeded",
        amount_band=3,
        payments=5,
    )
    for merchant in Merchant.objects.all():
        rollups.rebuild(merchant=merchant)
    assert_exact()


@pytest.mark.django_db
def test_a_rebuild_counts_rows_at_a_months_first_instant_once() -> None:
    """A view window or payment that starts exactly at a month's local midnight belongs to
    the new month's chunk only (on SQLite the instant must be compared as stored)."""
    walk(3, steps=60)
    merchant = Merchant.objects.get(slug="kiwi")
    zone = zoneinfo.ZoneInfo(merchant.timezone)
    local_now = timezone.now().astimezone(zone)
    boundary = datetime(local_now.year, local_now.month, 1, tzinfo=zone).astimezone(UTC)
    link = PaymentLink.objects.filter(merchant=merchant).first()
    assert link is not None
    for n, at in enumerate((boundary, boundary - timedelta(hours=1), boundary)):
        LinkView.objects.create(link=link, visitor_hash=f"edge-{n}", window_start=at)
    finished = Payment.objects.filter(merchant=merchant).exclude(status=PaymentStatus.PENDING)
    Payment.objects.filter(pk=finished.values("pk")[:1]).update(created_at=boundary)
    for _ in range(2):  # and again over its own rows
        rollups.rebuild(merchant=merchant)
    assert_exact()


@pytest.mark.django_db(transaction=True)
def test_a_new_time_zone_recounts_the_days(settings) -> None:
    walk(5, steps=120)
    merchant = Merchant.objects.get(slug="kiwi")
    merchant_update(merchant=merchant, actor=None, timezone="America/Santiago")
    drain()  # the rebuild task the change enqueued
    assert_exact()


@pytest.mark.django_db
def test_a_repeated_sync_changes_nothing_and_costs_no_write(django_assert_num_queries) -> None:
    shop = walk(3, steps=80)
    payment = Payment.objects.get(pk=(shop.paid + shop.done)[0].pk)
    before = list(PaymentRollup.objects.order_by("pk").values())
    payment_services.payment_refresh(payment=payment)
    assert list(PaymentRollup.objects.order_by("pk").values()) == before
    locked = Payment.objects.get(pk=payment.pk)
    with django_assert_num_queries(0):
        rollups.payment_changed(locked)  # nothing the rollups count has changed


def test_amount_bands_follow_the_1_2_5_ladder() -> None:
    from paylinks.models.analytics import amount_band, band_floor

    assert [band_floor(n) for n in range(7)] == [1, 2, 5, 10, 20, 50, 100]
    assert amount_band(1) == 0 and amount_band(4) == 1 and amount_band(5) == 2
    assert amount_band(999) == 8 and amount_band(1000) == 9 and amount_band(99_999_999) == 23


# --- PostgreSQL: concurrent writers and a rebuild under traffic ------------------------------
def _paid_sessions(n: int) -> list[Payment]:
    """``n`` checkouts on one link, paid at the gateway, not yet synced: each sync will add
    to the same rollup row."""
    merchant = MerchantFactory(slug="busy", timezone="Europe/Copenhagen")
    link = PaymentLinkFactory(merchant=merchant, currency="EUR", amount=1500)
    payments = []
    for _ in range(n):
        started = payment_services.checkout_start(slug=link.slug, email="ada@example.test")
        engine.pay_with_card(
            started.session_id, card=CARDS["4242424242424242"], last4="4242", customer=CUSTOMER
        )
        payments.append(started.payment)
    return payments


def _in_thread(work, *args) -> threading.Thread:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work(*args)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_transactions_adding_to_the_same_row_both_count() -> None:
    first, second = _paid_sessions(2)
    inside = threading.Event()
    release = threading.Event()

    def slow_sync() -> None:
        with transaction.atomic():
            payment_services.payment_refresh(payment=first)  # its row: +1, uncommitted
            inside.set()
            release.wait(10)

    holder = _in_thread(slow_sync)
    assert inside.wait(10)
    # Its sync adds to the same row, so it waits for the first transaction to end.
    other = _in_thread(lambda: payment_services.payment_refresh(payment=second))
    other.join(0.5)
    assert other.is_alive(), ("the second writer waits for the first one's row", other.errors)
    release.set()
    holder.join(10)
    other.join(10)
    assert not holder.errors and not other.errors  # type: ignore[attr-defined]
    assert PaymentRollup.objects.get().payments == 2
    assert_exact()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_while_payments_change_stays_exact() -> None:
    payments = _paid_sessions(24)
    merchant = payments[0].merchant
    held = threading.Event()
    release = threading.Event()

    def sync_holding_the_lock() -> None:
        # A writer that has changed its payment but not committed when the rebuild starts.
        with transaction.atomic():
            payment_services.payment_refresh(payment=payments[0])
            held.set()
            release.wait(10)

    def rebuild() -> None:
        for _ in range(3):
            rollups.rebuild(merchant=Merchant.objects.get(pk=merchant.pk))

    def sync_all(batch: list[Payment]) -> None:
        for payment in batch:
            payment_services.payment_refresh(payment=payment)
            if payment.pk % 3 == 0:
                refund_create(payment=payment, actor=None, amount=500)
                payment_services.payment_refresh(payment=payment)

    holder = _in_thread(sync_holding_the_lock)
    assert held.wait(10)
    rebuilder = _in_thread(rebuild)
    writers = [_in_thread(sync_all, payments[1 + n :: 3]) for n in range(3)]
    release.set()
    for thread in (holder, rebuilder, *writers):
        thread.join(60)
        assert not thread.errors, thread.errors  # type: ignore[attr-defined]
    assert Payment.objects.filter(status=PaymentStatus.PENDING).count() == 0
    assert_exact()
    assert connection.vendor == "postgresql"
