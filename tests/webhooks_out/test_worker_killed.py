"""At least once, never lost: a worker killed mid-delivery leaves a lease that expires, and
the delivery is sent again with the same webhook-id; while the lease holds, no other
worker sends it. Receivers de-duplicate by webhook-id, so each event counts once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from paylinks.models import Delivery
from paylinks.notifications import delivery
from paylinks.services.links import payment_link_deactivate
from paylinks.services.webhook_endpoints import endpoint_create

from ..factories import PaymentLinkFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 2  # the worker's request timeout; its lease is this + 5 s


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def start_worker() -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "PAYLINKS_WEBHOOK_ALLOW_PRIVATE": "true",
        "PAYLINKS_WEBHOOK_ALLOW_HTTP": "true",
        "PAYLINKS_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT),
    }
    code = (
        "import django; django.setup(); "
        "from paylinks.notifications.delivery import drain; print(drain(), flush=True)"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)


def test_killed_worker_redelivers_once_with_the_same_id(acme, alice, receiver, settings) -> None:
    settings.PAYLINKS_WEBHOOK_TIMEOUT_SECONDS = TIMEOUT
    issued = endpoint_create(
        merchant=acme, actor=alice, url=receiver.url, events=["link.deactivated"]
    )
    payment_link_deactivate(link=PaymentLinkFactory(merchant=acme), actor=alice)
    receiver.delay = 1.5  # long enough to kill the worker while it waits for the answer
    worker = start_worker()
    receiver.wait_for(1, timeout=30)
    assert len(receiver.requests) == 1
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    receiver.delay = 0

    row = Delivery.objects.get()
    assert row.status == Delivery.Status.SENDING and row.attempts == 0  # never recorded
    # While the dead worker's lease holds, a restarted worker does not send it again.
    assert delivery.drain(seconds=1) == {}
    assert len(receiver.requests) == 1

    assert row.lease_until is not None
    time.sleep(max(0.0, (row.lease_until - timezone.now()).total_seconds()) + 0.2)
    restarted = start_worker()
    assert restarted.wait(timeout=60) == 0
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    Webhook(issued.secret).verify(second.body, second.headers)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Delivery.Status.SUCCEEDED, 1)
    assert Delivery.objects.count() == 1
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
