"""The customer e-mail search hash beside the encrypted e-mail: written by the services,
backfilled for payments stored before it existed, re-computed after a key change."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from paylinks.models import Payment
from paylinks.privacy import email_lookup_hash
from paylinks.services.payments import checkout_start

from ..factories import PaymentFactory, PaymentLinkFactory


@pytest.mark.django_db
def test_a_checkout_stores_the_hash_beside_the_encrypted_email(acme) -> None:
    link = PaymentLinkFactory(merchant=acme)
    started = checkout_start(slug=link.slug, email=" Ada@Example.test")
    stored = Payment.objects.get(pk=started.payment.pk)
    assert stored.customer_email_hash == email_lookup_hash("ada@example.test")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customer_email, customer_email_hash FROM paylinks_payment WHERE id = %s",
            [stored.pk],
        )
        raw_email, raw_hash = cursor.fetchone()
    assert "ada" not in raw_email.lower() and raw_hash == stored.customer_email_hash


@pytest.mark.django_db
def test_rehash_follows_a_new_key(acme, settings) -> None:
    payment = PaymentFactory(link__merchant=acme, customer_email="ada@example.test")
    blank = PaymentFactory(link__merchant=acme)
    settings.PAYLINKS_EMAIL_HASH_KEY = "a brand new key"
    out = io.StringIO()
    call_command("rehash_customer_emails", stdout=out)
    assert "Payments re-hashed: 1" in out.getvalue()
    payment.refresh_from_db()
    blank.refresh_from_db()
    assert payment.customer_email_hash == email_lookup_hash("ada@example.test")
    assert blank.customer_email_hash == ""


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_payments_stored_before_it(acme) -> None:
    payment = PaymentFactory(link__merchant=acme, customer_email="grace@example.test")
    Payment.objects.filter(pk=payment.pk).update(customer_email_hash="")
    executor = MigrationExecutor(connection)
    # Back to just before the field, then forward to the latest state again.
    executor.migrate([("paylinks", "0006_membership_team_member")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    payment.refresh_from_db()
    assert payment.customer_email_hash == email_lookup_hash("grace@example.test")
