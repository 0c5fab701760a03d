"""Payment limits hold under concurrency: a link never sells more than its limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone

from paylinks.models import LinkState, Payment, PaymentStatus
from paylinks.selectors.links import link_state
from paylinks.sweeper import sweep

from ..factories import PaymentFactory, PaymentLinkFactory
from .helpers import drain, pay

pytestmark = pytest.mark.django_db(transaction=True)


def checkout(site: str, slug: str, client: str = "") -> requests.Response:
    """A checkout from ``client``'s address (through one trusted proxy), else 127.0.0.1."""
    headers = {"X-Forwarded-For": client} if client else {}
    return requests.post(
        f"{site}/api/v1/public/links/{slug}/checkout", json={}, headers=headers, timeout=60
    )


@pytest.fixture
def behind_a_proxy(settings):  # type: ignore[no-untyped-def]
    """Each customer is a client of its own (one place per client would otherwise limit a
    crowd on one address): Django trusts one proxy hop, as behind the checkout page."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


@pytest.mark.postgres
def test_a_hundred_customers_race_for_ten_places(site, acme, behind_a_proxy) -> None:
    link = PaymentLinkFactory(merchant=acme, payment_limit=10)

    def customer(n: int) -> tuple[int, str]:
        response = checkout(site, link.slug, client=f"203.0.113.{n}")
        if response.status_code != 201:
            return response.status_code, response.json()["error"]["code"]
        paid = pay(response.json()["checkout_url"])
        return paid.status_code, "paid"

    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(customer, range(100)))
    drain()
    assert results.count((303, "paid")) == 10
    # Refused while the places were being paid for, or once they were all paid.
    refused = [code for status, code in results if status == 409]
    assert len(refused) == 90 and set(refused) <= {"sold_out", "places_held"}
    assert Payment.objects.filter(link=link, status=PaymentStatus.SUCCEEDED).count() == 10
    assert Payment.objects.filter(link=link).count() == 10
    assert link_state(link) == LinkState.SOLD_OUT
    assert checkout(site, link.slug).json()["error"]["code"] == "sold_out"


@pytest.mark.postgres
def test_expired_checkouts_release_their_places(site, acme, behind_a_proxy) -> None:
    link = PaymentLinkFactory(merchant=acme, payment_limit=3)

    def start(n: int) -> int:
        return checkout(site, link.slug, client=f"198.51.100.{n}").status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(start, range(20)))
    assert sorted(codes) == [201] * 3 + [409] * 17
    # Nobody pays; the sessions expire and the places come back, none leaking.
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        sweep()
        drain()
        assert Payment.objects.filter(link=link, status=PaymentStatus.EXPIRED).count() == 3
        with ThreadPoolExecutor(max_workers=10) as pool:
            again = list(pool.map(start, range(20)))
        assert sorted(again) == [201] * 3 + [409] * 17


def test_a_processing_delayed_payment_keeps_its_place(site, acme, settings) -> None:
    settings.SANDBOX_SETTLE_SECONDS = 3 * 24 * 3600  # SEPA can take days to settle
    link = PaymentLinkFactory(merchant=acme, payment_limit=1, currency="EUR")
    first = checkout(site, link.slug).json()
    assert pay(first["checkout_url"], method="sepa").status_code == 303
    drain()
    with time_machine.travel(timezone.now() + timedelta(minutes=45)):
        sweep()
        drain()
        assert Payment.objects.get(public_id=first["payment_id"]).status == PaymentStatus.PENDING
        # Not sold out (the debit may still fail), but no place to take: no checkout
        # expiry will free one, so there is no time to give.
        error = checkout(site, link.slug).json()["error"]
        assert (error["code"], error.get("retry_after")) == ("places_held", None)


def test_success_beyond_the_limit_is_flagged_refunded_and_told(
    site, acme, alice, mailoutbox
) -> None:
    link = PaymentLinkFactory(merchant=acme, payment_limit=1)
    first = checkout(site, link.slug).json()
    # The place is taken by another payment that completed through another route (e.g.
    # the merchant raised then lowered the limit) before this customer paid.
    PaymentFactory(link=link, status=PaymentStatus.SUCCEEDED)
    assert pay(first["checkout_url"]).status_code == 303
    drain()
    payment = Payment.objects.get(public_id=first["payment_id"])
    assert payment.over_limit is True
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.amount_refunded == payment.amount
    assert payment.events.filter(kind="over_limit").exists()
    assert any(alice.email in m.to and "limit" in m.subject for m in mailoutbox)
    completed = Payment.objects.filter(link=link, status=PaymentStatus.SUCCEEDED).count()
    assert completed == 1


@pytest.mark.postgres
@pytest.mark.parametrize("limit", [None, 5])
def test_a_double_click_opens_one_checkout(site, acme, limit) -> None:
    """The page sends one idempotency key per visit: ten copies of the same request at
    once (a double-click, a retrying network) are one payment and one session."""
    link = PaymentLinkFactory(merchant=acme, payment_limit=limit)

    def click(_: int) -> requests.Response:
        return requests.post(
            f"{site}/api/v1/public/links/{link.slug}/checkout",
            json={"email": "ada@example.test"},
            headers={"Idempotency-Key": "visit-42"},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(click, range(10)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 9 + [201], [r.text for r in responses if r.status_code >= 300]
    assert len({r.json()["session_id"] for r in responses}) == 1
    assert Payment.objects.filter(link=link).count() == 1
