"""A book page owns its payment link, and keeps it in step only through the links service.

- publish: the link is created (first publish) or updated to the page (title, price or
  "pay what you like", currency, stock: the link's payment limit, counted in copies, the
  cover as its product image), and reactivated if the page had been unpublished;
- unpublish or delete: the link is deactivated (its payments and history stay).

Never through the console: a merchant who edits the link there sees the page put it back
at the next publish. ``actor`` is the editor who published (their write permission at the
merchant is checked by the service), or None for the system (demo data, scheduled tasks).
"""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from paylinks import money
from paylinks.models import AmountType, PaymentLink, User
from paylinks.services.links import (
    payment_link_activate,
    payment_link_create,
    payment_link_deactivate,
    payment_link_update,
)

from .models import BookPage

#: The link's metadata key naming the book page that owns it (shown in the console and
#: sent to the gateway with every payment).
PAGE_KEY = "storefront_page"
NOT_FOR_SALE = "This book is not for sale right now."
#: The most copies of a book one customer buys in one payment (fewer when less are in stock).
COPIES_PER_ORDER = 10
#: The cover as the link's product image: at most 800 px on its longer side, JPEG (what
#: the pay page and Stripe Checkout show; well under the link image's 2 MB).
COVER_RENDITION = "max-800x800|format-jpeg|jpegquality-85"


def link_fields(book: BookPage) -> dict[str, Any]:
    """What the link says, derived from the page alone."""
    fields: dict[str, Any] = {
        "title": book.title[:120],
        "description": f"{book.title} by {book.author}, {book.get_book_format_display()}"
        + (f", {book.edition}" if book.edition else ""),
        "currency": book.currency,
        "payment_limit": book.stock_limit,
        "confirmation_message": f"Thank you for buying “{book.title}” by {book.author}.",
        "metadata": {PAGE_KEY: str(book.pk)},
    }
    if book.pay_what_you_like:
        fields.update(
            amount_type=AmountType.CUSTOMER,
            amount=None,
            custom_amount_min=book.price,
            custom_amount_max=None,
            custom_amount_preset=None,
            quantity_enabled=False,
        )
    else:
        # Customers choose how many copies; the stock (payment limit) counts copies.
        fits = money.maximum_minor(book.currency) // book.price if book.price else 1
        most = min(COPIES_PER_ORDER, book.stock_limit or COPIES_PER_ORDER, max(1, fits))
        fields.update(
            amount_type=AmountType.FIXED,
            amount=book.price,
            quantity_enabled=True,
            quantity_min=1,
            quantity_max=most,
        )
    return fields


def owned_link(book: BookPage) -> PaymentLink | None:
    """The page's link: the one it names, else one created for it earlier (a draft made
    before the first publish does not name it yet)."""
    if book.payment_link_id:
        return PaymentLink.objects.filter(pk=book.payment_link_id).first()
    merchant = book.merchant
    if merchant is None:
        return None
    return (
        PaymentLink.objects.filter(merchant=merchant, **{f"metadata__{PAGE_KEY}": str(book.pk)})
        .order_by("pk")
        .first()
    )


@transaction.atomic
def sync_book_link(book: BookPage, *, actor: User | None) -> PaymentLink:
    """Create or update the published book's link so that it sells what the page shows."""
    merchant = book.merchant
    if merchant is None:
        raise ValueError(f"Book page {book.pk} is not inside a shop.")
    link = owned_link(book)
    fields = link_fields(book)
    if link is None or link.merchant_id != merchant.pk:
        link = payment_link_create(merchant=merchant, actor=actor, **fields, image=cover_file(book))
    else:
        if cover_changed(book, link):
            fields["image"] = cover_file(book) or ""
        link = payment_link_update(link=link, actor=actor, **fields)
        if not link.is_active:
            link = payment_link_activate(link=link, actor=actor)
    if book.payment_link_id != link.pk:
        _name_link(book, link)
    return link


def cover_bytes(book: BookPage) -> bytes | None:
    """The cover as the link shows it (``COVER_RENDITION``), or None without a cover."""
    if book.cover is None:
        return None
    rendition = book.cover.get_rendition(COVER_RENDITION)
    with rendition.file.open("rb") as file:
        return file.read()


def cover_file(book: BookPage) -> ContentFile | None:
    data = cover_bytes(book)
    return None if data is None else ContentFile(data, name="cover.jpg")


def cover_changed(book: BookPage, link: PaymentLink) -> bool:
    """Whether the link's image is not (any more) the page's cover: compared by content,
    so a publish that keeps the cover keeps the image and its cached address."""
    data = cover_bytes(book)
    if not link.image:
        return data is not None
    if data is None:
        return True
    try:
        with link.image.open("rb") as file:
            current = file.read()
    except OSError:
        return True
    return current != data


@transaction.atomic
def withdraw_book_link(book: BookPage, *, actor: User | None) -> PaymentLink | None:
    """Stop selling the book: its link no longer accepts payments."""
    link = owned_link(book)
    if link is not None and link.is_active:
        link = payment_link_deactivate(link=link, actor=actor, message=NOT_FOR_SALE)
    return link


def _name_link(book: BookPage, link: PaymentLink) -> None:
    """Point the page, and its latest revision (what the editor opens next), at the link."""
    book.payment_link = link
    BookPage.objects.filter(pk=book.pk).update(payment_link=link)
    revision = book.latest_revision
    if revision is not None:
        revision.content["payment_link"] = link.pk
        revision.save(update_fields=["content"])
