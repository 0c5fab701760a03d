"""Book covers drawn by Paylinks (Pillow): the title and author on a coloured background.

For the demo shop and tests: no copyrighted cover art, and no files to ship.
"""

from __future__ import annotations

import hashlib
import textwrap
from io import BytesIO

from django.core.files.images import ImageFile
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from wagtail.images.models import Image
from wagtail.models import Collection

WIDTH, HEIGHT = 600, 900
PALETTE = [
    ("#0F766E", "#F0FDFA"), ("#7C2D12", "#FFF7ED"), ("#1E3A8A", "#EFF6FF"),
    ("#581C87", "#FAF5FF"), ("#14532D", "#F0FDF4"), ("#9F1239", "#FFF1F2"),
    ("#1F2937", "#F9FAFB"), ("#854D0E", "#FEFCE8"), ("#155E75", "#ECFEFF"),
]  # fmt: skip


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def cover_png(title: str, author: str) -> bytes:
    """A 600x900 PNG; the colours follow from the title, so a cover never changes."""
    index = int(hashlib.sha256(title.encode()).hexdigest(), 16) % len(PALETTE)
    background, ink = PALETTE[index]
    picture = PILImage.new("RGB", (WIDTH, HEIGHT), background)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((36, 36, WIDTH - 36, HEIGHT - 36), outline=ink, width=3)
    draw.rectangle((60, 120, WIDTH - 60, 126), fill=ink)
    y = 170
    for line in textwrap.wrap(title, width=16)[:5]:
        draw.text((70, y), line, font=_font(58), fill=ink)
        y += 74
    draw.rectangle((60, HEIGHT - 210, 180, HEIGHT - 205), fill=ink)
    draw.text((70, HEIGHT - 180), author, font=_font(34), fill=ink)
    out = BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


def cover_image(title: str, author: str, *, collection: Collection | None = None) -> Image:
    """A Wagtail image of a generated cover, in the merchant's collection when given."""
    name = f"cover-{hashlib.sha256(title.encode()).hexdigest()[:12]}.png"
    if collection is None:
        collection = Collection.get_first_root_node() or Collection.add_root(name="Root")
    image = Image(title=f"Cover: {title}", collection=collection)
    image.file = ImageFile(BytesIO(cover_png(title, author)), name=name)
    image.save()
    return image
