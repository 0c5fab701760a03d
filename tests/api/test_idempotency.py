"""Idempotency-Key on POST: a retry replays the first answer, a reused key with another
request is a 422, and concurrent duplicates make one object."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from paylinks.models import AuditEntry, IdempotencyKey, PaymentLink, Refund
from paylinks.services.idempotency import idempotency_keys_purge

from ..payments.helpers import paid_payment
from .conftest import Caller, fetch_token

BODY = {"title": "Field guide", "currency": "USD", "amount": 2500}


@pytest.mark.django_db
def test_retry_with_the_same_key_replays_the_first_answer(acme_api) -> None:
    first = acme_api.post("/api/v1/links", BODY, headers={"Idempotency-Key": "order-1001"})
    again = acme_api.post("/api/v1/links", BODY, headers={"Idempotency-Key": "order-1001"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert PaymentLink.objects.count() == 1
    assert AuditEntry.objects.filter(action="link.created").count() == 1
    # The same JSON spelled differently is the same request.
    spaced = acme_api.http.post(
        "/api/v1/links",
        '{ "amount": 2500, "currency": "USD",  "title": "Field guide" }',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {acme_api.token}",
        HTTP_IDEMPOTENCY_KEY="order-1001",
    )
    assert spaced.status_code == 201 and spaced.json()["id"] == first.json()["id"]


@pytest.mark.django_db
def test_same_key_with_a_different_request_is_422(acme_api) -> None:
    acme_api.post("/api/v1/links", BODY, headers={"Idempotency-Key": "k1"})
    other = acme_api.post(
        "/api/v1/links", {**BODY, "amount": 2600}, headers={"Idempotency-Key": "k1"}
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    elsewhere = acme_api.post(
        f"/api/v1/links/{PaymentLink.objects.get().slug}/deactivate",
        BODY,
        headers={"Idempotency-Key": "k1"},
    )
    assert elsewhere.status_code == 422
    assert PaymentLink.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_per_client(acme_api, globex_api) -> None:
    mine = acme_api.post("/api/v1/links", BODY, headers={"Idempotency-Key": "shared"})
    theirs = globex_api.post("/api/v1/links", BODY, headers={"Idempotency-Key": "shared"})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs


@pytest.mark.django_db
def test_a_failed_request_is_not_stored_so_the_fixed_one_can_use_the_key(acme_api) -> None:
    bad = acme_api.post("/api/v1/links", {**BODY, "amount": 1}, headers={"Idempotency-Key": "k"})
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.exists()
    good = acme_api.post("/api/v1/links", BODY, headers={"Idempotency-Key": "k"})
    assert good.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["x" * 256, "naïve", "tab\there"])
def test_unusable_keys_are_400(acme_api, key) -> None:
    response = acme_api.http.post(
        "/api/v1/links",
        BODY,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {acme_api.token}",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 400
    assert not PaymentLink.objects.exists()


@pytest.mark.django_db
def test_keys_are_forgotten_after_a_day(acme_api, http, acme_issued) -> None:
    acme_api.post("/api/v1/links", BODY, headers={"Idempotency-Key": "daily"})
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        tomorrow = Caller(http, fetch_token(http, acme_issued)["access_token"])
        again = tomorrow.post("/api/v1/links", BODY, headers={"Idempotency-Key": "daily"})
        assert again.status_code == 201 and "Idempotent-Replayed" not in again
        assert PaymentLink.objects.count() == 2
        assert idempotency_keys_purge() == 0  # the stale one was replaced on use
    with time_machine.travel(timezone.now() + timedelta(hours=50)):
        assert idempotency_keys_purge() == 1


@pytest.mark.django_db(transaction=True)
def test_refund_retry_pays_once(site, acme_api, acme) -> None:
    paid = paid_payment(site, acme, 5000, "USD")
    path = f"/api/v1/payments/{paid.public_id}/refunds"
    first = acme_api.post(path, {"amount": 1000}, headers={"Idempotency-Key": "refund-7"})
    again = acme_api.post(path, {"amount": 1000}, headers={"Idempotency-Key": "refund-7"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Refund.objects.count() == 1


def _race(token: str, path: str, body: dict, key: str, n: int = 6) -> list:  # type: ignore[type-arg]
    barrier = threading.Barrier(n)

    def send(_: int):  # type: ignore[no-untyped-def]
        caller = Caller(Client(), token)
        barrier.wait()
        try:
            return caller.post(path, body, headers={"Idempotency-Key": key})
        finally:
            connection.close()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(send, range(n)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_make_one_link(acme_api) -> None:
    answers = _race(acme_api.token, "/api/v1/links", BODY, "race-1")
    assert [a.status_code for a in answers] == [201] * len(answers)
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(1 for a in answers if a.get("Idempotent-Replayed")) == len(answers) - 1
    assert PaymentLink.objects.count() == 1
    assert AuditEntry.objects.filter(action="link.created").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_refunds_make_one_refund(site, acme_api, acme) -> None:
    paid = paid_payment(site, acme, 5000, "USD")
    answers = _race(
        acme_api.token, f"/api/v1/payments/{paid.public_id}/refunds", {"amount": 1500}, "race-2"
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert Refund.objects.count() == 1
