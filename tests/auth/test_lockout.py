"""django-axes locks a username+IP pair out after repeated failures on allauth's form.

The lockout answers 429 with a page that explains itself, holds even against the right
password, spares the same person elsewhere and other people here, lifts after the
cool-off, and a successful sign-in clears the count.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from ..factories import PASSWORD
from ..mailbox import sent_mail
from .conftest import sign_in, signed_in_user_id, verified

pytestmark = pytest.mark.django_db

HERE = "198.51.100.7"
ELSEWHERE = "203.0.113.50"
WRONG = "definitely not it"


@pytest.fixture(autouse=True)
def lockout_settings(settings) -> None:  # type: ignore[no-untyped-def]
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def fail(client: Client, email: str, times: int) -> list[int]:
    return [sign_in(client, email, WRONG).status_code for _ in range(times)]


def test_five_failures_lock_the_pair_out_even_with_the_right_password(alice) -> None:
    verified(alice)
    client = Client(REMOTE_ADDR=HERE)
    assert fail(client, alice.email, 4) == [200] * 4  # form errors, not yet locked
    assert fail(client, alice.email, 1) == [429]
    response = sign_in(client, alice.email, PASSWORD)
    assert response.status_code == 429
    assert signed_in_user_id(client) is None
    page = response.content.decode()
    assert "Too many sign-in attempts" in page
    assert "15 minutes" in page
    assert "account/lockout.html" in [t.name for t in response.templates]


def test_the_count_ignores_letter_case(alice) -> None:
    verified(alice)
    client = Client(REMOTE_ADDR=HERE)
    fail(client, "ALICE@acme.test", 2)
    fail(client, "Alice@Acme.Test", 3)
    assert sign_in(client, alice.email, PASSWORD).status_code == 429


def test_the_same_person_from_another_address_is_not_locked(alice) -> None:
    verified(alice)
    fail(Client(REMOTE_ADDR=HERE), alice.email, 5)
    other = Client(REMOTE_ADDR=ELSEWHERE)
    assert sign_in(other, alice.email, PASSWORD).status_code == 302
    assert signed_in_user_id(other) == str(alice.pk)


def test_another_person_from_the_same_address_is_not_locked(alice, mallory) -> None:
    verified(mallory)
    client = Client(REMOTE_ADDR=HERE)
    fail(client, alice.email, 5)
    assert sign_in(client, mallory.email, PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_cool_off(alice) -> None:
    verified(alice)
    client = Client(REMOTE_ADDR=HERE)
    fail(client, alice.email, 5)
    with time_machine.travel(timezone.now() + timedelta(minutes=14)):
        assert sign_in(client, alice.email, PASSWORD).status_code == 429
    # every attempt during the lockout restarts the cool-off
    with time_machine.travel(timezone.now() + timedelta(minutes=14 + 16)):
        assert sign_in(client, alice.email, PASSWORD).status_code == 302
    assert signed_in_user_id(client) == str(alice.pk)


def test_a_successful_sign_in_resets_the_count(alice) -> None:
    verified(alice)
    client = Client(REMOTE_ADDR=HERE)
    fail(client, alice.email, 4)
    assert AccessAttempt.objects.get(username=alice.email).failures_since_start == 4
    assert sign_in(client, alice.email, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username=alice.email).exists()
    client.post("/accounts/logout/")
    assert fail(client, alice.email, 4) == [200] * 4  # a fresh count of five


def test_failures_are_counted_per_client_address_behind_a_trusted_proxy(alice, settings) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    verified(alice)
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for _ in range(5):
        # whatever the client puts first, the proxy's entry (the last) is what counts
        sign_in(proxy, alice.email, WRONG, HTTP_X_FORWARDED_FOR=f"1.2.3.{_}, {HERE}")
    locked = sign_in(proxy, alice.email, PASSWORD, HTTP_X_FORWARDED_FOR=f"9.9.9.9, {HERE}")
    assert locked.status_code == 429
    other = sign_in(proxy, alice.email, PASSWORD, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert other.status_code == 302


def test_forwarded_for_is_ignored_without_a_trusted_proxy(alice) -> None:
    verified(alice)
    client = Client(REMOTE_ADDR=HERE)
    for n in range(5):
        sign_in(client, alice.email, WRONG, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert sign_in(client, alice.email, PASSWORD).status_code == 429


@pytest.mark.parametrize("path", ["/admin/login/", "/cms/login/"])
def test_admin_login_posts_end_at_allauth_which_counts_failures(alice, path) -> None:
    verified(alice)
    client = Client(REMOTE_ADDR=HERE)
    response = client.post(path, {"username": alice.email, "password": WRONG}, follow=True)
    assert response.templates[0].name == "account/login.html"
    fail(client, alice.email, 5)
    assert sign_in(client, alice.email, PASSWORD).status_code == 429


def test_resetting_the_password_lifts_the_lockout(alice) -> None:
    import re

    verified(alice)
    client = Client(REMOTE_ADDR=HERE)
    fail(client, alice.email, 5)
    client.post("/accounts/password/reset/", {"email": alice.email})
    body = sent_mail()[-1].body
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", body)
    assert link
    form = client.get(link.group(1), follow=True)
    new = "a brand new long password"
    client.post(form.redirect_chain[-1][0], {"password1": new, "password2": new})
    assert sign_in(client, alice.email, new).status_code == 302


def test_a_shorter_forwarded_chain_than_the_count_is_never_a_500(alice, settings) -> None:
    # allauth's own reading raised ImproperlyConfigured (a 500) for this.
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    verified(alice)
    client = Client(REMOTE_ADDR="10.0.0.1")
    response = sign_in(client, alice.email, WRONG, HTTP_X_FORWARDED_FOR=HERE)
    assert response.status_code == 200
    assert AccessAttempt.objects.get(username=alice.email).ip_address == HERE


def test_behind_a_trusted_proxy_one_clients_failures_lock_out_nobody_else(alice, settings) -> None:
    """allauth's per-address limit on failed sign-ins counts each client, not the proxy:
    one client failing past it (any e-mail addresses) stops that client only."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "4/m/ip"}
    verified(alice)
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    attacker = "203.0.113.66"
    for n in range(6):
        sign_in(proxy, f"nobody{n}@acme.test", WRONG, HTTP_X_FORWARDED_FOR=attacker)
    limited = sign_in(proxy, alice.email, PASSWORD, HTTP_X_FORWARDED_FOR=attacker)
    assert signed_in_user_id(proxy) is None
    assert "Too many failed" in limited.content.decode()
    customer = Client(REMOTE_ADDR="10.0.0.1")
    assert sign_in(customer, alice.email, PASSWORD, HTTP_X_FORWARDED_FOR=HERE).status_code == 302
    assert signed_in_user_id(customer) == str(alice.pk)


