"""The pay page with a product image, served from server.mjs's page cache (issue 14), in
Chromium: the image shows with its size reserved and its alt text; a cached copy still
has its own CSP nonce, idempotency key and visitor cookie, still counts the visit, and
the page still pays and shows its errors without JavaScript; the sandbox's hosted
checkout wears the merchant's logo, colour and the image. Screenshots with
E2E_SCREENSHOT_DIR=docs/screenshots."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from paylinks.models import LinkView, PaymentLink
from paylinks.services.links import payment_link_create
from paylinks.services.merchants import merchant_update

from .conftest import shot
from .servers import NextServer

pytestmark = pytest.mark.django_db(transaction=True)

NONCE = re.compile(r"'nonce-([^']+)'")
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def picture(size: tuple[int, int], colour: str, label: str) -> SimpleUploadedFile:
    img = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(img)
    draw.rectangle((24, 24, size[0] - 24, size[1] - 24), outline="#ffffff", width=6)
    draw.text((48, size[1] // 2), label, fill="#ffffff")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png")


@pytest.fixture
def cached(site, live_server, settings, tmp_path) -> Iterator[NextServer]:  # type: ignore[no-untyped-def]
    """The checkout page with its page cache on, long enough that every later visit in a
    test is a copy from the cache."""
    settings.MEDIA_ROOT = tmp_path
    server = NextServer(live_server.url, CHECKOUT_PAGE_CACHE_SECONDS="30").start()
    yield server
    server.stop()


@pytest.fixture
def pictured(acme) -> PaymentLink:  # type: ignore[no-untyped-def]
    merchant_update(
        merchant=acme, actor=None, brand_color="#00695C", logo=picture((96, 96), "#00695C", "A")
    )
    return payment_link_create(
        merchant=acme,
        actor=None,
        title="Atlas of Remote Islands",
        description="Hardcover, 144 pages, signed by the author.",
        currency="EUR",
        amount=2400,
        image=picture((600, 900), "#37474F", "Atlas of Remote Islands"),
    )


def test_cached_copies_are_each_their_own(cached, pictured) -> None:  # type: ignore[no-untyped-def]
    url = f"{cached.url}/pay/{pictured.slug}"
    answers = [requests.get(url, timeout=10) for _ in range(3)]
    assert all(a.status_code == 200 for a in answers)
    nonces = [NONCE.search(a.headers["Content-Security-Policy"]).group(1) for a in answers]
    keys = [KEY.search(a.text).group(1) for a in answers]
    visitors = [a.cookies.get("paylinks_visitor") for a in answers]
    assert len(set(nonces)) == 3 and len(set(keys)) == 3 and len(set(visitors)) == 3
    for answer, nonce in zip(answers, nonces, strict=True):
        assert f'nonce="{nonce}"' in answer.text
        assert not any(other in answer.text for other in nonces if other != nonce)
    assert all(f"/media/{pictured.image.name}" in a.text for a in answers)
    # Every one of the three visitors is counted, the cached ones by server.mjs.
    deadline = time.monotonic() + 10
    while LinkView.objects.filter(link=pictured).count() < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert LinkView.objects.filter(link=pictured).count() == 3
    # A returning visitor keeps their cookie and is not counted twice.
    again = requests.get(url, cookies={"paylinks_visitor": visitors[0]}, timeout=10)
    assert "paylinks_visitor" not in again.cookies
    # An error in the query string or the form cookie is rendered, not served from the cache.
    fresh = requests.get(url, cookies={"paylinks_form": "x"}, timeout=10)
    assert fresh.status_code == 200 and KEY.search(fresh.text).group(1) not in keys


@pytest.mark.parametrize("width,name", [(1280, "desktop"), (390, "phone")])
def test_the_image_shows_on_the_pay_page(cached, pictured, browser, width, name) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        for _ in range(2):  # the second visit is a copy from the cache
            page.goto(f"{cached.url}/pay/{pictured.slug}")
            image = page.get_by_test_id("product-image")
            assert image.get_attribute("alt") == "Product image: Atlas of Remote Islands"
            assert (image.get_attribute("width"), image.get_attribute("height")) == ("320", "480")
            page.wait_for_function(
                "document.querySelector('[data-testid=product-image]').naturalWidth === 600"
            )
        box = image.bounding_box()
        title = page.get_by_role("heading", name="Atlas of Remote Islands").bounding_box()
        assert box and title and box["y"] < title["y"]  # above the item, in its column
        assert abs(box["width"] / box["height"] - 600 / 900) < 0.01  # its own shape
        shot(page, f"link-image-{name}")
    finally:
        context.close()
    assert not errors, errors


@pytest.mark.parametrize("width,name", [(1280, "desktop"), (390, "phone")])
def test_without_javascript_a_cached_page_pays_on_a_branded_sandbox(
    cached, pictured, browser, width, name
) -> None:  # type: ignore[no-untyped-def]
    requests.get(f"{cached.url}/pay/{pictured.slug}", timeout=10)  # fills the cache
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": width, "height": 900}, locale="en-US"
    )
    try:
        page = context.new_page()
        page.goto(f"{cached.url}/pay/{pictured.slug}")
        # A bad e-mail comes back to the page, at its field (a render of its own).
        page.get_by_label("E-mail").fill("ada@example")
        page.get_by_role("button", name=re.compile(r"^Pay")).click()
        page.wait_for_url(re.compile(rf"/pay/{pictured.slug}$"))
        assert "valid e-mail" in page.get_by_test_id("email-error").inner_text()
        page.get_by_label("E-mail").fill("ada@example.test")
        page.get_by_role("button", name=re.compile(r"^Pay")).click()
        page.wait_for_url(re.compile(r"/sandbox/checkout/"))
        assert page.get_by_text("TEST MODE").is_visible()
        image = page.get_by_test_id("product-image")
        assert image.get_attribute("alt") == "Product image: Atlas of Remote Islands"
        box = image.bounding_box()
        assert image.is_visible() and box and abs(box["width"] / box["height"] - 600 / 900) < 0.02
        assert page.locator("img.logo").is_visible()
        shot(page, f"sandbox-branded-{name}")
    finally:
        context.close()
