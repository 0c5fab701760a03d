"""A Stripe that accepts connections and never answers (issue 10, finding 3).

The real ``stripe`` SDK talks over HTTP to the local fake in hang mode. Every gateway
call of a web request shares one deadline (``PAYLINKS_GATEWAY_DEADLINE_SECONDS``), retries
included, so the public API answers JSON within it -- never an HTML 500 from a worker the
web server killed -- and the payment that never got a session gives its place back.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from paylinks.gateways import GatewayError, gateway_deadline, get_gateway
from paylinks.gateways.stripe import StripeGateway
from paylinks.models import Payment, PaymentStatus

from ..factories import MerchantFactory, PaymentLinkFactory
from .fake_stripe import FakeStripe

SESSIONS = "/v1/checkout/sessions"


def test_retries_stop_when_the_deadline_leaves_no_time(
    settings: Any, gateway: StripeGateway, fake_stripe: FakeStripe, make_request: Any
) -> None:
    """With 15 s per attempt and 2 retries the SDK alone would wait 45 s and more; inside
    a 2-second deadline the whole call, back-off included, ends in about 2 seconds."""
    settings.STRIPE_TIMEOUT_SECONDS = 15
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    get_gateway.cache_clear()
    slow = get_gateway("stripe")
    fake_stripe.hang()
    started = time.monotonic()

    with gateway_deadline(2), pytest.raises(GatewayError) as caught:
        slow.create_checkout_session(make_request())

    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 3.0, elapsed
    assert caught.value.code == "deadline"
    assert not caught.value.permanent
    assert 1 <= len(fake_stripe.calls("post", SESSIONS)) <= 3


def test_short_attempts_are_retried_inside_the_deadline(
    settings: Any, gateway: StripeGateway, fake_stripe: FakeStripe, make_request: Any
) -> None:
    """A deadline cuts retries, it does not forbid them: 1-second attempts against a
    hanging host are retried while the 4-second budget lasts, and no longer."""
    settings.STRIPE_TIMEOUT_SECONDS = 1
    settings.STRIPE_MAX_NETWORK_RETRIES = 10
    get_gateway.cache_clear()
    slow = get_gateway("stripe")
    fake_stripe.hang()
    started = time.monotonic()

    with gateway_deadline(4), pytest.raises(GatewayError):
        slow.create_checkout_session(make_request())

    elapsed = time.monotonic() - started
    attempts = fake_stripe.calls("post", SESSIONS)
    assert elapsed < 5.0, elapsed
    assert 2 <= len(attempts) <= 4
    assert len({call.idempotency_key for call in attempts}) == 1  # retries, same key


def test_without_a_deadline_the_adapter_keeps_its_own_timeouts(
    settings: Any, gateway: StripeGateway, fake_stripe: FakeStripe, make_request: Any
) -> None:
    """The worker has no request deadline: its calls get every configured attempt."""
    settings.STRIPE_TIMEOUT_SECONDS = 1
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    get_gateway.cache_clear()
    slow = get_gateway("stripe")
    fake_stripe.hang()

    with pytest.raises(GatewayError) as caught:
        slow.create_checkout_session(make_request())

    assert caught.value.code != "deadline"
    assert len(fake_stripe.calls("post", SESSIONS)) == 2


@pytest.mark.django_db(transaction=True)
def test_a_hanging_stripe_answers_json_in_time_and_frees_the_place(
    live_server: Any, settings: Any, gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    settings.SITE_URL = live_server.url
    settings.PUBLIC_CHECKOUT_URL = "https://pay.example.test"
    settings.PAYLINKS_RATE_LIMITS = {}
    settings.PAYLINKS_GATEWAY_DEADLINE_SECONDS = 3
    settings.STRIPE_TIMEOUT_SECONDS = 15  # the production default: alone it outlives gunicorn
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    get_gateway.cache_clear()
    link = PaymentLinkFactory(merchant=MerchantFactory(), payment_limit=1, currency="EUR")
    checkout = f"{live_server.url}/api/v1/public/links/{link.slug}/checkout"
    fake_stripe.hang()

    started = time.monotonic()
    response = requests.post(checkout, json={"email": "ada@example.test"}, timeout=60)
    elapsed = time.monotonic() - started

    assert elapsed < 3 + 1.5, elapsed  # the deadline, plus the request's own work
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "gateway_unavailable"
    abandoned = Payment.objects.get(link=link)
    assert abandoned.status == PaymentStatus.FAILED  # not pending for 30 minutes
    assert abandoned.failure_code == "gateway_error"
    assert fake_stripe.calls("post", SESSIONS)  # it did reach "Stripe"

    # The only place on the link is free again: the link says so, and the next customer
    # gets a checkout once Stripe answers.
    link_state = requests.get(f"{live_server.url}/api/v1/public/links/{link.slug}", timeout=10)
    assert link_state.json()["state"] == "active"
    fake_stripe.answer_again()
    second = requests.post(checkout, json={"email": "bo@example.test"}, timeout=60)
    assert second.status_code == 201, second.text
    assert Payment.objects.get(public_id=second.json()["payment_id"]).status == "pending"
