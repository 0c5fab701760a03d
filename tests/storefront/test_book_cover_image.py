"""A book's cover is its payment link's product image, kept in step on publish: the
shop's pay page (and Stripe Checkout) show the cover."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.images import ImageFile
from PIL import Image as PILImage
from wagtail.images.models import Image

from paylinks.models import PaymentLink

from .helpers import make_book, publish_book

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def cover(colour: str, size: tuple[int, int] = (600, 900)) -> Image:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, format="PNG")
    return Image.objects.create(title=f"cover {colour}", file=ImageFile(out, name="cover.png"))


def test_the_cover_becomes_the_links_image_and_follows_it(client, catalog) -> None:  # type: ignore[no-untyped-def]
    book = make_book(catalog, cover=cover("#B71C1C"))
    link = book.payment_link
    assert link.image.name.startswith("link-images/") and link.image.name.endswith(".jpg")
    assert (link.image_width, link.image_height) == (533, 800)  # at most 800 px
    data = client.get(f"/api/v1/public/links/{link.slug}").json()
    assert data["image_url"].endswith(link.image.name)
    assert client.get(f"/media/{link.image.name}")["Content-Type"] == "image/jpeg"

    # Publishing again with the same cover keeps the same image (and its cached address).
    first = link.image.name
    book = publish_book(book, price=2700)
    assert PaymentLink.objects.get(pk=link.pk).image.name == first

    # A new cover: a new image.
    book = publish_book(book, cover=cover("#0D47A1", (800, 800)))
    link = PaymentLink.objects.get(pk=link.pk)
    assert link.image.name != first and (link.image_width, link.image_height) == (800, 800)

    # No cover: no image.
    publish_book(book, cover=None)
    assert not PaymentLink.objects.get(pk=link.pk).image


def test_a_book_without_a_cover_has_a_link_without_an_image(catalog) -> None:  # type: ignore[no-untyped-def]
    book = make_book(catalog)
    assert not book.payment_link.image
