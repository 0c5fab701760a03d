"""The merchant API's link answers carry the product image's absolute address."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from paylinks.services.links import payment_link_create

pytestmark = pytest.mark.django_db


def test_links_carry_image_url(settings: Any, tmp_path: Any, acme, acme_api) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    out = io.BytesIO()
    Image.new("RGB", (120, 120), "#6A1B9A").save(out, format="JPEG")
    pictured = payment_link_create(
        merchant=acme,
        actor=None,
        title="Poster",
        currency="USD",
        amount=1500,
        image=SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg"),
    )
    plain = payment_link_create(
        merchant=acme, actor=None, title="Plain", currency="USD", amount=900
    )

    one = acme_api.get(f"/api/v1/links/{pictured.slug}").json()
    assert one["image_url"] == f"{settings.SITE_URL}/media/{pictured.image.name}"
    listed = {item["id"]: item for item in acme_api.get("/api/v1/links").json()["results"]}
    assert listed[pictured.slug]["image_url"] == one["image_url"]
    assert listed[plain.slug]["image_url"] is None
