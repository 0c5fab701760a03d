"""Merchant logos in production (issue 10, finding 6).

With ``DEBUG`` off nothing served ``/media/``, so every pay page showed a broken image;
the console promised SVG, which the upload refused. Logos are now served by
``paylinks.logos`` whatever ``DEBUG`` says, as the type their bytes prove, with headers
that keep a file from acting as a page; SVG is refused, and the console says so.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from paylinks.services.merchants import merchant_update

from ..factories import MerchantFactory, PaymentLinkFactory

pytestmark = pytest.mark.django_db

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (160, 128), "#F5C518").save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    assert settings.DEBUG is False  # production: no static() route for /media/
    return tmp_path


@pytest.mark.parametrize(
    ("fmt", "suffix", "content_type"),
    [("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg"), ("WEBP", "webp", "image/webp")],
)
def test_the_pay_page_logo_is_served_without_debug(
    client, media, alice, fmt: str, suffix: str, content_type: str
) -> None:  # type: ignore[no-untyped-def]
    merchant = MerchantFactory()
    upload = SimpleUploadedFile(f"logo.{suffix}", image(fmt), content_type=content_type)
    merchant_update(merchant=merchant, actor=None, logo=upload)
    link = PaymentLinkFactory(merchant=merchant)

    logo_url = client.get(f"/api/v1/public/links/{link.slug}").json()["merchant"]["logo_url"]
    assert logo_url.startswith("/media/merchant-logos/")
    response = client.get(logo_url)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert b"".join(response.streaming_content) == image(fmt)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    assert response["Cache-Control"] == "public, max-age=86400"
    assert client.head(logo_url).status_code == 200
    assert client.post(logo_url).status_code == 405


def test_svg_logos_are_refused_at_upload(media) -> None:  # type: ignore[no-untyped-def]
    merchant = MerchantFactory()
    svg = SimpleUploadedFile("logo.svg", SVG, content_type="image/svg+xml")
    with pytest.raises(ValidationError) as refused:
        merchant_update(merchant=merchant, actor=None, logo=svg)
    assert "PNG, JPEG, WebP or GIF" in str(refused.value)
    # Nor does renaming it help: the bytes decide.
    disguised = SimpleUploadedFile("logo.png", SVG, content_type="image/png")
    with pytest.raises(ValidationError):
        merchant_update(merchant=merchant, actor=None, logo=disguised)


def test_only_current_logos_are_served(client, media) -> None:  # type: ignore[no-untyped-def]
    """Another file in the folder (a replaced logo, anything put there), a path that
    leaves it, or a file whose bytes are not an image: all the same 404."""
    (media / "merchant-logos").mkdir()
    (media / "merchant-logos" / "stray.png").write_bytes(image("PNG"))
    (media / "secret.txt").write_text("not a logo")
    merchant = MerchantFactory()
    merchant.logo.name = "merchant-logos/page.png"  # stored earlier, bytes not an image
    merchant.save()
    (media / "merchant-logos" / "page.png").write_bytes(b"<html><script>x</script></html>")

    for path in [
        "stray.png",
        "../secret.txt",
        "%2e%2e/secret.txt",
        "page.png",
        "nothing-here.png",
    ]:
        assert client.get(f"/media/merchant-logos/{path}").status_code == 404, path


def test_the_console_no_longer_promises_svg(alice, acme) -> None:  # type: ignore[no-untyped-def]
    owner = Client()
    owner.force_login(alice)
    page = owner.get(f"/admin/paylinks/merchant/{acme.pk}/change/").content.decode()
    assert "PNG, JPEG, WebP or GIF" in page
    assert "SVG" not in page
