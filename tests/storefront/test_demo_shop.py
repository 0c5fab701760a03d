"""The demo shop: eight books and more on three shelves, one sold out, one "pay what you
like", generated covers; loading it twice changes nothing."""

from __future__ import annotations

import pytest
from wagtail.images.models import Image
from wagtail.models import Site

from fixtures import shop as demo_shop
from paylinks.models import AmountType, LinkState, PaymentLink
from paylinks.selectors.links import link_state
from storefront.models import BookCategory, BookPage, ShopHomePage

pytestmark = pytest.mark.django_db


def test_demo_shop_is_complete_and_loads_once(acme, client) -> None:
    summary = demo_shop.load_shop()
    assert summary is not None
    books = BookPage.objects.live()
    assert books.count() >= 8
    assert BookCategory.objects.filter(merchant=acme).count() == 3
    assert all(book.payment_link_id and book.cover_id for book in books)
    states = [link_state(b.payment_link) for b in books.select_related("payment_link")]
    assert states.count(LinkState.SOLD_OUT) == 1
    assert PaymentLink.objects.filter(amount_type=AmountType.CUSTOMER).count() == 1
    assert BookPage.objects.filter(stock_limit__isnull=False).count() >= 2
    assert Site.objects.get(is_default_site=True).root_page.specific == summary.shop
    assert "Acme Books" in client.get("/").content.decode()

    counts = (BookPage.objects.count(), PaymentLink.objects.count(), Image.objects.count())
    assert demo_shop.load_shop() is None
    assert (BookPage.objects.count(), PaymentLink.objects.count(), Image.objects.count()) == counts
    assert ShopHomePage.objects.count() == 1


def test_no_demo_merchant_no_shop(globex) -> None:
    assert demo_shop.load_shop() is None
    assert not ShopHomePage.objects.exists()
