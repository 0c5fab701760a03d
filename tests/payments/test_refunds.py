"""Refunds: full and partial, never more than was paid, the status following the gateway."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from paylinks.models import Payment, PaymentStatus, Refund
from paylinks.services.refunds import refund_create, refundable_amount

from ..factories import PaymentLinkFactory
from .helpers import drain, paid_payment, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paid(site, acme) -> Payment:  # type: ignore[no-untyped-def]
    return paid_payment(site, acme, 10000, "USD")


def test_partial_then_full_refund_follows_charge_refunded(paid, alice) -> None:
    refund_create(payment=paid, actor=alice, amount=2500, note="Damaged cover")
    drain()
    paid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 2500)
    refund_create(payment=paid, actor=alice, amount=2500)
    drain()
    paid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 5000)
    refund_create(payment=paid, actor=alice)  # the rest
    drain()
    paid.refresh_from_db()
    assert (paid.status, paid.amount_refunded) == (PaymentStatus.REFUNDED, 10000)
    assert list(paid.refunds.order_by("id").values_list("amount", "status")) == [
        (2500, "succeeded"),
        (2500, "succeeded"),
        (5000, "succeeded"),
    ]
    moves = list(paid.events.filter(kind="status_changed").values_list("to_status", flat=True))
    assert moves == ["succeeded", "partially_refunded", "partially_refunded", "refunded"]


def test_never_more_than_was_paid(paid, alice) -> None:
    with pytest.raises(ValidationError, match=r"at most 100\.00 USD"):
        refund_create(payment=paid, actor=alice, amount=10001)
    refund_create(payment=paid, actor=alice, amount=9000)
    with pytest.raises(ValidationError, match=r"at most 10\.00 USD"):
        refund_create(payment=paid, actor=alice, amount=1001)
    assert refundable_amount(paid) == 1000


@pytest.mark.parametrize("amount", [0, -5])
def test_refund_amount_must_be_positive(paid, alice, amount) -> None:
    with pytest.raises(ValidationError):
        refund_create(payment=paid, actor=alice, amount=amount)


def test_viewers_and_other_merchants_cannot_refund(paid, victor, bob, sam) -> None:
    for person in (victor, bob, sam):
        with pytest.raises(PermissionDenied):
            refund_create(payment=paid, actor=person, amount=100)
    assert not Refund.objects.exists()


def test_an_unpaid_payment_cannot_be_refunded(site, acme, alice) -> None:
    link = PaymentLinkFactory(merchant=acme)
    started = start_checkout(site, link.slug)
    with pytest.raises(ValidationError, match="Only a paid payment"):
        refund_create(payment=Payment.objects.get(public_id=started.payment_id), actor=alice)


def test_the_same_idempotency_key_refunds_once(paid, alice) -> None:
    first = refund_create(payment=paid, actor=alice, amount=1000, idempotency_key="r-1")
    again = refund_create(payment=paid, actor=alice, amount=1000, idempotency_key="r-1")
    assert first.pk == again.pk
    drain()
    paid.refresh_from_db()
    assert paid.amount_refunded == 1000


@pytest.mark.postgres
def test_concurrent_refunds_never_exceed_the_payment(paid, alice) -> None:
    def attempt(_: int) -> str:
        try:
            refund_create(payment=paid, actor=alice, amount=3000)
            return "ok"
        except ValidationError:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count("ok") == 3
    drain()
    paid.refresh_from_db()
    assert paid.amount_refunded == 9000
    assert sum(paid.refunds.values_list("amount", flat=True)) == 9000
