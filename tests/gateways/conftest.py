"""Fixtures for the Stripe adapter's contract tests: a fake Stripe on 127.0.0.1 and a
``StripeGateway`` pointed at it through ``STRIPE_API_BASE``.

Tests that need Stripe's spec and sample objects get them from ``stripe_spec`` (the env
var ``PAYLINKS_STRIPE_SPEC_DIR``, then ``var/stripe/`` that ``scripts/fetch-stripe-spec``
fills, then ``../shared/stripe/``) and skip when none has them; the others (webhook
signatures, the system check, a dead host) run everywhere.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from paylinks.gateways import CheckoutRequest, get_gateway
from paylinks.gateways.stripe import StripeGateway

from .fake_stripe import FakeStripe, StripeContract
from .stripe_spec import locate_stripe_spec


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or fail) the tests that need Stripe's spec before their fixtures run: skipped
    from here rather than from the fixture, they share one line of ``pytest -rs``."""
    if "stripe_contract" in getattr(item, "fixturenames", ()):
        locate_stripe_spec(Path(django_settings.BASE_DIR))


@pytest.fixture(scope="session")
def stripe_contract() -> StripeContract:
    return StripeContract(locate_stripe_spec(Path(django_settings.BASE_DIR)))


@pytest.fixture
def fake_stripe(stripe_contract: StripeContract) -> Iterator[FakeStripe]:
    server = FakeStripe(
        stripe_contract,
        api_key="sk_test_" + secrets.token_hex(16),
        webhook_secret="whsec_" + secrets.token_hex(16),
    ).start()
    yield server
    server.stop()
    # A request Stripe would refuse fails the test, whatever the test itself checked.
    assert not server.violations, "Requests Stripe would refuse:\n" + "\n".join(server.violations)


def closed_port_url() -> str:
    """A local URL nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _configure(settings: Any, *, key: str, secret: str, base: str) -> None:
    settings.PAYLINKS_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = key
    settings.STRIPE_WEBHOOK_SECRET = secret
    settings.STRIPE_API_BASE = base
    settings.STRIPE_TIMEOUT_SECONDS = 5
    settings.STRIPE_MAX_NETWORK_RETRIES = 2


@pytest.fixture
def gateway(settings: Any, fake_stripe: FakeStripe) -> Iterator[StripeGateway]:
    """The Stripe adapter as the app builds it (the registry), talking to the fake."""
    _configure(
        settings, key=fake_stripe.api_key, secret=fake_stripe.webhook_secret, base=fake_stripe.url
    )
    get_gateway.cache_clear()
    built = get_gateway("stripe")
    assert isinstance(built, StripeGateway)
    yield built
    get_gateway.cache_clear()


@pytest.fixture
def offline_gateway(settings: Any) -> Iterator[StripeGateway]:
    """A Stripe adapter whose API host is unreachable (for webhooks and dead-host tests)."""
    _configure(
        settings,
        key="sk_test_" + secrets.token_hex(16),
        secret="whsec_" + secrets.token_hex(16),
        base=closed_port_url(),
    )
    get_gateway.cache_clear()
    built = get_gateway("stripe")
    assert isinstance(built, StripeGateway)
    yield built
    get_gateway.cache_clear()


@pytest.fixture
def make_request() -> Callable[..., CheckoutRequest]:
    """A CheckoutRequest like ``paylinks.services.payments`` builds, with overrides."""

    def build(**overrides: Any) -> CheckoutRequest:
        public_id = overrides.pop("payment_public_id", "pay_" + secrets.token_hex(8))
        slug = overrides.pop("link_slug", "hobbit-" + secrets.token_hex(4))
        base = f"https://pay.example.test/pay/{slug}"
        values: dict[str, Any] = {
            "payment_public_id": public_id,
            "link_slug": slug,
            "merchant_id": 7,
            "merchant_name": "Acme Books",
            "title": "The Hobbit (signed)",
            "description": "Hardback, first edition",
            "amount": 2350,
            "currency": "EUR",
            "success_url": f"{base}/success?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{base}/cancel?payment={public_id}",
            "expires_at": timezone.now() + timedelta(minutes=45),
            "idempotency_key": f"paylinks-checkout-{public_id}",
            "customer_email": "reader@example.test",
            "metadata": {"order": "A-17"},
        }
        values.update(overrides)
        return CheckoutRequest(**values)

    return build
