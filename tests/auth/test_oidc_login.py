"""OpenID Connect sign-in, end to end, against a real provider over real HTTP.

Django runs in ``live_server``; the provider is ``oauth2-mock-server`` under node
(tests/oidc); a ``requests`` session plays the browser through the whole redirect dance:
Paylinks' login page -> the provider button -> allauth's confirmation form (POST) ->
the provider's /authorize -> back to Paylinks' callback, which exchanges the code (PKCE)
for tokens, checks the ID token's signature against the provider's JWKS, reads userinfo,
and signs the person in -> the console.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import close_old_connections

from paylinks.models import Role, User
from paylinks.services.merchants import membership_add
from project.settings.allauth import social_providers

from .conftest import enrol_totp, totp_code, verified
from .oidc_provider import OIDCProvider, install, missing_node

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROVIDER_ID = "paylinks-sso"
BUTTON = "Continue with Acme SSO"


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[OIDCProvider]:
    reason = missing_node()
    if reason:
        pytest.skip(reason)
    install()
    provider = OIDCProvider().start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def sso(oidc_provider, live_server, settings, monkeypatch) -> OIDCProvider:  # type: ignore[no-untyped-def]
    """Paylinks configured from the environment, as in production, to use the provider."""
    monkeypatch.setenv("OIDC_SERVER_URL", oidc_provider.issuer)
    monkeypatch.setenv("OIDC_CLIENT_ID", "paylinks-test-client")
    monkeypatch.setenv("OIDC_SECRET", "paylinks-test-secret")
    monkeypatch.setenv("OIDC_PROVIDER_ID", PROVIDER_ID)
    monkeypatch.setenv("OIDC_NAME", "Acme SSO")
    settings.SOCIALACCOUNT_PROVIDERS = social_providers()
    return oidc_provider  # type: ignore[no-any-return]


class Browser:
    """A requests session that behaves like a browser for these pages."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.last: requests.Response | None = None

    def get(self, path: str) -> requests.Response:
        self.last = self.http.get(urljoin(self.base, path), timeout=20)
        return self.last

    def submit(self, response: requests.Response, data: dict[str, str] | None = None) -> Any:
        """Post the page's form (with its CSRF token) and follow the redirects."""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        assert token, response.text[:2000]
        action = re.search(r'<form[^>]*action="([^"]*)"', response.text)
        url = urljoin(response.url, action.group(1)) if action and action.group(1) else response.url
        self.last = self.http.post(
            url, data={"csrfmiddlewaretoken": token.group(1), **(data or {})}, timeout=20
        )
        return self.last

    def sign_in_with_sso(self) -> requests.Response:
        login_page = self.get("/accounts/login/")
        assert BUTTON in login_page.text
        button = re.search(r'href="([^"]+)"[^>]*>(?:(?!</a>).)*' + BUTTON, login_page.text, re.S)
        assert button, login_page.text
        confirm = self.get(button.group(1).replace("&amp;", "&"))
        assert "Acme SSO" in confirm.text
        return self.submit(confirm)

    def path(self) -> str:
        assert self.last is not None
        return urlsplit(self.last.url).path

    def signed_in_as(self) -> int | None:
        key = self.http.cookies.get("sessionid")
        if not key:
            return None
        close_old_connections()
        value = SessionStore(session_key=key).load().get(SESSION_KEY)
        return int(value) if value else None


@pytest.fixture
def browser(live_server) -> Browser:  # type: ignore[no-untyped-def]
    return Browser(live_server.url)


def test_invited_member_signs_in_through_the_provider(sso, browser, alice, acme) -> None:
    membership_add(merchant=acme, actor=alice, email="nina@acme.test", role=Role.MANAGER)
    nina = User.objects.get(email="nina@acme.test")  # invited: no password, no address yet
    sso.set_person(sub="acme-sso|nina", email="nina@acme.test", email_verified=True, name="Nina")

    console = browser.sign_in_with_sso()

    assert browser.path() == "/admin/", console.text[:2000]
    assert console.status_code == 200
    assert browser.signed_in_as() == nina.pk
    assert "nina@acme.test" in console.text
    account = SocialAccount.objects.get(user=nina)
    assert (account.provider, account.uid) == (PROVIDER_ID, "acme-sso|nina")
    assert EmailAddress.objects.get(user=nina).verified

    # Next time the provider's account id is what matches, whatever the e-mail says now.
    browser.http.post(
        urljoin(browser.base, "/accounts/logout/"),
        data={"csrfmiddlewaretoken": browser.http.cookies["csrftoken"]},
        timeout=20,
    )
    assert browser.signed_in_as() is None
    sso.set_person(sub="acme-sso|nina", email="nina.renamed@acme.test", email_verified=True)
    browser.sign_in_with_sso()
    assert browser.path() == "/admin/"
    assert browser.signed_in_as() == nina.pk


