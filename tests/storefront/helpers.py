"""Building a shop in tests: pages through Wagtail's tree, publishing through revisions
(the same path as the editor's Publish button, so the page signals run)."""

from __future__ import annotations

from typing import Any

from wagtail.models import Site

from paylinks.models import Merchant, User
from storefront.models import BookPage, CatalogPage, ShopHomePage, tree_root


def make_shop(merchant: Merchant, *, root_site: bool = True) -> tuple[ShopHomePage, CatalogPage]:
    root = tree_root()
    shop = root.add_child(
        instance=ShopHomePage(
            title=merchant.name, slug=f"{merchant.slug}-shop", merchant=merchant, tagline="Books."
        )
    )
    catalog = shop.add_child(instance=CatalogPage(title="All books", slug="books"))
    if root_site:
        Site.objects.update_or_create(
            is_default_site=True, defaults={"root_page": shop, "hostname": "localhost"}
        )
    return shop, catalog


def make_book(
    catalog: CatalogPage, *, publish: bool = True, user: User | None = None, **fields: Any
) -> BookPage:
    values: dict[str, Any] = {
        "title": "The Pragmatic Programmer",
        "author": "Dave Thomas",
        "price": 2500,
        "currency": "USD",
    }
    values.update(fields)
    values.setdefault("slug", values["title"].lower().replace(" ", "-")[:50])
    categories = values.pop("categories", [])
    book = catalog.add_child(instance=BookPage(live=False, **values))
    if categories:
        book.categories.set(categories)
        book.save()
    if publish:
        publish_book(book, user=user)
    return BookPage.objects.get(pk=book.pk)


def publish_book(book: BookPage, *, user: User | None = None, **changes: Any) -> BookPage:
    book = BookPage.objects.get(pk=book.pk).get_latest_revision_as_object()
    for name, value in changes.items():
        setattr(book, name, value)
    book.save_revision(user=user).publish(user=user)
    return BookPage.objects.get(pk=book.pk)
