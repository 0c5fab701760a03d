"""The shop's public pages: served at /, Buy goes to the link's pay page, sold-out and
unpublished books cannot be bought, search and categories, the strict CSP."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import PaymentFactory

from .helpers import make_book

pytestmark = pytest.mark.django_db


def test_the_shop_is_the_sites_root_and_shop_redirects_there(client, catalog, fiction) -> None:
    make_book(catalog, categories=[fiction])
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    assert "Acme Books" in html and "The Pragmatic Programmer" in html
    assert "25.00 USD" in html
    assert 'href="/books/?category=fiction"' in html
    assert "unsafe-inline" not in home["Content-Security-Policy"]
    assert "<script" not in html and "style=" not in html

    moved = client.get("/shop/")
    assert (moved.status_code, moved["Location"]) == (301, "/")
    deep = client.get("/shop/books/?q=x")
    assert (deep.status_code, deep["Location"]) == (301, "/books/?q=x")
    # Never to another host.
    assert client.get("/shop//evil.example/")["Location"] == "/evil.example/"


def test_buy_goes_to_the_links_pay_page(client, catalog) -> None:
    book = make_book(catalog, stock_limit=10)
    response = client.get(book.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="{book.payment_link.public_url}"' in html
    assert "10 in stock" in html
    assert "Cover of" not in html or "<img" in html


def test_sold_out_and_unpublished_books_cannot_be_bought(client, catalog) -> None:
    book = make_book(catalog, stock_limit=1)
    PaymentFactory(link=book.payment_link, status="succeeded")
    html = client.get(book.url).content.decode()
    assert "Sold out" in html
    assert book.payment_link.public_url not in html
    assert "Sold out" in client.get("/").content.decode()

    url = book.url
    book.unpublish()
    assert client.get(url).status_code == 404


def test_catalog_search_and_category_filter(client, catalog, fiction) -> None:
    make_book(catalog, title="Dune", slug="dune", author="Frank Herbert", categories=[fiction])
    make_book(catalog, title="Clean Code", slug="clean-code", author="Robert Martin")
    # The worker keeps the search index up to date (Wagtail's index tasks); here at once.
    call_command("update_index", stdout=StringIO())
    every = client.get("/books/").content.decode()
    assert "Dune" in every and "Clean Code" in every
    found = client.get("/books/", {"q": "Herbert"}).content.decode()
    assert "Dune" in found and "Clean Code" not in found
    shelf = client.get("/books/", {"category": "fiction"}).content.decode()
    assert "Dune" in shelf and "Clean Code" not in shelf
    # Unknown categories and odd queries are no error.
    assert client.get("/books/", {"category": "nope", "q": "\u00e9" * 500}).status_code == 200


def test_pay_what_you_like_shows_its_floor(client, catalog) -> None:
    book = make_book(catalog, price=500, pay_what_you_like=True)
    assert "Pay what you like, from 5.00 USD" in client.get(book.url).content.decode()
