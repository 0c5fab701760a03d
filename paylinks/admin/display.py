"""Small presentation helpers shared by the console's pages."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from paylinks.models import LinkState, PaymentStatus
from paylinks.timezones import abbreviation, day, show_times_of, when, zone, zone_label


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


# The console's one date format and its zones live in paylinks.timezones (the templates'
# ``|when`` filter uses them too); the admin's ``display`` functions call them from here.
__all__ = ["abbreviation", "day", "show_times_of", "when", "zone", "zone_label"]


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
