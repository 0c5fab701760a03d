"""What the sandbox's hosted page shows of the merchant: logo, brand colour, product image.

Stripe Checkout takes these from the account's branding settings and the line item's
``product_data.images``; the sandbox reads the same from the merchant and the link its
session's metadata names (``paylinks_merchant``, ``paylinks_link``: every session the
Paylinks services open carries them). A session without them is shown unbranded.
"""

from __future__ import annotations

from dataclasses import dataclass

from paylinks.colours import DEFAULT_BRAND, accent_color
from paylinks.models import Merchant, PaymentLink

from .models import SandboxSession

#: The longest side the page reserves for the product image, in CSS pixels.
IMAGE_BOX = 160


@dataclass(frozen=True)
class Branding:
    accent: str = DEFAULT_BRAND
    logo_url: str = ""
    image_url: str = ""
    image_width: int = 0
    image_height: int = 0


def for_session(session: SandboxSession) -> Branding:
    metadata = session.metadata or {}
    merchant_id = str(metadata.get("paylinks_merchant", ""))
    if not merchant_id.isdigit():
        return Branding()
    merchant = Merchant.objects.filter(pk=int(merchant_id)).only("brand_color", "logo").first()
    if merchant is None:
        return Branding()
    link = (
        PaymentLink.objects.filter(merchant=merchant, slug=str(metadata.get("paylinks_link", "")))
        .only("image", "image_width", "image_height")
        .first()
    )
    width = height = 0
    if link is not None and link.image and link.image_width and link.image_height:
        scale = min(1.0, IMAGE_BOX / max(link.image_width, link.image_height))
        width, height = round(link.image_width * scale), round(link.image_height * scale)
    return Branding(
        accent=accent_color(merchant.brand_color),
        logo_url=merchant.logo.url if merchant.logo else "",
        image_url=link.image.url if width else "",  # type: ignore[union-attr]
        image_width=width,
        image_height=height,
    )
