"""QR codes for payment links, drawn as SVG by segno."""

from __future__ import annotations

import io
from typing import Any

import segno

# Error correction "M" survives a scuffed sticker; segno raises it further for free when
# the symbol has room. A quiet zone of 4 modules is what the QR standard asks for.
QR_OPTIONS: dict[str, Any] = {"error": "m", "micro": False}
SVG_OPTIONS: dict[str, Any] = {
    "kind": "svg",
    "scale": 8,
    "border": 4,
    "dark": "#111827",
    "light": "#ffffff",
    "xmldecl": True,
    "svgclass": "paylinks-qr",
    "title": "QR code",
}


def qr_svg(url: str) -> bytes:
    """An SVG document whose QR symbol encodes ``url`` exactly."""
    buffer = io.BytesIO()
    segno.make(url, **QR_OPTIONS).save(buffer, **SVG_OPTIONS)
    return buffer.getvalue()
