"""The analytics rollups stay exact as payments change, and rebuild to the same rows.

A seeded random walk drives the real services and the in-process sandbox gateway --
views, checkouts, cards that pay, decline or ask for 3-D Secure, SEPA debits that settle
or fail, cancels, expiries, partial and full refunds, repeated syncs -- across local
midnights of two merchants in far-apart time zones, then compares every rollup row with
the same figures computed from the raw rows by ``rollup_oracle``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections, transaction

from paylinks.gateways import GatewayError, get_gateway
from paylinks.gateways.sandbox import engine
from paylinks.gateways.sandbox.cards import CARDS, IBANS
from paylinks.gateways.sandbox.models import SandboxPaymentIntent
from paylinks.models import AmountType, Merchant, Payment, PaymentLink, PaymentStatus
from paylinks.models.analytics import PaymentRollup
from paylinks.services import payments as payment_services
from paylinks.services import rollups
from paylinks.services.analytics import link_view_record
from paylinks.services.merchants import merchant_update
from paylinks.services.refunds import refund_create

from ..factories import MerchantFactory, PaymentLinkFactory
from .helpers import drain
from .rollup_oracle import assert_exact

CUSTOMER = engine.Customer(email="ada@example.test", name="Ada Lovelace")
PAYING = [n for n, c in CARDS.items() if c.outcome == "succeed"]
DECLINING = [n for n, c in CARDS.items() if c.outcome == "decline"]
THREE_D = [n for n, c in CARDS.items() if c.outcome == "authenticate"]


@pytest.fixture(autouse=True)
def _sandbox(settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_GATEWAY = "sandbox"
    get_gateway.cache_clear()
    yield
    get_gateway.cache_clear()


@dataclass
class Shop:
    """Customers and staff doing things to two merchants' links, chosen by ``rng``."""

    rng: random.Random
    links: list[PaymentLink]
    clock: time_machine.Coordinates
    open: list[Payment] = field(default_factory=list)
    processing: list[Payment] = field(default_factory=list)
    paid: list[Payment] = field(default_factory=list)
    done: list[Payment] = field(default_factory=list)

    def step(self) -> None:
        self.clock.shift(timedelta(minutes=self.rng.choice([0, 1, 3, 7, 20, 45, 95])))
        actions = [self.view, self.view, self.start, self.start]
        if self.open:
            actions += [self.pay_card] * 3 + [self.decline, self.three_d, self.sepa]
            actions += [self.cancel, self.expire]
        if self.processing:
            actions.append(self.settle)
        if self.paid:
            actions += [self.refund, self.refund]
        if self.paid or self.done:
            actions.append(self.resync)
        actions.append(self.abandon)
        self.rng.choice(actions)()

    # -- customers -----------------------------------------------------------------------
    def view(self) -> None:
        link = self.rng.choice(self.links)
        link_view_record(link=link, visitor=f"visitor-{self.rng.randrange(40):04d}-xxxxxxxx")

    def start(self) -> None:
        link = self.rng.choice(self.links)
        amount = None
        if link.amount_type == AmountType.CUSTOMER:
            amount = str(self.rng.choice([5, 12, 49, 150, 999, 2400]))
        started = payment_services.checkout_start(
            slug=link.slug, amount=amount, email="ada@example.test"
        )
        self.open.append(started.payment)

    def _take_open(self) -> Payment:
        return self.open.pop(self.rng.randrange(len(self.open)))

    def _refresh(self, payment: Payment) -> Payment:
        synced = payment_services.payment_refresh(payment=payment)
        if synced.status == PaymentStatus.SUCCEEDED:
            self.paid.append(synced)
        elif synced.status == PaymentStatus.PENDING and synced.session_completed_at:
            self.processing.append(synced)
        elif synced.status == PaymentStatus.PENDING:
            self.open.append(synced)
        else:
            self.done.append(synced)
        return synced

    def _card(self, payment: Payment, number: str) -> engine.Attempt | None:
        try:
            return engine.pay_with_card(
                payment.gateway_session_id,
                card=CARDS[number],
                last4=number[-4:],
                customer=CUSTOMER,
            )
        except engine.SandboxError:  # the session expired while the customer typed
            self._refresh(payment)
            return None

    def pay_card(self) -> None:
        payment = self._take_open()
        if self._card(payment, self.rng.choice(PAYING)):
            self._refresh(payment)

    def decline(self) -> None:
        payment = self._take_open()
        number = self.rng.choice(DECLINING)
        if self._card(payment, number):
            self._record_decline(payment)
            self.open.append(payment)

    def _record_decline(self, payment: Payment) -> None:
        intent = SandboxPaymentIntent.objects.get(session_id=payment.gateway_session_id)
        payment_services.record_failed_attempt(
            payment=payment,
            code=intent.last_error_decline_code or intent.last_error_code,
            message=intent.last_error_message,
            gateway_event_id=f"evt_{self.rng.getrandbits(64):016x}",
        )

    def three_d(self) -> None:
        payment = self._take_open()
        if not self._card(payment, self.rng.choice(THREE_D)):
            return
        passed = self.rng.random() < 0.6
        engine.finish_authentication(payment.gateway_session_id, passed=passed)
        if passed:
            self._refresh(payment)
        else:
            self._record_decline(payment)
            self.open.append(payment)

    def sepa(self) -> None:
        payment = self._take_open()
        iban = self.rng.choice(list(IBANS))
        try:
            engine.pay_with_sepa(
                payment.gateway_session_id, iban=IBANS[iban], last4=iban[-4:], customer=CUSTOMER
            )
        except engine.SandboxError:
            self._refresh(payment)
            return
        self._refresh(payment)

    def settle(self) -> None:
        payment = self.processing.pop(self.rng.randrange(len(self.processing)))
        intent = SandboxPaymentIntent.objects.get(session_id=payment.gateway_session_id)
        engine.settle(intent.pk, now=datetime.now(UTC) + timedelta(days=1))
        self._refresh(payment)

    def cancel(self) -> None:
        payment = payment_services.checkout_cancel(payment=self._take_open())
        (self.done if payment.status != PaymentStatus.PENDING else self.open).append(payment)

    def expire(self) -> None:
        payment = self._take_open()
        engine.expire(payment.gateway_session_id)
        self._refresh(payment)

    def abandon(self) -> None:
        """The gateway would not open a session: the payment fails at once."""
        link = self.rng.choice([x for x in self.links if x.amount_type == AmountType.FIXED])
        payment, _ = payment_services._reserve(
            slug=link.slug, amount=None, email="", idempotency_key=""
        )
        payment_services.checkout_abandon(payment, GatewayError("gateway down", permanent=False))

    # -- staff and gateway -----------------------------------------------------------------
    def refund(self) -> None:
        payment = self.rng.choice(self.paid)
        payment.refresh_from_db()
        left = payment.amount - payment.amount_refunded
        if left <= 0 or payment.status == PaymentStatus.REFUNDED:
            return
        amount = left if self.rng.random() < 0.5 else max(1, left // self.rng.choice([2, 3, 4]))
        refund_create(payment=payment, actor=None, amount=amount)
        synced = payment_services.payment_refresh(payment=payment)
        if synced.status == PaymentStatus.REFUNDED:
            self.paid.remove(payment)
            self.done.append(synced)

    def resync(self) -> None:
        """A duplicate or late webhook: asking the gateway again changes nothing."""
        payment = self.rng.choice(self.paid + self.done)
        payment_services.payment_refresh(payment=payment)


def _links(merchants: list[Merchant]) -> list[PaymentLink]:
    auckland, los_angeles = merchants
    return [
        PaymentLinkFactory(merchant=auckland, currency="NZD", amount=2500),
        PaymentLinkFactory(merchant=auckland, currency="JPY", amount=1200),
        PaymentLinkFactory(
            merchant=los_angeles,
            currency="EUR",
            amount=None,
            amount_type=AmountType.CUSTOMER,
            custom_amount_min=500,
            custom_amount_max=500000,
        ),
        PaymentLinkFactory(merchant=los_angeles, currency="USD", amount=999),
    ]


def _merchants() -> list[Merchant]:
    return [
        MerchantFactory(slug="kiwi", timezone="Pacific/Auckland"),
        MerchantFactory(slug="coast", timezone="America/Los_Angeles"),
    ]


def _walk(seed: int, steps: int) -> Shop:
    merchants = _merchants()
    links = _links(merchants)
    # Start an hour before midnight in Auckland, the evening before a DST change in both.
    with time_machine.travel(datetime(2026, 3, 7, 10, 0, tzinfo=UTC), tick=False) as clock:
        shop = Shop(random.Random(seed), links, clock)
        for _ in range(steps):
            shop.step()
    return shop


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [11, 2026])
def test_rollups_match_the_raw_rows_after_a_random_mix(seed: int) -> None:
    shop = _walk(seed, steps=260)
    assert shop.paid or shop.done, "the walk made payments"
    assert_exact()


@pytest.mark.django_db
def test_a_rebuild_gives_the_same_rows_and_repairs_damage() -> None:
    _walk(7, steps=150)
    PaymentRollup.objects.filter(pk__in=PaymentRollup.objects.values("pk")[:3]).update(
        payments=999
    )
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
        rollups.rebuild(merchant=merchant, chunk_days=1)
    assert_exact()


@pytest.mark.django_db(transaction=True)
def test_a_new_time_zone_recounts_the_days(settings) -> None:
    _walk(5, steps=120)
    merchant = Merchant.objects.get(slug="kiwi")
    merchant_update(merchant=merchant, actor=None, timezone="America/Santiago")
    drain()  # the rebuild task the change enqueued
    assert_exact()


@pytest.mark.django_db
def test_a_repeated_sync_changes_nothing_and_costs_no_write(django_assert_num_queries) -> None:
    shop = _walk(3, steps=80)
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
            rollups.rebuild(merchant=Merchant.objects.get(pk=merchant.pk), chunk_days=1)

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
