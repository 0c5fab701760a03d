"""The merchant API's benchmark scenario, run by ``bench/run.py`` (``make bench``).

Two figures, each beside its floor from the same run:

- ``GET /api/v1/links/{id}`` with a real bearer token (JWT verified, token row looked
  up with its client and merchant, scope checked, rate limiter counted, link read and
  written out) against the bare one-query view: goal >= 0.6x its requests/s;
- ``POST /api/v1/links`` creating a link (validated, saved, audited): goal >= 200/s.

The API client is made through the console's own service and its token fetched from the
token endpoint of the gunicorn under test, as an integrator would.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
import urllib.request
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

#: What the benchmark's processes need on top of bench/run.py's environment: a signing
#: key for this run's tokens, and no per-client limit (one client sends everything).
ENV = {
    "API_TOKEN_PRIVATE_KEY": _KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode(),
    "PAYLINKS_RATE_API_CLIENT": "",
    "PAYLINKS_RATE_TOKEN_IP": "",
}
TITLES = ["Merchant API: GET link", "Merchant API: POST link"]


def _client_and_token(base_url: str) -> str:
    from django.db import connection

    from paylinks.models import ApiScope, Membership, Merchant, Role, User
    from paylinks.services.api_clients import api_client_create

    merchant = Merchant.objects.get(slug="bench-books")
    owner = User.objects.create_user(email="owner@bench-books.test", password=None)
    Membership.objects.create(user=owner, merchant=merchant, role=Role.OWNER)
    issued = api_client_create(
        merchant=merchant, actor=owner, name="Bench shop backend", scopes=list(ApiScope.values)
    )
    connection.close()
    basic = base64.b64encode(f"{issued.client_id}:{issued.client_secret}".encode()).decode()
    request = urllib.request.Request(
        f"{base_url}/identity/o/api/token",
        data=urllib.parse.urlencode({"grant_type": "client_credentials"}).encode(),
        headers={"Authorization": f"Basic {basic}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.loads(response.read())["access_token"])


def scenario(b: Any, HttpLoad: Any) -> None:
    """Run on ``b`` (bench/run.py's ``Bench``), loads described with its ``HttpLoad``."""
    from paylinks.models import PaymentLink

    b.log("== merchant API: GET /api/v1/links/{id}, POST /api/v1/links (bearer JWT)")
    token = _client_and_token(b.cfg.base_url)
    auth = {"Authorization": f"Bearer {token}"}
    slug = b.slugs[0]

    baseline = b.timed(
        "baseline: one primary-key SELECT", HttpLoad("GET", [f"/bench/row/{b.row_pk}"])
    )
    read = b.timed(
        "merchant API GET link",
        HttpLoad("GET", [f"/api/v1/links/{slug}"], headers=auth),
        profile=True,
    )
    b.check_errors(baseline, read)
    ratio = read.rps / baseline.rps if baseline.rps else 0.0
    b.row(
        TITLES[0],
        read,
        baseline,
        unit="requests/s",
        target=">= 60% of the one-query baseline",
        passed=ratio >= 0.6,
        note="authenticated: JWT + token row + scope + per-client limiter + link with state",
    )

    before = PaymentLink.objects.count()
    body = json.dumps(
        {"title": "Bench edition", "currency": "EUR", "amount": 1900, "metadata": {"k": "v"}}
    ).encode()
    insert = b.timed(
        "baseline: one INSERT (POST)",
        HttpLoad(
            "POST", ["/bench/insert"], body=body, headers={"Content-Type": "application/json"}
        ),
    )
    create = b.timed(
        "merchant API POST link",
        HttpLoad(
            "POST",
            ["/api/v1/links"],
            body=body,
            headers={**auth, "Content-Type": "application/json"},
        ),
        profile=True,
    )
    b.check_errors(insert, create)
    made = PaymentLink.objects.count() - before
    b.check(made >= create.requests, f"merchant API: {made} links < {create.requests} answers")
    b.row(
        TITLES[1],
        create,
        insert,
        unit="links/s",
        target=">= 200 links/s",
        passed=create.rps >= 200,
        note=f"validated, saved and audited; {made} links made",
    )
