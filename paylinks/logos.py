"""Merchant logos, served by Django in production too.

Nothing else serves ``MEDIA_ROOT`` when ``DEBUG`` is off, so every pay page showed a
broken image. This view serves exactly the files that are some merchant's current logo
(``Merchant.logo``), with the content type their first bytes prove (PNG, JPEG, WebP,
GIF; ``paylinks.models.merchants.LOGO_SIGNATURES``), never one guessed from the name,
and headers that keep a file from ever acting as a page: ``nosniff``, a closed
``sandbox`` CSP, ``Content-Disposition: inline`` with no script origin. The checkout
page's ``/media/*`` rewrite (checkout/proxy.ts) leads here.
"""

from __future__ import annotations

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_safe

from paylinks.models import Merchant
from paylinks.models.merchants import logo_content_type

LOGO_DIRECTORY = "merchant-logos"
#: A logo's name changes when the merchant uploads another, so a day of caching is safe.
CACHE_SECONDS = 24 * 3600
LOGO_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@require_safe
def merchant_logo(request: HttpRequest, name: str) -> HttpResponseBase:
    stored = f"{LOGO_DIRECTORY}/{name}"
    if "\x00" in name or not Merchant.objects.filter(logo=stored).exists():
        raise Http404
    try:
        file = default_storage.open(stored, "rb")
    except (OSError, SuspiciousFileOperation):
        raise Http404 from None
    content_type = logo_content_type(file.read(16))
    if content_type is None:
        file.close()
        raise Http404
    file.seek(0)
    response = FileResponse(file, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = LOGO_CSP
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
