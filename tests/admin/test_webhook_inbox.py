"""The webhook inbox in the console: platform staff read it, superusers reprocess."""

from __future__ import annotations

import pytest

from paylinks.models import AuditEntry, User, WebhookEvent

from .conftest import ADMIN

pytestmark = pytest.mark.django_db

INBOX = f"{ADMIN}/webhookevent/"


@pytest.fixture
def root(db) -> User:  # type: ignore[no-untyped-def]
    return User.objects.create_superuser(email="root@paylinks.test", password="x" * 12)


@pytest.fixture
def failed_event(db) -> WebhookEvent:  # type: ignore[no-untyped-def]
    return WebhookEvent.objects.create(
        gateway="sandbox",
        event_id="evt_test_inbox_1",
        type="customer.created",
        object_id="cus_1",
        payload={"id": "evt_test_inbox_1", "type": "customer.created", "data": {"object": {}}},
        status=WebhookEvent.Status.FAILED,
        attempts=3,
        last_error="RuntimeError: the gateway timed out",
    )


def reprocess(client, event: WebhookEvent):  # type: ignore[no-untyped-def]
    return client.post(f"{INBOX}{event.pk}/reprocess/", {"_form_submitted": "on"})


def test_merchants_do_not_see_the_inbox(console, alice, failed_event) -> None:
    client = console(alice)
    assert client.get(INBOX).status_code == 403
    assert client.get(f"{INBOX}{failed_event.pk}/change/").status_code == 403
    assert reprocess(client, failed_event).status_code == 403
    assert INBOX not in client.get("/admin/").content.decode()


def test_support_staff_read_but_do_not_reprocess(console, sam, failed_event) -> None:
    client = console(sam)
    listing = client.get(INBOX).content.decode()
    assert "evt_test_inbox_1" in listing and "Failed, will retry" in listing
    page = client.get(f"{INBOX}{failed_event.pk}/change/").content.decode()
    assert "the gateway timed out" in page
    assert "/reprocess/" not in page
    assert reprocess(client, failed_event).status_code == 403
    failed_event.refresh_from_db()
    assert failed_event.status == WebhookEvent.Status.FAILED


def test_superuser_reprocesses_an_event(console, root, failed_event) -> None:
    client = console(root)
    assert INBOX in client.get("/admin/").content.decode()
    page = client.get(f"{INBOX}{failed_event.pk}/change/").content.decode()
    assert f"{failed_event.pk}/reprocess/" in page
    response = reprocess(client, failed_event)
    assert response.status_code == 302
    failed_event.refresh_from_db()
    assert (failed_event.status, failed_event.last_error, failed_event.attempts) == (
        WebhookEvent.Status.IGNORED,
        "",
        4,
    )
    shown = client.get(response["Location"]).content.decode()
    assert "not an event Paylinks acts on" in shown


def test_inbox_search_by_event_id(console, sam, failed_event) -> None:
    WebhookEvent.objects.create(
        gateway="sandbox", event_id="evt_other", type="charge.refunded", payload={}
    )
    listing = console(sam).get(INBOX, {"q": "evt_other"}).content.decode()
    assert "evt_other" in listing and "evt_test_inbox_1" not in listing


def test_reprocessing_is_in_the_audit_log_for_platform_staff(
    console, root, sam, alice, failed_event
) -> None:
    reprocess(console(root), failed_event)
    entry = AuditEntry.objects.get(action="webhook.reprocessed")
    assert (entry.actor, entry.merchant, entry.object_type, entry.object_id) == (
        root,
        None,
        "paylinks.webhookevent",
        str(failed_event.pk),
    )
    assert entry.changes["outcome"].startswith("ignored:")
    audit = f"{ADMIN}/auditentry/"
    listing = console(sam).get(audit, {"action": "webhook.reprocessed"}).content.decode()
    assert "Webhook event reprocessed" in listing and "root@paylinks.test" in listing
    assert "root@paylinks.test" not in console(alice).get(audit).content.decode()
    # Support staff's attempt is refused and leaves no entry.
    assert reprocess(console(sam), failed_event).status_code == 403
    assert AuditEntry.objects.filter(action="webhook.reprocessed").count() == 1
