"""Webhook endpoints in the console: owners and managers manage them (the secret shown
once), viewers read, support staff read across merchants, another merchant's endpoint
or delivery answers 404; every change is audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from paylinks.models import AuditEntry, Delivery, OutgoingEvent, WebhookEndpoint
from paylinks.services.links import payment_link_deactivate
from paylinks.services.webhook_endpoints import endpoint_create

from ..factories import PaymentLinkFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/paylinks"
SECRET = re.compile(r"data-endpoint-secret>(whsec_[A-Za-z0-9+/=]+)<")
EVENTS = ["payment.succeeded", "link.deactivated"]


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def acme_endpoint(acme, alice) -> WebhookEndpoint:  # type: ignore[no-untyped-def]
    return endpoint_create(
        merchant=acme, actor=alice, url="https://93.184.215.14/hooks", events=EVENTS
    ).endpoint


@pytest.fixture
def acme_delivery(acme, alice, acme_endpoint) -> Delivery:  # type: ignore[no-untyped-def]
    payment_link_deactivate(link=PaymentLinkFactory(merchant=acme), actor=alice)
    return Delivery.objects.get()


def test_manager_adds_an_endpoint_and_sees_the_secret_once(acme, mallory) -> None:
    body = {
        "url": "https://93.184.215.14/hooks",
        "description": "Fulfilment",
        "events": ["payment.succeeded"],
        "_save": "Save",
    }
    response = signed_in(mallory).post(f"{ADMIN}/webhookendpoint/add/", body)
    assert response.status_code == 200, response.content[:2000]
    assert "no-store" in response["Cache-Control"]
    secret = SECRET.search(response.content.decode()).group(1)
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.merchant, endpoint.secret, endpoint.events) == (
        acme,
        secret,
        ["payment.succeeded"],
    )
    detail = signed_in(mallory).get(f"{ADMIN}/webhookendpoint/{endpoint.pk}/change/")
    listing = signed_in(mallory).get(f"{ADMIN}/webhookendpoint/")
    assert detail.status_code == listing.status_code == 200
    assert secret not in detail.content.decode() and secret not in listing.content.decode()
    assert AuditEntry.objects.filter(action="webhook_endpoint.created").count() == 1


def test_a_private_url_is_a_form_error_not_a_500(acme, alice, settings) -> None:
    settings.PAYLINKS_WEBHOOK_ALLOW_PRIVATE = False
    body = {"url": "https://10.0.0.1/h", "events": ["payment.succeeded"], "_save": "Save"}
    response = signed_in(alice).post(f"{ADMIN}/webhookendpoint/add/", body)
    assert response.status_code == 200
    assert "private network address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotate_shows_a_new_secret_and_keeps_the_old_one_signing(alice, acme_endpoint) -> None:
    old = acme_endpoint.secret
    url = f"{ADMIN}/webhookendpoint/{acme_endpoint.pk}/rotate-secret/"
    assert signed_in(alice).get(url).status_code == 200
    response = signed_in(alice).post(url)
    new = SECRET.search(response.content.decode()).group(1)
    acme_endpoint.refresh_from_db()
    assert new != old and acme_endpoint.secret == new and acme_endpoint.previous_secret == old
    assert acme_endpoint.previous_secret_expires_at > timezone.now() + timedelta(hours=23)
    assert AuditEntry.objects.filter(action="webhook_endpoint.secret_rotated").exists()


def test_send_test_toggle_replay_and_resend(alice, acme_endpoint, acme_delivery) -> None:
    client = signed_in(alice)
    base = f"{ADMIN}/webhookendpoint/{acme_endpoint.pk}"
    assert client.post(f"{base}/send-test/").status_code == 302
    assert Delivery.objects.filter(event__type="test").count() == 1
    assert client.post(f"{base}/toggle/").status_code == 302
    acme_endpoint.refresh_from_db()
    assert not acme_endpoint.enabled
    client.post(f"{base}/toggle/")
    since = timezone.localtime() - timedelta(hours=1)
    response = client.post(
        f"{base}/replay/",
        {"since_0": since.strftime("%Y-%m-%d"), "since_1": since.strftime("%H:%M:%S")},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    acme_delivery.refresh_from_db()
    Delivery.objects.filter(pk=acme_delivery.pk).update(status="failed")
    assert client.post(f"{ADMIN}/delivery/{acme_delivery.pk}/resend/").status_code == 302
    acme_delivery.refresh_from_db()
    assert acme_delivery.status == "pending"
    log = client.get(f"{ADMIN}/delivery/?endpoint__id__exact={acme_endpoint.pk}")
    assert log.status_code == 200 and "link.deactivated" in log.content.decode()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "webhook_endpoint.test_sent",
        "webhook_endpoint.disabled",
        "webhook_endpoint.enabled",
        "webhook_endpoint.replayed",
        "webhook_endpoint.delivery_resent",
    } <= actions


def test_another_merchants_endpoint_and_deliveries_answer_404(
    bob, acme_endpoint, acme_delivery
) -> None:
    client = signed_in(bob)
    for path in (
        f"/webhookendpoint/{acme_endpoint.pk}/change/",
        f"/webhookendpoint/{acme_endpoint.pk}/rotate-secret/",
        f"/webhookendpoint/{acme_endpoint.pk}/send-test/",
        f"/webhookendpoint/{acme_endpoint.pk}/replay/",
        f"/delivery/{acme_delivery.pk}/change/",
        f"/delivery/{acme_delivery.pk}/resend/",
        f"/delivery/?endpoint__id__exact={acme_endpoint.pk}",
    ):
        assert client.get(ADMIN + path).status_code == 404, path
    assert client.post(f"{ADMIN}/webhookendpoint/{acme_endpoint.pk}/send-test/").status_code == 404
    listing = client.get(f"{ADMIN}/webhookendpoint/").content.decode()
    assert acme_endpoint.url not in listing
    assert OutgoingEvent.objects.filter(type="test").count() == 0


def test_viewer_and_support_read_but_do_not_change(
    victor, sam, acme_endpoint, acme_delivery
) -> None:
    for person in (victor, sam):
        client = signed_in(person)
        page = client.get(f"{ADMIN}/webhookendpoint/{acme_endpoint.pk}/change/")
        assert page.status_code == 200
        assert client.get(f"{ADMIN}/delivery/{acme_delivery.pk}/change/").status_code == 200
        assert client.post(
            f"{ADMIN}/webhookendpoint/{acme_endpoint.pk}/rotate-secret/"
        ).status_code in (403, 404)
        assert client.post(f"{ADMIN}/delivery/{acme_delivery.pk}/resend/").status_code in (403, 404)
    acme_endpoint.refresh_from_db()
    assert acme_endpoint.secret_rotated_at is None


def test_members_opt_in_to_payment_emails_themselves_owners_for_anyone(
    alice, mallory, victor, bob
) -> None:
    from paylinks.models import Membership

    victors = Membership.objects.get(user=victor)
    url = f"{ADMIN}/membership/{victors.pk}/notifications/"
    assert signed_in(victor).get(url).status_code == 200
    assert signed_in(victor).post(url, {"notify_payments": "on"}).status_code == 302
    victors.refresh_from_db()
    assert (victors.notify_payments, victors.notify_failures) == (True, False)
    signed_in(alice).post(url, {"notify_failures": "on"})  # an owner may set it
    victors.refresh_from_db()
    assert (victors.notify_payments, victors.notify_failures) == (False, True)
    assert signed_in(mallory).post(url, {"notify_payments": "on"}).status_code in (403, 404)
    assert signed_in(bob).get(url).status_code == 404
    victors.refresh_from_db()
    assert victors.notify_failures and not victors.notify_payments
    assert AuditEntry.objects.filter(action="member.notifications_changed").count() == 2
