"""paylinks.fastsql: the hot paths' statements, built once, must behave exactly like the ORM's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.forms.models import model_to_dict
from django.utils import timezone

from paylinks import fastsql
from paylinks.crypto import DecryptionError
from paylinks.gateways.sandbox.models import SandboxSession
from paylinks.models import Payment, PaymentEvent, PaymentLink
from paylinks.models.payments import COMPLETED_STATUSES
from paylinks.selectors.links import PUBLIC_LINK_FIELDS, link_get_for_checkout, link_get_public

from ..factories import PaymentLinkFactory

pytestmark = pytest.mark.django_db

EMAIL = "grace.hopper@example.test"
EXPIRES = timezone.now() + timedelta(minutes=30)


def payment_for(link: PaymentLink, **extra: object) -> Payment:
    return Payment(
        merchant=link.merchant,
        link=link,
        amount=4200,
        currency="EUR",
        gateway="sandbox",
        customer_email=EMAIL,
        customer_name="Grace Hopper",
        expires_at=EXPIRES,
        **extra,
    )


def stored(pk: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM paylinks_payment WHERE id = %s", [pk])
        return cursor.fetchone()


class TestInsert:
    def test_writes_the_row_save_would_write(self, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        fast = fastsql.insert(payment_for(link))
        slow = payment_for(link)
        slow.save()
        assert fast.pk is not None and fast.pk != slow.pk
        assert fast._state.adding is False and fast._state.db == "default"
        a, b = Payment.objects.get(pk=fast.pk), Payment.objects.get(pk=slow.pk)
        differ = {"id", "public_id", "created_at", "updated_at"}
        assert {k: v for k, v in model_to_dict(a).items() if k not in differ} == {
            k: v for k, v in model_to_dict(b).items() if k not in differ
        }
        assert a.created_at is not None
        assert (a.customer_email, a.customer_name) == (EMAIL, "Grace Hopper")
        # Encrypted at rest like save() does: no plaintext in the row.
        assert not any(EMAIL in str(value) or "Hopper" in str(value) for value in stored(fast.pk))

    def test_a_unique_clash_raises_integrity_error(self, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        first = fastsql.insert(payment_for(link))
        with pytest.raises(IntegrityError), transaction.atomic():
            fastsql.insert(payment_for(link, public_id=first.public_id))
        assert Payment.objects.filter(public_id=first.public_id).count() == 1

    def test_string_primary_keys_and_related_rows(self, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        payment = fastsql.insert(payment_for(link))
        event = fastsql.insert(
            PaymentEvent(payment=payment, kind="created", to_status="pending", message="hi")
        )
        assert PaymentEvent.objects.get(pk=event.pk).payment_id == payment.pk
        session = fastsql.insert(
            SandboxSession(
                amount_total=100,
                currency="USD",
                title="T",
                client_reference_id=payment.public_id,
                success_url="https://example.test/ok",
                cancel_url="https://example.test/no",
                expires_at=timezone.now() + timedelta(hours=1),
                idempotency_key="key-1",
                customer_email=EMAIL,
                metadata={"order": "A-17", "items": [1, 2]},
            )
        )
        assert session.pk.startswith("cs_")
        read = SandboxSession.objects.get(pk=session.pk)
        assert read.customer_email == EMAIL
        assert read.metadata == {"order": "A-17", "items": [1, 2]}

    def test_expressions_go_through_save(self, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        payment = fastsql.insert(payment_for(link))
        copy = fastsql.insert(
            PaymentEvent(payment=payment, kind="note", to_status="pending", message="x")
        )
        # An already saved object is not "new": insert() hands it to save(force_insert).
        with pytest.raises(IntegrityError), transaction.atomic():
            fastsql.insert(copy)
        # An expression needs the compiler: insert() hands it to save(), which writes it.
        computed = payment_for(link)
        computed.amount = Value(4300) + Value(7)  # type: ignore[assignment]
        fastsql.insert(computed)
        assert Payment.objects.get(pk=computed.pk).amount == 4307


class TestCompiledQuery:
    def test_reads_what_the_queryset_reads(self, acme) -> None:
        links = [
            PaymentLinkFactory(merchant=acme, payment_limit=3, metadata={"n": n}) for n in range(3)
        ]
        for link in links:
            got = link_get_public(link.slug)
            want = (
                PaymentLink.objects.select_related("merchant")
                .only(*PUBLIC_LINK_FIELDS)
                .get(slug=link.slug)
            )
            assert got is not None and got.pk == link.pk
            assert got.get_deferred_fields() == want.get_deferred_fields()
            for name in PUBLIC_LINK_FIELDS:
                if name.startswith("merchant__"):
                    field = name.removeprefix("merchant__")
                    assert getattr(got.merchant, field) == getattr(want.merchant, field)
                else:
                    assert getattr(got, name) == getattr(want, name)
            full = link_get_for_checkout(link.slug)
            assert full is not None
            assert model_to_dict(full) == model_to_dict(PaymentLink.objects.get(pk=link.pk))
            assert full.merchant.name == acme.name and full.metadata == link.metadata

    def test_unknown_slugs_and_odd_input_find_nothing(self, acme) -> None:
        PaymentLinkFactory(merchant=acme)
        assert link_get_public("nope") is None
        assert link_get_for_checkout("x" * 65) is None
        assert link_get_public("") is None
        assert link_get_public("'; DROP TABLE paylinks_paymentlink; --") is None
        assert PaymentLink.objects.count() == 1

    def test_encrypted_columns_decrypt_strictly(self, acme, settings) -> None:
        link = PaymentLinkFactory(merchant=acme)
        payment = fastsql.insert(payment_for(link))
        by_public_id = fastsql.CompiledQuery(
            lambda public_id: Payment.objects.filter(public_id=public_id)
        )
        found = by_public_id.first(payment.public_id)
        assert found is not None and found.customer_email == EMAIL
        settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
        with pytest.raises(DecryptionError):
            by_public_id.first(payment.public_id)

    def test_a_value_that_does_not_reach_the_sql_is_refused(self) -> None:
        ignores_its_value = fastsql.CompiledQuery(lambda slug: PaymentLink.objects.all())
        with pytest.raises(TypeError, match="exactly once"):
            ignores_its_value.first("anything")

    def test_annotations_arrive_as_attributes_like_the_querysets(self, acme, globex) -> None:
        from paylinks.selectors.links import link_get_for_merchant, with_state

        link = PaymentLinkFactory(merchant=acme, payment_limit=5)
        for status in ("succeeded", "succeeded", "failed", "pending", "refunded"):
            payment = payment_for(link)
            payment.status = status
            fastsql.insert(payment)
        want = with_state(PaymentLink.objects.filter(pk=link.pk)).get()
        got = link_get_for_merchant(acme, link.slug)
        assert got is not None and got.merchant.pk == acme.pk
        assert got.completed_count == want.completed_count  # type: ignore[attr-defined]
        assert (
            got.completed_count
            == Payment.objects.filter(  # type: ignore[attr-defined]
                link=link, status__in=COMPLETED_STATUSES
            ).count()
        )
        assert link_get_for_merchant(globex, link.slug) is None
        empty = PaymentLinkFactory(merchant=acme)
        found = link_get_for_merchant(acme, empty.slug)
        assert found is not None and found.completed_count == 0  # type: ignore[attr-defined]


@pytest.mark.postgres
class TestPreparedStatements:
    """On PostgreSQL the compiled statements are prepared once per connection (psycopg's
    server-side binding); with DATABASE_PREPARED_STATEMENTS=false nothing is."""

    @staticmethod
    def prepared() -> list[str]:
        """This session's prepared statements (earlier tests on the same connection may
        have prepared some of them already)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements ORDER BY statement")
            return [row[0] for row in cursor.fetchall()]

    @staticmethod
    def as_sent(sql: str) -> str:
        """The statement's text as psycopg prepares it: ``%s`` become ``$1``, ``$2``..."""
        numbers = iter(range(1, sql.count("%s") + 1))
        return re.sub("%s", lambda _: f"${next(numbers)}", sql)

    def test_reads_and_inserts_run_as_prepared_statements(self, acme) -> None:
        from paylinks.selectors.links import _CHECKOUT_LINK

        link = PaymentLinkFactory(merchant=acme, metadata={"k": ["v", 1]})
        for _ in range(3):  # the same statement, prepared once for the connection
            got = link_get_for_checkout(link.slug)
            assert got is not None
            assert model_to_dict(got) == model_to_dict(PaymentLink.objects.get(pk=link.pk))
            assert got.expires_at == link.expires_at and got.metadata == {"k": ["v", 1]}
        payment = fastsql.insert(payment_for(link))
        assert Payment.objects.get(pk=payment.pk).customer_email == EMAIL
        assert link_get_for_checkout("no-such-link") is None
        statements = self.prepared()
        read = self.as_sent(_CHECKOUT_LINK._compiled["default"].sql)
        assert statements.count(read) == 1, statements
        assert sum(s.startswith('INSERT INTO "paylinks_payment" (') for s in statements) == 1

    def test_off_when_the_connection_does_not_allow_them(self, acme) -> None:
        link = PaymentLinkFactory(merchant=acme)
        connection.ensure_connection()
        raw = connection.connection
        threshold, raw.prepare_threshold = raw.prepare_threshold, None
        try:
            before = self.prepared()
            assert link_get_for_checkout(link.slug) is not None
            fastsql.insert(payment_for(link))
            assert self.prepared() == before
        finally:
            raw.prepare_threshold = threshold


@pytest.mark.parametrize(("value", "threshold"), [("", "5"), ("true", "5"), ("false", "None")])
def test_database_prepared_statements_setting(value: str, threshold: str) -> None:
    """DATABASE_PREPARED_STATEMENTS decides psycopg's prepare_threshold on PostgreSQL
    (None: nothing is prepared, for a pooler that cannot keep prepared statements)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "DATABASE_PREPARED_STATEMENTS"}
    env |= {
        "PAYLINKS_SKIP_DOTENV": "1",
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "project.settings",
    }
    env |= {"DATABASE_URL": "postgres://paylinks@db.invalid:5432/paylinks"}
    if value:
        env["DATABASE_PREPARED_STATEMENTS"] = value
    shown = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; "
         "print(settings.DATABASES['default']['OPTIONS'].get('prepare_threshold'))"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    assert shown.stdout.strip() == threshold
