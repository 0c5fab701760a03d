"""Payment links through the merchant API: what an integrator wiring a shop does."""

from __future__ import annotations

import pytest

from paylinks.models import AuditEntry, PaymentLink, PaymentStatus

from ..factories import PaymentFactory, PaymentLinkFactory

pytestmark = pytest.mark.django_db


def create(api, **fields):  # type: ignore[no-untyped-def]
    body = {"title": "Field guide", "currency": "USD", "amount": 2500, **fields}
    return api.post("/api/v1/links", body)


def test_create_fixed_price_link(acme_api, acme) -> None:
    response = create(acme_api, metadata={"order": "A-1001"}, collect_name=True)
    assert response.status_code == 201, response.json()
    data = response.json()
    link = PaymentLink.objects.get(slug=data["id"])
    assert link.merchant == acme
    assert data["amount"] == {"value": 2500, "display": "25.00 USD"}
    assert (data["currency"], data["currency_exponent"], data["currency_decimals"]) == (
        "USD",
        2,
        2,
    )
    assert data["state"] == "active" and data["active"] is True
    assert data["url"].endswith(f"/pay/{link.slug}")
    assert data["metadata"] == {"order": "A-1001"}
    assert data["collect"] == {
        "email": True,
        "name": True,
        "phone": False,
        "billing_address": False,
    }
    entry = AuditEntry.objects.get(action="link.created")
    assert entry.actor is None and entry.actor_email.startswith("API client “Acme Books backend”")


