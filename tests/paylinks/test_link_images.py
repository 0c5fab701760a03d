"""A payment link's product image (issue 14): uploaded through the links service, checked
by its first bytes (PNG, JPEG, WebP; never GIF or SVG) and its size, stored under a fresh
random name, served by Django with or without DEBUG, and given to the public API as an
absolute address with its size."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from paylinks.models import AuditEntry, PaymentLink
from paylinks.models.merchants import LINK_IMAGE_MAX_BYTES
from paylinks.services.links import payment_link_create, payment_link_update

from ..factories import PaymentLinkFactory

pytestmark = pytest.mark.django_db

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'


def image(fmt: str, size: tuple[int, int] = (300, 450)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#2E7D32").save(out, format=fmt)
    return out.getvalue()


def upload(data: bytes, name: str = "cover.png", content_type: str = "image/png") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://pay.example.com"
    assert settings.DEBUG is False  # production: no static() route for /media/
    return tmp_path


def new_link(acme: Any, **fields: Any) -> PaymentLink:
    return payment_link_create(
        merchant=acme, actor=None, title="Atlas of Islands", currency="EUR", amount=2400, **fields
    )


@pytest.mark.parametrize(
    ("fmt", "suffix", "content_type"),
    [("PNG", ".png", "image/png"), ("JPEG", ".jpg", "image/jpeg"), ("WEBP", ".webp", "image/webp")],
)
def test_an_image_is_stored_under_a_random_name_and_served_without_debug(
    client, media, acme, fmt: str, suffix: str, content_type: str
) -> None:  # type: ignore[no-untyped-def]
    link = new_link(acme, image=upload(image(fmt), name="My Holiday Photo.gif"))

    name = link.image.name
    assert name.startswith("link-images/") and name.endswith(suffix)  # by its bytes
    assert "Holiday" not in name and len(name) > len("link-images/") + 20
    assert (link.image_width, link.image_height) == (300, 450)

    response = client.get(f"/media/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert b"".join(response.streaming_content) == image(fmt)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    assert response["Cache-Control"] == "public, max-age=604800"
    assert client.head(f"/media/{name}").status_code == 200
    assert client.post(f"/media/{name}").status_code == 405


@pytest.mark.parametrize(
    "data,name",
    [
        (SVG, "cover.svg"),
        (SVG, "cover.png"),  # renaming does not help: the bytes decide
        (image("GIF"), "cover.gif"),
        (b"%PDF-1.7\n" + b"x" * 100, "cover.jpg"),
        (b"", "empty.png"),
    ],
)
def test_anything_but_png_jpeg_or_webp_is_refused(media, acme, data: bytes, name: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as refused:
        new_link(acme, image=upload(data, name=name))
    assert "PNG, JPEG or WebP" in str(refused.value.message_dict.get("image"))
    assert not PaymentLink.objects.exists()


def test_an_image_over_the_size_cap_is_refused(media, acme) -> None:  # type: ignore[no-untyped-def]
    big = image("PNG", (16, 16)) + b"\0" * LINK_IMAGE_MAX_BYTES
    with pytest.raises(ValidationError) as refused:
        new_link(acme, image=upload(big))
    assert "at most 2 MB" in str(refused.value.message_dict["image"])


def test_only_current_images_are_served(
    client, media, acme, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """A replaced image is deleted and answers 404; so do stray files, paths leaving the
    folder and a stored file whose bytes are not an allowed image."""
    link = new_link(acme, image=upload(image("PNG")))
    old = link.image.name
    with django_capture_on_commit_callbacks(execute=True):
        link = payment_link_update(link=link, actor=None, image=upload(image("JPEG"), "b.jpg"))
    assert link.image.name != old
    assert not (media / old).exists()  # nobody's image any more: deleted
    assert client.get(f"/media/{link.image.name}").status_code == 200
    assert client.get(f"/media/{old}").status_code == 404

    (media / "link-images" / "stray.png").write_bytes(image("PNG"))
    (media / "secret.txt").write_text("not an image")
    other = PaymentLinkFactory(merchant=acme)
    PaymentLink.objects.filter(pk=other.pk).update(image="link-images/page.png")
    (media / "link-images" / "page.png").write_bytes(b"<html><script>x</script></html>")
    gif = PaymentLinkFactory(merchant=acme)
    PaymentLink.objects.filter(pk=gif.pk).update(image="link-images/old.gif")
    (media / "link-images" / "old.gif").write_bytes(image("GIF"))
    for path in ["stray.png", "../secret.txt", "%2e%2e/secret.txt", "page.png", "old.gif", "x.png"]:
        assert client.get(f"/media/link-images/{path}").status_code == 404, path


def test_clearing_the_image_removes_it(client, media, acme) -> None:  # type: ignore[no-untyped-def]
    link = new_link(acme, image=upload(image("PNG")))
    name = link.image.name
    link = payment_link_update(link=link, actor=None, image=False)  # the form's "clear"
    assert not link.image and link.image_url is None
    assert (link.image_width, link.image_height) == (None, None)
    assert client.get(f"/media/{name}").status_code == 404


def test_the_public_api_gives_the_absolute_address_and_size(client, media, acme) -> None:  # type: ignore[no-untyped-def]
    link = new_link(acme, image=upload(image("WEBP", (640, 480)), "c.webp"))

    data = client.get(f"/api/v1/public/links/{link.slug}").json()
    assert data["image_url"] == f"https://pay.example.com/media/{link.image.name}"
    assert (data["image_width"], data["image_height"]) == (640, 480)

    plain = new_link(acme)
    data = client.get(f"/api/v1/public/links/{plain.slug}").json()
    assert (data["image_url"], data["image_width"], data["image_height"]) == (None, None, None)


def test_the_audit_log_records_the_image_by_its_name(media, acme) -> None:  # type: ignore[no-untyped-def]
    link = new_link(acme)
    link = payment_link_update(link=link, actor=None, image=upload(image("PNG")))
    entry = AuditEntry.objects.filter(action="link.updated").latest("pk")
    assert entry.changes["image"] == ["", link.image.name]
