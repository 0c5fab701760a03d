"""No customer data in clear anywhere in the database after a real sandbox journey.

A customer pays through the public API and the sandbox's hosted page (one declined card,
then a good one), giving a distinctive e-mail, name, phone and billing address; the
signed webhooks are delivered over HTTP, processed, and the payment is refunded. Then
every row of every table in the database is read as text and searched for what the
customer typed.
"""

from __future__ import annotations

import pytest
from django.db import connection

from paylinks.gateways import get_gateway
from paylinks.models import Payment, PaymentStatus, WebhookEvent
from paylinks.services.refunds import refund_create
from paylinks.sweeper import sweep

from ..factories import PaymentLinkFactory
from ..payments.helpers import drain, pay, start_checkout

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

EMAIL = "Zephyrine.Quillfeather@Example.test"
NAME = "Zephyrine Quillfeather"
PHONE = "+45 31415926"
LINE1 = "42 Marchbanks Row"
CITY = "Xylophonville"
POSTCODE = "Q9Z 7QX"
# What must not appear, letter case ignored: each thing the customer typed, and the
# distinctive parts of it a partial copy could still show.
NEEDLES = ["zephyrine", "quillfeather", "31415926", "marchbanks", "xylophonville", "q9z 7qx"]


@pytest.fixture
def site(live_server, settings):  # type: ignore[no-untyped-def]
    """A live Paylinks whose sandbox delivers its webhooks to itself over HTTP."""
    settings.SITE_URL = live_server.url
    settings.PUBLIC_CHECKOUT_URL = "http://checkout.invalid"
    settings.PAYLINKS_GATEWAY = "sandbox"
    settings.PAYLINKS_RATE_LIMITS = {}
    get_gateway.cache_clear()
    yield live_server.url
    get_gateway.cache_clear()


def every_row_as_text() -> dict[str, list[str]]:
    """Every row of every table in the database (all schemas but the system ones), as
    PostgreSQL writes the row out as text: columns of every type, JSON included."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        tables = cursor.fetchall()
        rows: dict[str, list[str]] = {}
        for schema, table in tables:
            name = f"{connection.ops.quote_name(schema)}.{connection.ops.quote_name(table)}"
            cursor.execute(f"SELECT CAST(t AS text) FROM {name} AS t")  # noqa: S608
            rows[f"{schema}.{table}"] = [row[0] for row in cursor.fetchall()]
    return rows


def test_after_a_sandbox_journey_no_table_holds_the_customer_in_clear(site, acme, alice) -> None:
    link = PaymentLinkFactory(
        merchant=acme,
        amount=3900,
        currency="EUR",
        collect_name=True,
        collect_phone=True,
        collect_billing_address=True,
    )
    customer = {
        "email": EMAIL,
        "name": NAME,
        "phone": PHONE,
        "address_line1": LINE1,
        "address_city": CITY,
        "address_postal_code": POSTCODE,
        "address_country": "DK",
    }
    started = start_checkout(site, link.slug, email=EMAIL)
    assert pay(started.checkout_url, number="4000000000000002", **customer).status_code == 402
    assert pay(started.checkout_url, **customer).status_code == 303
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    refund_create(
        payment=payment,
        actor=alice,
        amount=1000,
        reason="requested_by_customer",
    )
    drain()
    sweep()
    drain()

    # The journey really collected and kept the customer's details (decrypted on read)...
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert (payment.customer_email, payment.customer_name) == (EMAIL, NAME)
    assert LINE1 in payment.billing_address and payment.customer_phone == PHONE
    completed = WebhookEvent.objects.get(type="checkout.session.completed")
    assert completed.payload["data"]["object"]["customer_details"]["name"] == NAME
    assert {"payment_intent.payment_failed", "charge.refunded"} <= set(
        WebhookEvent.objects.values_list("type", flat=True)
    )

    # ...and not one row of any table shows them in clear.
    found = {
        f"{table}: {needle}"
        for table, rows in every_row_as_text().items()
        for row in rows
        for needle in NEEDLES
        if row and needle in row.lower()
    }
    assert not found, "customer data in clear: " + ", ".join(sorted(found))
