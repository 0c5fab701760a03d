"""Brand colours and WCAG contrast, as checkout/lib/contrast.ts computes them: white text on
the merchant's colour only where it reads at AA (4.5:1), else on Paylinks' default."""

from __future__ import annotations

import re

DEFAULT_BRAND = "#4f46e5"
_HEX = re.compile(r"^#?([0-9a-f]{3}|[0-9a-f]{6})$", re.IGNORECASE)


def normalize_hex(value: str | None) -> str | None:
    """ "#abc" or "#aabbcc" -> "#aabbcc"; anything else -> None."""
    match = _HEX.match((value or "").strip())
    if not match:
        return None
    digits = match.group(1).lower()
    return "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    normal = normalize_hex(colour)
    if normal is None:
        raise ValueError(f"not a colour: {colour!r}")
    n = int(normal[1:], 16)
    r, g, b = (n >> 16) & 255, (n >> 8) & 255, n & 255
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def accent_color(value: str | None) -> str:
    """The colour painted under white text: the brand colour when white reads on it at
    WCAG AA, else ``DEFAULT_BRAND``."""
    brand = normalize_hex(value) or DEFAULT_BRAND
    return brand if contrast_ratio(brand, "#ffffff") >= 4.5 else DEFAULT_BRAND
