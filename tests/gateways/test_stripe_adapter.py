"""The Stripe adapter, over real HTTP, against a local stand-in for Stripe.

Every request the adapter sends is validated by the fake server against Stripe's OpenAPI
spec (``spec3.json``, found by ``stripe_spec.py``); a request Stripe would refuse fails the
test from the ``fake_stripe`` fixture even when the test's own assertions pass.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe
from django.conf import settings as django_settings
from django.core.checks import run_checks
from django.test import override_settings

from paylinks.gateways import (
    CheckoutRequest,
    GatewayError,
    PaymentMethodInfo,
    SignatureError,
    get_gateway,
)
from paylinks.gateways.stripe import (
    SESSION_EXPAND,
    STRIPE_API_VERSION,
    StripeGateway,
    stripe_expires_at,
)

from .fake_stripe import FakeStripe, StripeContract, parse_form, sign_payload, validate

MakeRequest = Callable[..., CheckoutRequest]
SESSIONS = "/v1/checkout/sessions"


def _created(fake: FakeStripe) -> dict[str, Any]:
    (call,) = fake.calls("post", SESSIONS)
    return call.typed


# --- create -----------------------------------------------------------------------------
def test_create_sends_the_server_side_amount_and_links_back_to_the_payment(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    request = make_request(amount=2350, currency="EUR")

    session = gateway.create_checkout_session(request)

    params = _created(fake_stripe)
    assert params["mode"] == "payment"
    assert params["line_items"] == [
        {
            "price_data": {
                "currency": "eur",
                "unit_amount": 2350,
                "product_data": {
                    "name": "The Hobbit (signed)",
                    "description": "Hardback, first edition",
                },
            },
            "quantity": 1,
        }
    ]
    assert params["expires_at"] == int(request.expires_at.timestamp())
    assert params["client_reference_id"] == request.payment_public_id
    assert params["metadata"] == request.reference_metadata
    assert params["metadata"]["paylinks_payment"] == request.payment_public_id
    assert params["metadata"]["paylinks_merchant"] == "7"
    assert params["metadata"]["order"] == "A-17"
    assert params["payment_intent_data"] == {"metadata": request.reference_metadata}
    assert params["customer_email"] == "reader@example.test"
    assert params["success_url"] == request.success_url
    assert "{CHECKOUT_SESSION_ID}" in params["success_url"]
    assert params["cancel_url"] == request.cancel_url
    assert "payment_method_types" not in params  # the dashboard's methods (SEPA, ...) apply

    assert session.id.startswith("cs_test_") and session.id in fake_stripe.sessions
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert (session.amount_total, session.currency) == (2350, "EUR")
    assert session.url and session.id in session.url
    assert session.client_reference_id == request.payment_public_id
    assert session.metadata == request.reference_metadata
    assert session.expires_at == request.expires_at.replace(microsecond=0)
    assert session.payment_intent_id == "" and session.payment_method is None


def test_a_link_with_its_whole_metadata_budget_fits_stripes_limits(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    """A link may carry as much metadata as the model allows; with Paylinks' own keys
    added, Stripe (the fake enforces its 50 keys / 40 / 500 characters) still accepts it."""
    from paylinks.models.links import METADATA_KEY_MAX, METADATA_MAX_KEYS, METADATA_VALUE_MAX

    metadata = {
        f"{n:02d}".ljust(METADATA_KEY_MAX, "k"): "v" * METADATA_VALUE_MAX
        for n in range(METADATA_MAX_KEYS)
    }
    session = gateway.create_checkout_session(make_request(metadata=metadata))
    params = _created(fake_stripe)
    assert len(params["metadata"]) == 50 and session.metadata == params["metadata"]
    assert len(params["payment_intent_data"]["metadata"]) == 50


def test_create_sends_the_headers_stripe_expects(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    request = make_request()
    gateway.create_checkout_session(request)

    (call,) = fake_stripe.calls("post", SESSIONS)
    assert call.idempotency_key == request.idempotency_key
    assert call.headers["authorization"] == f"Bearer {fake_stripe.api_key}"
    assert call.headers["stripe-version"] == STRIPE_API_VERSION
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"


def test_the_pinned_api_version_is_the_one_the_sdk_is_typed_for() -> None:
    # Fails when the SDK is upgraded: bump STRIPE_API_VERSION with it, deliberately.
    assert stripe.api_version == STRIPE_API_VERSION


@pytest.mark.parametrize("amount,currency", [(50, "USD"), (500, "JPY"), (12340, "KWD")])
def test_create_passes_minor_units_through_unchanged(
    gateway: StripeGateway,
    fake_stripe: FakeStripe,
    make_request: MakeRequest,
    amount: int,
    currency: str,
) -> None:
    session = gateway.create_checkout_session(make_request(amount=amount, currency=currency))

    price = _created(fake_stripe)["line_items"][0]["price_data"]
    assert (price["unit_amount"], price["currency"]) == (amount, currency.lower())
    assert (session.amount_total, session.currency) == (amount, currency)


def test_create_leaves_out_what_the_link_does_not_ask_for(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    gateway.create_checkout_session(make_request(description="", customer_email=""))

    params = _created(fake_stripe)
    assert "description" not in params["line_items"][0]["price_data"]["product_data"]
    for absent in (
        "customer_email",
        "name_collection",
        "phone_number_collection",
        "billing_address_collection",
    ):
        assert absent not in params


def test_create_asks_for_name_phone_and_billing_address_when_the_link_does(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    gateway.create_checkout_session(
        make_request(collect_name=True, collect_phone=True, collect_billing_address=True)
    )

    params = _created(fake_stripe)
    assert params["name_collection"] == {"individual": {"enabled": True, "optional": False}}
    assert params["phone_number_collection"] == {"enabled": True}
    assert params["billing_address_collection"] == "required"


def test_a_retried_create_returns_the_same_session(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    request = make_request()

    first = gateway.create_checkout_session(request)
    again = gateway.create_checkout_session(request)

    assert again.id == first.id
    assert len(fake_stripe.sessions) == 1
    keys = {call.idempotency_key for call in fake_stripe.calls("post", SESSIONS)}
    assert keys == {request.idempotency_key}


def test_the_same_key_with_other_parameters_is_refused(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    request = make_request()
    gateway.create_checkout_session(request)

    changed = make_request(
        payment_public_id=request.payment_public_id,
        link_slug=request.link_slug,
        idempotency_key=request.idempotency_key,
        amount=request.amount + 100,
    )
    with pytest.raises(GatewayError) as caught:
        gateway.create_checkout_session(changed)

    assert caught.value.permanent
    assert len(fake_stripe.sessions) == 1


def test_a_create_that_timed_out_is_retried_without_a_second_session(
    settings: Any, gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    settings.STRIPE_TIMEOUT_SECONDS = 1
    get_gateway.cache_clear()
    slow = get_gateway("stripe")
    fake_stripe.hang_next(2.5)  # Stripe creates the session but answers too late

    session = slow.create_checkout_session(make_request())

    calls = fake_stripe.calls("post", SESSIONS)
    assert len(calls) == 2
    assert calls[0].idempotency_key == calls[1].idempotency_key
    time.sleep(2)  # let the late answer land: it must replay, not create
    assert list(fake_stripe.sessions) == [session.id]


def test_each_adapter_has_its_own_client_and_host(
    settings: Any, gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    gateway.create_checkout_session(make_request())
    assert stripe.api_key is None  # the SDK's module-global key is never set
    assert len(fake_stripe.requests) == 1  # STRIPE_API_BASE reached the fake

    settings.STRIPE_SECRET_KEY = "sk_test_" + secrets.token_hex(16)
    other = StripeGateway()
    with pytest.raises(GatewayError) as caught:
        other.create_checkout_session(make_request())

    assert caught.value.permanent  # 401: a wrong key does not get better by retrying
    assert fake_stripe.requests[-1].headers["authorization"] == (
        f"Bearer {settings.STRIPE_SECRET_KEY}"
    )
    gateway.create_checkout_session(make_request())  # the first one still has its own key
    assert fake_stripe.requests[-1].status == 200
    assert stripe.api_key is None


@pytest.mark.parametrize(
    "key,test_mode",
    [("sk_test_abc", True), ("rk_test_abc", True), ("sk_live_abc", False), ("rk_live_x", False)],
)
def test_test_mode_follows_the_key(settings: Any, key: str, test_mode: bool) -> None:
    settings.STRIPE_SECRET_KEY = key
    assert StripeGateway().test_mode is test_mode


def test_an_adapter_without_a_key_refuses_to_start(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(GatewayError) as caught:
        StripeGateway()
    assert caught.value.permanent


# --- expires_at -------------------------------------------------------------------------
NOW = datetime(2030, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("minutes", [32, 45, 6 * 60, 23 * 60 + 58])
def test_an_expiry_inside_stripes_window_is_sent_unchanged(minutes: int) -> None:
    requested = NOW + timedelta(minutes=minutes, seconds=17)
    assert stripe_expires_at(requested, now=NOW) == int(requested.timestamp())


def test_an_expiry_beyond_24_hours_is_lowered() -> None:
    sent = stripe_expires_at(NOW + timedelta(hours=30), now=NOW)
    assert NOW + timedelta(hours=23, minutes=58) <= _at(sent) < NOW + timedelta(hours=24)


@pytest.mark.parametrize("short_by", [timedelta(0), timedelta(seconds=5), timedelta(minutes=4)])
def test_an_expiry_just_short_of_30_minutes_is_lifted(short_by: timedelta) -> None:
    sent = stripe_expires_at(NOW + timedelta(minutes=30) - short_by, now=NOW)
    assert NOW + timedelta(minutes=31) <= _at(sent) <= NOW + timedelta(minutes=32)
    assert sent % 60 == 0  # a retry within the same minute sends the same body


@pytest.mark.parametrize("minutes", [20, 10, 0, -5])
def test_an_expiry_well_short_of_30_minutes_is_refused(minutes: int) -> None:
    with pytest.raises(GatewayError) as caught:
        stripe_expires_at(NOW + timedelta(minutes=minutes), now=NOW)
    assert caught.value.permanent and caught.value.code == "expires_at_too_soon"


def test_a_naive_expiry_is_read_as_utc() -> None:
    naive = (NOW + timedelta(hours=2)).replace(tzinfo=None)
    assert stripe_expires_at(naive, now=NOW) == int((NOW + timedelta(hours=2)).timestamp())


@pytest.mark.parametrize("ttl", [timedelta(minutes=30), timedelta(hours=30)])
def test_stripe_accepts_the_expiry_the_adapter_sends(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest, ttl: timedelta
) -> None:
    # A 30-minute TTL computed before the call would be refused by Stripe as is.
    request = make_request(expires_at=datetime.now(UTC) + ttl)
    session = gateway.create_checkout_session(request)
    assert session.expires_at is not None
    lifetime = session.expires_at - datetime.now(UTC)
    assert timedelta(minutes=30) < lifetime < timedelta(hours=24)


def test_the_fake_refuses_an_expiry_stripe_would_refuse(
    gateway: StripeGateway, fake_stripe: FakeStripe
) -> None:
    # The check above is only worth something if the fake enforces Stripe's window.
    with pytest.raises(stripe.InvalidRequestError, match="at least 30 minutes"):
        gateway._client.v1.checkout.sessions.create(
            {
                "mode": "payment",
                "success_url": "https://example.test/ok",
                "line_items": [
                    {"price_data": {"currency": "usd", "unit_amount": 500}, "quantity": 1}
                ],
                "expires_at": int(time.time()) + 29 * 60,
            }
        )


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


# --- retrieve ---------------------------------------------------------------------------
def test_retrieve_a_card_payment(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    request = make_request(amount=1999, currency="GBP")
    created = gateway.create_checkout_session(request)
    address = {
        "line1": "1 Bag End",
        "line2": None,
        "city": "Hobbiton",
        "state": None,
        "postal_code": "SH1 1RE",
        "country": "GB",
    }
    intent = fake_stripe.complete_with_card(
        created.id,
        brand="mastercard",
        last4="4444",
        email="bilbo@example.test",
        name="Bilbo Baggins",
        phone="+441234567890",
        address=address,
    )

    session = gateway.retrieve_checkout_session(created.id)

    (call,) = fake_stripe.calls("get", f"{SESSIONS}/{created.id}")
    assert call.typed == {"expand": list(SESSION_EXPAND)}
    assert (session.status, session.payment_status) == ("complete", "paid")
    assert (session.amount_total, session.currency) == (1999, "GBP")
    assert session.payment_intent_id == intent["id"] and intent["id"].startswith("pi_")
    assert session.payment_intent_status == "succeeded"
    assert session.payment_method == PaymentMethodInfo("card", "mastercard", "4444")
    assert session.amount_refunded == 0
    assert session.customer_email == "bilbo@example.test"
    assert session.customer_name == "Bilbo Baggins"
    assert session.customer_phone == "+441234567890"
    assert session.billing_address == address
    assert session.client_reference_id == request.payment_public_id
    assert session.metadata == request.reference_metadata
    assert intent["metadata"] == request.reference_metadata  # payment_intent_data reached it
    assert (session.last_error_code, session.last_error_message) == ("", "")


def test_retrieve_an_open_session_has_no_payment_yet(
    gateway: StripeGateway, make_request: MakeRequest
) -> None:
    created = gateway.create_checkout_session(make_request())

    session = gateway.retrieve_checkout_session(created.id)

    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.payment_intent_id == "" and session.payment_method is None
    assert session.customer_name == "" and session.billing_address is None


def test_retrieve_the_name_checkout_collected(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    created = gateway.create_checkout_session(make_request(collect_name=True))
    fake_stripe.complete_with_card(created.id, name="Ada Lovelace")
    fake_stripe.sessions[created.id]["customer_details"]["name"] = "A LOVELACE"  # on the card

    session = gateway.retrieve_checkout_session(created.id)

    assert session.customer_name == "Ada Lovelace"


def test_retrieve_a_sepa_debit_while_processing_and_once_settled(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    created = gateway.create_checkout_session(make_request())
    fake_stripe.complete_with_sepa(created.id, last4="3000")

    processing = gateway.retrieve_checkout_session(created.id)
    assert (processing.status, processing.payment_status) == ("complete", "unpaid")
    assert processing.payment_intent_status == "processing"
    assert processing.payment_method == PaymentMethodInfo("sepa_debit", last4="3000")

    fake_stripe.settle(created.id, succeeded=True)
    settled = gateway.retrieve_checkout_session(created.id)
    assert (settled.payment_status, settled.payment_intent_status) == ("paid", "succeeded")
    assert settled.payment_intent_id == processing.payment_intent_id


def test_retrieve_a_sepa_debit_that_failed(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    created = gateway.create_checkout_session(make_request())
    fake_stripe.complete_with_sepa(created.id, last4="3001")
    fake_stripe.settle(created.id, succeeded=False)

    session = gateway.retrieve_checkout_session(created.id)

    assert session.payment_status == "unpaid"
    assert session.payment_intent_status == "requires_payment_method"
    assert session.payment_method == PaymentMethodInfo("sepa_debit", last4="3001")
    assert session.last_error_code == "payment_intent_payment_attempt_failed"
    assert "insufficient funds" in session.last_error_message
    assert session.failure_reason == "payment_intent_payment_attempt_failed"  # no decline code


@pytest.mark.parametrize(
    "method_type,charged,details",
    [
        ("us_bank_account", True, {"last4": "6789", "bank_name": "STRIPE TEST BANK"}),
        ("customer_balance", False, {}),  # bank transfer: no charge until the money arrives
        ("bancontact", True, {"bank_name": "VAN DE PUTTE", "iban_last4": "7061"}),
    ],
)
def test_retrieve_records_other_methods_by_their_type(
    gateway: StripeGateway,
    fake_stripe: FakeStripe,
    make_request: MakeRequest,
    method_type: str,
    charged: bool,
    details: dict[str, str],
) -> None:
    created = gateway.create_checkout_session(make_request())
    fake_stripe.complete_with_method(created.id, method_type, charged=charged, **details)

    session = gateway.retrieve_checkout_session(created.id)

    assert session.payment_method == PaymentMethodInfo(method_type)
    assert session.payment_intent_id.startswith("pi_")


def test_retrieve_a_declined_attempt(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    created = gateway.create_checkout_session(make_request())
    fake_stripe.decline(
        created.id,
        code="card_declined",
        decline_code="insufficient_funds",
        message="Your card has insufficient funds.",
        last4="9995",
    )

    session = gateway.retrieve_checkout_session(created.id)

    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.payment_intent_status == "requires_payment_method"
    assert session.last_error_code == "card_declined"
    assert session.last_error_message == "Your card has insufficient funds."
    assert session.last_error_decline_code == "insufficient_funds"
    assert session.failure_reason == "insufficient_funds"
    assert (
        session.last_error_attempt
        == fake_stripe.intents[session.payment_intent_id]["latest_charge"]
    )
    assert session.payment_method == PaymentMethodInfo("card", "visa", "9995")


def test_retrieve_an_unknown_session_is_a_permanent_error(gateway: StripeGateway) -> None:
    with pytest.raises(GatewayError) as caught:
        gateway.retrieve_checkout_session("cs_test_" + "x" * 58)
    assert caught.value.permanent and caught.value.code == "resource_missing"


# --- expire -----------------------------------------------------------------------------
def test_expire_closes_an_open_session(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    created = gateway.create_checkout_session(make_request())

    session = gateway.expire_checkout_session(created.id)

    assert (session.id, session.status, session.url) == (created.id, "expired", None)
    assert fake_stripe.sessions[created.id]["status"] == "expired"
    (call,) = fake_stripe.calls("post", f"{SESSIONS}/{created.id}/expire")
    assert call.typed == {"expand": list(SESSION_EXPAND)}
    with pytest.raises(GatewayError) as caught:
        gateway.expire_checkout_session(created.id)  # Stripe refuses a second expiry
    assert caught.value.permanent


def test_a_session_stripe_expired_reads_as_expired(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    created = gateway.create_checkout_session(make_request())
    fake_stripe.expire(created.id)
    assert gateway.retrieve_checkout_session(created.id).status == "expired"


# --- refunds ----------------------------------------------------------------------------
def _paid(gateway: StripeGateway, fake: FakeStripe, request: CheckoutRequest) -> str:
    created = gateway.create_checkout_session(request)
    return str(fake.complete_with_card(created.id)["id"])


def test_refund_partially_then_the_rest(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    request = make_request(amount=5000)
    intent_id = _paid(gateway, fake_stripe, request)

    first = gateway.refund(
        payment_intent_id=intent_id,
        amount=1200,
        reason="requested_by_customer",
        idempotency_key="refund-1",
    )
    assert first.id.startswith("re_") and (first.amount, first.status) == (1200, "succeeded")
    session_id = next(iter(fake_stripe.sessions))
    assert gateway.retrieve_checkout_session(session_id).amount_refunded == 1200

    rest = gateway.refund(
        payment_intent_id=intent_id, amount=3800, reason="", idempotency_key="refund-2"
    )
    assert rest.amount == 3800
    assert gateway.retrieve_checkout_session(session_id).amount_refunded == 5000
    charge = fake_stripe.charges[fake_stripe.intents[intent_id]["latest_charge"]]
    assert charge["refunded"] is True

    with pytest.raises(GatewayError) as caught:
        gateway.refund(payment_intent_id=intent_id, amount=1, reason="", idempotency_key="refund-3")
    assert caught.value.permanent


def test_a_retried_refund_refunds_once(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    intent_id = _paid(gateway, fake_stripe, make_request(amount=5000))

    first = gateway.refund(
        payment_intent_id=intent_id, amount=700, reason="duplicate", idempotency_key="r-77"
    )
    again = gateway.refund(
        payment_intent_id=intent_id, amount=700, reason="duplicate", idempotency_key="r-77"
    )

    assert again.id == first.id
    assert list(fake_stripe.refunds) == [first.id]
    assert (
        fake_stripe.charges[fake_stripe.intents[intent_id]["latest_charge"]]["amount_refunded"]
        == 700
    )
    assert {c.idempotency_key for c in fake_stripe.calls("post", "/v1/refunds")} == {"r-77"}


@pytest.mark.parametrize(
    "reason,sent_reason,sent_metadata",
    [
        ("requested_by_customer", "requested_by_customer", None),
        ("duplicate", "duplicate", None),
        ("fraudulent", "fraudulent", None),
        ("Damaged in transit", None, {"paylinks_reason": "Damaged in transit"}),
        ("", None, None),
    ],
)
def test_refund_reasons_stripe_knows_are_sent_as_reasons_the_rest_as_metadata(
    gateway: StripeGateway,
    fake_stripe: FakeStripe,
    make_request: MakeRequest,
    reason: str,
    sent_reason: str | None,
    sent_metadata: dict[str, str] | None,
) -> None:
    intent_id = _paid(gateway, fake_stripe, make_request())

    gateway.refund(payment_intent_id=intent_id, amount=100, reason=reason, idempotency_key="k")

    (call,) = fake_stripe.calls("post", "/v1/refunds")
    assert call.typed.get("reason") == sent_reason
    assert call.typed.get("metadata") == sent_metadata
    assert call.typed["payment_intent"] == intent_id and call.typed["amount"] == 100


def test_a_refund_larger_than_what_is_left_is_refused(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    intent_id = _paid(gateway, fake_stripe, make_request(amount=1000))
    with pytest.raises(GatewayError) as caught:
        gateway.refund(payment_intent_id=intent_id, amount=1001, reason="", idempotency_key="x")
    assert caught.value.permanent
    assert fake_stripe.refunds == {}


def test_a_sepa_refund_is_pending(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    created = gateway.create_checkout_session(make_request())
    intent = fake_stripe.complete_with_sepa(created.id)
    fake_stripe.settle(created.id)

    refund = gateway.refund(
        payment_intent_id=intent["id"], amount=500, reason="", idempotency_key="sepa-1"
    )

    assert refund.status == "pending"


# --- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "status,error_type,code,permanent",
    [
        (400, "invalid_request_error", "parameter_invalid_integer", True),
        (402, "card_error", "card_declined", True),
        (401, "invalid_request_error", None, True),
        (403, "invalid_request_error", None, True),
        (404, "invalid_request_error", "resource_missing", True),
        (429, "invalid_request_error", "rate_limit", False),
        (500, "api_error", None, False),
        (503, "api_error", None, False),
    ],
)
def test_stripe_errors_say_whether_a_retry_can_help(
    settings: Any,
    gateway: StripeGateway,
    fake_stripe: FakeStripe,
    make_request: MakeRequest,
    status: int,
    error_type: str,
    code: str | None,
    permanent: bool,
) -> None:
    error: dict[str, str] = {"type": error_type, "message": f"Simulated {status}"}
    if code:
        error["code"] = code
    fake_stripe.fail_next(status, error=error, times=10)
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    get_gateway.cache_clear()

    with pytest.raises(GatewayError) as caught:
        get_gateway("stripe").create_checkout_session(make_request())

    assert caught.value.permanent is permanent
    assert f"Simulated {status}" in str(caught.value)
    if code:
        assert caught.value.code == code
    attempts = len(fake_stripe.calls("post", SESSIONS))
    assert attempts == (2 if status >= 500 else 1)  # the SDK retries 5xx, not 4xx


def test_a_passing_5xx_is_absorbed_by_the_sdks_retries(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    fake_stripe.fail_next(500)

    session = gateway.create_checkout_session(make_request())

    assert len(fake_stripe.calls("post", SESSIONS)) == 2
    assert list(fake_stripe.sessions) == [session.id]


def test_an_error_never_carries_the_secret_key(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    key = fake_stripe.api_key
    fake_stripe.fail_next(
        400, error={"type": "invalid_request_error", "message": f"Bad key {key} (echoed)"}
    )

    with pytest.raises(GatewayError) as caught:
        gateway.create_checkout_session(make_request())

    assert key not in str(caught.value) and key not in repr(caught.value.args)
    assert "sk_test_***" in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_dead_host_fails_fast_after_bounded_retries(
    settings: Any, offline_gateway: StripeGateway, make_request: MakeRequest
) -> None:
    retries = settings.STRIPE_MAX_NETWORK_RETRIES
    started = time.monotonic()

    with pytest.raises(GatewayError) as caught:
        offline_gateway.create_checkout_session(make_request())

    elapsed = time.monotonic() - started
    assert not caught.value.permanent
    assert settings.STRIPE_SECRET_KEY not in str(caught.value)
    # Refused connections are immediate: what remains is the SDK's backoff (<= 5 s each).
    assert elapsed < retries * stripe.HTTPClient.MAX_DELAY + 1


def test_a_hanging_host_fails_after_timeout_times_attempts(
    settings: Any, gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    created = gateway.create_checkout_session(make_request())
    settings.STRIPE_TIMEOUT_SECONDS = 1
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    get_gateway.cache_clear()
    slow = get_gateway("stripe")
    fake_stripe.hang_next(30, times=5)
    started = time.monotonic()

    with pytest.raises(GatewayError) as caught:
        slow.retrieve_checkout_session(created.id)

    elapsed = time.monotonic() - started
    attempts = 1 + settings.STRIPE_MAX_NETWORK_RETRIES
    assert not caught.value.permanent
    assert len(fake_stripe.calls("get", f"{SESSIONS}/{created.id}")) == attempts
    backoff = stripe.HTTPClient.INITIAL_DELAY * 2  # at most, for the one retry
    assert attempts * 1 <= elapsed < attempts * 1 + backoff + 1.5


# --- webhooks ---------------------------------------------------------------------------
def _event(session_id: str = "cs_test_abc") -> dict[str, Any]:
    return {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {"object": {"id": session_id, "object": "checkout.session"}},
    }


def test_parse_webhook_accepts_a_correctly_signed_event(
    settings: Any, offline_gateway: StripeGateway
) -> None:
    body = json.dumps(_event("cs_test_signed")).encode()
    header = sign_payload(body, settings.STRIPE_WEBHOOK_SECRET)

    event = offline_gateway.parse_webhook(body, header)

    assert (event.type, event.object_id) == ("checkout.session.completed", "cs_test_signed")


def test_parse_webhook_accepts_the_fakes_events(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    created = gateway.create_checkout_session(make_request())
    fake_stripe.complete_with_card(created.id)
    body, header = fake_stripe.signed(
        fake_stripe.event_for("checkout.session.completed", created.id)
    )

    event = gateway.parse_webhook(body, header)

    assert event.id.startswith("evt_") and event.type == "checkout.session.completed"
    assert event.object_id == created.id
    assert event.data_object["payment_status"] == "paid"


def _tampered(body: bytes, secret: str) -> tuple[bytes, str]:
    header = sign_payload(body, secret)
    return body.replace(b"completed", b"expired"), header


@pytest.mark.parametrize(
    "case",
    ["tampered", "wrong_secret", "old", "missing_header", "malformed_json", "not_an_event"],
)
def test_parse_webhook_refuses_what_it_cannot_trust(
    settings: Any, offline_gateway: StripeGateway, case: str
) -> None:
    secret = settings.STRIPE_WEBHOOK_SECRET
    body = json.dumps(_event()).encode()
    if case == "tampered":
        body, header = _tampered(body, secret)
    elif case == "wrong_secret":
        header = sign_payload(body, "whsec_" + secrets.token_hex(16))
    elif case == "old":
        header = sign_payload(body, secret, timestamp=int(time.time()) - 301)
    elif case == "missing_header":
        header = ""
    elif case == "malformed_json":
        body = b'{"id": "evt_1", "object": "event",'
        header = sign_payload(body, secret)
    else:
        body = json.dumps({"id": "ch_1", "object": "charge"}).encode()
        header = sign_payload(body, secret)

    with pytest.raises(SignatureError):
        offline_gateway.parse_webhook(body, header)


def test_parse_webhook_accepts_a_timestamp_inside_the_tolerance(
    settings: Any, offline_gateway: StripeGateway
) -> None:
    body = json.dumps(_event()).encode()
    header = sign_payload(body, settings.STRIPE_WEBHOOK_SECRET, timestamp=int(time.time()) - 290)
    assert offline_gateway.parse_webhook(body, header).type == "checkout.session.completed"


# --- the system check -------------------------------------------------------------------
def _gateway_errors() -> list[str]:
    return [m.msg for m in run_checks() if m.id == "paylinks.E002"]


def test_the_stripe_gateway_without_secrets_fails_the_system_check() -> None:
    with override_settings(
        PAYLINKS_GATEWAY="stripe", STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET=""
    ):
        errors = _gateway_errors()
    assert len(errors) == 2
    assert any("STRIPE_SECRET_KEY" in e for e in errors)
    assert any("STRIPE_WEBHOOK_SECRET" in e for e in errors)


@pytest.mark.parametrize("missing", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_each_missing_stripe_secret_is_named(missing: str) -> None:
    configured = {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
    with override_settings(PAYLINKS_GATEWAY="stripe", **{**configured, missing: ""}):
        errors = _gateway_errors()
    assert len(errors) == 1 and missing in errors[0]


def test_the_stripe_gateway_with_its_secrets_passes_the_system_check() -> None:
    with override_settings(
        PAYLINKS_GATEWAY="stripe", STRIPE_SECRET_KEY="sk_test_x", STRIPE_WEBHOOK_SECRET="whsec_x"
    ):
        assert _gateway_errors() == []


# --- the fake's own contract checks -------------------------------------------------------
@pytest.mark.parametrize(
    "body,param",
    [
        ("mode=payment&success_url=https://x.test&colour=red", "colour"),
        (
            "mode=payment&success_url=https://x.test&line_items[0][price_data][currency]=usd"
            "&line_items[0][price_data][unit_amont]=5",
            "line_items[0][price_data][unit_amont]",
        ),
        ("mode=payment&success_url=https://x.test&expires_at=soon", "expires_at"),
        ("mode=payment&success_url=https://x.test&mode_of_payment=card", "mode_of_payment"),
        ("mode=payment", "success_url"),
        ("mode=payments&success_url=https://x.test", "mode"),
        (
            "mode=payment&success_url=https://x.test&phone_number_collection[enabled]=yes",
            "phone_number_collection[enabled]",
        ),
        (
            "mode=payment&success_url=https://x.test&name_collection[individual][on]=true",
            "name_collection[individual][on]",
        ),
        ("mode=payment&success_url=https://x.test&ui_mode=embedded_page", "ui_mode"),
    ],
)
def test_the_fake_refuses_what_stripe_would_refuse(
    stripe_contract: StripeContract, body: str, param: str
) -> None:
    operation = stripe_contract.operation("post", SESSIONS)
    _, error = validate(operation, parse_form(body))
    assert error is not None and error.status == 400
    assert error.body["error"]["param"] == param


def test_the_fake_accepts_and_types_a_valid_body(stripe_contract: StripeContract) -> None:
    body = (
        "mode=payment&success_url=https://x.test/ok&expires_at=1900000000"
        "&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=2350"
        "&line_items[0][price_data][product_data][name]=Book&line_items[0][quantity]=1"
        "&metadata[order]=17&phone_number_collection[enabled]=true"
        "&name_collection[individual][enabled]=true&expand[]=payment_intent"
    )
    typed, error = validate(stripe_contract.operation("post", SESSIONS), parse_form(body))
    assert error is None
    assert typed["line_items"][0]["price_data"]["unit_amount"] == 2350
    assert typed["line_items"][0]["quantity"] == 1
    assert typed["expires_at"] == 1900000000
    assert typed["metadata"] == {"order": "17"}  # metadata values stay strings
    assert typed["phone_number_collection"] == {"enabled": True}
    assert typed["expand"] == ["payment_intent"]


def test_the_fake_records_a_bad_request_as_a_violation(fake_stripe: FakeStripe) -> None:
    import requests

    response = requests.post(
        f"{fake_stripe.url}{SESSIONS}",
        data={"mode": "payment", "success_url": "https://x.test", "colour": "red"},
        headers={"Authorization": f"Bearer {fake_stripe.api_key}"},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "Received unknown parameter: colour",
        "param": "colour",
    }
    assert len(fake_stripe.violations) == 1 and "colour" in fake_stripe.violations[0]
    fake_stripe.violations.clear()  # expected here; anywhere else it fails the test


def test_the_fake_refuses_an_unknown_key(fake_stripe: FakeStripe) -> None:
    import requests

    response = requests.get(
        f"{fake_stripe.url}{SESSIONS}/cs_test_x",
        headers={"Authorization": "Bearer sk_test_wrong"},
        timeout=5,
    )
    assert response.status_code == 401
    assert "sk_test_wrong" not in response.text


# --- mypy holds the adapter to the SDK's typed params -----------------------------------
MUTATIONS = {
    "unit_amount_as_text": (
        '"unit_amount": request.unit_price,',
        '"unit_amount": str(request.unit_price),',
    ),
    "misspelt_parameter": ('"client_reference_id":', '"client_reference":'),
    "quantity_as_text": ('"quantity": request.quantity,', '"quantity": str(request.quantity),'),
    "adjustable_maximum_as_text": ('"maximum": high}', '"maximum": str(high)}'),
    "refund_amount_as_text": (
        '"amount": amount}',
        '"amount": str(amount)}',
    ),
}


def test_mypy_catches_a_request_that_does_not_match_the_sdks_types(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    base = Path(django_settings.BASE_DIR)
    source = (base / "paylinks" / "gateways" / "stripe.py").read_text()
    source = source.replace("from .base import", "from paylinks.gateways.base import")
    files = {"original": tmp_path / "original.py"}
    files["original"].write_text(source)
    for name, (old, new) in MUTATIONS.items():
        assert old in source, f"mutation {name} no longer applies"
        files[name] = tmp_path / f"{name}.py"
        files[name].write_text(source.replace(old, new, 1))

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            "/dev/null",
            "--follow-imports=silent",
            "--ignore-missing-imports",
            "--no-error-summary",
            "--cache-dir",
            str(base / "var" / "mypy-gateway-contract"),
            *map(str, files.values()),
        ],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    flagged = {Path(m).stem for m in re.findall(r"^(\S+?\.py):\d+: error", result.stdout, re.M)}
    assert "original" not in flagged, result.stdout
    assert flagged == set(MUTATIONS), result.stdout + result.stderr


# --- quantity -----------------------------------------------------------------------------
def test_a_quantity_is_sent_as_the_unit_price_times_the_quantity(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    request = make_request(amount=3 * 1450, unit_amount=1450, quantity=3, currency="USD")

    session = gateway.create_checkout_session(request)

    (item,) = _created(fake_stripe)["line_items"]
    assert item["price_data"]["unit_amount"] == 1450
    assert item["quantity"] == 3
    assert "adjustable_quantity" not in item
    assert session.amount_total == 4350  # Stripe's own total agrees with Paylinks'


def test_an_adjustable_quantity_is_offered_and_read_back_from_the_line_items(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    request = make_request(
        amount=2 * 900, unit_amount=900, quantity=2, adjustable_quantity=(1, 12), currency="EUR"
    )
    created = gateway.create_checkout_session(request)
    (item,) = _created(fake_stripe)["line_items"]
    assert item["adjustable_quantity"] == {"enabled": True, "minimum": 1, "maximum": 12}
    assert created.quantity is None  # create expands nothing

    fake_stripe.change_quantity(created.id, 5)
    fake_stripe.complete_with_card(created.id)
    session = gateway.retrieve_checkout_session(created.id)

    assert session.quantity == 5
    assert session.amount_total == 4500
    assert fake_stripe.intents[session.payment_intent_id]["amount"] == 4500


def test_the_fake_offers_no_quantity_control_without_adjustable_quantity(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    created = gateway.create_checkout_session(make_request())
    with pytest.raises(AssertionError, match="no quantity control"):
        fake_stripe.change_quantity(created.id, 2)
    assert gateway.retrieve_checkout_session(created.id).quantity == 1
