"""Social and OpenID Connect providers come from the environment; the rules for joining an
existing account by e-mail. (The whole OIDC round trip is in test_oidc_login.py.)"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from paylinks.auth.adapters import may_join_by_email
from project.settings.allauth import social_providers

from ..factories import UserFactory
from .conftest import LOGIN, verified

PROVIDER_VARIABLES = [
    "GOOGLE_CLIENT_ID",
    "GOOGLE_SECRET",
    "GITHUB_CLIENT_ID",
    "GITHUB_SECRET",
    "OIDC_SERVER_URL",
    "OIDC_CLIENT_ID",
    "OIDC_SECRET",
    "OIDC_PROVIDER_ID",
    "OIDC_NAME",
]


@pytest.fixture
def no_providers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)


def test_nothing_configured_means_no_providers(no_providers) -> None:
    assert social_providers() == {}


def test_each_provider_needs_its_own_variables(no_providers, monkeypatch, tmp_path) -> None:
    secret_file = tmp_path / "oidc-secret"
    secret_file.write_text("s3cret\n")
    monkeypatch.setenv("GITHUB_CLIENT_ID", "gh")
    monkeypatch.setenv("GITHUB_SECRET", "gh-secret")
    monkeypatch.setenv("OIDC_SERVER_URL", "https://id.example.test/realms/acme")
    monkeypatch.setenv("OIDC_CLIENT_ID", "paylinks")
    monkeypatch.setenv("OIDC_SECRET_FILE", str(secret_file))
    providers = social_providers()
    assert set(providers) == {"github", "openid_connect"}
    assert providers["github"]["APPS"] == [{"client_id": "gh", "secret": "gh-secret"}]
    app = providers["openid_connect"]["APPS"][0]
    assert app["provider_id"] == "oidc"
    assert app["secret"] == "s3cret"
    assert app["settings"] == {"server_url": "https://id.example.test/realms/acme"}
    assert providers["openid_connect"]["OAUTH_PKCE_ENABLED"] is True


@pytest.mark.django_db
def test_login_page_shows_exactly_the_configured_providers(
    no_providers, monkeypatch, settings
) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = social_providers()
    page = Client().get(LOGIN).content.decode()
    assert "Continue with" not in page
    assert Client().get("/accounts/oidc/oidc/login/").status_code == 404

    monkeypatch.setenv("GOOGLE_CLIENT_ID", "g")
    monkeypatch.setenv("OIDC_SERVER_URL", "https://id.example.test")
    monkeypatch.setenv("OIDC_CLIENT_ID", "paylinks")
    monkeypatch.setenv("OIDC_NAME", "Acme SSO")
    settings.SOCIALACCOUNT_PROVIDERS = social_providers()
    page = Client().get(LOGIN).content.decode()
    assert "Continue with Google" in page
    assert "Continue with Acme SSO" in page
    assert "Continue with GitHub" not in page


@pytest.mark.django_db
class TestJoiningAnAccountByEmail:
    def test_a_verified_address_may_be_joined(self, alice) -> None:
        verified(alice)
        assert may_join_by_email(alice, "ALICE@acme.test")

    def test_an_unverified_address_with_a_password_may_not(self, alice) -> None:
        # e.g. someone signed up with Alice's address, hoping she would arrive by Google
        EmailAddress.objects.create(user=alice, email=alice.email, verified=False, primary=True)
        assert not may_join_by_email(alice, alice.email)

    def test_an_invited_account_without_a_password_may(self, db) -> None:  # type: ignore[no-untyped-def]
        invited = UserFactory(email="nina@acme.test", password=None)
        invited.set_unusable_password()
        invited.save()
        assert may_join_by_email(invited, "nina@acme.test")

    def test_a_pending_second_address_may_not(self, alice) -> None:
        verified(alice)
        EmailAddress.objects.create(user=alice, email="bob@example.test", verified=False)
        assert not may_join_by_email(alice, "bob@example.test")

    def test_an_inactive_account_may_not(self, alice) -> None:
        verified(alice)
        alice.is_active = False
        assert not may_join_by_email(alice, alice.email)
