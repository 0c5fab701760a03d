"""MFA is required of owners, support staff and superusers when PAYLINKS_REQUIRE_MFA is on.

Without TOTP they reach nothing but allauth's pages; with TOTP every sign-in asks for a
code (or a recovery code, once); a session that never answered a code is asked for one,
however it began. Managers and viewers may use MFA but are not made to.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.test import Client
from django.utils import timezone

from paylinks import crypto
from paylinks.models import User

from ..factories import UserFactory
from .conftest import (
    enrol_totp,
    has_totp,
    sign_in,
    signed_in_user_id,
    totp_code,
    verified,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("require_mfa")]

CONSOLE_PAGES = [
    "/admin/",
    "/admin/paylinks/paymentlink/",
    "/admin/paylinks/paymentlink/add/",
    "/admin/paylinks/payment/",
    "/admin/paylinks/membership/",
    "/admin/logout/",
    "/cms/",
]


@pytest.fixture
def root(db) -> User:  # type: ignore[no-untyped-def]
    return UserFactory(email="root@paylinks.test", is_superuser=True, is_staff=True)


def signed_in(user: User) -> Client:
    verified(user)
    client = Client()
    response = sign_in(client, user.email)
    assert response.status_code == 302, response.content
    return client


@pytest.mark.parametrize("person", ["alice", "sam", "root"])
def test_without_totp_no_console_or_cms_page_loads(request, person) -> None:
    user = request.getfixturevalue(person)
    client = signed_in(user)
    assert signed_in_user_id(client) == str(user.pk)
    for page in CONSOLE_PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"] == "/accounts/2fa/totp/activate/", page
    assert client.post("/admin/paylinks/paymentlink/add/", {"title": "x"}).status_code == 302


def test_the_setup_page_itself_works_right_after_sign_in(alice) -> None:
    client = signed_in(alice)
    response = client.get("/admin/paylinks/payment/", follow=True)
    assert response.status_code == 200
    assert response.templates[0].name == "mfa/totp/activate_form.html"  # no password again
    assert "two-factor authentication" in response.content.decode()


@pytest.mark.django_db(transaction=True)  # allauth finishes set-up in on_commit callbacks
def test_setting_up_totp_opens_the_console_and_the_codes_page_leads_back(alice) -> None:
    client = signed_in(alice)
    client.get("/admin/paylinks/payment/?status=failed")  # where she was going
    page = client.get("/accounts/2fa/totp/activate/")
    secret = page.context["form"].secret

    wrong = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret, step=5)})
    assert wrong.status_code == 200 and not has_totp(alice)

    done = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    assert done["Location"] == "/accounts/2fa/recovery-codes/"
    assert has_totp(alice)
    codes = client.get("/accounts/2fa/recovery-codes/")
    assert codes.status_code == 200  # no password again to see them either
    assert len(codes.context["unused_codes"]) == 10
    assert 'href="/admin/paylinks/payment/?status=failed"' in codes.content.decode()
    # the session that set TOTP up has passed MFA: the console opens at once
    assert client.get("/admin/").status_code == 200


def test_with_totp_sign_in_asks_for_the_code(alice) -> None:
    secret, _ = enrol_totp(alice)
    verified(alice)
    client = Client()
    response = sign_in(client, alice.email)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert signed_in_user_id(client) is None
    assert client.get("/admin/").status_code == 302

    wrong = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret, step=7)})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors
    assert signed_in_user_id(client) is None

    right = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert right["Location"] == "/admin/"
    assert signed_in_user_id(client) == str(alice.pk)
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_works_once(alice) -> None:
    _, codes = enrol_totp(alice)
    verified(alice)

    first = Client()
    sign_in(first, alice.email)
    first.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert signed_in_user_id(first) == str(alice.pk)
    assert first.get("/admin/").status_code == 200

    again = Client()
    sign_in(again, alice.email)
    reused = again.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert reused.status_code == 200
    assert signed_in_user_id(again) is None
    again.post("/accounts/2fa/authenticate/", {"code": codes[1]})
    assert signed_in_user_id(again) == str(alice.pk)
    unused = Authenticator.objects.get(user=alice, type="recovery_codes").wrap()
    assert len(unused.get_unused_codes()) == 8


def test_a_totp_code_cannot_be_replayed(alice) -> None:
    secret, _ = enrol_totp(alice)
    verified(alice)
    code = totp_code(secret)
    first = Client()
    sign_in(first, alice.email)
    first.post("/accounts/2fa/authenticate/", {"code": code})
    assert signed_in_user_id(first) == str(alice.pk)
    second = Client()
    sign_in(second, alice.email)
    second.post("/accounts/2fa/authenticate/", {"code": code})
    assert signed_in_user_id(second) is None


@pytest.mark.parametrize("person", ["mallory", "victor"])
def test_managers_and_viewers_are_not_forced(request, person) -> None:
    user = request.getfixturevalue(person)
    client = signed_in(user)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/paylinks/paymentlink/").status_code == 200


def test_a_manager_who_chose_totp_is_still_asked_for_it(mallory) -> None:
    enrol_totp(mallory)
    verified(mallory)
    client = Client()
    assert sign_in(client, mallory.email)["Location"] == "/accounts/2fa/authenticate/"


def test_a_session_from_before_the_rule_is_stopped(alice, settings) -> None:
    settings.PAYLINKS_REQUIRE_MFA = False
    client = signed_in(alice)
    assert client.get("/admin/").status_code == 200
    settings.PAYLINKS_REQUIRE_MFA = True
    assert client.get("/admin/")["Location"] == "/accounts/2fa/totp/activate/"


def test_becoming_an_owner_mid_session_brings_the_rule(mallory) -> None:
    client = signed_in(mallory)
    assert client.get("/admin/").status_code == 200
    mallory.memberships.update(role="owner")
    assert client.get("/admin/")["Location"] == "/accounts/2fa/totp/activate/"


def test_a_session_that_never_answered_a_code_is_asked_for_one(alice) -> None:
    """However a session began (here: force_login, standing in for any way in that skipped
    allauth's MFA stage, or TOTP set up from another browser), it must pass a code."""
    secret, _ = enrol_totp(alice)
    client = Client()
    client.force_login(alice)
    response = client.get("/admin/paylinks/payment/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/reauthenticate/")
    assert client.get("/cms/").status_code == 302

    page = client.get(response["Location"])
    assert page.status_code == 200
    client.post(response["Location"], {"code": totp_code(secret)})
    assert client.get("/admin/paylinks/payment/").status_code == 200


def test_social_only_person_sets_up_totp_without_a_password(alice) -> None:
    alice.set_unusable_password()
    alice.save()
    client = Client()
    client.force_login(alice)
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200


def test_after_five_minutes_mfa_changes_ask_for_the_password_again(alice) -> None:
    client = signed_in(alice)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")


def test_public_surfaces_stay_reachable_without_mfa(alice) -> None:
    client = signed_in(alice)
    for page in ["/accounts/email/", "/accounts/2fa/", "/accounts/logout/", "/api/v1/nope"]:
        response = client.get(page)
        assert response.status_code != 302 or "2fa/totp/activate" not in response["Location"]


def test_exempt_surfaces_never_load_the_session(alice, acme, settings) -> None:
    """The MFA rule looks at the path before the user: a public API read by a signed-in
    owner without TOTP is answered without touching the session, so the answer does
    not vary on the cookie; a console page still sends them to set TOTP up."""
    from ..factories import PaymentLinkFactory

    settings.PAYLINKS_RATE_LIMITS = {}
    link = PaymentLinkFactory(merchant=acme)
    client = signed_in(alice)
    for anonymous in (False, True):
        if anonymous:
            client.logout()
        response = client.get(f"/api/v1/public/links/{link.slug}")
        assert response.status_code == 200
        assert "Cookie" not in response.get("Vary", "")
    client = signed_in(alice)
    assert client.get("/admin/")["Location"] == "/accounts/2fa/totp/activate/"


def test_the_setup_page_explains_why(alice) -> None:
    client = signed_in(alice)
    page = client.get("/admin/", follow=True)
    assert re.search(r"Owners and support staff protect Paylinks", page.content.decode())


def test_totp_secrets_and_recovery_seeds_are_stored_encrypted(alice) -> None:
    secret, codes = enrol_totp(alice)
    totp = Authenticator.objects.get(user=alice, type=Authenticator.Type.TOTP).data["secret"]
    seed = Authenticator.objects.get(user=alice, type=Authenticator.Type.RECOVERY_CODES)
    assert secret not in totp
    assert crypto.decrypt(totp) == secret
    assert crypto.decrypt(seed.data["seed"])  # readable with FIELD_ENCRYPTION_KEY only
    assert not any(code in str(seed.data) for code in codes)
