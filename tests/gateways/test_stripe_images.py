"""A link's product image reaches Stripe Checkout as ``product_data.images`` only when
Stripe could fetch it: every request here is also checked by the fake server against
Stripe's OpenAPI spec (``fake_stripe``), so the shape is the one Stripe accepts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from paylinks.gateways.base import CheckoutRequest
from paylinks.gateways.stripe import StripeGateway, is_public_url

from .fake_stripe import FakeStripe

MakeRequest = Callable[..., CheckoutRequest]
SESSIONS = "/v1/checkout/sessions"
PUBLIC = "https://pay.example.com/media/link-images/Zx8kq1.png"


def _product(fake: FakeStripe) -> dict[str, Any]:
    (call,) = fake.calls("post", SESSIONS)
    return call.typed["line_items"][0]["price_data"]["product_data"]


def test_a_public_image_is_sent_to_stripe(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest
) -> None:
    gateway.create_checkout_session(make_request(image_url=PUBLIC))

    assert _product(fake_stripe)["images"] == [PUBLIC]


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://pay.example.com/media/link-images/a.png",  # not https
        "https://localhost:8000/media/link-images/a.png",
        "https://127.0.0.1/media/link-images/a.png",
        "https://10.1.2.3/media/link-images/a.png",
        "https://192.168.0.10/media/link-images/a.png",
        "https://[::1]/media/link-images/a.png",
        "https://shop.localhost/media/link-images/a.png",
        "https://paylinks/media/link-images/a.png",  # a single-label name
        "https://paylinks.internal/media/link-images/a.png",
    ],
)
def test_an_image_stripe_cannot_fetch_is_left_out(
    gateway: StripeGateway, fake_stripe: FakeStripe, make_request: MakeRequest, url: str
) -> None:
    gateway.create_checkout_session(make_request(image_url=url))

    assert "images" not in _product(fake_stripe)


@pytest.mark.parametrize(
    "url,public",
    [
        (PUBLIC, True),
        ("https://93.184.215.14/a.png", True),
        ("https://pay.example.com:8443/a.png", True),
        ("https://pay.example.com:99999/a.png", False),  # a port that cannot be
        ("https://169.254.169.254/latest", False),
        ("https://100.64.0.1/a.png", False),  # carrier-grade NAT
        ("https://[fd00::1]/a.png", False),
        ("ftp://pay.example.com/a.png", False),
        ("https:///a.png", False),
        ("not a url", False),
        ("https://printer.local/a.png", False),
    ],
)
def test_what_counts_as_public(url: str, public: bool) -> None:
    assert is_public_url(url) is public
