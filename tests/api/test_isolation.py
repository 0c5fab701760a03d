"""Tenant isolation: a client of Acme can neither read, change, refund nor discover
Globex's objects, through any endpoint or filter. Another merchant's object answers
exactly like one that does not exist."""

from __future__ import annotations

import pytest

from paylinks.models import AuditEntry, PaymentLink, PaymentStatus, Refund

from ..factories import PaymentFactory, PaymentLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def globex_objects(globex):  # type: ignore[no-untyped-def]
    link = PaymentLinkFactory(merchant=globex, title="Globex vinyl", currency="EUR", amount=2000)
    payment = PaymentFactory(
        link=link,
        status=PaymentStatus.SUCCEEDED,
        payment_intent_id="pi_globex_1",
        gateway_session_id="cs_test_globex_1",
        payment_method_type="card",
    )
    return link, payment


def not_found_like_nothing(response, nothing) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 404
    assert response.json() == nothing.json()


def test_reading_another_merchants_objects_is_404_like_an_unknown_id(
    acme_api, globex_objects
) -> None:
    link, payment = globex_objects
    reads = [
        (f"/api/v1/links/{link.slug}", "/api/v1/links/unknownunknownunknown1"),
        (f"/api/v1/links/{link.slug}/qr.svg", "/api/v1/links/unknownunknownunknown1/qr.svg"),
        (f"/api/v1/links/{link.slug}/qr.png", "/api/v1/links/unknownunknownunknown1/qr.png"),
        (f"/api/v1/payments/{payment.public_id}", "/api/v1/payments/pay_unknown"),
        ("/api/v1/payments/pi_globex_1", "/api/v1/payments/pi_unknown"),
        ("/api/v1/payments/cs_test_globex_1", "/api/v1/payments/cs_unknown"),
        (f"/api/v1/payments/{payment.public_id}/refunds", "/api/v1/payments/pay_unknown/refunds"),
    ]
    for theirs, unknown in reads:
        not_found_like_nothing(acme_api.get(theirs), acme_api.get(unknown))


def test_changing_or_refunding_another_merchants_objects_is_404(acme_api, globex_objects) -> None:
    link, payment = globex_objects
    writes = [
        ("patch", f"/api/v1/links/{link.slug}", {"title": "Hijacked"}),
        ("post", f"/api/v1/links/{link.slug}/deactivate", {}),
        ("post", f"/api/v1/links/{link.slug}/activate", {}),
        ("post", f"/api/v1/payments/{payment.public_id}/refunds", {"amount": 100}),
        ("post", "/api/v1/payments/pi_globex_1/refunds", {}),
    ]
    for method, path, body in writes:
        response = getattr(acme_api, method)(path, body)
        assert response.status_code == 404, (path, response.json())
    link.refresh_from_db()
    assert (link.title, link.is_active) == ("Globex vinyl", True)
    assert not Refund.objects.exists()
    assert not AuditEntry.objects.filter(merchant=link.merchant).exists()


def test_lists_filters_and_analytics_show_only_the_clients_merchant(
    acme_api, acme, globex_objects
) -> None:
    link, payment = globex_objects
    mine = PaymentLinkFactory(merchant=acme)
    my_payment = PaymentFactory(link=mine, status=PaymentStatus.SUCCEEDED)
    links = acme_api.get("/api/v1/links", {"limit": 100}).json()["results"]
    assert [item["id"] for item in links] == [mine.slug]
    for params in (
        {},
        {"link": link.slug},
        {"currency": "EUR"},
        {"method": "card"},
        {"status": "succeeded"},
    ):
        results = acme_api.get("/api/v1/payments", params).json()["results"]
        assert payment.public_id not in {p["id"] for p in results}
    assert acme_api.get("/api/v1/payments", {"link": link.slug}).json()["results"] == []
    assert {p["id"] for p in acme_api.get("/api/v1/payments").json()["results"]} == {
        my_payment.public_id
    }
    summary = acme_api.get("/api/v1/analytics/summary").json()
    assert [row["currency"] for row in summary["received"]] == ["USD"]
    assert summary["links"]["total"] == 1


def test_a_cursor_from_another_client_shows_nothing_of_theirs(
    acme_api, globex_api, globex, globex_objects
) -> None:
    for n in range(3):
        PaymentLinkFactory(merchant=globex, title=f"Globex {n}")
    page = globex_api.get("/api/v1/links", {"limit": 1}).json()
    assert page["next"]
    stolen = acme_api.http.get(page["next"], HTTP_AUTHORIZATION=f"Bearer {acme_api.token}")
    assert stolen.status_code == 200
    assert stolen.json()["results"] == []


def test_created_links_belong_to_the_clients_merchant_whatever_the_body_says(
    acme_api, acme, globex
) -> None:
    response = acme_api.post(
        "/api/v1/links",
        {"title": "Mine", "currency": "USD", "amount": 1000, "merchant": globex.pk},
    )
    assert response.status_code == 201
    assert PaymentLink.objects.get(slug=response.json()["id"]).merchant == acme
