"""The checkout page at its edge, against the real build served as in production
(``server.mjs``) in front of a live Django: whose address Django's rate limits count,
which methods the routes take, and that leaving a checkout cancels only on a POST.

Django trusts one hop (``PAYLINKS_TRUSTED_PROXIES=1``): the page. A client that writes
its own X-Forwarded-For (and X-Real-IP) on every request must still be counted as the
one address it connects from, on both ways a checkout reaches Django through the page:
the "Pay" form's Route Handler (the page's server calls the API) and the browser's
``/api/v1/public/*`` calls (rewritten to Django by proxy.ts).
"""

from __future__ import annotations

import random
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.cache import cache

from paylinks.models import Payment, PaymentStatus

from ..factories import MerchantFactory, PaymentLinkFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("checkout-e2e"),
]

LIMIT = 5
ATTEMPTS = 9


@pytest.fixture
def acme(db):  # type: ignore[no-untyped-def]
    return MerchantFactory(name="Acme Books", slug="acme")


@pytest.fixture
def limited(site, settings):  # type: ignore[no-untyped-def]
    """Django behind the page as documented: one trusted hop, a low per-IP checkout limit
    (the per-link limit and the read limit off), and a fresh count for the page's address."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.PAYLINKS_RATE_LIMITS = {"checkout_ip": f"{LIMIT}/min"}
    cache.delete_many([f"throttle_{scope}_127.0.0.1" for scope in ("checkout_ip", "public_ip")])
    return site


def spoofed() -> dict[str, str]:
    """What a client dodging per-IP limits sends: a new address per request."""
    fake = ".".join(str(random.randint(1, 254)) for _ in range(4))
    return {"X-Forwarded-For": fake, "X-Real-IP": fake, "Forwarded": f"for={fake}"}


def test_the_pay_form_route_counts_the_connection_not_its_headers(limited, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=1500)
    codes = [
        requests.post(
            f"{limited.url}/pay/{link.slug}/checkout",
            data={"email": "ada@example.test"},
            headers={"Accept": "application/json", **spoofed()},
            timeout=20,
        ).status_code
        for _ in range(ATTEMPTS)
    ]
    assert codes == [201] * LIMIT + [429] * (ATTEMPTS - LIMIT)
    assert Payment.objects.filter(link=link).count() == LIMIT


def test_the_rewritten_api_counts_the_connection_not_its_headers(limited, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=1500)
    responses = [
        requests.post(
            f"{limited.url}/api/v1/public/links/{link.slug}/checkout",
            json={"email": "ada@example.test"},
            headers=spoofed(),
            timeout=20,
        )
        for _ in range(ATTEMPTS)
    ]
    codes = [response.status_code for response in responses]
    assert codes == [201] * LIMIT + [429] * (ATTEMPTS - LIMIT)
    assert responses[-1].json()["error"]["code"] == "rate_limited"
    assert Payment.objects.filter(link=link).count() == LIMIT


def test_the_link_page_read_goes_to_django_as_the_connection(limited, acme, settings) -> None:
    # The page's server reads the link (proxy.ts) and counts the visit for the customer:
    # those calls are limited per customer too, whatever the customer claims to be.
    settings.PAYLINKS_RATE_LIMITS = {"public_ip": "6/min"}
    link = PaymentLinkFactory(merchant=acme, amount=1500)
    codes = [
        requests.get(f"{limited.url}/pay/{link.slug}", headers=spoofed(), timeout=20).status_code
        for _ in range(8)
    ]
    # Each view costs one or two of the six reads (the visit is counted after the answer).
    assert codes[0] == 200 and codes[-1] == 503, codes  # 503: the page's "try again shortly"
    assert 3 <= codes.count(200) <= 6, codes


ODD_METHODS = ["TRACE", "CONNECT", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"]


@pytest.mark.parametrize("method", ODD_METHODS)
def test_odd_methods_are_refused_never_a_500(site, acme, method) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=1500)
    paths = [
        "/",
        f"/pay/{link.slug}",
        f"/pay/{link.slug}/success?session_id=cs_test_x",
        f"/pay/{link.slug}/cancel?payment=pay_x&token=t",
        f"/pay/{link.slug}/checkout",
        f"/pay/{link.slug}/cancel/confirm",
        "/pay/%ff",
        "/nothing-here",
    ]
    for path in paths:
        response = requests.request(method, f"{site.url}{path}", timeout=20)
        assert response.status_code == 405, (method, path, response.status_code)
        assert "Allow" in response.headers, (method, path)
        assert "Internal Server Error" not in response.text
    # The API keeps Django's own answers (405 for what a view does not take), TRACE aside.
    api = requests.request(method, f"{site.url}/api/v1/public/links/{link.slug}", timeout=20)
    assert api.status_code in (200, 405), (method, api.status_code)
    assert not Payment.objects.exists()


def test_methods_the_http_parser_refuses_are_a_400(site) -> None:
    for method in ("TRACK", "FOO"):
        assert requests.request(method, f"{site.url}/", timeout=20).status_code == 400


def _cancel_address(payment: Payment, base: str) -> str:
    # What the gateway sends the customer to, on the page under test.
    path = urlsplit(payment.link.cancel_url(payment.public_id))
    return f"{base}{path.path}?{path.query}"


def test_opening_the_cancel_address_cancels_nothing_the_button_does(site, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=1500, payment_limit=1)
    created = requests.post(
        f"{site.url}/api/v1/public/links/{link.slug}/checkout", json={}, timeout=20
    )
    assert created.status_code == 201
    payment = Payment.objects.get(link=link)
    address = _cancel_address(payment, site.url)

    # A link preview, a prefetch, a crawler: GET and HEAD, any number of times.
    for _ in range(3):
        assert requests.get(address, timeout=20).status_code == 200
        assert requests.head(address, timeout=20).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING

    page = requests.get(address, timeout=20).text
    form = re.search(r"<form\b[^>]*>", page)
    assert form, page
    assert 'method="post"' in form.group(0)
    assert f'action="/pay/{link.slug}/cancel/confirm"' in form.group(0)
    fields = {}
    for tag in re.findall(r'<input\b[^>]*type="hidden"[^>]*>', page):
        name = re.search(r'name="(\w+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and value:
            fields[name.group(1)] = unescape(value.group(1))
    query = parse_qs(urlsplit(address).query)
    assert fields == {"payment": payment.public_id, "token": query["token"][0]}

    # Another site cannot press the button for the customer.
    confirm = f"{site.url}/pay/{link.slug}/cancel/confirm"
    forged = requests.post(
        confirm,
        data={**fields, "then": "stay"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        allow_redirects=False,
        timeout=20,
    )
    assert forged.status_code == 403
    # Nor can a pay_ id without the token from the cancel address.
    session = requests.Session()
    guessed = session.post(
        confirm,
        data={"payment": payment.public_id, "token": "guess", "then": "stay"},
        headers={"Origin": site.url},
        timeout=20,
    )
    assert "could not be canceled here" in guessed.text
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING

    pressed = session.post(
        confirm, data={**fields, "then": "stay"}, headers={"Origin": site.url}, timeout=20
    )
    assert pressed.status_code == 200 and "Payment canceled" in pressed.text
    assert "Nothing was charged" in pressed.text
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELED
    # The link's only place is free again.
    again = requests.post(
        f"{site.url}/api/v1/public/links/{link.slug}/checkout", json={}, timeout=20
    )
    assert again.status_code == 201


def test_cancel_it_and_try_again_goes_back_to_the_link(site, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=1500)
    assert (
        requests.post(
            f"{site.url}/api/v1/public/links/{link.slug}/checkout", json={}, timeout=20
        ).status_code
        == 201
    )
    payment = Payment.objects.get(link=link)
    token = parse_qs(urlsplit(_cancel_address(payment, site.url)).query)["token"][0]
    response = requests.post(
        f"{site.url}/pay/{link.slug}/cancel/confirm",
        data={"payment": payment.public_id, "token": token, "then": "retry"},
        headers={"Origin": site.url},
        allow_redirects=False,
        timeout=20,
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/pay/{link.slug}")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELED
    # Opening the form's target is not pressing the button.
    opened = requests.get(
        f"{site.url}/pay/{link.slug}/cancel/confirm", allow_redirects=False, timeout=20
    )
    assert opened.status_code == 303
