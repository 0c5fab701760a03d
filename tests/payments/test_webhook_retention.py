"""Retention of raw events: the sweeper deletes finished inbox events and delivered sandbox
events after PAYLINKS_WEBHOOK_RETENTION_DAYS, in bounded batches, and never one that
still needs work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from paylinks.gateways import get_gateway
from paylinks.gateways.sandbox import delivery
from paylinks.gateways.sandbox.models import SandboxEvent
from paylinks.models import WebhookEvent
from paylinks.sweeper import sweep
from paylinks.webhooks import inbox

pytestmark = pytest.mark.django_db

Status = WebhookEvent.Status


@pytest.fixture(autouse=True)
def _sandbox(settings):  # type: ignore[no-untyped-def]
    settings.PAYLINKS_GATEWAY = "sandbox"
    settings.PAYLINKS_WEBHOOK_RETENTION_DAYS = 30
    get_gateway.cache_clear()
    yield
    get_gateway.cache_clear()


def inbox_event(name: str, status: str, *, days_ago: float | None) -> WebhookEvent:
    """An event received ``days_ago`` + 1 days ago and finished ``days_ago`` days ago
    (None: never finished)."""
    now = timezone.now()
    finished = None if days_ago is None else now - timedelta(days=days_ago)
    event = WebhookEvent.objects.create(
        gateway="sandbox",
        event_id=f"evt_{name}",
        type="checkout.session.completed",
        payload={"id": f"evt_{name}", "customer_details": {"email": "kept@example.test"}},
        status=status,
        processed_at=finished,
        next_attempt_at=now + timedelta(days=1) if status == Status.FAILED else None,
    )
    received = (finished or now) - timedelta(days=1)
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=received)
    return event


def outbox_event(name: str, *, delivered_days_ago: float | None, given_up: bool = False) -> None:
    now = timezone.now()
    SandboxEvent.objects.create(
        id=f"evt_sbx_{name}",
        type="checkout.session.completed",
        payload={"id": f"evt_sbx_{name}"},
        created_at=now - timedelta(days=60),
        delivered_at=None
        if delivered_days_ago is None
        else now - timedelta(days=delivered_days_ago),
        next_attempt_at=now + timedelta(days=1) if delivered_days_ago is None else None,
        given_up=given_up,
    )


def inbox_left() -> set[str]:
    return set(WebhookEvent.objects.values_list("event_id", flat=True))


def outbox_left() -> set[str]:
    return set(SandboxEvent.objects.values_list("id", flat=True))


def test_the_sweeper_prunes_finished_events_past_retention_and_nothing_else() -> None:
    inbox_event("processed_old", Status.PROCESSED, days_ago=31)
    inbox_event("ignored_old", Status.IGNORED, days_ago=45)
    inbox_event("processed_recent", Status.PROCESSED, days_ago=29)
    inbox_event("ignored_recent", Status.IGNORED, days_ago=1)
    # Still needing work, however old: never pruned.
    inbox_event("pending_old", Status.PENDING, days_ago=None)
    inbox_event("failed_old", Status.FAILED, days_ago=None)
    WebhookEvent.objects.filter(event_id__in=["evt_pending_old", "evt_failed_old"]).update(
        received_at=timezone.now() - timedelta(days=365)
    )
    outbox_event("delivered_old", delivered_days_ago=31)
    outbox_event("delivered_recent", delivered_days_ago=2)
    outbox_event("undelivered", delivered_days_ago=None)
    outbox_event("given_up", delivered_days_ago=None, given_up=True)

    counts = sweep()

    assert counts["events_pruned"] == 2 and counts["gateway_events_pruned"] == 1
    assert inbox_left() == {
        "evt_processed_recent",
        "evt_ignored_recent",
        "evt_pending_old",
        "evt_failed_old",
    }
    assert outbox_left() == {"evt_sbx_delivered_recent", "evt_sbx_undelivered", "evt_sbx_given_up"}
    assert sweep()["events_pruned"] == 0


def test_the_retention_period_is_a_setting_and_zero_keeps_everything(settings) -> None:
    inbox_event("processed", Status.PROCESSED, days_ago=10)
    outbox_event("delivered", delivered_days_ago=10)
    settings.PAYLINKS_WEBHOOK_RETENTION_DAYS = 0
    assert inbox.prune_finished() == 0 and delivery.prune_delivered() == 0
    settings.PAYLINKS_WEBHOOK_RETENTION_DAYS = 11
    assert inbox.prune_finished() == 0 and delivery.prune_delivered() == 0
    settings.PAYLINKS_WEBHOOK_RETENTION_DAYS = 9
    assert inbox.prune_finished() == 1 and delivery.prune_delivered() == 1
    assert not inbox_left() and not outbox_left()


def test_an_event_reprocessed_after_it_finished_is_kept_for_another_period() -> None:
    event = inbox_event("reprocessed", Status.PROCESSED, days_ago=40)
    inbox.reprocess(event.pk)  # an unknown session: finishes again, now
    event.refresh_from_db()
    assert event.status in (Status.PROCESSED, Status.IGNORED)
    assert inbox.prune_finished() == 0
    assert inbox_left() == {"evt_reprocessed"}


def test_pruning_works_in_bounded_batches_oldest_first(monkeypatch) -> None:
    monkeypatch.setattr(inbox, "PRUNE_BATCH", 2)
    monkeypatch.setattr(inbox, "PRUNE_BATCHES", 2)
    monkeypatch.setattr(delivery, "PRUNE_BATCH", 2)
    monkeypatch.setattr(delivery, "PRUNE_BATCHES", 2)
    for n in range(7):
        inbox_event(f"old_{n}", Status.PROCESSED, days_ago=100 - n)
        outbox_event(f"old_{n}", delivered_days_ago=100 - n)

    assert inbox.prune_finished() == 4  # one call: at most two batches of two
    assert inbox_left() == {"evt_old_4", "evt_old_5", "evt_old_6"}  # the oldest went first
    assert delivery.prune_delivered() == 4
    assert outbox_left() == {"evt_sbx_old_4", "evt_sbx_old_5", "evt_sbx_old_6"}
    assert inbox.prune_finished() == 3 and delivery.prune_delivered() == 3
    assert not inbox_left() and not outbox_left()
