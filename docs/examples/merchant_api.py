#!/usr/bin/env python3
"""A shop backend talking to the Paylinks merchant API: the whole round trip in one file.

    PAYLINKS_URL=https://pay.example.com \
    PAYLINKS_CLIENT_ID=plc_... PAYLINKS_CLIENT_SECRET=pls_... \
    python docs/examples/merchant_api.py

It gets an access token with the client-credentials grant, creates a payment link (with
an Idempotency-Key, so running it twice for the same order makes one link), prints the
link's address, lists the newest payments, and shows what an error looks like.
Needs only ``requests``. Exits non-zero if anything answers unexpectedly.
"""

from __future__ import annotations

import os
import sys
import time
import uuid

import requests


class PaylinksError(Exception):
    def __init__(self, response: requests.Response) -> None:
        try:
            error = response.json()["error"]
        except (ValueError, KeyError):
            error = {"code": "http_error", "message": response.text[:200]}
        super().__init__(f"{response.status_code} {error['code']}: {error['message']}")
        self.status = response.status_code
        self.code = error["code"]
        self.field = error.get("field")


class Paylinks:
    """A tiny client: one token, renewed a minute before it expires; 429s waited out."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = (client_id, client_secret)
        self.http = requests.Session()
        self.token, self.token_expires = "", 0.0

    def _token(self) -> str:
        if time.time() > self.token_expires - 60:
            answer = self.http.post(
                f"{self.base_url}/identity/o/api/token",
                data={"grant_type": "client_credentials"},
                auth=self.auth,
                timeout=10,
            )
            answer.raise_for_status()
            body = answer.json()
            self.token, self.token_expires = body["access_token"], time.time() + body["expires_in"]
        return self.token

    def request(self, method: str, path: str, **kwargs: object) -> dict:
        for _ in range(3):
            response = self.http.request(
                method,
                f"{self.base_url}/api/v1{path}",
                headers={"Authorization": f"Bearer {self._token()}", **kwargs.pop("headers", {})},
                timeout=10,
                **kwargs,
            )
            if response.status_code == 429:  # rate limited: wait as told, then retry
                time.sleep(int(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 400:
                raise PaylinksError(response)
            return response.json()
        raise PaylinksError(response)


def main() -> int:
    api = Paylinks(
        os.environ.get("PAYLINKS_URL", "http://localhost:8000"),
        os.environ["PAYLINKS_CLIENT_ID"],
        os.environ["PAYLINKS_CLIENT_SECRET"],
    )
    order = os.environ.get("ORDER_ID") or f"order-{uuid.uuid4().hex[:8]}"

    # 1. A payment link for this order. The Idempotency-Key makes a retry safe: sending
    #    the same request again returns the same link instead of making a second one.
    link = api.request(
        "POST",
        "/links",
        json={
            "title": f"Order {order}",
            "currency": "EUR",
            "amount": 4200,  # minor units: EUR 42.00
            "metadata": {"order": order},
        },
        headers={"Idempotency-Key": f"link-{order}"},
    )
    print(f"link {link['id']}: {link['amount']['display']} -> {link['url']}")
    again = api.request(
        "POST",
        "/links",
        json={
            "title": f"Order {order}",
            "currency": "EUR",
            "amount": 4200,
            "metadata": {"order": order},
        },
        headers={"Idempotency-Key": f"link-{order}"},
    )
    assert again["id"] == link["id"], "a retried create must not make a second link"

    # 2. The newest payments, a page at a time (cursor pagination).
    page = api.request("GET", "/payments", params={"limit": 5, "status": "succeeded"})
    for payment in page["results"]:
        print(f"payment {payment['id']} {payment['status']} {payment['amount']['display']}")
    print(f"{len(page['results'])} payment(s) on the first page; next: {page['next']}")

    # 3. Errors have one shape: a stable code, a message, and the field when there is one.
    try:
        api.request("POST", "/links", json={"title": "Too cheap", "currency": "EUR", "amount": 1})
    except PaylinksError as error:
        print(f"refused as expected: {error} (field: {error.field})")
        assert (error.status, error.code, error.field) == (400, "invalid_request", "amount")
    else:
        raise AssertionError("an amount under the currency's minimum must be refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
