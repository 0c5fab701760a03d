"""The product image in the console's link form: uploaded with the link, refused with a
field error (never a 500) when it is not PNG, JPEG or WebP, and cleared with the box."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from paylinks.models import PaymentLink

from .conftest import change_url
from .test_link_form import ADD, form

pytestmark = pytest.mark.django_db


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 300), "#1565C0").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_an_owner_uploads_an_image_with_a_new_link(console, alice) -> None:  # type: ignore[no-untyped-def]
    page = console(alice).get(ADD).content.decode()
    assert 'enctype="multipart/form-data"' in page and "Product image" in page

    response = console(alice).post(
        ADD, form(image=SimpleUploadedFile("cover.png", png(), content_type="image/png"))
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    link = PaymentLink.objects.get()
    assert link.image.name.startswith("link-images/")
    assert (link.image_width, link.image_height) == (200, 300)


@pytest.mark.parametrize(
    "data,name",
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "cover.svg"),
        (b"GIF89a" + b"\0" * 64, "cover.gif"),
        (b"not an image at all", "cover.png"),
    ],
)
def test_a_file_that_is_not_an_allowed_image_is_a_field_error(
    console, alice, data: bytes, name: str
) -> None:  # type: ignore[no-untyped-def]
    response = console(alice).post(ADD, form(image=SimpleUploadedFile(name, data)))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "image" in errors, errors
    assert not PaymentLink.objects.exists()


def test_clearing_the_image_in_the_form(console, alice, acme_link) -> None:  # type: ignore[no-untyped-def]
    client = console(alice)
    url = change_url(acme_link)
    fields = form(title=acme_link.title, amount="45.00")
    upload = SimpleUploadedFile("c.png", png(), content_type="image/png")
    assert client.post(url, {**fields, "image": upload}).status_code == 302
    acme_link.refresh_from_db()
    assert acme_link.image

    assert client.post(url, {**fields, "image-clear": "on"}).status_code == 302
    acme_link.refresh_from_db()
    assert not acme_link.image