@pytest.mark.parametrize("claim", [False, "true", None])
def test_an_unverified_provider_address_does_not_take_over_an_account(
    sso, browser, alice, claim
) -> None:
    verified(alice)
    person = {"sub": "acme-sso|mallet", "email": alice.email}
    if claim is not None:
        person["email_verified"] = claim
    sso.set_person(**person)

    page = browser.sign_in_with_sso()

    assert browser.signed_in_as() is None
    assert browser.path() == "/accounts/login/"
    assert "already uses this e-mail address" in page.text
    assert not SocialAccount.objects.exists()


def test_a_verified_address_does_not_join_an_account_that_has_it_only_pending(
    sso, browser, alice
) -> None:
    """Someone added bob@ to their own account (unverified): Bob's provider login must not
    land in that account."""
    verified(alice)
    EmailAddress.objects.create(user=alice, email="bob@example.test", verified=False)
    sso.set_person(sub="acme-sso|bob", email="bob@example.test", email_verified=True)
    browser.sign_in_with_sso()
    assert browser.signed_in_as() is None
    assert alice.__class__.objects.get(pk=alice.pk).has_usable_password()


def test_owner_with_totp_is_asked_for_the_code_after_the_provider(
    sso, browser, alice, settings
) -> None:
    settings.PAYLINKS_REQUIRE_MFA = True
    verified(alice)
    secret, _ = enrol_totp(alice)
    sso.set_person(sub="acme-sso|alice", email=alice.email, email_verified=True)

    challenge = browser.sign_in_with_sso()
    assert browser.path() == "/accounts/2fa/authenticate/"
    assert browser.signed_in_as() is None
    browser.get("/admin/")  # the console sends her back to the pending code question
    assert browser.path() == "/accounts/2fa/authenticate/"

    challenge = browser.get("/accounts/2fa/authenticate/")
    console = browser.submit(challenge, {"code": totp_code(secret)})
    assert browser.path() == "/admin/", console.text[:1500]
    assert browser.signed_in_as() == alice.pk


def test_owner_without_totp_must_set_it_up_after_the_provider(
    sso, browser, alice, settings
) -> None:
    settings.PAYLINKS_REQUIRE_MFA = True
    verified(alice)
    sso.set_person(sub="acme-sso|alice", email=alice.email, email_verified=True)
    page = browser.sign_in_with_sso()
    assert browser.signed_in_as() == alice.pk
    assert browser.path() == "/accounts/2fa/totp/activate/", page.text[:1500]
    assert browser.get("/admin/paylinks/payment/").url.endswith("/accounts/2fa/totp/activate/")


def test_an_unknown_person_meets_closed_sign_up(sso, browser) -> None:
    sso.set_person(sub="acme-sso|stranger", email="stranger@example.test", email_verified=True)
    page = browser.sign_in_with_sso()
    assert "No Paylinks account for you yet" in page.text
    assert browser.signed_in_as() is None
    assert not User.objects.filter(email="stranger@example.test").exists()


def test_with_open_sign_up_an_unknown_person_gets_an_account_but_no_console(
    sso, browser, settings
) -> None:
    settings.PAYLINKS_OPEN_SIGNUP = True
    sso.set_person(sub="acme-sso|new", email="new.person@example.test", email_verified=True)
    page = browser.sign_in_with_sso()
    user = User.objects.get(email="new.person@example.test")
    assert browser.signed_in_as() == user.pk
    assert EmailAddress.objects.get(user=user).verified
    assert page.status_code == 403
    assert "not part of a merchant" in page.text
