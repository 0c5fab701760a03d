"""The OpenAPI document describes every outgoing webhook, and a real payload fits it."""

from __future__ import annotations

import pytest
from django.test import Client

from paylinks.models import EventType

pytestmark = pytest.mark.django_db


def test_every_event_type_is_in_the_openapi_webhooks() -> None:
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    assert schema["openapi"] == "3.1.0"
    expected = {t for t in EventType.values if t != "test"}
    assert set(schema["webhooks"]) == expected
    post = schema["webhooks"]["payment.succeeded"]["post"]
    headers = {p["name"] for p in post["parameters"]}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    event = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert event["properties"]["type"] == {"const": "payment.succeeded"}


def test_a_real_payload_matches_the_documented_fields(acme) -> None:
    from paylinks.api.webhooks_schema import LINK, PAYMENT
    from paylinks.notifications.outbox import link_data, payment_data

    from ..factories import PaymentFactory, PaymentLinkFactory

    link = PaymentLinkFactory(merchant=acme)
    payment = PaymentFactory(link=link)
    assert set(payment_data(payment, link)) == set(PAYMENT["properties"])
    assert set(link_data(link)) == set(LINK["properties"])
