"""The task backends: database (embedded default) and Redis Queue (production)."""

from __future__ import annotations

import os

import pytest
import redis
from django.test import override_settings

from paylinks.models import WebhookEvent
from paylinks.webhooks.inbox import drain_inbox

from .helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def unknown_event(event_id: str) -> WebhookEvent:
    return WebhookEvent.objects.create(
        gateway="sandbox",
        event_id=event_id,
        type="customer.created",
        payload={"data": {"object": {}}},
    )


def test_database_backend_drains_the_inbox_later() -> None:
    rows = [unknown_event(f"evt_db_drain_{n}") for n in range(3)]
    result = drain_inbox.enqueue()
    assert {r.status for r in WebhookEvent.objects.all()} == {WebhookEvent.Status.PENDING}
    assert drain() == 1
    for row in rows:
        row.refresh_from_db()
        assert row.status == WebhookEvent.Status.IGNORED
    assert result.status in ("READY", "SUCCESSFUL")  # durable, not run in-process


@pytest.fixture
def rq_redis():  # type: ignore[no-untyped-def]
    url = REDIS_URL.rsplit("/", 1)[0] + "/14"
    connection = redis.Redis.from_url(url)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip(f"needs Redis at {url} (set REDIS_URL)")
    connection.flushdb()
    yield url, connection
    connection.flushdb()


def test_rq_backend_runs_the_task_through_redis(rq_redis) -> None:
    import rq
    from django_tasks_rq import Job

    url, connection = rq_redis
    row = unknown_event("evt_rq_backend")
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        RQ_QUEUES={"default": {"URL": url}},
    ):
        drain_inbox.enqueue()
        queue = rq.Queue("default", connection=connection, job_class=Job)
        assert queue.count == 1
        row.refresh_from_db()
        assert row.status == WebhookEvent.Status.PENDING
        worker = rq.SimpleWorker([queue], connection=connection, job_class=Job)
        assert worker.work(burst=True)
    row.refresh_from_db()
    assert row.status == WebhookEvent.Status.IGNORED
