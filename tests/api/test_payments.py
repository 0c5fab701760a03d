"""Payments and refunds through the merchant API, on payments made through the sandbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from paylinks.models import AuditEntry, PaymentEvent, PaymentStatus, Refund

from ..factories import PaymentFactory, PaymentLinkFactory
from ..payments.helpers import drain, paid_payment


@pytest.mark.django_db
def test_list_filters_like_the_console(acme_api, acme) -> None:
    book = PaymentLinkFactory(merchant=acme, amount=2500)
    mug = PaymentLinkFactory(merchant=acme, amount=900, currency="EUR")
    a = PaymentFactory(link=book, status=PaymentStatus.SUCCEEDED, payment_method_type="card")
    b = PaymentFactory(link=book, status=PaymentStatus.FAILED, payment_method_type="sepa_debit")
    c = PaymentFactory(link=mug, status=PaymentStatus.SUCCEEDED, payment_method_type="card")
    old = PaymentFactory(link=book, status=PaymentStatus.EXPIRED)
    old.created_at = timezone.now() - timedelta(days=40)
    old.save(update_fields=["created_at"])

    def ids(**params: object) -> set[str]:
        response = acme_api.get("/api/v1/payments", params)
        assert response.status_code == 200, response.json()
        return {p["id"] for p in response.json()["results"]}

    assert ids() == {a.public_id, b.public_id, c.public_id, old.public_id}
    assert ids(status="succeeded") == {a.public_id, c.public_id}
    assert ids(currency="eur") == {c.public_id}
    assert ids(method="sepa_debit") == {b.public_id}
    assert ids(link=mug.slug) == {c.public_id}
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(created_after=since) == {a.public_id, b.public_id, c.public_id}
    assert ids(created_before=since) == {old.public_id}
    assert ids(amount_min=1000) == {a.public_id, b.public_id, old.public_id}
    assert ids(amount_max=1000, currency="EUR") == {c.public_id}
    bad = acme_api.get("/api/v1/payments", {"status": "lost"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"


@pytest.mark.django_db
def test_retrieve_by_any_id_with_the_timeline(acme_api, acme) -> None:
    payment = PaymentFactory(
        link=PaymentLinkFactory(merchant=acme),
        payment_intent_id="pi_sbx_123",
        gateway_session_id="cs_test_sbx_123",
        status=PaymentStatus.SUCCEEDED,
        payment_method_type="card",
        card_brand="visa",
        card_last4="4242",
        customer_email="ada@example.test",
    )
    PaymentEvent.objects.create(payment=payment, kind="created", to_status="pending")
    PaymentEvent.objects.create(
        payment=payment, kind="status_changed", from_status="pending", to_status="succeeded"
    )
    for identifier in (payment.public_id, "pi_sbx_123", "cs_test_sbx_123"):
        data = acme_api.get(f"/api/v1/payments/{identifier}").json()
        assert data["id"] == payment.public_id
    assert data["method"]["label"] == "Visa •••• 4242"
    assert data["customer"]["email"] == "ada@example.test"
    assert [(e["kind"], e["to_status"]) for e in data["timeline"]] == [
        ("created", "pending"),
        ("status_changed", "succeeded"),
    ]
    for unknown in ("pay_nope", "pi_nope", "ch_123", "x" * 300):
        response = acme_api.get(f"/api/v1/payments/{unknown}")
        assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_refunds_full_and_partial(site, acme_api, acme) -> None:
    paid = paid_payment(site, acme, 10000, "USD")
    path = f"/api/v1/payments/{paid.payment_intent_id}/refunds"
    partial = acme_api.post(path, {"amount": 2500, "note": "Damaged cover"})
    assert partial.status_code == 201, partial.json()
    assert partial.json()["amount"] == {"value": 2500, "display": "25.00 USD"}
    too_much = acme_api.post(path, {"amount": 7501})
    assert too_much.status_code == 400
    assert too_much.json()["error"]["field"] == "amount"
    assert "75.00 USD" in too_much.json()["error"]["message"]
    rest = acme_api.post(path, {"reason": "duplicate"})
    assert rest.status_code == 201 and rest.json()["amount"]["value"] == 7500
    drain()
    listed = acme_api.get(path).json()["results"]
    assert [r["amount"]["value"] for r in listed] == [7500, 2500]
    assert {r["status"] for r in listed} == {"succeeded"}
    payment = acme_api.get(f"/api/v1/payments/{paid.public_id}").json()
    assert payment["status"] == "refunded"
    assert payment["amount_refunded"]["value"] == 10000
    assert PaymentEvent.objects.filter(kind="refund_requested", source="api").count() == 2
    assert AuditEntry.objects.filter(action="payment.refund_requested").count() == 2
    nothing_left = acme_api.post(path, {})
    assert nothing_left.status_code == 400


@pytest.mark.django_db
def test_unpaid_payment_cannot_be_refunded(acme_api, acme) -> None:
    pending = PaymentFactory(link=PaymentLinkFactory(merchant=acme))
    response = acme_api.post(f"/api/v1/payments/{pending.public_id}/refunds", {})
    assert response.status_code == 400
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_analytics_summary_per_currency(acme_api, acme) -> None:
    book = PaymentLinkFactory(merchant=acme, amount=2500)
    mug = PaymentLinkFactory(merchant=acme, amount=900, currency="EUR")
    PaymentFactory(link=book, status=PaymentStatus.SUCCEEDED)
    PaymentFactory(link=book, status=PaymentStatus.PARTIALLY_REFUNDED, amount_refunded=500)
    PaymentFactory(link=mug, status=PaymentStatus.SUCCEEDED)
    PaymentFactory(link=mug, status=PaymentStatus.FAILED)
    data = acme_api.get("/api/v1/analytics/summary", {"days": 7}).json()
    received = {row["currency"]: row for row in data["received"]}
    assert received["USD"]["amount"]["value"] == 5000
    assert received["USD"]["net"] == {"value": 4500, "display": "45.00 USD"}
    assert received["EUR"]["count"] == 1
    assert data["success_rate"] == 0.75
    assert data["period"]["days"] == 7
    assert data["links"]["total"] == 2
    assert acme_api.get("/api/v1/analytics/summary", {"days": 0}).status_code == 400
