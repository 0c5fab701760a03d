"""``/metrics`` (issue 15): refused without the token, and the payment figures move."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from ..factories import PaymentLinkFactory
from ..payments.helpers import drain, pay, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "metrics-token-for-tests-0123456789abcdef"


@pytest.fixture(autouse=True)
def _metrics_settings(settings):  # type: ignore[no-untyped-def]
    settings.PAYLINKS_METRICS_TOKEN = TOKEN
    settings.PAYLINKS_METRICS_ALLOWED_IPS = []
    settings.PAYLINKS_METRICS_DB_SECONDS = 0


def scrape(client: Client | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"},
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}x"},
        # A forwarded address never counts as the peer.
        {"HTTP_X_FORWARDED_FOR": "127.0.0.1"},
    ],
)
def test_metrics_refuse_without_the_token(headers: dict[str, str]) -> None:
    response = Client().get("/metrics", **headers)
    assert response.status_code == 404
    assert b"paylinks_" not in response.content


def test_no_token_and_no_allowed_address_means_nobody(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert Client().get("/metrics").status_code == 404


def test_an_allowed_internal_address_may_scrape_without_the_token(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_METRICS_ALLOWED_IPS = ["10.0.0.0/8", "not an address"]
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.1").get("/metrics").status_code == 404


def test_payment_counters_move_after_a_sandbox_payment(site, acme) -> None:  # type: ignore[no-untyped-def]
    link = PaymentLinkFactory(merchant=acme, amount=2500, currency="USD")
    before = scrape()

    started = start_checkout(site, link.slug)
    opened = scrape()
    assert value(opened, "paylinks_payments", gateway="sandbox", status="pending") == (
        value(before, "paylinks_payments", gateway="sandbox", status="pending") + 1
    )
    assert value(opened, "paylinks_checkout_sessions_created_total", gateway="sandbox") == (
        value(before, "paylinks_checkout_sessions_created_total", gateway="sandbox") + 1
    )

    assert pay(started.checkout_url).status_code == 303
    drain()
    after = scrape()
    assert value(after, "paylinks_payments", gateway="sandbox", status="succeeded") == (
        value(before, "paylinks_payments", gateway="sandbox", status="succeeded") + 1
    )
    assert value(after, "paylinks_payments", gateway="sandbox", status="pending") == value(
        before, "paylinks_payments", gateway="sandbox", status="pending"
    )
    # The sandbox's webhook arrived, was stored and processed: the inbox is empty again.
    assert value(after, "paylinks_webhooks_received_total", outcome="stored") > value(
        before, "paylinks_webhooks_received_total", outcome="stored"
    )
    assert value(after, "paylinks_webhook_inbox_events", status="pending") == 0
    assert value(after, "paylinks_webhook_inbox_oldest_age_seconds") == 0
    assert value(after, "paylinks_dependency_up", dependency="database") == 1
    # Gateway calls were timed, and requests counted by route name, not path.
    assert value(
        after,
        "paylinks_gateway_request_duration_seconds_count",
        gateway="sandbox",
        operation="create_checkout_session",
    ) > value(
        before,
        "paylinks_gateway_request_duration_seconds_count",
        gateway="sandbox",
        operation="create_checkout_session",
    )
    views = {dict(labels).get("view") for name, labels in after if name.endswith("requests_total")}
    assert "metrics" in views
    assert not any(link.slug in (view or "") for view in views)


def test_inbox_depth_and_age_show_an_unprocessed_event(acme) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from paylinks.models import WebhookEvent

    event = WebhookEvent.objects.create(
        gateway="sandbox", event_id="evt_waiting", type="checkout.session.completed", payload={}
    )
    WebhookEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - timedelta(minutes=10)
    )
    samples = scrape()
    assert value(samples, "paylinks_webhook_inbox_events", status="pending") == 1
    assert 590 < value(samples, "paylinks_webhook_inbox_oldest_age_seconds") < 700
    assert value(samples, "paylinks_task_queue_depth") >= 0


def test_the_outgoing_backlog_shows_a_waiting_delivery(acme, alice, settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from paylinks.models import Delivery
    from paylinks.services.webhook_endpoints import endpoint_create, endpoint_send_test

    settings.PAYLINKS_WEBHOOK_ALLOW_PRIVATE = True
    settings.PAYLINKS_WEBHOOK_ALLOW_HTTP = True
    before = scrape()
    assert value(before, "paylinks_outgoing_webhook_deliveries", state="waiting") == 0
    assert value(before, "paylinks_outgoing_webhook_oldest_age_seconds") == 0
    issued = endpoint_create(
        merchant=acme, actor=alice, url="http://127.0.0.1:9/hooks", events=["payment.succeeded"]
    )
    endpoint_send_test(endpoint=issued.endpoint, actor=alice)  # no worker runs here
    Delivery.objects.filter(endpoint=issued.endpoint).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    samples = scrape()
    waiting = Delivery.objects.filter(endpoint=issued.endpoint, status="pending").count()
    assert waiting >= 1
    assert value(samples, "paylinks_outgoing_webhook_deliveries", state="waiting") == waiting
    assert 590 < value(samples, "paylinks_outgoing_webhook_oldest_age_seconds") < 700
