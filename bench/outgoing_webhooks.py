#!/usr/bin/env python
"""Outgoing webhooks: fan-out to local receivers, one of them slow.

    python bench/outgoing_webhooks.py          # also run by ``make bench`` (bench/run.py)

On its own PostgreSQL database (created, migrated and dropped), one merchant has
``BENCH_OUT_FAST`` fast endpoints (local HTTP receivers answering at once) and one slow
endpoint (2 s per request). ``BENCH_OUT_EVENTS`` events are written through the outbox
(``event_record``), each to every endpoint. Two worker processes (``drain()``, the code
``manage.py worker`` runs) then deliver, twice:

1. with the slow endpoint disabled: the fast receivers' deliveries per second alone;
2. with the slow endpoint enabled: the same, while the slow one holds its 4 slots.

It reports deliveries/s to the fast receivers in each (goal >= 200/s; the slow one costing
them < 10 %), and checks that every fast receiver got every event exactly once (0 lost,
0 duplicated ``webhook-id``s per endpoint) and the slow one no id twice.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB = os.environ.get("BENCH_OUT_DB", "paylinks_bench_webhooks")
EVENTS = int(os.environ.get("BENCH_OUT_EVENTS", "2000"))
FAST = int(os.environ.get("BENCH_OUT_FAST", "4"))
WORKERS = int(os.environ.get("BENCH_OUT_WORKERS", "2"))
SLOW_SECONDS = 2.0


class Receiver:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.ids: Counter[str] = Counter()
        self.first_at = 0.0
        self.last_at = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.ids[self.headers["webhook-id"]] += 1
                    receiver.last_at = time.monotonic()
                    receiver.first_at = receiver.first_at or receiver.last_at
                try:
                    self.send_response(200)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # a worker stopped at the end of the run

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 256
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def received(self) -> int:
        with self.lock:
            return sum(self.ids.values())


def environment() -> dict[str, str]:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "PAYLINKS_SKIP_DOTENV": "1",
        "DEBUG": "false",
        "DATABASE_URL": f"{PG}/{DB}",
        "PAYLINKS_TASK_BACKEND": "database",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "API_TOKEN_PRIVATE_KEY": key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "PAYLINKS_WEBHOOK_ALLOW_PRIVATE": "true",
        "PAYLINKS_WEBHOOK_ALLOW_HTTP": "true",
        "LOG_LEVEL": "WARNING",
    }


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


WORKER = """
import django, sys, time
django.setup()
from paylinks.notifications.delivery import drain
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    if not drain(seconds=5):
        time.sleep(0.05)
"""


def deliver(env: dict[str, str], fast: list[Receiver], expected: int) -> float:
    """Run the workers until every fast receiver has ``expected`` deliveries; the seconds
    from the first delivery to the last (the workers' start-up is not counted)."""
    started = time.monotonic()
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, "600"], cwd=ROOT, env=env)
        for _ in range(WORKERS)
    ]
    try:
        while any(r.received() < expected for r in fast):
            if time.monotonic() - started > 300:
                break
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.02)
        return max(r.last_at for r in fast) - min(r.first_at or started for r in fast)
    finally:
        for p in procs:
            p.kill()
            p.wait()


def main() -> int:
    env = environment()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    admin(f'DROP DATABASE IF EXISTS "{DB}"')
    admin(f'CREATE DATABASE "{DB}"')
    try:
        return run(env)
    finally:
        from django.db import connections

        connections.close_all()
        admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')


def run(env: dict[str, str]) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from paylinks.models import Delivery, Merchant, OutgoingEvent, WebhookEndpoint
    from paylinks.notifications.outbox import event_record

    call_command("migrate", verbosity=0)
    merchant = Merchant.objects.create(name="Bench Books", slug="bench-books")
    results: dict[str, Any] = {}
    failures: list[str] = []
    for phase, with_slow in (("alone", False), ("with_slow", True)):
        fast = [Receiver(0.0) for _ in range(FAST)]
        slow = Receiver(SLOW_SECONDS)
        WebhookEndpoint.objects.all().delete()
        for r in fast:
            WebhookEndpoint.objects.create(merchant=merchant, url=r.url, events=["test"])
        slow_endpoint = WebhookEndpoint.objects.create(
            merchant=merchant, url=slow.url, events=["test"], enabled=with_slow
        )
        for start in range(0, EVENTS, 200):
            with transaction.atomic():
                for n in range(start, min(EVENTS, start + 200)):
                    event_record(
                        merchant_id=merchant.pk, type="test", object_id=f"e{n}", data={"n": n}
                    )
        ids = set(
            OutgoingEvent.objects.order_by("-id")[:EVENTS].values_list("public_id", flat=True)
        )
        seconds = deliver(env, fast, EVENTS)
        delivered = FAST * EVENTS
        rate = delivered / seconds if seconds > 0 else 0.0
        lost = sum(len(ids - set(r.ids)) for r in fast)
        duplicated = sum(n - 1 for r in [*fast, slow] for n in r.ids.values() if n > 1)
        results[phase] = {
            "deliveries": delivered,
            "seconds": round(seconds, 2),
            "per_second": round(rate, 1),
            "lost": lost,
            "duplicated": duplicated,
            "slow_received": slow.received() if with_slow else 0,
        }
        if lost or duplicated:
            failures.append(f"{phase}: {lost} lost, {duplicated} duplicated")
        Delivery.objects.all().delete()
        OutgoingEvent.objects.all().delete()
        slow_endpoint.delete()
        for r in [*fast, slow]:
            r.server.shutdown()
    alone, mixed = results["alone"]["per_second"], results["with_slow"]["per_second"]
    cost = 1 - mixed / alone if alone else 1.0
    results["slow_cost"] = round(cost, 3)
    results["goal_rate"] = mixed >= 200
    results["goal_cost"] = cost < 0.10
    print(json.dumps(results, indent=2))
    print(
        f"Outgoing webhooks: {mixed:.0f} deliveries/s to {FAST} fast receivers with a slow one "
        f"({alone:.0f}/s without it; the slow one costs {cost:.1%}); goal >= 200/s: "
        f"{'PASS' if mixed >= 200 else 'FAIL'}, cost < 10%: {'PASS' if cost < 0.10 else 'FAIL'}; "
        f"lost {results['with_slow']['lost'] + results['alone']['lost']}, duplicated "
        f"{results['with_slow']['duplicated'] + results['alone']['duplicated']}"
    )
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
