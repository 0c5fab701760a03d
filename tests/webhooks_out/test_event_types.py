"""Each event type is emitted by its real cause, through the sandbox where there is one,
and reaches a subscribed endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from paylinks.models import EventType, OutgoingEvent, Payment, PaymentStatus
from paylinks.services.links import payment_link_deactivate
from paylinks.services.refunds import refund_create
from paylinks.sweeper import sweep

from ..factories import PaymentLinkFactory
from ..payments.helpers import drain, paid_payment, pay, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)

ALL = [e for e in EventType.values if e != "test"]


@pytest.fixture
def endpoint(acme, alice, receiver):  # type: ignore[no-untyped-def]
    from paylinks.services.webhook_endpoints import endpoint_create

    return endpoint_create(merchant=acme, actor=alice, url=receiver.url, events=ALL)


def only(receiver, type_: str, secret: str) -> dict:  # type: ignore[no-untyped-def]
    [received] = receiver.of_type(type_)
    return Webhook(secret).verify(received.body, received.headers)["data"]


def test_payment_failed_from_a_declined_sepa_debit(site, acme, settings, endpoint, receiver):  # type: ignore[no-untyped-def]
    settings.SANDBOX_SETTLE_SECONDS = 20
    link = PaymentLinkFactory(merchant=acme, currency="EUR", amount=4900)
    started = start_checkout(site, link.slug)
    assert (
        pay(started.checkout_url, method="sepa", iban="DE62370400440532013001").status_code == 303
    )
    drain()
    with time_machine.travel(timezone.now() + timedelta(seconds=21)):
        drain()
        data = only(receiver, "payment.failed", endpoint.secret)
    assert Payment.objects.get(public_id=started.payment_id).status == PaymentStatus.FAILED
    assert data["id"] == started.payment_id and data["status"] == "failed"
    assert data["failure"]["message"]
    assert receiver.of_type("payment.succeeded") == []


def test_payment_expired_when_the_session_closes(site, acme, endpoint, receiver):  # type: ignore[no-untyped-def]
    link = PaymentLinkFactory(merchant=acme)
    started = start_checkout(site, link.slug)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        sweep()
        drain()
        data = only(receiver, "payment.expired", endpoint.secret)  # signed at that time
    assert (data["id"], data["status"]) == (started.payment_id, "expired")


def test_partial_then_full_refund(site, acme, alice, endpoint, receiver):  # type: ignore[no-untyped-def]
    payment = paid_payment(site, acme, 5000, "USD")
    refund_create(payment=payment, actor=alice, amount=2000)
    drain()
    partial = only(receiver, "payment.partially_refunded", endpoint.secret)
    assert (partial["amount_refunded"], partial["amount"]) == (2000, 5000)
    refund_create(payment=Payment.objects.get(pk=payment.pk), actor=alice)
    drain()
    full = only(receiver, "payment.refunded", endpoint.secret)
    assert full["amount_refunded"] == 5000 and full["status"] == "refunded"


def test_link_sold_out_on_the_payment_that_reaches_the_limit(site, acme, endpoint, receiver):  # type: ignore[no-untyped-def]
    link = PaymentLinkFactory(merchant=acme, amount=1000, currency="USD", payment_limit=2)
    for n in range(2):
        started = start_checkout(site, link.slug, email=f"c{n}@example.test")
        assert pay(started.checkout_url).status_code == 303
        drain()
        assert len(receiver.of_type("link.sold_out")) == n  # only once the limit is reached
    data = only(receiver, "link.sold_out", endpoint.secret)
    assert (data["id"], data["payment_limit"], data["completed_payments"]) == (link.slug, 2, 2)


def test_link_expired_is_announced_once_by_the_sweeper(acme, endpoint, receiver):  # type: ignore[no-untyped-def]
    link = PaymentLinkFactory(merchant=acme, expires_at=timezone.now() + timedelta(hours=1))
    sweep()
    assert OutgoingEvent.objects.filter(type="link.expired").count() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        sweep()
        sweep()
        drain()
        assert only(receiver, "link.expired", endpoint.secret)["id"] == link.slug
    assert OutgoingEvent.objects.filter(type="link.expired").count() == 1


def test_link_deactivated(acme, alice, endpoint, receiver):  # type: ignore[no-untyped-def]
    link = PaymentLinkFactory(merchant=acme)
    payment_link_deactivate(link=link, actor=alice)
    payment_link_deactivate(link=link, actor=alice)  # already inactive: nothing new
    drain()
    data = only(receiver, "link.deactivated", endpoint.secret)
    assert data["id"] == link.slug and data["active"] is False


def test_no_event_without_its_change(acme, alice, endpoint) -> None:  # type: ignore[no-untyped-def]
    """A change that rolls back leaves no event (the outbox shares its transaction)."""
    from django.db import transaction

    link = PaymentLinkFactory(merchant=acme)
    with pytest.raises(RuntimeError), transaction.atomic():
        payment_link_deactivate(link=link, actor=alice)
        raise RuntimeError("the request failed after the change")
    assert OutgoingEvent.objects.count() == 0
    link.refresh_from_db()
    assert link.is_active
