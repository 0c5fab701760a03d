"""A NUL byte anywhere a customer or a merchant can type never reaches the database.

PostgreSQL text cannot hold one: without the guard, a lookup or a console search with
``%00`` fails inside the driver (the suite runs on PostgreSQL in CI, where it would).
"""

from __future__ import annotations

import pytest

from ..factories import PaymentLinkFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/public/links/%00",
        "/api/v1/public/links/ab%00cd/checkout",
        "/api/v1/public/checkout/cs_%00",
    ],
)
def test_api_paths_with_a_nul_byte_are_a_uniform_404(client, path) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_nul_byte_in_the_query_string_is_a_bad_request(client) -> None:
    response = client.get("/api/v1/public/links/x?amount=1%002")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_request")


def test_console_search_with_a_nul_byte_is_refused_not_a_crash(client, alice, acme) -> None:
    PaymentLinkFactory(merchant=acme, title="Atlas")
    client.force_login(alice)
    for path in (
        "/admin/paylinks/paymentlink/?q=%00",
        "/admin/paylinks/payment/?q=a%00b",
        "/admin/paylinks/paymentlink/autocomplete/?term=%00",
    ):
        response = client.get(path)
        assert response.status_code == 400, path
    assert client.get("/admin/paylinks/paymentlink/?q=Atlas").status_code == 200


def test_sandbox_and_pages_with_a_nul_byte_are_not_found(client) -> None:
    assert client.get("/sandbox/checkout/cs_%00").status_code == 404
    assert client.get("/pay/%00").status_code == 404


def test_a_nul_byte_in_a_form_field_is_a_form_error(client, alice, acme) -> None:
    client.force_login(alice)
    response = client.post(
        "/admin/paylinks/paymentlink/add/",
        {"title": "A\x00B", "currency": "USD", "amount_type": "fixed", "amount": "5"},
    )
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()
