"""Rotation overlap, and an endpoint failing for days is disabled and its owners mailed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from paylinks.models import AuditEntry, Delivery, WebhookEndpoint
from paylinks.notifications import delivery
from paylinks.services.links import payment_link_deactivate
from paylinks.services.webhook_endpoints import endpoint_create, endpoint_rotate_secret

from ..factories import PaymentLinkFactory
from ..mailbox import sent_mail

pytestmark = pytest.mark.django_db(transaction=True)
EVENTS = ["link.deactivated"]


def test_during_the_overlap_both_secrets_verify(acme, alice, receiver) -> None:
    old = endpoint_create(merchant=acme, actor=alice, url=receiver.url, events=EVENTS)
    new = endpoint_rotate_secret(endpoint=old.endpoint, actor=alice, overlap=timedelta(hours=1))
    payment_link_deactivate(link=PaymentLinkFactory(merchant=acme), actor=alice)
    delivery.drain()
    [during] = receiver.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old.secret).verify(during.body, during.headers)
    Webhook(new.secret).verify(during.body, during.headers)

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        payment_link_deactivate(link=PaymentLinkFactory(merchant=acme), actor=alice)
        delivery.drain()
        after = receiver.requests[1]
        Webhook(new.secret).verify(after.body, after.headers)
        with pytest.raises(Exception, match="No matching signature"):
            Webhook(old.secret).verify(after.body, after.headers)


def test_an_endpoint_failing_for_days_is_disabled_and_owners_mailed(
    acme, alice, mallory, receiver
) -> None:
    issued = endpoint_create(merchant=acme, actor=alice, url=receiver.url, events=EVENTS)
    receiver.statuses = [503] * 100
    payment_link_deactivate(link=PaymentLinkFactory(merchant=acme), actor=alice)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(30):
            delivery.drain()
            endpoint = WebhookEndpoint.objects.get()
            if not endpoint.enabled:
                break
            row = Delivery.objects.get()
            assert row.next_attempt_at is not None
            clock.move_to(row.next_attempt_at + timedelta(seconds=1))
        elapsed = timezone.now() - start
    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.enabled
    assert "Disabled automatically" in endpoint.disabled_reason
    assert elapsed >= timedelta(hours=60)  # days of retries first, never sooner
    row = Delivery.objects.get()
    assert row.attempts >= 10 and row.status_code == 503
    # Every attempt carried the same webhook-id.
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    messages = [m for m in sent_mail() if "disabled" in m.subject]
    assert len(messages) == 1 and messages[0].to == ["alice@acme.test"]  # owners, not managers
    assert issued.endpoint.url in messages[0].body
    # Disabled: nothing more is sent.
    before = len(receiver.requests)
    payment_link_deactivate(link=PaymentLinkFactory(merchant=acme), actor=alice)
    delivery.drain()
    assert len(receiver.requests) == before
    assert not AuditEntry.objects.filter(action="webhook_endpoint.enabled").exists()
