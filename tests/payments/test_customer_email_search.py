"""Finding a customer's payments by exact e-mail through the keyed hash stored beside the
encrypted e-mail: kept in step wherever the e-mail is written, keyed, rotatable, and an
index lookup rather than a decryption of every row."""

from __future__ import annotations

import io
import secrets

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from paylinks.crypto import email_search_hash
from paylinks.gateways import CheckoutSession
from paylinks.models import Payment
from paylinks.selectors.payments import payments_with_customer_email
from paylinks.services.payments import payment_sync

from ..factories import PaymentFactory, PaymentLinkFactory

pytestmark = pytest.mark.django_db

EMAIL = "Wilhelmina.Fairweather@Example.test"


def found(email: str, **kwargs: object) -> list[str]:
    return sorted(p.public_id for p in payments_with_customer_email(email, **kwargs))  # type: ignore[arg-type]


def stored_hashes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_email_hash FROM paylinks_payment ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def test_a_checkout_started_with_an_email_is_found_by_it(acme, settings) -> None:
    settings.PAYLINKS_GATEWAY = "sandbox"
    settings.PAYLINKS_RATE_LIMITS = {}
    link = PaymentLinkFactory(merchant=acme)
    response = Client().post(
        f"/api/v1/public/links/{link.slug}/checkout",
        {"email": EMAIL},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    public_id = response.json()["payment_id"]
    # Letter case and surrounding spaces do not matter; another address finds nothing.
    assert found(EMAIL) == found("  wilhelmina.fairweather@example.TEST ") == [public_id]
    assert found("wilhelmina.fairweather@example.org") == []
    # What is stored reveals nothing of the address.
    (stored,) = stored_hashes()
    assert len(stored) == 64 and "fairweather" not in stored.lower()


def test_an_email_the_gateway_reports_later_is_found_by_it(acme) -> None:
    """The customer typed the e-mail on the gateway's page: ``payment_sync`` records it."""
    payment = PaymentFactory(link__merchant=acme, customer_email="")
    assert stored_hashes() == [""] and found(EMAIL) == []
    session = CheckoutSession(
        id=payment.gateway_session_id,
        status="complete",
        payment_status="paid",
        amount_total=payment.amount,
        currency=payment.currency,
        customer_email=EMAIL,
    )
    payment_sync(payment=payment, session=session)
    assert found(EMAIL) == [payment.public_id]


def test_every_way_of_writing_a_payment_keeps_the_hash_in_step(acme) -> None:
    link = PaymentLinkFactory(merchant=acme)
    created = PaymentFactory(link=link, customer_email=EMAIL)
    # bulk_create (the demo data) and save(update_fields=...) as well as save().
    bulk = Payment.objects.bulk_create(
        [PaymentFactory.build(link=link, customer_email=EMAIL, gateway_session_id="cs_bulk")]
    )
    assert found(EMAIL) == sorted([created.public_id, bulk[0].public_id])
    created.customer_email = "someone.else@example.test"
    created.save(update_fields=["customer_email"])
    assert found(EMAIL) == [bulk[0].public_id]
    assert found("someone.else@example.test") == [created.public_id]
    created.customer_email = ""
    created.save()
    assert found("someone.else@example.test") == []


def test_the_search_can_be_narrowed_to_what_the_caller_may_see(acme, globex) -> None:
    mine = PaymentFactory(link__merchant=acme, customer_email=EMAIL)
    PaymentFactory(link__merchant=globex, customer_email=EMAIL)
    assert len(found(EMAIL)) == 2
    assert found(EMAIL, payments=Payment.objects.filter(merchant=acme)) == [mine.public_id]


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_search_finds_nothing(acme, blank) -> None:
    PaymentFactory(link__merchant=acme, customer_email="")
    assert found(blank) == []


def test_the_hash_is_keyed_by_secret_key_or_a_dedicated_key(settings) -> None:
    settings.PAYLINKS_SEARCH_HASH_KEY = []
    under_secret_key = email_search_hash(EMAIL)
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    assert email_search_hash(EMAIL) != under_secret_key  # nobody without the key can compute it
    settings.PAYLINKS_SEARCH_HASH_KEY = [secrets.token_urlsafe(40)]
    dedicated = email_search_hash(EMAIL)
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    assert email_search_hash(EMAIL) == dedicated  # a dedicated key outlives SECRET_KEY changes


def test_a_rotated_secret_key_still_finds_old_payments_and_rotate_keys_rehashes(
    acme, settings
) -> None:
    settings.PAYLINKS_SEARCH_HASH_KEY = []
    payment = PaymentFactory(link__merchant=acme, customer_email=EMAIL)
    old_hash = stored_hashes()[0]
    # SECRET_KEY rotated the documented way: the old one kept as a fallback.
    old_secret, settings.SECRET_KEY = settings.SECRET_KEY, secrets.token_urlsafe(50)
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    assert found(EMAIL) == [payment.public_id]
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert "Re-hashed 1 customer e-mail(s)." in out.getvalue()
    assert stored_hashes() != [old_hash]
    settings.SECRET_KEY_FALLBACKS = []  # once re-hashed, the old key is not needed
    assert found(EMAIL) == [payment.public_id]
    call_command("rotate_keys", stdout=out)  # nothing left to re-hash
    assert out.getvalue().rstrip().endswith("Re-hashed 0 customer e-mail(s).")


def test_moving_to_a_dedicated_key_keeps_old_hashes_searchable_until_rehashed(
    acme, settings
) -> None:
    settings.PAYLINKS_SEARCH_HASH_KEY = []
    payment = PaymentFactory(link__merchant=acme, customer_email=EMAIL)
    settings.PAYLINKS_SEARCH_HASH_KEY = [secrets.token_urlsafe(40)]
    assert found(EMAIL) == [payment.public_id]
    call_command("rotate_keys", stdout=io.StringIO())
    assert stored_hashes() == [email_search_hash(EMAIL)]
    settings.SECRET_KEY = secrets.token_urlsafe(50)  # SECRET_KEY no longer matters
    assert found(EMAIL) == [payment.public_id]


@pytest.mark.postgres
def test_the_search_is_an_index_lookup_not_a_scan(acme, settings) -> None:
    settings.SECRET_KEY_FALLBACKS = [secrets.token_urlsafe(50)]  # searched with two hashes
    PaymentFactory.create_batch(3, link__merchant=acme, customer_email=EMAIL)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table: make the planner choose
        try:
            sql, params = payments_with_customer_email(EMAIL).query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("SET enable_seqscan = on")
    assert "payment_customer_email_hash" in plan, plan


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_payments_stored_before_it(acme) -> None:
    from django.db.migrations.executor import MigrationExecutor

    payment = PaymentFactory(link__merchant=acme, customer_email="grace@example.test")
    executor = MigrationExecutor(connection)
    # Back to just before the field, then forward to the latest state again.
    executor.migrate([("paylinks", "0008_webhook_event_retention")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    payment.refresh_from_db()
    assert payment.customer_email_hash == email_search_hash("grace@example.test")
