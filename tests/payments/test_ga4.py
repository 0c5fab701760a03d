"""Optional GA4: events leave from the worker to a Measurement Protocol endpoint (here a
stand-in HTTP server on 127.0.0.1), only for merchants who set it up, never affecting a
payment."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tasks_db.models import DBTaskResult

from paylinks.gateways import get_gateway
from paylinks.gateways.sandbox import engine
from paylinks.gateways.sandbox.cards import CARDS
from paylinks.models import AuditEntry, Merchant, PaymentStatus
from paylinks.services import payments
from paylinks.services.analytics import link_view_record
from paylinks.services.merchants import merchant_update

from ..factories import PaymentLinkFactory
from .helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "mp-secret-1234567890"


class Collect(BaseHTTPRequestHandler):
    received: list[dict] = []
    delay = 0.0
    status = 204

    def do_POST(self) -> None:
        time.sleep(type(self).delay)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        query = parse_qs(urlsplit(self.path).query)
        type(self).received.append(
            {"path": urlsplit(self.path).path, "query": query, "body": json.loads(body)}
        )
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ga4(settings) -> Iterator[type[Collect]]:  # type: ignore[no-untyped-def]
    # A class of its own per test: a handler still sleeping from the previous test (the slow
    # endpoint outlives the client's timeout) appends to that test's list, not this one's.
    handler = type("Collect", (Collect,), {"received": [], "delay": 0.0, "status": 204})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.PAYLINKS_GA4_URL = f"http://127.0.0.1:{server.server_port}/mp/collect"
    # Generous, so a busy machine never makes a healthy stand-in look slow; the slow
    # endpoint's test sets its own short deadline.
    settings.PAYLINKS_GA4_TIMEOUT_SECONDS = 5
    settings.PAYLINKS_GATEWAY = "sandbox"
    get_gateway.cache_clear()
    yield handler
    server.shutdown()
    get_gateway.cache_clear()


def configured(merchant: Merchant) -> Merchant:
    return merchant_update(
        merchant=merchant, actor=None, ga4_measurement_id="G-ABC123XYZ", ga4_api_secret=SECRET
    )


def pay(link) -> payments.Payment:  # type: ignore[no-untyped-def]
    started = payments.checkout_start(slug=link.slug, email="ada@example.test")
    engine.pay_with_card(
        started.session_id,
        card=CARDS["4242424242424242"],
        last4="4242",
        customer=engine.Customer(email="ada@example.test", name="Ada"),
    )
    return payments.payment_refresh(payment=started.payment)


def test_view_checkout_and_purchase_reach_ga4_from_the_worker(ga4, acme) -> None:  # type: ignore[no-untyped-def]
    configured(acme)
    link = PaymentLinkFactory(merchant=acme, currency="EUR", amount=1250, title="Gift card")
    assert link_view_record(link=link, visitor="visitor-0001-abcdefgh")
    paid = pay(link)
    assert paid.status == PaymentStatus.SUCCEEDED
    assert ga4.received == [], "nothing leaves before the worker runs"
    drain()
    names = [r["body"]["events"][0]["name"] for r in ga4.received]
    assert sorted(names) == ["begin_checkout", "purchase", "view_item"]
    for request in ga4.received:
        assert request["path"] == "/mp/collect"
        assert request["query"] == {"measurement_id": ["G-ABC123XYZ"], "api_secret": [SECRET]}
        assert request["body"]["client_id"].count(".") == 1
        assert isinstance(request["body"]["timestamp_micros"], int)
    purchase = next(r["body"] for r in ga4.received if r["body"]["events"][0]["name"] == "purchase")
    params = purchase["events"][0]["params"]
    assert params == {
        "currency": "EUR",
        "value": 12.5,
        "transaction_id": paid.public_id,
        "items": [
            {"item_id": f"link_{link.pk}", "item_name": "Gift card", "quantity": 1, "price": 12.5}
        ],
    }
    checkout = next(
        r["body"] for r in ga4.received if r["body"]["events"][0]["name"] == "begin_checkout"
    )
    assert checkout["client_id"] == purchase["client_id"], "one payment, one client"
    view = next(r["body"] for r in ga4.received if r["body"]["events"][0]["name"] == "view_item")
    assert view["client_id"] != purchase["client_id"]
    assert "visitor-0001" not in json.dumps(view), "the visitor id never leaves, only a keyed hash"


def test_a_merchant_without_ga4_sends_nothing_and_enqueues_nothing(ga4, acme) -> None:  # type: ignore[no-untyped-def]
    link = PaymentLinkFactory(merchant=acme, currency="USD", amount=999)
    link_view_record(link=link, visitor="visitor-0002-abcdefgh")
    pay(link)
    assert not DBTaskResult.objects.filter(task_path__endswith="ga4.send_event").exists()
    drain()
    assert ga4.received == []


def test_a_slow_or_failing_endpoint_never_touches_the_payment(ga4, acme, caplog, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_GA4_TIMEOUT_SECONDS = 1
    configured(acme)
    link = PaymentLinkFactory(merchant=acme, currency="JPY", amount=1200)
    ga4.delay = 3.0  # longer than the 1 s timeout
    paid = pay(link)
    started = time.monotonic()
    drain()
    assert time.monotonic() - started < 2 * 3.0, "each send gave up at its timeout"
    assert "not sent" in caplog.text
    paid.refresh_from_db()
    assert paid.status == PaymentStatus.SUCCEEDED
    ga4.delay, ga4.status = 0.0, 500
    pay(link)
    drain()
    assert "refused: HTTP 500" in caplog.text


def test_jpy_has_no_decimals_in_ga4_either(ga4, acme) -> None:  # type: ignore[no-untyped-def]
    configured(acme)
    link = PaymentLinkFactory(merchant=acme, currency="JPY", amount=1200)
    pay(link)
    drain()
    values = [r["body"]["events"][0]["params"]["value"] for r in ga4.received]
    assert values == [1200, 1200]


def test_the_settings_are_stored_encrypted_and_kept_out_of_the_audit_log(acme) -> None:  # type: ignore[no-untyped-def]
    configured(acme)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ga4_measurement_id, ga4_api_secret FROM paylinks_merchant WHERE id = %s",
            [acme.pk],
        )
        stored_id, stored_secret = cursor.fetchone()
    assert SECRET not in stored_secret and "G-ABC123XYZ" not in stored_id
    assert Merchant.objects.get(pk=acme.pk).ga4_api_secret == SECRET
    entry = AuditEntry.objects.filter(action="merchant.updated").latest("pk")
    assert SECRET not in json.dumps(entry.changes)
    assert entry.changes["ga4_api_secret"] == ["", "(changed)"]
    with pytest.raises(ValidationError):
        merchant_update(merchant=acme, actor=None, ga4_measurement_id="UA-12345-1")