def test_an_ipv6_client_is_locked_out_by_its_64(alice) -> None:
    verified(alice)
    for n in range(1, 6):
        sign_in(Client(REMOTE_ADDR=f"2001:db8:1:2::{n}"), alice.email, WRONG)
    same_network = Client(REMOTE_ADDR="2001:db8:1:2::99")
    assert sign_in(same_network, alice.email, PASSWORD).status_code == 429
    other_network = Client(REMOTE_ADDR="2001:db8:1:3::1")
    assert sign_in(other_network, alice.email, PASSWORD).status_code == 302


def test_a_proxy_django_believes_no_hop_of_is_reported_once(alice, settings, caplog) -> None:
    settings.DEBUG = False
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    client = Client(REMOTE_ADDR="10.0.0.1")
    with caplog.at_level("ERROR", logger="paylinks.proxies"):
        client.get("/accounts/login/")  # no header: nothing to say
        assert not caplog.records
        for _ in range(3):
            client.get("/accounts/login/", HTTP_X_FORWARDED_FOR=HERE)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2, messages  # one per setting, once per process
    assert any("PAYLINKS_SIGNIN_TRUSTED_PROXIES=0" in m for m in messages)
    assert any("PAYLINKS_TRUSTED_PROXIES=0" in m for m in messages)
    assert HERE not in " ".join(messages)  # the header's value is not logged


def test_a_believed_proxy_is_not_reported(settings, caplog) -> None:
    settings.DEBUG = False
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    with caplog.at_level("ERROR", logger="paylinks.proxies"):
        Client(REMOTE_ADDR="10.0.0.1").get("/accounts/login/", HTTP_X_FORWARDED_FOR=HERE)
    assert not caplog.records
