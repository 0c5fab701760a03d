"""QR codes for payment links, drawn by segno: SVG for the console and print, PNG for
chat apps and e-mail. The console and the merchant API both draw them here."""

from __future__ import annotations

import io
from typing import Any

import segno

# Error correction "M" survives a scuffed sticker; segno raises it further for free when
# the symbol has room. A quiet zone of 4 modules is what the QR standard asks for.
QR_OPTIONS: dict[str, Any] = {"error": "m", "micro": False}
DARK, LIGHT = "#111827", "#ffffff"
SVG_OPTIONS: dict[str, Any] = {
    "kind": "svg",
    "scale": 8,
    "border": 4,
    "dark": DARK,
    "light": LIGHT,
    "xmldecl": True,
    "svgclass": "paylinks-qr",
    "title": "QR code",
}
PNG_OPTIONS: dict[str, Any] = {
    "kind": "png",
    "scale": 10,
    "border": 4,
    "dark": DARK,
    "light": LIGHT,
}


def qr_svg(url: str) -> bytes:
    """An SVG document whose QR symbol encodes ``url`` exactly."""
    buffer = io.BytesIO()
    segno.make(url, **QR_OPTIONS).save(buffer, **SVG_OPTIONS)
    return buffer.getvalue()


def qr_png(url: str) -> bytes:
    """A PNG image whose QR symbol encodes ``url`` exactly (10 pixels per module)."""
    buffer = io.BytesIO()
    segno.make(url, **QR_OPTIONS).save(buffer, **PNG_OPTIONS)
    return buffer.getvalue()
