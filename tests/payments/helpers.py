"""Test support for the payments engine: run queued tasks, pay through the sandbox page."""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


def drain(rounds: int = 20) -> int:
    """Run every task that is due, including tasks those tasks enqueue. Returns how many ran."""
    ran = 0
    for _ in range(rounds):
        ready = DBTaskResult.objects.ready().count()
        if not ready:
            return ran
        worker = Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="tests",
            excluded_queue_names=[],
        )
        worker.run()
        ran += ready
    return ran


@dataclass
class Started:
    session_id: str
    checkout_url: str
    payment_id: str
    body: dict


def start_checkout(base_url: str, slug: str, **body: object) -> Started:
    response = requests.post(
        f"{base_url}/api/v1/public/links/{slug}/checkout", json=body, timeout=10
    )
    assert response.status_code == 201, response.text
    data = response.json()
    return Started(data["session_id"], data["checkout_url"], data["payment_id"], data)


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def pay(checkout_url: str, *, method: str = "card", **fields: str) -> requests.Response:
    """Fill the sandbox's hosted page like a customer: GET it, then POST the form."""
    browser = requests.Session()
    page = browser.get(f"{checkout_url}?method={method}", timeout=10)
    assert page.status_code == 200, page.text[:500]
    token = CSRF.search(page.text)
    assert token, "the sandbox page has a CSRF token"
    data = {"csrfmiddlewaretoken": token.group(1), "method": method, "email": "ada@example.test"}
    if method == "card":
        data |= {
            "number": "4242 4242 4242 4242",
            "expiry": "12 / 34",
            "cvc": "123",
            "name": "Ada Lovelace",
        }
    else:
        data |= {"iban": "DE89370400440532013000", "name": "Ada Lovelace"}
    data |= fields
    response = browser.post(
        checkout_url,
        data=data,
        headers={"Referer": checkout_url},
        allow_redirects=False,
        timeout=10,
    )
    response.browser = browser  # type: ignore[attr-defined]
    return response


def paid_payment(base_url: str, merchant, amount: int, currency: str):  # type: ignore[no-untyped-def]
    """A payment paid for real: checkout through the public API, card 4242 on the sandbox's
    page, the signed webhook processed."""
    from paylinks.models import Payment, PaymentStatus

    from ..factories import PaymentLinkFactory

    link = PaymentLinkFactory(merchant=merchant, amount=amount, currency=currency)
    started = start_checkout(base_url, link.slug)
    assert pay(started.checkout_url).status_code == 303
    drain()
    payment = Payment.objects.get(public_id=started.payment_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    return payment
