"""The sandbox's hosted checkout wears the merchant's brand (issue 14): logo, brand colour
(only where white text reads on it, as checkout/lib/contrast.ts decides) and the link's
product image, inside the page's strict CSP (the colour's <style> carries its nonce)."""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from paylinks.colours import DEFAULT_BRAND, accent_color, contrast_ratio
from paylinks.services.links import payment_link_create
from paylinks.services.merchants import merchant_update

pytestmark = pytest.mark.django_db


def png(size: tuple[int, int]) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, "#00695C").save(out, format="PNG")
    return SimpleUploadedFile("x.png", out.getvalue(), content_type="image/png")


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    settings.PAYLINKS_RATE_LIMITS = {}
    return tmp_path


def open_checkout(client: Any, slug: str) -> Any:
    started = client.post(
        f"/api/v1/public/links/{slug}/checkout",
        {"email": "reader@example.com"},
        content_type="application/json",
    )
    assert started.status_code == 201, started.content
    return client.get(urlsplit(started.json()["checkout_url"]).path)


def test_the_sandbox_page_shows_logo_colour_and_image(client, media, acme) -> None:  # type: ignore[no-untyped-def]
    merchant_update(merchant=acme, actor=None, brand_color="#00695C", logo=png((64, 64)))
    link = payment_link_create(
        merchant=acme, actor=None, title="Atlas", currency="EUR", amount=2400,
        image=png((400, 600)),
    )  # fmt: skip

    page = open_checkout(client, link.slug)
    html = page.content.decode()
    assert page.status_code == 200
    acme.refresh_from_db()
    assert f'class="logo" src="{acme.logo.url}"' in html
    assert f'src="{link.image.url}"' in html
    assert 'alt="Product image: Atlas" width="107" height="160"' in html  # its shape, reserved
    nonce = re.search(r"'nonce-([^']+)'", page["Content-Security-Policy"])
    assert nonce and "style-src 'self' 'nonce-" in page["Content-Security-Policy"]
    assert f'<style nonce="{nonce.group(1)}">:root{{--brand:#00695c}}</style>' in html
    assert "TEST MODE" in html  # still clearly the sandbox


def test_a_colour_white_text_cannot_read_on_falls_back(client, media, acme) -> None:  # type: ignore[no-untyped-def]
    merchant_update(merchant=acme, actor=None, brand_color="#FFEB3B")
    link = payment_link_create(merchant=acme, actor=None, title="Pad", currency="EUR", amount=900)

    html = open_checkout(client, link.slug).content.decode()
    assert f":root{{--brand:{DEFAULT_BRAND}}}" in html
    assert 'class="logo"' not in html and 'data-testid="product-image"' not in html


@pytest.mark.parametrize(
    "brand,accent",
    [("#00695C", "#00695c"), ("#FFEB3B", DEFAULT_BRAND), ("#fff", DEFAULT_BRAND),
     ("#000", "#000000"), ("not a colour", DEFAULT_BRAND), (None, DEFAULT_BRAND)],
)  # fmt: skip
def test_accent_colour_matches_the_checkout_pages_rule(brand: str | None, accent: str) -> None:
    assert accent_color(brand) == accent
    assert contrast_ratio(accent_color(brand), "#ffffff") >= 4.5
