"""A 4242 payment on the sandbox reaches the merchant's endpoint, signed the Standard
Webhooks way, and verified by the standardwebhooks library's own verifier."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from paylinks.models import Delivery, EventType, OutgoingEvent, Payment
from paylinks.notifications import delivery
from paylinks.services.webhook_endpoints import endpoint_create

from ..factories import PaymentLinkFactory
from ..payments.helpers import drain, pay, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)

ALL = [e for e in EventType.values if e != "test"]


def test_payment_succeeded_reaches_the_endpoint_signed(site, acme, alice, receiver) -> None:
    issued = endpoint_create(merchant=acme, actor=alice, url=receiver.url, events=ALL)
    assert issued.secret.startswith("whsec_")
    link = PaymentLinkFactory(merchant=acme, amount=2500, currency="USD", title="Atlas")
    started = start_checkout(site, link.slug, email="ada@example.test")
    assert pay(started.checkout_url).status_code == 303
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)

    [received] = receiver.of_type("payment.succeeded")
    body = Webhook(issued.secret).verify(received.body, received.headers)
    assert body["data"]["id"] == payment.public_id
    assert body["data"]["amount"] == 2500 and body["data"]["currency"] == "USD"
    assert body["data"]["payment_intent_id"].startswith("pi_")
    assert body["data"]["link"] == {"id": link.slug, "title": "Atlas", "metadata": {}}
    event = OutgoingEvent.objects.get(type="payment.succeeded", object_id=payment.public_id)
    assert received.headers["webhook-id"] == event.public_id == body["id"]
    # Another secret does not verify it.
    other = Webhook("whsec_" + "A" * 43 + "=")
    with pytest.raises(WebhookVerificationError):
        other.verify(received.body, received.headers)
    row = Delivery.objects.get(event=event)
    assert row.status == Delivery.Status.SUCCEEDED and row.attempts == 1
    assert row.status_code == 200 and row.latency_ms is not None


def test_a_500_is_retried_with_the_same_webhook_id(acme, alice, receiver, time_machine) -> None:
    from paylinks.services.links import payment_link_deactivate

    from ..factories import PaymentLinkFactory as Links

    issued = endpoint_create(
        merchant=acme, actor=alice, url=receiver.url, events=["link.deactivated"]
    )
    receiver.statuses = [500]
    payment_link_deactivate(link=Links(merchant=acme), actor=alice)
    drain()
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.status_code) == ("pending", 1, 500)
    assert row.error == "HTTP 500" and len(row.response_body) == 2048  # kept truncated
    assert row.next_attempt_at is not None
    time_machine.move_to(row.next_attempt_at, tick=True)
    assert delivery.drain() == {"delivered": 1}
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    Webhook(issued.secret).verify(second.body, second.headers)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("succeeded", 2)


def test_only_subscribed_events_are_sent(acme, alice, receiver) -> None:
    from paylinks.services.links import payment_link_deactivate

    endpoint_create(merchant=acme, actor=alice, url=receiver.url, events=["payment.succeeded"])
    payment_link_deactivate(link=PaymentLinkFactory(merchant=acme), actor=alice)
    drain()
    assert receiver.requests == []
    assert OutgoingEvent.objects.filter(type="link.deactivated").count() == 1
    assert Delivery.objects.count() == 0
