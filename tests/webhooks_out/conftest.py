"""Outgoing webhooks: a real HTTP receiver on 127.0.0.1, and a live Paylinks on the sandbox."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from paylinks.gateways import get_gateway


@dataclass
class Received:
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A merchant's endpoint: records every request, answers from ``statuses`` in turn
    (then 200), after ``delay`` seconds."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_type(self, type_: str) -> list[Received]:
        return [r for r in self.requests if r.json["type"] == type_]

    def wait_for(self, n: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.02)


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode()
            with receiver.lock:
                receiver.requests.append(Received(dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            if receiver.delay:
                time.sleep(receiver.delay)
            payload = b'{"received": true}' if status < 300 else b"x" * 5000
            try:
                self.send_response(status)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks"
    return receiver, server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found, server = start_receiver()
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _local_endpoints_allowed(settings):  # type: ignore[no-untyped-def]
    """Receivers in these tests listen on 127.0.0.1 over http (the guard's own tests
    turn this off again)."""
    settings.PAYLINKS_WEBHOOK_ALLOW_PRIVATE = True
    settings.PAYLINKS_WEBHOOK_ALLOW_HTTP = True


@pytest.fixture
def site(live_server, settings):  # type: ignore[no-untyped-def]
    settings.SITE_URL = live_server.url
    settings.PUBLIC_CHECKOUT_URL = "http://checkout.invalid"
    settings.PAYLINKS_GATEWAY = "sandbox"
    settings.PAYLINKS_RATE_LIMITS = {}
    get_gateway.cache_clear()
    yield live_server.url
    get_gateway.cache_clear()
