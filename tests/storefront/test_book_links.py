"""A book page owns its payment link: publish creates and updates it through the links
service, unpublish and delete deactivate it, republish reactivates it."""

from __future__ import annotations

import pytest
from wagtail.models import Page

from paylinks.models import AmountType, AuditEntry, PaymentLink
from storefront.links import PAGE_KEY
from storefront.models import BookPage
from tests.factories import PaymentFactory

from .helpers import make_book, publish_book

pytestmark = pytest.mark.django_db


def test_first_publish_creates_the_link_the_page_names(catalog, acme, alice) -> None:
    book = make_book(catalog, user=alice, stock_limit=5, edition="20th anniversary edition")
    link = book.payment_link
    assert link is not None
    assert (link.merchant, link.title, link.amount, link.currency) == (
        acme, "The Pragmatic Programmer", 2500, "USD"
    )  # fmt: skip
    assert link.amount_type == AmountType.FIXED
    assert link.payment_limit == 5
    assert link.is_active
    assert link.metadata == {PAGE_KEY: str(book.pk)}
    assert "The Pragmatic Programmer" in link.confirmation_message
    # The editor opening the page next sees the link in the form (the latest revision).
    assert book.latest_revision.content["payment_link"] == link.pk
    assert AuditEntry.objects.filter(action="link.created", actor=alice).exists()


def test_a_draft_is_not_for_sale(catalog) -> None:
    book = make_book(catalog, publish=False)
    assert book.payment_link is None
    assert not PaymentLink.objects.exists()


def test_price_and_currency_changes_follow_on_publish(catalog, alice) -> None:
    book = make_book(catalog, user=alice)
    link_id = book.payment_link_id
    # A saved draft changes nothing customers pay.
    draft = book.get_latest_revision_as_object()
    draft.price = 3100
    draft.save_revision(user=alice)
    assert PaymentLink.objects.get(pk=link_id).amount == 2500

    book = publish_book(book, user=alice, price=3100, currency="EUR", title="Pragmatic, 2nd ed.")
    link = PaymentLink.objects.get(pk=link_id)
    assert (link.amount, link.currency, link.title) == (3100, "EUR", "Pragmatic, 2nd ed.")
    assert book.payment_link_id == link_id
    assert PaymentLink.objects.count() == 1
    update = AuditEntry.objects.filter(action="link.updated").latest("pk")
    assert update.actor == alice
    assert update.changes["amount"] == [2500, 3100]


def test_pay_what_you_like_is_the_links_customer_chosen_amount(catalog) -> None:
    book = make_book(catalog, price=500, pay_what_you_like=True)
    link = book.payment_link
    assert (link.amount_type, link.amount, link.custom_amount_min) == (
        AmountType.CUSTOMER, None, 500
    )  # fmt: skip
    book = publish_book(book, pay_what_you_like=False, price=1500)
    link.refresh_from_db()
    assert (link.amount_type, link.amount, link.custom_amount_min) == (AmountType.FIXED, 1500, None)


def test_unpublish_deactivates_and_republish_reactivates(catalog) -> None:
    book = make_book(catalog)
    link_id = book.payment_link_id
    book.unpublish()
    link = PaymentLink.objects.get(pk=link_id)
    assert not link.is_active
    assert link.inactive_message == "This book is not for sale right now."
    publish_book(book)
    assert PaymentLink.objects.get(pk=link_id).is_active
    assert PaymentLink.objects.count() == 1


def test_deleting_the_page_or_its_shop_deactivates_the_link(catalog, shop) -> None:
    first = make_book(catalog)
    second = make_book(catalog, title="Refactoring", slug="refactoring")
    BookPage.objects.get(pk=first.pk).delete()
    assert not PaymentLink.objects.get(pk=first.payment_link_id).is_active
    assert PaymentLink.objects.get(pk=second.payment_link_id).is_active
    Page.objects.get(pk=shop.pk).delete()
    assert not PaymentLink.objects.get(pk=second.payment_link_id).is_active


def test_a_price_the_currency_cannot_charge_is_refused(catalog) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        make_book(catalog, price=10, currency="USD")
    assert "price" in caught.value.message_dict
    with pytest.raises(ValidationError):
        make_book(catalog, price=None, slug="no-price")


def test_a_books_stock_counts_copies_bought_in_quantities(client, catalog) -> None:
    book = make_book(catalog, price=1450, stock_limit=4)
    link = book.payment_link
    # Customers choose how many copies, never more than are in stock.
    assert (link.quantity_enabled, link.quantity_min, link.quantity_max) == (True, 1, 4)
    PaymentFactory(link=link, amount=2900, unit_amount=1450, quantity=2, status="succeeded")
    assert "Only 2 left" in client.get(book.url).content.decode()
    PaymentFactory(link=link, amount=2900, unit_amount=1450, quantity=2, status="succeeded")
    assert "Sold out" in client.get(book.url).content.decode()
    # Without a stock limit: at most ten copies in one payment; pay what you like: one.
    unlimited = make_book(catalog, title="Unlimited", price=900)
    assert unlimited.payment_link.quantity_max == 10
    chosen = make_book(catalog, title="Chosen", price=500, pay_what_you_like=True)
    assert chosen.payment_link.quantity_enabled is False