def test_create_customer_chooses_link_in_yen(acme_api) -> None:
    response = create(
        acme_api,
        currency="jpy",
        amount=None,
        amount_type="customer",
        custom_amount_min=500,
        custom_amount_max=10000,
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["amount"] is None
    assert data["currency_exponent"] == 0
    assert data["custom_amount"]["min"] == {"value": 500, "display": "500 JPY"}
    assert data["custom_amount"]["preset"] is None


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"amount": 1}, "amount", "smallest amount"),
        ({"currency": "XXX"}, "currency", "XXX"),
        ({"title": ""}, "title", "blank"),
        ({"amount": 10**20}, "amount", "less than or equal"),
        ({"amount": "12.50"}, "amount", "valid integer"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at", "past"),
        ({"after_payment": "redirect"}, "redirect_url", "web address"),
        ({"metadata": {"paylinks_x": "1"}}, "metadata", "Paylinks"),
        ({"payment_limit": 0}, "payment_limit", "greater than or equal"),
    ],
)
def test_invalid_link_is_400_naming_the_field(acme_api, fields, field, words) -> None:
    response = create(acme_api, **fields)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["field"] == field
    assert words in error["message"]
    assert not PaymentLink.objects.exists()


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "{not json", "null"])
def test_body_that_is_not_a_json_object_is_400(acme_api, body) -> None:
    response = acme_api.http.post(
        "/api/v1/links",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {acme_api.token}",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("invalid_request", "invalid_json")


def test_list_is_cursor_paginated_newest_first(acme_api, acme) -> None:
    slugs = [PaymentLinkFactory(merchant=acme, title=f"Book {n}").slug for n in range(5)]
    first = acme_api.get("/api/v1/links", {"limit": 2}).json()
    assert [link["id"] for link in first["results"]] == slugs[::-1][:2]
    second = acme_api.http.get(first["next"], HTTP_AUTHORIZATION=f"Bearer {acme_api.token}").json()
    assert [link["id"] for link in second["results"]] == slugs[::-1][2:4]
    bad = acme_api.get("/api/v1/links", {"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "cursor"
    assert acme_api.get("/api/v1/links", {"limit": 1000}).status_code == 400


def test_list_filters_by_state_and_currency(acme_api, acme) -> None:
    usd = PaymentLinkFactory(merchant=acme, currency="USD")
    eur = PaymentLinkFactory(merchant=acme, currency="EUR", amount=900)
    off = PaymentLinkFactory(merchant=acme, is_active=False)
    ids = lambda r: {link["id"] for link in r.json()["results"]}  # noqa: E731
    assert ids(acme_api.get("/api/v1/links", {"currency": "eur"})) == {eur.slug}
    assert ids(acme_api.get("/api/v1/links", {"state": "inactive"})) == {off.slug}
    assert ids(acme_api.get("/api/v1/links", {"state": "active"})) == {usd.slug, eur.slug}


def test_retrieve_update_deactivate_activate(acme_api, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, payment_limit=3)
    PaymentFactory(link=link, status=PaymentStatus.SUCCEEDED)
    path = f"/api/v1/links/{link.slug}"
    data = acme_api.get(path).json()
    assert data["completed_payments"] == 1 and data["payment_limit"] == 3
    changed = acme_api.patch(path, {"title": "Second edition", "amount": 3000})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["title"] == "Second edition"
    assert changed.json()["amount"]["value"] == 3000
    currency = acme_api.patch(path, {"currency": "EUR"})
    assert currency.status_code == 400 and currency.json()["error"]["field"] == "currency"
    off = acme_api.post(f"{path}/deactivate", {"message": "Sold out for now"})
    assert off.status_code == 200
    assert (off.json()["state"], off.json()["inactive_message"]) == ("inactive", "Sold out for now")
    on = acme_api.post(f"{path}/activate")
    assert on.json()["state"] == "active"
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["link.updated", "link.deactivated", "link.activated"]


def test_qr_codes(acme_api, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, title="Field guide")
    svg = acme_api.get(f"/api/v1/links/{link.slug}/qr.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert svg.content.startswith(b"<?xml")
    png = acme_api.get(f"/api/v1/links/{link.slug}/qr.png", HTTP_ACCEPT="image/png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    missing = acme_api.get("/api/v1/links/nope/qr.png", HTTP_ACCEPT="image/png")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_unknown_paths_and_methods_answer_in_the_error_shape(acme_api) -> None:
    assert acme_api.get("/api/v1/nothing-here").json()["error"]["code"] == "not_found"
    response = acme_api.http.delete("/api/v1/links", HTTP_AUTHORIZATION=f"Bearer {acme_api.token}")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_create_reads_only_the_token_and_writes_the_link_and_its_audit_entry(
    acme_api, acme
) -> None:
    """POST /api/v1/links is the merchant API's hot write (docs/scaling.md): one token
    look-up (the revocation check), the link's INSERT and its audit entry's, nothing
    else: no re-reading the merchant it already holds, no uniqueness probe of the slug
    (transaction control statements are not counted by Django)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = create(acme_api)
    assert response.status_code == 201, response.json()
    # The test runs inside a transaction, so the service's atomic block shows up as a
    # savepoint; in production it is the request's BEGIN ... COMMIT.
    statements = [
        q["sql"].split()[0]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    assert statements == ["SELECT", "INSERT", "INSERT"], captured.captured_queries
    assert PaymentLink.objects.filter(slug=response.json()["id"], merchant=acme).exists()


def test_a_read_of_one_link_is_one_statement_with_the_token(acme_api, acme, globex) -> None:
    """GET /api/v1/links/{id} is the merchant API's hot read (docs/scaling.md): the
    token's revocation check and the link (with its units sold) come from one statement,
    which still answers 404 for another merchant's link and for one that does not exist,
    and the QR code reads the same way."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    link = PaymentLinkFactory(merchant=acme, payment_limit=5)
    PaymentFactory(link=link, status=PaymentStatus.SUCCEEDED)
    theirs = PaymentLinkFactory(merchant=globex)
    for path, status in [
        (f"/api/v1/links/{link.slug}", 200),
        (f"/api/v1/links/{link.slug}/qr.svg", 200),
        (f"/api/v1/links/{theirs.slug}", 404),
        ("/api/v1/links/no-such-link", 404),
    ]:
        with CaptureQueriesContext(connection) as captured:
            response = acme_api.get(path)
        assert response.status_code == status, (path, response.content[:200])
        # (On a 404 Wagtail's redirect middleware then looks for a redirect of the path.)
        ours = [q for q in captured.captured_queries if "wagtail" not in q["sql"]]
        assert len(ours) == 1, captured.captured_queries
    data = acme_api.get(f"/api/v1/links/{link.slug}").json()
    assert (data["id"], data["title"], data["completed_payments"]) == (link.slug, link.title, 1)
    assert data["state"] == "active" and data["payment_limit"] == 5
