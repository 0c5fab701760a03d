"""Structured logs (issue 15): JSON lines, one request id from the customer's click through
the worker and the webhook, and no secret anywhere in a whole journey's output."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
import requests
from django.test import Client
from pythonjsonlogger.json import JsonFormatter

from paylinks.models import Payment, PaymentStatus, WebhookEvent
from paylinks.services.refunds import refund_create

from ..api.conftest import fetch_token, make_client
from ..factories import PaymentLinkFactory
from ..payments.helpers import CSRF, drain, start_checkout

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER_EMAIL = "ada.lovelace.journey@example.test"
CARD = "4242424242424242"


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        n = int(char) * (2 if position % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def test_the_card_number_check_can_fail() -> None:
    assert luhn_valid(CARD) and luhn_valid("4000000000000002")
    assert not luhn_valid("4242424242424241")


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the configured JSON handler (project/settings/ops.py) writes, captured."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert len(handlers) == 1, "one JSON handler, on the root logger"
    handler = handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def records(buffer: io.StringIO) -> list[dict]:  # type: ignore[type-arg]
    lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
    assert lines, "the journey logged something"
    return [json.loads(line) for line in lines]  # every line is one JSON object


def pay_on_sandbox(checkout_url: str, request_id: str) -> requests.Response:
    browser = requests.Session()
    page = browser.get(checkout_url, timeout=10)
    token = CSRF.search(page.text)
    assert token
    return browser.post(
        checkout_url,
        data={
            "csrfmiddlewaretoken": token.group(1),
            "method": "card",
            "email": CUSTOMER_EMAIL,
            "number": "4242 4242 4242 4242",
            "expiry": "12 / 34",
            "cvc": "123",
            "name": "Ada Lovelace",
        },
        headers={"Referer": checkout_url, "X-Request-ID": request_id},
        allow_redirects=False,
        timeout=10,
    )


def test_one_request_id_across_web_worker_and_webhook(site, acme, log_lines) -> None:  # type: ignore[no-untyped-def]
    link = PaymentLinkFactory(merchant=acme, amount=1500, currency="USD")
    started = start_checkout(site, link.slug)
    declined = requests.Session()
    token = CSRF.search(declined.get(started.checkout_url, timeout=10).text)
    assert token
    refused = declined.post(
        started.checkout_url,
        data={"csrfmiddlewaretoken": token.group(1), "method": "card", "email": CUSTOMER_EMAIL,
              "number": "4000 0000 0000 0002", "expiry": "12 / 34", "cvc": "123",
              "name": "Ada Lovelace"},
        headers={"Referer": started.checkout_url},
        timeout=10,
    )  # fmt: skip
    assert refused.status_code == 402
    drain()
    click = "journey-7f3c2a9e-pay-click"
    answer = pay_on_sandbox(started.checkout_url, click)
    assert answer.status_code == 303
    assert answer.headers["X-Request-ID"] == click  # web: the id is returned
    drain()  # the worker: delivers the sandbox's webhook, then processes the inbox

    payment = Payment.objects.get(public_id=started.payment_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert WebhookEvent.objects.filter(request_id=click).exists()  # kept on the inbox row

    lines = records(log_lines)
    mine = [line for line in lines if line.get("request_id") == click]
    by_event = {line.get("event") for line in mine}
    loggers = {line["logger"] for line in mine}
    # The worker delivered the webhook under the click's id ...
    assert "paylinks.gateways.sandbox.delivery" in loggers
    # ... the webhook endpoint stored it under the same id ...
    assert "webhook.stored" in by_event
    # ... and the worker's processing moved the payment under it too, with the ids.
    moved = [line for line in mine if line.get("event") == "payment.status_changed"]
    assert [(m["from_status"], m["to_status"]) for m in moved] == [("pending", "succeeded")]
    assert moved[0]["payment_id"] == payment.public_id
    assert moved[0]["merchant_id"] == acme.pk
    assert moved[0]["link_id"] == link.pk
    # Django's own line for the declined card's 402 names the request's id too.
    for line in lines:
        if line["logger"] == "django.request":
            assert line["request_id"] != "-"
        assert {"time", "level", "logger", "message", "request_id"} <= set(line)
        assert re.search(r"[+-]\d{4}$", line["time"]), "times say their zone"


def test_a_full_journey_logs_no_secret(site, acme, alice, log_lines, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    link = PaymentLinkFactory(merchant=acme, amount=2500, currency="USD")
    # A customer pays with a card, and a declined one first.
    started = start_checkout(site, link.slug, email=CUSTOMER_EMAIL)
    browser = requests.Session()
    page = browser.get(started.checkout_url, timeout=10)
    token = CSRF.search(page.text)
    assert token
    browser.post(
        started.checkout_url,
        data={
            "csrfmiddlewaretoken": token.group(1),
            "method": "card",
            "email": CUSTOMER_EMAIL,
            "number": "4000 0000 0000 0002",
            "expiry": "12 / 34",
            "cvc": "123",
            "name": "Ada Lovelace",
        },
        headers={"Referer": started.checkout_url},
        timeout=10,
    )
    drain()
    assert pay_on_sandbox(started.checkout_url, "journey-secret-scan-01").status_code == 303
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    # The merchant refunds part of it.
    refund_create(payment=payment, actor=alice, amount=500)
    drain()
    # An integrator signs in with client credentials and reads the payment.
    issued = make_client(acme, alice)
    http = Client()
    access = fetch_token(http, issued)["access_token"]
    read = http.get(f"/api/v1/payments/{payment.public_id}", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert read.status_code == 200
    # Someone fails to sign in, with a password typed where the e-mail goes.
    password = "hunter2-correct-horse-battery"
    Client().post("/accounts/login/", {"login": password, "password": password})
    Client().post("/accounts/login/", {"login": alice.email, "password": password})
    # A forged webhook is rejected, a page is forbidden, another is not found.
    Client().post(
        "/webhooks/stripe/", data="{}", content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=00",
    )  # fmt: skip
    Client().get("/admin/paylinks/payment/")
    Client().get(f"/api/v1/payments/{payment.public_id}?token={access}")

    output = log_lines.getvalue()
    assert "payment.refund" in output and "auth.sign_in_failed" in output
    assert "Rejected webhook" in output
    secrets = {
        "SECRET_KEY": settings.SECRET_KEY,
        "field encryption key": settings.FIELD_ENCRYPTION_KEY[0],
        "webhook secret": settings.STRIPE_WEBHOOK_SECRET,
        "API client secret": issued.client_secret,
        "access token": access,
        "customer e-mail": CUSTOMER_EMAIL,
        "merchant's e-mail": alice.email,
        "typed password": password,
        "card number": CARD,
        "declined card number": "4000000000000002",
        "card number with spaces": "4242 4242 4242 4242",
    }
    for what, secret in secrets.items():
        assert secret, what
        assert secret not in output, f"the logs contain the {what}"
    # Ends of card numbers are fine (last4); a whole one, in any spacing, is not.
    for candidate in re.findall(r"(?<![\w-])\d(?:[ ]?\d){12,18}(?![\w-])", output):
        assert not luhn_valid(candidate.replace(" ", "")), candidate
    for line in output.splitlines():
        json.loads(line)
    assert "Traceback" not in output, "expected 4xx are one line, no traceback"


@pytest.mark.parametrize(
    "sent",
    [
        "",
        "short",
        "x" * 129,
        "abc12345\nFAKE line",
        'abc12345"}{"level":"CRITICAL"',
        "with spaces inside it",
    ],
)
def test_an_unfit_request_id_is_replaced(sent: str) -> None:
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=sent)
    returned = response["X-Request-ID"]
    assert returned != sent
    assert re.fullmatch(r"[0-9a-f]{32}", returned)


def test_a_sane_request_id_is_kept_and_returned() -> None:
    sent = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
    assert Client().get("/healthz", HTTP_X_REQUEST_ID=sent)["X-Request-ID"] == sent


def test_sign_in_failures_and_the_lockout_are_one_line_each(alice, log_lines, settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from ..auth.conftest import sign_in, verified

    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    verified(alice)
    client = Client(REMOTE_ADDR="198.51.100.9")
    statuses = [sign_in(client, alice.email, "wrong-password-1").status_code for _ in range(3)]
    assert statuses[-1] == 429
    lines = records(log_lines)
    failed = [line for line in lines if line.get("event") == "auth.sign_in_failed"]
    locked = [line for line in lines if line.get("event") == "auth.locked_out"]
    assert len(failed) == 3 and len(locked) == 1
    assert {line["account"] for line in failed} == {str(alice.pk)}
    assert not [line for line in lines if line["logger"].startswith("axes")]
    output = log_lines.getvalue()
    assert alice.email not in output and "wrong-password-1" not in output


def test_an_expected_403_is_one_line_without_a_traceback(victor, log_lines) -> None:  # type: ignore[no-untyped-def]
    client = Client(raise_request_exception=False)
    client.force_login(victor)  # a viewer may not add links
    response = client.get("/admin/paylinks/paymentlink/add/")
    assert response.status_code == 403
    lines = [line for line in records(log_lines) if line["logger"] == "django.request"]
    assert len(lines) == 1
    assert lines[0]["status_code"] == 403
    assert "exc_info" not in lines[0]
    assert lines[0]["request_id"] == response["X-Request-ID"]
