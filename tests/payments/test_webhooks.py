"""The webhook pipeline: verification, the inbox, idempotency, ordering, retries."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import pytest
import requests
import time_machine
from django.db import connection, connections
from django.utils import timezone

from paylinks.gateways import get_gateway
from paylinks.gateways.sandbox import engine
from paylinks.gateways.sandbox.cards import card_for
from paylinks.gateways.sandbox.delivery import sign
from paylinks.models import Payment, PaymentStatus, WebhookEvent
from paylinks.services.payments import checkout_start
from paylinks.webhooks.inbox import process_inbox_event, reprocess

from ..factories import PaymentLinkFactory
from .helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/webhooks/stripe/"


def event_body(event_type: str, obj: dict, event_id: str = "evt_test_1") -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
        }
    )


def post(client, body: str, header: str | None):  # type: ignore[no-untyped-def]
    extra = {} if header is None else {"HTTP_STRIPE_SIGNATURE": header}
    return client.post(URL, data=body, content_type="application/json", **extra)


def signed(body: str, settings, **kwargs) -> str:  # type: ignore[no-untyped-def]
    return sign(body, settings.STRIPE_WEBHOOK_SECRET, **kwargs)


def open_payment(link) -> Payment:  # type: ignore[no-untyped-def]
    started = checkout_start(slug=link.slug)
    return Payment.objects.get(pk=started.payment.pk)


def card_paid(payment: Payment) -> None:
    """The customer pays on the sandbox page (the engine call the page makes)."""
    engine.pay_with_card(
        payment.gateway_session_id,
        card=card_for("4242424242424242"),  # type: ignore[arg-type]
        last4="4242",
        customer=engine.Customer(email="ada@example.test"),
    )


class TestVerification:
    @pytest.fixture
    def body(self) -> str:
        return event_body(
            "checkout.session.completed", {"id": "cs_x", "object": "checkout.session"}
        )

    def test_valid_signature_is_stored_and_acknowledged(self, client, settings, body) -> None:
        response = post(client, body, signed(body, settings))
        assert response.status_code == 200 and response.json()["received"] is True
        assert WebhookEvent.objects.filter(event_id="evt_test_1").count() == 1

    @pytest.mark.parametrize(
        "tamper",
        [
            "tampered body",
            "wrong secret",
            "old timestamp",
            "missing header",
            "malformed json",
            "not an event",
            "garbage header",
        ],
    )
    def test_untrusted_webhooks_are_refused(self, client, settings, body, tamper) -> None:
        header: str | None = signed(body, settings)
        if tamper == "tampered body":
            body = body.replace("cs_x", "cs_y")
        elif tamper == "wrong secret":
            header = sign(body, "whsec_not_ours")
        elif tamper == "old timestamp":
            header = signed(body, settings, timestamp=int(time.time()) - 301)
        elif tamper == "missing header":
            header = None
        elif tamper == "malformed json":
            body = '{"id": "evt_test_1", "object": "event", '
            header = signed(body, settings)
        elif tamper == "not an event":
            body = json.dumps({"id": "x", "object": "charge"})
            header = signed(body, settings)
        elif tamper == "garbage header":
            header = "t=abc,v1=zzz"
        response = post(client, body, header)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_signature"
        assert not WebhookEvent.objects.exists()

    def test_timestamp_inside_tolerance_is_accepted(self, client, settings, body) -> None:
        response = post(client, body, signed(body, settings, timestamp=int(time.time()) - 250))
        assert response.status_code == 200

    def test_only_post(self, client) -> None:
        assert client.get(URL).status_code == 405


class TestProcessing:
    def test_duplicate_delivery_is_one_row_and_one_transition(self, client, settings, acme) -> None:
        payment = open_payment(PaymentLinkFactory(merchant=acme))
        card_paid(payment)
        obj = {"id": payment.gateway_session_id, "object": "checkout.session"}
        body = event_body("checkout.session.completed", obj, "evt_dup")
        for _ in range(5):
            assert post(client, body, signed(body, settings)).status_code == 200
        drain()
        assert WebhookEvent.objects.filter(event_id="evt_dup").count() == 1
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.SUCCEEDED
        assert payment.events.filter(to_status="succeeded").count() == 1

    def test_expired_after_completed_keeps_the_payment_succeeded(
        self, client, settings, acme
    ) -> None:
        payment = open_payment(PaymentLinkFactory(merchant=acme))
        card_paid(payment)
        obj = {"id": payment.gateway_session_id, "object": "checkout.session"}
        completed = event_body("checkout.session.completed", obj, "evt_a")
        expired = event_body("checkout.session.expired", obj, "evt_b")
        post(client, completed, signed(completed, settings))
        post(client, expired, signed(expired, settings))
        drain()
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.SUCCEEDED

    def test_async_success_before_completed(self, client, settings, acme) -> None:
        from paylinks.gateways.sandbox.cards import iban_for

        payment = open_payment(PaymentLinkFactory(merchant=acme, currency="EUR"))
        settings.SANDBOX_SETTLE_SECONDS = 0
        engine.pay_with_sepa(
            payment.gateway_session_id,
            iban=iban_for("DE89370400440532013000"),  # type: ignore[arg-type]
            last4="3000",
            customer=engine.Customer(email="ada@example.test"),
        )
        engine.settle(payment.payment_intent_id or engine.SandboxPaymentIntent.objects.get().id)
        obj = {"id": payment.gateway_session_id, "object": "checkout.session"}
        later = event_body("checkout.session.async_payment_succeeded", obj, "evt_late")
        earlier = event_body("checkout.session.completed", obj, "evt_early")
        post(client, later, signed(later, settings))
        drain()
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.SUCCEEDED
        post(client, earlier, signed(earlier, settings))
        drain()
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.SUCCEEDED
        assert payment.events.filter(kind="status_changed").count() == 1

    def test_unknown_event_type_is_stored_and_ignored(self, client, settings) -> None:
        body = event_body("customer.created", {"id": "cus_1", "object": "customer"}, "evt_unknown")
        assert post(client, body, signed(body, settings)).status_code == 200
        drain()
        row = WebhookEvent.objects.get(event_id="evt_unknown")
        assert row.status == WebhookEvent.Status.IGNORED

    def test_event_for_a_session_paylinks_did_not_create_is_ignored(self, client, settings) -> None:
        body = event_body(
            "checkout.session.completed",
            {"id": "cs_foreign", "object": "checkout.session"},
            "evt_f",
        )
        post(client, body, signed(body, settings))
        drain()
        assert WebhookEvent.objects.get(event_id="evt_f").status == WebhookEvent.Status.IGNORED

    def test_processing_error_is_kept_retried_then_succeeds(self, client, settings, acme) -> None:
        payment = open_payment(PaymentLinkFactory(merchant=acme))
        card_paid(payment)
        obj = {"id": payment.gateway_session_id, "object": "checkout.session"}
        body = event_body("checkout.session.completed", obj, "evt_retry")
        # The gateway cannot be asked for a while: its sessions are briefly unreadable.
        settings.PAYLINKS_GATEWAYS = {
            **settings.PAYLINKS_GATEWAYS,
            "sandbox": "tests.payments.flaky.FlakyGateway",
        }
        get_gateway.cache_clear()
        post(client, body, signed(body, settings))
        drain()
        row = WebhookEvent.objects.get(event_id="evt_retry")
        assert row.status == WebhookEvent.Status.FAILED
        assert "GatewayError" in row.last_error and row.attempts == 1
        assert row.next_attempt_at > timezone.now()
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PENDING
        # Not yet due: the sweeper leaves it alone.
        assert process_inbox_event(row.pk).startswith("skipped")
        settings.PAYLINKS_GATEWAYS = {
            **settings.PAYLINKS_GATEWAYS,
            "sandbox": "paylinks.gateways.sandbox.gateway.SandboxGateway",
        }
        get_gateway.cache_clear()
        with time_machine.travel(timezone.now() + timedelta(seconds=6)):
            from paylinks.sweeper import sweep

            sweep()
        row.refresh_from_db()
        payment.refresh_from_db()
        assert row.status == WebhookEvent.Status.PROCESSED and row.attempts == 2
        assert payment.status == PaymentStatus.SUCCEEDED

    def test_reprocess_action_runs_a_processed_event_again_harmlessly(
        self, client, settings, acme
    ) -> None:
        payment = open_payment(PaymentLinkFactory(merchant=acme))
        card_paid(payment)
        drain()
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PENDING  # no live server: nothing delivered yet
        obj = {"id": payment.gateway_session_id, "object": "checkout.session"}
        body = event_body("checkout.session.completed", obj, "evt_re")
        post(client, body, signed(body, settings))
        drain()
        row = WebhookEvent.objects.get(event_id="evt_re")
        assert reprocess(row.pk).startswith("processed")
        payment.refresh_from_db()
        assert payment.events.filter(to_status="succeeded").count() == 1


@pytest.mark.postgres
def test_the_same_event_fifty_times_at_once_makes_one_transition(
    live_server, settings, acme
) -> None:
    settings.SITE_URL = live_server.url
    payment = open_payment(PaymentLinkFactory(merchant=acme))
    card_paid(payment)
    body = event_body(
        "checkout.session.completed",
        {"id": payment.gateway_session_id, "object": "checkout.session"},
        "evt_fifty",
    )

    def deliver(_: int) -> int:
        header = sign(body, settings.STRIPE_WEBHOOK_SECRET)
        headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
        return requests.post(
            live_server.url + URL, data=body, headers=headers, timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(deliver, range(50)))
    assert codes == [200] * 50
    # Fifty workers racing to process the (single) stored event.
    row = WebhookEvent.objects.get(event_id="evt_fifty")

    def process(_: int) -> str:
        try:
            return process_inbox_event(row.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(process, range(50)))
    drain()
    assert WebhookEvent.objects.filter(event_id="evt_fifty").count() == 1
    assert sum(o.startswith("processed") for o in outcomes) <= 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.events.filter(to_status="succeeded").count() == 1


@contextmanager
def database_down():  # type: ignore[no-untyped-def]
    """Point the connection at a database that does not exist: every query fails to connect."""
    conn = connections["default"]
    saved = dict(conn.settings_dict)
    conn.close()
    if conn.vendor == "sqlite":
        conn.settings_dict["NAME"] = "/nonexistent-directory/paylinks.sqlite3"
    else:
        conn.settings_dict["HOST"], conn.settings_dict["PORT"] = "127.0.0.1", "1"
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict.update(saved)


def test_database_unavailable_is_a_non_2xx_so_the_gateway_retries(client, settings) -> None:
    body = event_body(
        "checkout.session.completed", {"id": "cs_x", "object": "checkout.session"}, "evt_db"
    )
    with database_down():
        response = post(client, body, signed(body, settings))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert not WebhookEvent.objects.filter(event_id="evt_db").exists()
    # The gateway retries later and the event is stored exactly once.
    assert post(client, body, signed(body, settings)).status_code == 200
    assert WebhookEvent.objects.filter(event_id="evt_db").count() == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/public/links/some-slug-that-is-long-enough"),
        ("post", "/api/v1/public/links/some-slug-that-is-long-enough/checkout"),
        ("get", "/api/v1/public/checkout/cs_test_123"),
    ],
)
def test_public_api_answers_503_while_the_database_is_down(client, method, path) -> None:
    with database_down():
        response = getattr(client, method)(path, content_type="application/json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response["Retry-After"] == "5"
