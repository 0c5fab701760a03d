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
