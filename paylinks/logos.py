"""Merchant logos and links' product images, served by Django in production too.

Nothing else serves ``MEDIA_ROOT`` when ``DEBUG`` is off, so every pay page showed a
broken image. This view serves exactly the files that are some merchant's current logo
(``Merchant.logo``), with the content type their first bytes prove (PNG, JPEG, WebP,
GIF; ``paylinks.models.merchants.LOGO_SIGNATURES``), never one guessed from the name,
and headers that keep a file from ever acting as a page: ``nosniff``, a closed
``sandbox`` CSP, ``Content-Disposition: inline`` with no script origin. The checkout
page's ``/media/*`` rewrite (checkout/proxy.ts) leads here.

A link's product image (``PaymentLink.image``) is served the same way, PNG, JPEG or
WebP only: it is public (Stripe Checkout fetches it by its absolute address) and its
name is fresh random text for every upload, so it may be cached for as long as it lives.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_safe

from paylinks.models import Merchant, PaymentLink
from paylinks.models.links import LINK_IMAGE_DIRECTORY
from paylinks.models.merchants import link_image_content_type, logo_content_type

LOGO_DIRECTORY = "merchant-logos"
#: A logo's name changes when the merchant uploads another, so a day of caching is safe.
CACHE_SECONDS = 24 * 3600
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


#: A product image's name is new with every upload: a week of caching is safe.
IMAGE_CACHE_SECONDS = 7 * 24 * 3600


@require_safe
def merchant_logo(request: HttpRequest, name: str) -> HttpResponseBase:
    stored = f"{LOGO_DIRECTORY}/{name}"
    if "\x00" in name or not Merchant.objects.filter(logo=stored).exists():
        raise Http404
    return _serve(stored, logo_content_type, CACHE_SECONDS)


@require_safe
def link_image(request: HttpRequest, name: str) -> HttpResponseBase:
    """A payment link's product image: only a file that is some link's current image."""
    stored = f"{LINK_IMAGE_DIRECTORY}/{name}"
    if "\x00" in name or not PaymentLink.objects.filter(image=stored).exists():
        raise Http404
    return _serve(stored, link_image_content_type, IMAGE_CACHE_SECONDS)


def _serve(
    stored: str, content_type_of: Callable[[bytes], str | None], max_age: int
) -> HttpResponseBase:
    try:
        file = default_storage.open(stored, "rb")
    except (OSError, SuspiciousFileOperation):
        raise Http404 from None
    content_type = content_type_of(file.read(16))
    if content_type is None:
        file.close()
        raise Http404
    file.seek(0)
    response = FileResponse(file, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = LOGO_CSP
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = f"public, max-age={max_age}"
    return response
