"""Raw gateway events at rest: the inbox's and the sandbox's payloads are Fernet tokens,
read back strictly, re-encrypted by ``rotate_keys``, and encrypted by the migration for
rows stored before it."""

from __future__ import annotations

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from paylinks.crypto import DecryptionError
from paylinks.gateways import WebhookEvent as GatewayEvent
from paylinks.gateways.sandbox.models import SandboxEvent
from paylinks.models import Payment, User, WebhookEvent
from paylinks.privacy import mask_name
from paylinks.selectors.payments import payments_with_customer_email
from paylinks.webhooks.handlers import as_event
from paylinks.webhooks.inbox import store_event

from ..factories import PaymentFactory

EMAIL = "ottilie.brackwater@example.test"
NAME = "Ottilie Brackwater"


def completed_event(event_id: str = "evt_test_at_rest_1") -> GatewayEvent:
    session = {
        "id": "cs_test_at_rest",
        "object": "checkout.session",
        "customer_details": {"email": EMAIL, "name": NAME, "address": {"city": "Brackwater"}},
    }
    payload = {
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "created": 1_700_000_000,
        "data": {"object": session},
    }
    return GatewayEvent(
        id=event_id,
        type="checkout.session.completed",
        created=1_700_000_000,
        data_object=session,
        payload=payload,
    )


def raw(table: str, column: str = "payload") -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY 1")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def assert_token(value: object) -> None:
    assert isinstance(value, str) and value.startswith("gAAAAA"), value
    assert "brackwater" not in value.lower() and "@" not in value


@pytest.mark.django_db
def test_the_inbox_stores_the_payload_encrypted_and_reads_it_back() -> None:
    event = completed_event()
    assert store_event("sandbox", event) is True
    (stored,) = raw("paylinks_webhookevent")
    assert_token(stored)
    # The routing columns stay readable: duplicates, the admin's search, the handlers.
    row = WebhookEvent.objects.get()
    assert (row.gateway, row.event_id, row.type, row.object_id) == (
        "sandbox",
        event.id,
        event.type,
        "cs_test_at_rest",
    )
    assert row.payload == event.payload
    assert as_event(row).data_object["customer_details"]["email"] == EMAIL
    assert store_event("sandbox", event) is False  # a duplicate is still recognised


@pytest.mark.django_db
def test_the_sandbox_outbox_stores_the_payload_encrypted() -> None:
    payload = completed_event().payload
    SandboxEvent.objects.create(id="evt_sbx_at_rest", type=payload["type"], payload=payload)
    (stored,) = raw("sandbox_sandboxevent")
    assert_token(stored)
    assert SandboxEvent.objects.get().payload == payload


@pytest.mark.django_db
def test_a_payload_no_key_decrypts_fails_loudly(settings) -> None:
    store_event("sandbox", completed_event())
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    with pytest.raises(DecryptionError, match=r"paylinks\.WebhookEvent\.payload"):
        WebhookEvent.objects.get()


@pytest.mark.django_db
def test_platform_staff_read_the_decrypted_payload_with_the_customer_masked() -> None:
    store_event("sandbox", completed_event())
    root = User.objects.create_superuser(email="root@paylinks.test", password="x" * 12)
    client = Client()
    client.force_login(root)
    page = client.get(f"/admin/paylinks/webhookevent/{WebhookEvent.objects.get().pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    # Decrypted (the session id inside the payload shows), and the inbox belongs to no
    # merchant, so its customer details are masked for everyone (docs/security.md).
    assert "cs_test_at_rest" in html
    assert NAME not in html and EMAIL not in html
    assert mask_name(NAME) in html


@pytest.mark.django_db
def test_rotate_keys_re_encrypts_the_payloads(settings) -> None:
    store_event("sandbox", completed_event())
    payload = completed_event().payload
    SandboxEvent.objects.create(id="evt_sbx_rotate", type=payload["type"], payload=payload)
    before = raw("paylinks_webhookevent") + raw("sandbox_sandboxevent")
    new = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [new, settings.FIELD_ENCRYPTION_KEY[0]]
    out = io.StringIO()
    call_command("rotate_keys", stdout=out)
    assert "paylinks.WebhookEvent: 1 row(s)" in out.getvalue()
    assert "sandbox.SandboxEvent: 1 row(s)" in out.getvalue()
    after = raw("paylinks_webhookevent") + raw("sandbox_sandboxevent")
    assert set(after).isdisjoint(before)
    settings.FIELD_ENCRYPTION_KEY = [new]  # the old key is no longer needed
    assert WebhookEvent.objects.get().payload == payload
    assert SandboxEvent.objects.get().payload == payload


# --- the migrations, applied to rows written before them -------------------------------
BEFORE = [("paylinks", "0006_membership_team_member"), ("sandbox", "0002_strict_encrypted_fields")]


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return [key for key in executor.loader.graph.leaf_nodes() if key[0] in ("paylinks", "sandbox")]


@pytest.mark.django_db(transaction=True)
def test_the_migrations_encrypt_existing_events_hash_existing_emails_and_reverse(acme) -> None:
    store_event("sandbox", completed_event())
    payload = completed_event().payload
    SandboxEvent.objects.create(id="evt_sbx_migrate", type=payload["type"], payload=payload)
    payment = PaymentFactory(link__merchant=acme, customer_email=EMAIL)
    try:
        migrate(BEFORE)
        # Unapplied: the payloads are plain JSON again, as they were stored before.
        for table in ("paylinks_webhookevent", "sandbox_sandboxevent"):
            (value,) = raw(table)
            stored = value if isinstance(value, dict) else json.loads(value)
            assert stored["data"]["object"]["customer_details"]["email"] == EMAIL
        migrate(latest())
    finally:
        migrate(latest())  # whatever happened, leave the schema as the other tests need it
    # Applied to those rows: encrypted, readable, and the payment's e-mail hashed.
    for table in ("paylinks_webhookevent", "sandbox_sandboxevent"):
        assert_token(raw(table)[0])
    assert WebhookEvent.objects.get().payload == payload
    assert SandboxEvent.objects.get().payload == payload
    assert list(payments_with_customer_email(EMAIL)) == [Payment.objects.get(pk=payment.pk)]
