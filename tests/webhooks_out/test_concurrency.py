"""Two workers draining at once (PostgreSQL, SKIP LOCKED): every delivery sent exactly
once, never more than the per-endpoint cap in flight, and a slow endpoint holds up
nobody else."""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection

from paylinks.models import Delivery, OutgoingEvent
from paylinks.notifications import delivery
from paylinks.notifications.outbox import event_record
from paylinks.services.webhook_endpoints import endpoint_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


class Tracker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.seen: Counter[tuple[str, str]] = Counter()
        self.done_at: dict[str, float] = {}


def serve(tracker: Tracker) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["content-length"]))
            path = self.path
            with tracker.lock:
                tracker.now[path] += 1
                tracker.peak[path] = max(tracker.peak[path], tracker.now[path])
                tracker.seen[(path, self.headers["webhook-id"])] += 1
            time.sleep(1.0 if path == "/slow" else 0.02)
            with tracker.lock:
                tracker.now[path] -= 1
                tracker.done_at[path] = time.monotonic()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_two_workers_split_the_work_fairly(acme, alice, settings) -> None:
    assert connection.vendor == "postgresql"
    tracker = Tracker()
    server = serve(tracker)
    base = f"http://127.0.0.1:{server.server_port}"
    paths = ["/slow", "/a", "/b", "/c"]
    for path in paths:
        endpoint_create(merchant=acme, actor=alice, url=base + path, events=["link.deactivated"])
    for n in range(40):
        event_record(merchant_id=acme.pk, type="link.deactivated", object_id=f"l{n}", data={"n": n})
    started = time.monotonic()

    def work() -> None:
        try:
            delivery.drain(seconds=5)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    server.shutdown()

    events = set(OutgoingEvent.objects.values_list("public_id", flat=True))
    for path in ("/a", "/b", "/c"):
        ids = {webhook_id for (p, webhook_id), _ in tracker.seen.items() if p == path}
        assert ids == events, path  # nothing lost
        assert all(n == 1 for (p, _), n in tracker.seen.items() if p == path)  # no duplicates
        assert tracker.peak[path] <= settings.PAYLINKS_WEBHOOK_PER_ENDPOINT
        # The fast endpoints finished long before the slow one could (40 x 1 s / 4).
        assert tracker.done_at[path] - started < 6
    assert tracker.peak["/slow"] <= settings.PAYLINKS_WEBHOOK_PER_ENDPOINT
    assert all(n == 1 for n in tracker.seen.values())
    fast = Delivery.objects.exclude(endpoint__url__endswith="/slow")
    assert set(fast.values_list("status", flat=True)) == {"succeeded"}
