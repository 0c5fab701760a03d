"""Issue 12's "done when", over real HTTP against a live Paylinks: a client made by the
console's own service gets a token from the token endpoint, creates a link, the link is
paid through the sandbox, and the payment (by its ``pi_`` id) and a refund are read back
through the API. The token is a JWT whose signature verifies against the served JWKS."""

from __future__ import annotations

import jwt
import pytest
import requests

from paylinks.models import ApiScope

from ..payments.helpers import drain, pay, start_checkout
from .conftest import make_client

pytestmark = pytest.mark.django_db(transaction=True)


def test_token_link_payment_refund_over_http(site, acme, alice) -> None:
    issued = make_client(acme, alice, scopes=list(ApiScope.values))

    token_answer = requests.post(
        f"{site}/identity/o/api/token",
        data={"grant_type": "client_credentials"},
        auth=(issued.client_id, issued.client_secret),
        timeout=10,
    )
    assert token_answer.status_code == 200, token_answer.text
    token = token_answer.json()["access_token"]

    discovery = requests.get(f"{site}/.well-known/openid-configuration", timeout=10).json()
    jwks = requests.get(discovery["jwks_uri"], timeout=10).json()
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [key for key in jwks["keys"] if key["kid"] == kid]
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], issuer=discovery["issuer"])
    assert claims["client_id"] == issued.client_id

    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    created = api.post(
        f"{site}/api/v1/links",
        json={"title": "Field guide", "currency": "EUR", "amount": 4200},
        headers={"Idempotency-Key": "shop-order-42"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    link = created.json()

    started = start_checkout(site, link["id"], email="ada@example.test")
    assert pay(started.checkout_url).status_code == 303
    drain()

    payments = api.get(f"{site}/api/v1/payments", params={"link": link["id"]}, timeout=10)
    (listed,) = payments.json()["results"]
    intent = listed["payment_intent_id"]
    assert intent.startswith("pi_")
    payment = api.get(f"{site}/api/v1/payments/{intent}", timeout=10).json()
    assert payment["id"] == started.payment_id
    assert payment["status"] == "succeeded"
    assert payment["amount"] == {"value": 4200, "display": "42.00 EUR"}
    assert payment["method"]["label"] == "Visa •••• 4242"
    assert "succeeded" in [event["to_status"] for event in payment["timeline"]]

    refund = api.post(
        f"{site}/api/v1/payments/{intent}/refunds",
        json={"amount": 1200, "reason": "requested_by_customer"},
        headers={"Idempotency-Key": "refund-42-1"},
        timeout=10,
    )
    assert refund.status_code == 201, refund.text
    drain()
    refunds = api.get(f"{site}/api/v1/payments/{intent}/refunds", timeout=10).json()["results"]
    assert [(r["amount"]["value"], r["status"]) for r in refunds] == [(1200, "succeeded")]
    after = api.get(f"{site}/api/v1/payments/{started.payment_id}", timeout=10).json()
    assert after["status"] == "partially_refunded"
    assert after["amount_refunded"]["value"] == 1200
