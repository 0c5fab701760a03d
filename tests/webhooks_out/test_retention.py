"""Retention of the outbox: the sweeper deletes an outgoing event, with its deliveries,
once every delivery finished (delivered, or given up) more than
PAYLINKS_OUTGOING_RETENTION_DAYS ago, oldest first and in bounded batches; an event with a
delivery still waiting, being sent or retrying is never deleted, however old."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from paylinks.models import Delivery, Merchant, OutgoingEvent, WebhookEndpoint
from paylinks.notifications import delivery, outbox
from paylinks.services.links import EXPIRY_LOOKBACK, payment_link_deactivate
from paylinks.services.webhook_endpoints import endpoint_create, endpoint_replay
from paylinks.sweeper import sweep

from ..factories import PaymentLinkFactory

Status = Delivery.Status
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _thirty_days(settings):  # type: ignore[no-untyped-def]
    settings.PAYLINKS_OUTGOING_RETENTION_DAYS = 30


def endpoint(merchant: Merchant, *, enabled: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        merchant=merchant,
        url=f"https://hooks.example.test/{WebhookEndpoint.objects.count()}",
        events=["link.deactivated"],
        enabled=enabled,
    )


def event(merchant: Merchant, name: str, *, created_days_ago: float) -> OutgoingEvent:
    made = OutgoingEvent.objects.create(
        merchant=merchant,
        public_id=f"evt_{name}",
        type="link.deactivated",
        object_id=name,
        payload={"id": f"evt_{name}", "data": {"customer": "kept@example.test"}},
    )
    OutgoingEvent.objects.filter(pk=made.pk).update(
        created_at=timezone.now() - created_days_ago * DAY
    )
    return made


def finished(row: OutgoingEvent, to: WebhookEndpoint, status: str, *, days_ago: float) -> Delivery:
    """A delivery that ended ``days_ago``: delivered then, or given up after its last try."""
    moment = timezone.now() - days_ago * DAY
    return Delivery.objects.create(
        event=row,
        endpoint=to,
        status=status,
        attempts=1 if status == Status.SUCCEEDED else delivery.MAX_ATTEMPTS,
        last_attempt_at=moment,
        delivered_at=moment if status == Status.SUCCEEDED else None,
        status_code=200 if status == Status.SUCCEEDED else 500,
    )


def unfinished(row: OutgoingEvent, to: WebhookEndpoint, status: str) -> Delivery:
    """A delivery still to send (retrying later) or in flight (leased), tried long ago."""
    now = timezone.now()
    return Delivery.objects.create(
        event=row,
        endpoint=to,
        status=status,
        attempts=5,
        last_attempt_at=now - 50 * DAY,
        status_code=500,
        next_attempt_at=now + DAY if status == Status.PENDING else None,
        lease_until=now + timedelta(minutes=1) if status == Status.SENDING else None,
        lease_token="held" if status == Status.SENDING else "",
    )


def left() -> set[str]:
    return set(OutgoingEvent.objects.values_list("object_id", flat=True))


@pytest.mark.django_db
def test_the_sweeper_deletes_events_finished_past_retention_and_keeps_the_rest(acme) -> None:
    shop, crm = endpoint(acme), endpoint(acme)
    dead = endpoint(acme, enabled=False)
    finished(event(acme, "delivered_old", created_days_ago=31), shop, Status.SUCCEEDED, days_ago=31)
    finished(event(acme, "gave_up_old", created_days_ago=45), shop, Status.FAILED, days_ago=42)
    both_old = event(acme, "both_old", created_days_ago=60)
    finished(both_old, shop, Status.SUCCEEDED, days_ago=60)
    finished(both_old, crm, Status.FAILED, days_ago=57)
    event(acme, "nobody_old", created_days_ago=31)  # no endpoint subscribed: no delivery
    # Kept: finished too recently, or not finished at all.
    finished(
        event(acme, "delivered_recent", created_days_ago=40), shop, Status.SUCCEEDED, days_ago=29
    )
    resent = event(acme, "one_resent", created_days_ago=90)
    finished(resent, shop, Status.SUCCEEDED, days_ago=90)
    finished(resent, crm, Status.SUCCEEDED, days_ago=2)  # resent from the console lately
    unfinished(event(acme, "retrying", created_days_ago=60), shop, Status.PENDING)
    unfinished(event(acme, "in_flight", created_days_ago=60), crm, Status.SENDING)
    unfinished(event(acme, "endpoint_disabled", created_days_ago=200), dead, Status.PENDING)
    mixed = event(acme, "one_retrying", created_days_ago=70)
    finished(mixed, shop, Status.SUCCEEDED, days_ago=70)
    unfinished(mixed, crm, Status.PENDING)
    event(acme, "nobody_recent", created_days_ago=29)
    kept_deliveries = Delivery.objects.exclude(
        event__object_id__in=["delivered_old", "gave_up_old", "both_old"]
    ).count()

    counts = sweep()

    assert counts["webhooks_pruned"] == 4
    assert left() == {
        "delivered_recent",
        "one_resent",
        "retrying",
        "in_flight",
        "endpoint_disabled",
        "one_retrying",
        "nobody_recent",
    }
    assert Delivery.objects.count() == kept_deliveries == 8  # gone with their events only
    assert sweep()["webhooks_pruned"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_retrying_delivery_keeps_its_event_until_it_is_delivered(
    acme, alice, receiver, time_machine
) -> None:
    """Through the real worker: the endpoint answers 500 for days, and the event stays
    however old it gets; once a retry is delivered, the event goes 30 days after that."""
    endpoint_create(merchant=acme, actor=alice, url=receiver.url, events=["link.deactivated"])
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    receiver.statuses = [500] * 3
    payment_link_deactivate(link=PaymentLinkFactory(merchant=acme), actor=alice)
    assert delivery.drain() == {"retrying": 1}
    row = Delivery.objects.get()
    assert row.status == Status.PENDING and row.attempts == 1

    # Months later nothing has been sent again (the worker was down): still kept.
    assert outbox.prune_finished(now=start + 90 * DAY) == 0
    assert OutgoingEvent.objects.count() == 1

    # Two more failures, then delivered.
    for _ in range(3):
        row.refresh_from_db()
        time_machine.move_to(row.next_attempt_at + timedelta(seconds=1), tick=False)
        delivery.drain()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SUCCEEDED, 4)
    delivered_at = row.delivered_at
    assert delivered_at is not None
    assert outbox.prune_finished(now=delivered_at + 29 * DAY) == 0
    assert outbox.prune_finished(now=delivered_at + 31 * DAY) == 1
    assert not OutgoingEvent.objects.exists() and not Delivery.objects.exists()


@pytest.mark.django_db
def test_the_period_is_a_setting_and_zero_keeps_everything(settings, acme) -> None:
    shop = endpoint(acme)
    finished(event(acme, "ten_days", created_days_ago=12), shop, Status.SUCCEEDED, days_ago=10)
    settings.PAYLINKS_OUTGOING_RETENTION_DAYS = 0
    assert outbox.prune_finished(now=timezone.now() + 3650 * DAY) == 0
    settings.PAYLINKS_OUTGOING_RETENTION_DAYS = 11
    assert outbox.prune_finished() == 0
    settings.PAYLINKS_OUTGOING_RETENTION_DAYS = 9
    assert outbox.prune_finished() == 1
    assert not left()


@pytest.mark.django_db
def test_pruning_works_in_bounded_batches_oldest_first(monkeypatch, acme, globex) -> None:
    monkeypatch.setattr(outbox, "PRUNE_BATCH", 2)
    monkeypatch.setattr(outbox, "PRUNE_BATCHES", 2)
    shops = {acme: endpoint(acme), globex: endpoint(globex)}
    for n in range(7):
        merchant = acme if n % 2 else globex  # every merchant's events, in one order
        row = event(merchant, f"old_{n}", created_days_ago=100 - n)
        finished(row, shops[merchant], Status.SUCCEEDED, days_ago=100 - n)

    assert outbox.prune_finished() == 4  # one call: at most two batches of two
    assert left() == {"old_4", "old_5", "old_6"}  # the oldest went first
    assert outbox.prune_finished() == 3
    assert not left() and not Delivery.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_replay_holding_an_old_event_keeps_it_from_being_pruned(acme, alice) -> None:
    """A replay locks the events it sends again; pruning skips them rather than deleting
    an event a new delivery is being added to (which would fail the replay)."""
    shop = endpoint(acme)
    finished(event(acme, "old", created_days_ago=40), shop, Status.SUCCEEDED, days_ago=40)
    finished(event(acme, "older", created_days_ago=50), shop, Status.SUCCEEDED, days_ago=50)
    held, release = threading.Event(), threading.Event()
    since = timezone.now() - 45 * DAY

    def replay() -> None:
        try:
            with transaction.atomic():
                endpoint_replay(endpoint=shop, actor=alice, since=since)  # locks "old" only
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=replay)
    thread.start()
    try:
        assert held.wait(10)
        assert outbox.prune_finished() == 1  # "older"; "old" is held by the replay
        assert left() == {"old"}
    finally:
        release.set()
        thread.join(10)
    # Replayed: its delivery is waiting again, so the event stays.
    assert Delivery.objects.get(event__object_id="old").status == Status.PENDING
    assert outbox.prune_finished() == 0 and left() == {"old"}


def test_the_retention_reaches_back_at_least_as_far_as_link_expiry_announcements() -> None:
    """The sweeper announces an expired link unless an event about it exists since its
    expiry, looking back ``EXPIRY_LOOKBACK``: pruning that event any sooner would make it
    announce the expiry twice. So the shortest period the settings accept covers it, and
    anything shorter (but 0, keep for ever) stops the start."""
    from ..security.test_settings import GOOD_KEY, GOOD_SECRET, manage_check

    secrets = {"SECRET_KEY": GOOD_SECRET, "FIELD_ENCRYPTION_KEY": GOOD_KEY}
    shortest = EXPIRY_LOOKBACK.days + (1 if EXPIRY_LOOKBACK % DAY else 0)
    for days in ("0", str(shortest)):
        started = manage_check(**secrets, PAYLINKS_OUTGOING_RETENTION_DAYS=days)
        assert started.returncode == 0, started.stderr
    for days in ("-1", str(shortest - 1), "a month"):
        refused = manage_check(**secrets, PAYLINKS_OUTGOING_RETENTION_DAYS=days)
        assert refused.returncode != 0
        assert "PAYLINKS_OUTGOING_RETENTION_DAYS" in refused.stderr + refused.stdout
