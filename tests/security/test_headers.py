"""Security headers: the strict policy on public pages, Unfold's needs only in the console."""

from __future__ import annotations

import json

import pytest

from ..factories import PaymentLinkFactory

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def sandbox_page(client, acme, settings):  # type: ignore[no-untyped-def]
    settings.PAYLINKS_RATE_LIMITS = {}
    link = PaymentLinkFactory(merchant=acme)
    created = client.post(
        f"/api/v1/public/links/{link.slug}/checkout", data="{}", content_type="application/json"
    )
    assert created.status_code == 201, created.content
    return client.get(f"/sandbox/checkout/{created.json()['session_id']}")


def test_sandbox_page_may_only_return_to_the_checkout_origin(client, acme, settings) -> None:
    settings.PUBLIC_CHECKOUT_URL = "https://pay.example.test/some/path"
    page = sandbox_page(client, acme, settings)
    assert page.status_code == 200
    policy = directives(page)
    assert policy["form-action"] == ["'self'", "https://pay.example.test"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_unknown_sandbox_session_keeps_the_strict_policy(client, settings) -> None:
    settings.PUBLIC_CHECKOUT_URL = "https://pay.example.test"
    page = client.get("/sandbox/checkout/cs_test_doesnotexist")
    assert page.status_code == 404
    assert directives(page)["form-action"] == ["'self'", "https://pay.example.test"]


def test_public_api_answers_with_the_strict_policy(client, acme, settings) -> None:
    settings.PAYLINKS_RATE_LIMITS = {}
    link = PaymentLinkFactory(merchant=acme)
    response = client.get(f"/api/v1/public/links/{link.slug}")
    assert response.status_code == 200
    policy = directives(response)
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-eval'" not in policy.get("script-src", [])
    assert response["X-Content-Type-Options"] == "nosniff"
    json.loads(response.content)


def test_console_gets_the_policy_unfold_needs(client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "'unsafe-eval'" in directives(response)["script-src"]


def test_console_forms_may_lead_nowhere_else_in_production(client, settings) -> None:
    # No provider configured, DEBUG off: the console's forms post to the console only.
    settings.DEBUG = False
    settings.SOCIALACCOUNT_PROVIDERS = {}
    settings.PAYLINKS_CONSOLE_FORM_ORIGINS = []
    for path in ("/accounts/login/", "/admin/login/"):
        response = client.get(path)
        assert directives(response)["form-action"] == ["'self'"], path


def test_console_forms_may_lead_to_each_configured_sign_in_provider(client, settings) -> None:
    settings.DEBUG = False
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {"APPS": [{"client_id": "g", "secret": "s"}]},
        "github": {"APPS": [{"client_id": "h", "secret": "s"}]},
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "sso",
                    "client_id": "c",
                    "secret": "s",
                    "settings": {"server_url": "https://id.acme.example:8443/realms/staff"},
                }
            ]
        },
    }
    settings.PAYLINKS_CONSOLE_FORM_ORIGINS = ["https://login.acme.example/authorize"]
    response = client.get("/accounts/login/")
    assert directives(response)["form-action"] == [
        "'self'",
        "https://accounts.google.com",
        "https://github.com",
        "https://id.acme.example:8443",
        "https://login.acme.example",
    ]


def test_local_identity_providers_only_under_debug(client, settings) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {}
    settings.PAYLINKS_CONSOLE_FORM_ORIGINS = []
    settings.DEBUG = True
    debug = directives(client.get("/accounts/login/"))["form-action"]
    assert "http://localhost:*" in debug and "http://127.0.0.1:*" in debug
    settings.DEBUG = False
    production = directives(client.get("/accounts/login/"))["form-action"]
    assert not [source for source in production if "localhost" in source or "127.0.0.1" in source]
    assert "https:" not in production
