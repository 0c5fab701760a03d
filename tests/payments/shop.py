"""A seeded shop for analytics tests: customers and staff doing random, realistic things
to two merchants' links through the real services and the in-process sandbox gateway."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import time_machine

from paylinks.gateways import GatewayError
from paylinks.gateways.sandbox import engine
from paylinks.gateways.sandbox.cards import CARDS, IBANS
from paylinks.gateways.sandbox.models import SandboxPaymentIntent
from paylinks.models import AmountType, Merchant, Payment, PaymentLink, PaymentStatus
from paylinks.services import payments as payment_services
from paylinks.services.analytics import link_view_record
from paylinks.services.refunds import refund_create

from ..factories import MerchantFactory, PaymentLinkFactory

CUSTOMER = engine.Customer(email="ada@example.test", name="Ada Lovelace")
PAYING = [n for n, c in CARDS.items() if c.outcome == "succeed"]
DECLINING = [n for n, c in CARDS.items() if c.outcome == "decline"]
THREE_D = [n for n, c in CARDS.items() if c.outcome == "authenticate"]


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
        quantity = None
        if link.amount_type == AmountType.CUSTOMER:
            amount = str(self.rng.choice([5, 12, 49, 150, 999, 2400]))
        elif link.quantity_enabled:
            quantity = self.rng.choice([1, 1, 2, 3])
        started = payment_services.checkout_start(
            slug=link.slug, amount=amount, quantity=quantity, email="ada@example.test"
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
        # What the payment_intent.payment_failed handler does: ask the gateway, record
        # the failure it reports.
        payment_services.payment_attempt_failed(
            payment=payment, gateway_event_id=f"evt_{self.rng.getrandbits(64):016x}"
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
            payment_services._Request(
                slug=link.slug, amount=None, email="", idempotency_key="", client_key=""
            )
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


def shop_links(merchants: list[Merchant]) -> list[PaymentLink]:
    auckland, los_angeles = merchants
    return [
        # Bought in quantities: a payment's amount is the price times its quantity.
        PaymentLinkFactory(
            merchant=auckland, currency="NZD", amount=2500, quantity_enabled=True, quantity_max=3
        ),
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


def shop_merchants() -> list[Merchant]:
    return [
        MerchantFactory(slug="kiwi", timezone="Pacific/Auckland"),
        MerchantFactory(slug="coast", timezone="America/Los_Angeles"),
    ]


def walk(seed: int, steps: int) -> Shop:
    merchants = shop_merchants()
    links = shop_links(merchants)
    # Start an hour before midnight in Auckland, the evening before a DST change in both.
    with time_machine.travel(datetime(2026, 3, 7, 10, 0, tzinfo=UTC), tick=False) as clock:
        shop = Shop(random.Random(seed), links, clock)
        for _ in range(steps):
            shop.step()
    return shop
