"""The sandbox gateway's own contract, as Stripe's: a retried create never opens two
sessions, and a key reused with other parameters is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from paylinks.gateways import CheckoutRequest, GatewayError
from paylinks.gateways.sandbox.gateway import SandboxGateway
from paylinks.gateways.sandbox.models import SandboxSession

pytestmark = pytest.mark.django_db


def request(**overrides: object) -> CheckoutRequest:
    values: dict[str, object] = {
        "payment_public_id": "pay_test",
        "link_slug": "slug",
        "merchant_id": 1,
        "merchant_name": "Acme Books",
        "title": "Atlas",
        "description": "",
        "amount": 2500,
        "currency": "EUR",
        "success_url": "https://pay.test/pay/slug/success?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://pay.test/pay/slug/cancel",
        "expires_at": timezone.now() + timedelta(minutes=45),
        "idempotency_key": "paylinks-checkout-pay_test",
    }
    values.update(overrides)
    return CheckoutRequest(**values)  # type: ignore[arg-type]


def test_a_retried_create_returns_the_first_session() -> None:
    gateway = SandboxGateway()
    first = gateway.create_checkout_session(request())
    again = gateway.create_checkout_session(request())
    assert again.id == first.id and again.url == first.url
    assert SandboxSession.objects.count() == 1
    assert first.status == "open" and first.payment_intent_id == ""
    assert first.url and first.id in first.url


def test_the_same_key_with_another_amount_is_refused() -> None:
    gateway = SandboxGateway()
    gateway.create_checkout_session(request())
    with pytest.raises(GatewayError) as refused:
        gateway.create_checkout_session(request(amount=9900))
    assert refused.value.permanent and refused.value.code == "idempotency_error"
    assert SandboxSession.objects.count() == 1


def test_a_retry_inside_a_transaction_leaves_that_transaction_usable() -> None:
    gateway = SandboxGateway()
    gateway.create_checkout_session(request())
    with transaction.atomic():
        again = gateway.create_checkout_session(request())
        assert SandboxSession.objects.filter(pk=again.id).exists()  # still usable
