"""Request bodies sent with ``Transfer-Encoding: chunked`` (no Content-Length), under the
server production runs: a real gunicorn on 127.0.0.1, as bench/run.py starts it.

gunicorn de-chunks the body and says so (``wsgi.input_terminated``), but Django reads a
body only as far as ``CONTENT_LENGTH``, so without project.wsgi's wrapper a signed
chunked webhook failed its signature (400) and a chunked API body was silently empty.
A server that cannot de-chunk (``runserver``) gets a clear 411 instead.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.db import connection

from paylinks.gateways.sandbox.delivery import sign
from paylinks.models import Payment, WebhookEvent
from project.wsgi import ChunkedBodyMiddleware

from ..factories import PaymentLinkFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def gunicorn(transactional_db, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """gunicorn serving project.wsgi on the test database, rate limits off."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(),
        "PAYLINKS_RATE_PUBLIC_IP": "",
        "PAYLINKS_RATE_CHECKOUT_IP": "",
        "PAYLINKS_RATE_CHECKOUT_LINK": "",
        "PAYLINKS_GATEWAY": "sandbox",
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    args = [
        sys.executable, "-m", "gunicorn", "project.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail((tmp_path / "gunicorn.log").read_text()[-3000:])
            try:
                requests.get(f"{base}/api/v1/public/links/nothing", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not answer within 60 s")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def chunks(body: bytes, size: int = 7) -> Iterator[bytes]:
    """A generator body: requests sends it with Transfer-Encoding: chunked."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_api_body_is_read(gunicorn, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, currency="EUR", amount=None, amount_type="customer")
    body = json.dumps({"amount": "12.50", "email": "ada@example.test"}).encode()
    response = requests.post(
        f"{gunicorn}/api/v1/public/links/{link.slug}/checkout",
        data=chunks(body),
        headers={"Content-Type": "application/json"},
        timeout=20,
    )
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.request.headers
    assert response.status_code == 201, response.text
    payment = Payment.objects.get(link=link)
    assert payment.amount == 1250
    assert payment.customer_email == "ada@example.test"


def test_a_chunked_body_a_fixed_link_must_refuse_is_refused(gunicorn, acme) -> None:
    # Read as empty, this body used to start a checkout at the link's price.
    link = PaymentLinkFactory(merchant=acme, amount=2500)
    response = requests.post(
        f"{gunicorn}/api/v1/public/links/{link.slug}/checkout",
        data=chunks(json.dumps({"amount": "1.00"}).encode()),
        headers={"Content-Type": "application/json"},
        timeout=20,
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_amount"
    assert not Payment.objects.exists()


def test_a_signed_chunked_webhook_is_stored(gunicorn, settings) -> None:
    body = json.dumps(
        {
            "id": "evt_chunked_1",
            "object": "event",
            "type": "checkout.session.expired",
            "created": int(time.time()),
            "data": {"object": {"id": "cs_test_chunked", "object": "checkout.session"}},
            "livemode": False,
        }
    )
    response = requests.post(
        f"{gunicorn}/webhooks/stripe/",
        data=chunks(body.encode(), 64),
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign(body, settings.STRIPE_WEBHOOK_SECRET),
        },
        timeout=20,
    )
    assert response.status_code == 200, response.text
    assert WebhookEvent.objects.filter(event_id="evt_chunked_1").exists()


def test_a_chunked_body_over_the_limit_is_a_413(gunicorn, acme, settings) -> None:
    link = PaymentLinkFactory(merchant=acme)
    huge = b'{"email": "' + b"a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + b'"}'
    for path in (f"/api/v1/public/links/{link.slug}/checkout", "/webhooks/stripe/"):
        response = requests.post(
            f"{gunicorn}{path}",
            data=chunks(huge, 64 * 1024),
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 413, path
        assert response.json()["error"]["code"] == "payload_too_large"
    assert not Payment.objects.exists()


def _call(app, environ: dict) -> tuple[str, bytes]:  # type: ignore[no-untyped-def]
    status: list[str] = []
    body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
    return status[0], body


def test_a_server_that_cannot_dechunk_gets_411() -> None:
    """``runserver`` (wsgiref) hands the raw chunked stream over and does not say it is
    terminated: reading it would be reading the chunk framing. It is refused clearly."""
    reached: list[dict] = []

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        reached.append(environ)
        start_response("200 OK", [])
        return [b""]

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/stripe/",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(b"5\r\nhello\r\n0\r\n\r\n"),
    }
    status, body = _call(ChunkedBodyMiddleware(app), environ)
    assert status.startswith("411")
    assert json.loads(body)["error"]["code"] == "length_required"
    assert not reached
