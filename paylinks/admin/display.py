"""Small presentation helpers shared by the console's pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from paylinks.models import LinkState, PaymentStatus


class Variants(dict[str, str]):
    """Badge colours by value; anything unlisted gets the neutral badge, never a raw code."""

    def __missing__(self, key: str) -> str:
        return "default"


#: Badge colours for a payment's status and a link's state, the same on every console page.
PAYMENT_STATUS_VARIANTS = Variants(
    {
        PaymentStatus.SUCCEEDED: "success",
        PaymentStatus.PENDING: "info",
        PaymentStatus.FAILED: "danger",
        PaymentStatus.EXPIRED: "warning",
        PaymentStatus.CANCELED: "warning",
        PaymentStatus.PARTIALLY_REFUNDED: "primary",
        PaymentStatus.REFUNDED: "primary",
    }
)
LINK_STATE_VARIANTS = Variants(
    {
        LinkState.ACTIVE: "success",
        LinkState.EXPIRED: "warning",
        LinkState.INACTIVE: "danger",
        LinkState.SOLD_OUT: "info",
    }
)


def badge(text: Any, variant: str) -> SafeString:
    """Unfold's label, for read-only pages (``@display(label=...)`` only styles lists)."""
    return mark_safe(  # noqa: S308 - rendered by the template engine, which escapes ``text``
        render_to_string("unfold/helpers/label.html", {"text": text, "type": variant})
    )


def when(value: datetime | None) -> str:
    """ "22 Nov 2026, 09:40 CET" in the console's time zone, which it names: support staff
    (site time) and a merchant (its own zone) read the same moment differently, and a
    customer on the phone says a third."""
    if value is None:
        return "—"
    return date_format(timezone.localtime(value), "j M Y, H:i T")


def day(value: datetime | None) -> str:
    """ "22 Nov 2026" in the console's time zone."""
    if value is None:
        return "—"
    return date_format(timezone.localtime(value), "j M Y")


def nowrap(text: Any) -> SafeString:
    """Keep a short value (a date, "14 of 40", an amount) on one line in a table."""
    return format_html('<span class="whitespace-nowrap">{}</span>', text)


def truncated(text: str, width: int = 260) -> SafeString:
    """Text cut to one line with an ellipsis; the full text in the tooltip."""
    return format_html(
        '<span class="paylinks-truncate" style="max-width: {}px" title="{}">{}</span>',
        width,
        text,
        text,
    )
