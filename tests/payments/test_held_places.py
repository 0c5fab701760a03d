"""Places held by unpaid checkouts on a limited link (issue 10, finding 4).

Anyone could hold every place of a limited link by starting checkouts and never paying,
while the link still said ``active`` and the next customer met ``sold_out``. Now one
client (one address, as the rate limits count it) holds at most
``PAYLINKS_PLACES_PER_CLIENT`` open checkouts per link, asking again for the same thing
reuses its own open checkout, and the link says when a place comes back.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
import time_machine
from django.utils import timezone

from paylinks.models import Payment, PaymentStatus
from paylinks.services.payments import checkout_cancel
from paylinks.sweeper import sweep

from ..factories import PaymentFactory, PaymentLinkFactory

ALICE_IP, BOB_IP = "203.0.113.7", "198.51.100.23"


def link_url(slug: str) -> str:
    return f"/api/v1/public/links/{slug}"


def checkout(client, slug: str, ip: str, email: str = "ada@example.test"):  # type: ignore[no-untyped-def]
    return client.post(
        f"{link_url(slug)}/checkout",
        data=json.dumps({"email": email}),
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


@pytest.fixture(autouse=True)
def _settings(settings):  # type: ignore[no-untyped-def]
    settings.PAYLINKS_RATE_LIMITS = {}
    settings.PAYLINKS_PLACES_PER_CLIENT = 2
    settings.PAYLINKS_CHECKOUT_TTL_MINUTES = 30


@pytest.mark.django_db
def test_one_client_holds_at_most_its_share_of_a_links_places(client) -> None:
    link = PaymentLinkFactory(payment_limit=10)
    assert checkout(client, link.slug, ALICE_IP, "a1@example.test").status_code == 201
    assert checkout(client, link.slug, ALICE_IP, "a2@example.test").status_code == 201

    third = checkout(client, link.slug, ALICE_IP, "a3@example.test")

    assert third.status_code == 409
    error = third.json()["error"]
    assert error["code"] == "too_many_checkouts"
    assert 29 * 60 < error["retry_after"] <= 30 * 60
    assert third["Retry-After"] == str(error["retry_after"])
    assert "try again in 30 minutes" in error["message"]
    # Nobody else is affected: the link is open, and another client takes a place.
    assert client.get(link_url(link.slug), REMOTE_ADDR=BOB_IP).json()["state"] == "active"
    assert checkout(client, link.slug, BOB_IP, "bob@example.test").status_code == 201
    assert Payment.objects.filter(link=link).count() == 3


@pytest.mark.django_db
def test_asking_again_reuses_the_clients_open_checkout(client) -> None:
    """Back from the hosted page without cancelling, the customer presses Pay again: the
    same checkout, not a second place (and so never refused for its own abandoned one)."""
    link = PaymentLinkFactory(payment_limit=1)
    first = checkout(client, link.slug, ALICE_IP)
    assert first.status_code == 201

    again = checkout(client, link.slug, ALICE_IP, email="ADA@example.test")

    assert again.status_code == 200
    assert again.json()["session_id"] == first.json()["session_id"]
    assert again.json()["checkout_url"] == first.json()["checkout_url"]
    assert Payment.objects.filter(link=link).count() == 1


@pytest.mark.django_db
def test_the_link_says_when_a_held_place_comes_back(client) -> None:
    link = PaymentLinkFactory(payment_limit=2)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = checkout(client, link.slug, ALICE_IP)
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        assert checkout(client, link.slug, BOB_IP).status_code == 201
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        data = client.get(link_url(link.slug), REMOTE_ADDR="192.0.2.1").json()
        refused = checkout(client, link.slug, "192.0.2.1", "cy@example.test")

    # Not "sold out": every place is held by an unpaid checkout, the first of which
    # closes 24 minutes from now (30-minute checkouts, started 6 minutes ago).
    assert data["state"] == "places_held"
    assert data["retry_after"] == 24 * 60
    assert "try again in 24 minutes" in data["places_message"]
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "places_held"
    assert refused.json()["error"]["retry_after"] == 24 * 60
    assert refused["Retry-After"] == str(24 * 60)

    # The first customer leaves the hosted checkout: the place is back at once.
    checkout_cancel(payment=Payment.objects.get(public_id=first.json()["payment_id"]))
    assert client.get(link_url(link.slug)).json()["state"] == "active"
    assert checkout(client, link.slug, "192.0.2.1", "cy@example.test").status_code == 201


@pytest.mark.django_db
def test_a_link_whose_places_are_all_paid_is_sold_out_not_held(client) -> None:
    link = PaymentLinkFactory(payment_limit=1)
    PaymentFactory(link=link, status=PaymentStatus.SUCCEEDED)
    data = client.get(link_url(link.slug)).json()
    assert (data["state"], data["retry_after"], data["places_message"]) == ("sold_out", None, None)
    assert checkout(client, link.slug, ALICE_IP).json()["error"]["code"] == "sold_out"


@pytest.mark.django_db
def test_a_checkout_whose_request_died_frees_its_place(client) -> None:
    """A worker killed between reserving the place and opening the session (the gateway
    hung past the web server's timeout) leaves a pending payment with no session: it
    holds the place only while a request could still be opening it."""
    link = PaymentLinkFactory(payment_limit=1)
    stuck = PaymentFactory(
        link=link,
        gateway_session_id="",
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    assert client.get(link_url(link.slug)).json()["state"] == "places_held"

    Payment.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=3))

    assert client.get(link_url(link.slug)).json()["state"] == "active"
    sweep()  # and the sweeper closes it
    stuck.refresh_from_db()
    assert stuck.status == PaymentStatus.FAILED
    assert checkout(client, link.slug, ALICE_IP).status_code == 201


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_client_racing_for_a_link_gets_only_its_share(site, settings) -> None:  # type: ignore[no-untyped-def]
    """Twenty checkouts at once from one address, each for another e-mail: two places."""
    link = PaymentLinkFactory(payment_limit=10)

    def start(n: int) -> tuple[int, str]:
        response = requests.post(
            f"{site}{link_url(link.slug)}/checkout",
            json={"email": f"buyer{n}@example.test"},
            timeout=60,
        )
        body = response.json()
        return response.status_code, body["error"]["code"] if "error" in body else "started"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(start, range(20)))

    assert sorted(results) == [(201, "started")] * 2 + [(409, "too_many_checkouts")] * 18
    assert Payment.objects.filter(link=link).count() == 2
