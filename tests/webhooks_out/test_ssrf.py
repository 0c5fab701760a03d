"""The SSRF guard: on save and again at connect time."""

from __future__ import annotations

import socket

import pytest
from django.core.exceptions import ValidationError

from paylinks.models import Delivery
from paylinks.notifications import delivery, ssrf
from paylinks.services.links import payment_link_deactivate
from paylinks.services.webhook_endpoints import endpoint_create, endpoint_update

from ..factories import PaymentLinkFactory

EVENTS = ["link.deactivated"]


@pytest.fixture
def guarded(settings):  # type: ignore[no-untyped-def]
    settings.PAYLINKS_WEBHOOK_ALLOW_PRIVATE = False
    settings.PAYLINKS_WEBHOOK_ALLOW_HTTP = False


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost:8443/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://[fd00:ec2::254]/", "metadata"),
        ("https://[::1]/hook", "loopback"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://93.184.215.14/hook", "https"),
        ("ftp://example.com/hook", "https"),
        ("https://user:pw@example.com/hook", "user name"),
    ],
)
def test_refused_on_save(db, guarded, acme, alice, url, why) -> None:
    with pytest.raises(ValidationError) as refused:
        endpoint_create(merchant=acme, actor=alice, url=url, events=EVENTS)
    assert why in str(refused.value)


def test_metadata_address_refused_even_when_private_allowed(db, settings, acme, alice) -> None:
    settings.PAYLINKS_WEBHOOK_ALLOW_PRIVATE = True
    with pytest.raises(ValidationError, match="metadata"):
        endpoint_create(merchant=acme, actor=alice, url="https://169.254.169.254/", events=EVENTS)


def test_public_address_accepted(guarded) -> None:
    target = ssrf.check_url("https://93.184.215.14:8443/hook?x=1")
    assert (target.address, target.port, target.path) == ("93.184.215.14", 8443, "/hook?x=1")


def test_dns_rebinding_refused_at_connect_time(
    transactional_db, settings, acme, alice, receiver, monkeypatch
) -> None:
    """Saved while the name resolved to a public address; by the time the worker sends,
    it resolves to 127.0.0.1. The worker checks again and refuses to connect."""
    settings.PAYLINKS_WEBHOOK_ALLOW_PRIVATE = False
    port = receiver.url.split(":")[2].split("/")[0]
    answers = {"rebind.test": "93.184.215.14"}
    real = socket.getaddrinfo

    def resolver(host, port_, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], int(port_)))]
        return real(host, port_, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    endpoint_create(merchant=acme, actor=alice, url=f"http://rebind.test:{port}/h", events=EVENTS)
    answers["rebind.test"] = "127.0.0.1"  # the attacker's DNS now answers loopback
    payment_link_deactivate(link=PaymentLinkFactory(merchant=acme), actor=alice)
    assert delivery.drain() == {"retrying": 1}
    row = Delivery.objects.get()
    assert "loopback" in row.error and row.status_code is None
    assert receiver.requests == []


def test_update_checks_the_new_url(db, guarded, settings, acme, alice) -> None:
    settings.PAYLINKS_WEBHOOK_ALLOW_PRIVATE = True
    issued = endpoint_create(merchant=acme, actor=alice, url="https://10.0.0.5/h", events=EVENTS)
    settings.PAYLINKS_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError, match="private"):
        endpoint_update(
            endpoint=issued.endpoint, actor=alice, url="https://10.0.0.6/h", events=EVENTS
        )
