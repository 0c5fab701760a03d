"""With the database unreachable, pages answer 503 with Retry-After, not 500 (issue 10,
finding 7).

The connection is pointed at a database that cannot be reached (a directory that does
not exist for SQLite, a closed port for PostgreSQL), so every query fails to connect the
way it does when the database is down; the API already answered 503 in its own JSON.
"""

from __future__ import annotations

import pytest
from django.test import Client

from project.availability import server_error

from ..factories import PaymentLinkFactory
from ..payments.test_webhooks import database_down

pytestmark = pytest.mark.django_db(transaction=True)


def unavailable(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/paylinks/payment/", "/admin/paylinks/paymentlink/add/", "/cms/"],
)
def test_console_pages_answer_a_503_page(alice, path: str) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(alice)  # a session in the database, which is about to go away

    with database_down():
        response = client.get(path)

    unavailable(response)
    assert response["Content-Type"].startswith("text/html")
    assert "Paylinks is briefly unavailable" in response.content.decode()


def test_the_sandbox_checkout_page_answers_a_503_page(acme) -> None:
    PaymentLinkFactory(merchant=acme)
    client = Client(raise_request_exception=False)

    with database_down():
        response = client.get("/sandbox/checkout/cs_test_0123456789abcdef")

    unavailable(response)
    assert "briefly unavailable" in response.content.decode()


def test_a_post_while_the_database_is_down_answers_503(alice) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    with database_down():
        response = client.post("/admin/paylinks/paymentlink/add/", {"title": "x"})
    unavailable(response)


def test_the_api_still_answers_in_json() -> None:
    client = Client(raise_request_exception=False)
    with database_down():
        response = client.get("/api/v1/public/checkout/cs_test_0123456789abcdef")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_other_errors_are_not_reported_as_unavailable(client) -> None:  # type: ignore[no-untyped-def]
    """Only an unreachable database is a 503: the page for other failures stays 500."""
    request = client.get("/").wsgi_request
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_error(request)
    assert response.status_code == 500
