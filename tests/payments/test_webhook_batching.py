"""Webhook events wake the workers in batches: no event is left behind, none runs twice.

A web process sends at most two ``drain_inbox`` tasks per ``PAYLINKS_WEBHOOK_BATCH_MS``
window (one to run now, one deferred to the window's end) instead of one task per event.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from paylinks.models import WebhookEvent
from paylinks.webhooks import inbox

from .helpers import drain
from .test_webhooks import event_body, post, signed

pytestmark = pytest.mark.django_db(transaction=True)
DRAIN_TASK = "paylinks.webhooks.inbox.drain_inbox"


@pytest.fixture
def window(settings, monkeypatch):  # type: ignore[no-untyped-def]
    """A fresh waker with a long window: everything a test posts falls inside it."""
    settings.PAYLINKS_WEBHOOK_BATCH_MS = 60_000
    monkeypatch.setattr(inbox, "_waker", inbox._Waker())
    return settings


def deliver(client, settings, event_id: str) -> None:  # type: ignore[no-untyped-def]
    body = event_body("customer.created", {"id": "cus_1", "object": "customer"}, event_id)
    response = post(client, body, signed(body, settings))
    assert response.status_code == 200, response.content


def drain_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=DRAIN_TASK).order_by("enqueued_at"))


def pending() -> set[str]:
    return set(
        WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING).values_list(
            "event_id", flat=True
        )
    )


def end_the_window() -> None:
    """What the clock does when the window closes: the deferred task becomes due."""
    DBTaskResult.objects.filter(task_path=DRAIN_TASK, status="READY").update(
        run_after=timezone.now()
    )


def test_a_window_sends_one_task_now_and_one_for_its_end(client, window) -> None:
    for n in range(6):
        deliver(client, window, f"evt_batch_{n}")
    tasks = drain_tasks()
    assert len(tasks) == 2  # not six
    now_task, deferred = tasks
    assert deferred.run_after > timezone.now() + timedelta(seconds=50)
    assert now_task.run_after > deferred.run_after  # django-tasks-db: "no run_after" is max
    drain()  # only the first is due: it finds every event stored before it ran
    assert pending() == set()
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.IGNORED).count() == 6


def test_events_after_the_first_wake_up_are_found_when_the_window_ends(client, window) -> None:
    deliver(client, window, "evt_first")
    assert drain() == 1
    assert pending() == set()
    # Later in the same window: one deferred task, then nothing more.
    deliver(client, window, "evt_second")
    deliver(client, window, "evt_third")
    assert len(drain_tasks()) == 2
    assert drain() == 0  # the deferred task is not due yet
    assert pending() == {"evt_second", "evt_third"}
    end_the_window()
    assert drain() == 1
    assert pending() == set()


def test_a_new_window_wakes_a_worker_at_once(client, settings, monkeypatch) -> None:
    settings.PAYLINKS_WEBHOOK_BATCH_MS = 20
    monkeypatch.setattr(inbox, "_waker", inbox._Waker())
    for n in range(3):
        deliver(client, settings, f"evt_window_{n}")
        time.sleep(0.05)  # past the window: the next event opens a new one
    assert len(drain_tasks()) == 3
    assert all(t.run_after > timezone.now() for t in drain_tasks())  # none deferred
    drain()
    assert pending() == set()


def test_duplicates_wake_nobody(client, settings, monkeypatch) -> None:
    settings.PAYLINKS_WEBHOOK_BATCH_MS = 0
    for _ in range(4):
        deliver(client, settings, "evt_same")
    assert len(drain_tasks()) == 1
    assert WebhookEvent.objects.filter(event_id="evt_same").count() == 1


def test_workers_draining_together_share_the_events_and_process_each_once() -> None:
    WebhookEvent.objects.bulk_create(
        WebhookEvent(
            gateway="sandbox",
            event_id=f"evt_shared_{n}",
            type="customer.created",
            payload={"data": {"object": {}}},
        )
        for n in range(90)
    )

    def work(_: int) -> dict[str, int]:
        try:
            return inbox.drain(batch=7)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(work, range(3)))
    assert sum(r.get("ignored", 0) for r in results) == 90
    assert pending() == set()
    # Each event was leased exactly once: no worker processed another's claim.
    assert set(WebhookEvent.objects.values_list("attempts", flat=True)) == {1}
