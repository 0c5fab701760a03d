"""Merchant API test support: clients made through the console's service, tokens from
the real token endpoint, and a small caller that sends them.

Personas (tests/conftest.py): alice owns Acme, bob owns Globex (the other tenant).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from paylinks.models import ApiScope, Merchant, User
from paylinks.services.api_clients import IssuedSecret, api_client_create

TOKEN_URL = "/identity/o/api/token"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def fetch_token(http: Client, issued: IssuedSecret, scope: str | None = None) -> dict[str, Any]:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    response = http.post(
        TOKEN_URL,
        data=data,
        HTTP_AUTHORIZATION=basic(issued.client_id, issued.client_secret),
    )
    assert response.status_code == 200, response.content
    return response.json()


@dataclass
class Caller:
    """Sends merchant API requests with one bearer token (or none, or any header)."""

    http: Client
    token: str | None

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = {
            k if k.startswith("HTTP_") else f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in (headers or {}).items()
        }
        if self.token is not None and "HTTP_AUTHORIZATION" not in out:
            out["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return out

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.http.get(path, params or {}, **self._headers(headers))

    def post(self, path: str, body: Any = None, *, headers: dict[str, str] | None = None) -> Any:
        payload = "" if body is None else json.dumps(body)
        return self.http.post(
            path, payload, content_type="application/json", **self._headers(headers)
        )

    def patch(self, path: str, body: Any, *, headers: dict[str, str] | None = None) -> Any:
        return self.http.patch(
            path, json.dumps(body), content_type="application/json", **self._headers(headers)
        )


def make_client(merchant: Merchant, owner: User, scopes: list[str] | None = None) -> IssuedSecret:
    return api_client_create(
        merchant=merchant,
        actor=owner,
        name=f"{merchant.name} backend",
        scopes=scopes or list(ApiScope.values),
    )


@pytest.fixture
def http(settings) -> Client:  # type: ignore[no-untyped-def]
    settings.PAYLINKS_RATE_LIMITS = {}
    return Client()


@pytest.fixture
def acme_issued(alice) -> IssuedSecret:  # type: ignore[no-untyped-def]
    return make_client(alice.memberships.get().merchant, alice)


@pytest.fixture
def globex_issued(bob) -> IssuedSecret:  # type: ignore[no-untyped-def]
    return make_client(bob.memberships.get().merchant, bob)


@pytest.fixture
def acme_api(http, acme_issued) -> Caller:  # type: ignore[no-untyped-def]
    return Caller(http, fetch_token(http, acme_issued)["access_token"])


@pytest.fixture
def globex_api(http, globex_issued) -> Caller:  # type: ignore[no-untyped-def]
    return Caller(http, fetch_token(http, globex_issued)["access_token"])


# The payments tests' live Paylinks (sandbox gateway delivering webhooks to itself).
from tests.payments.conftest import site  # noqa: E402, F401
