"""Editors in /cms/: merchant roles map to the shop's Wagtail group; an editor sees and
edits only their merchant's shop; publishing a new price moves the link; the payment-link
chooser lists only the editor's merchants' links."""

from __future__ import annotations

import pytest
from wagtail.test.utils.form_data import nested_form_data, rich_text

from paylinks.models import Membership, PaymentLink, Role
from storefront.models import BookPage, ShopEditors
from tests.factories import PaymentLinkFactory

from .helpers import make_book, make_shop

pytestmark = pytest.mark.django_db


def group_members(merchant) -> set[str]:  # type: ignore[no-untyped-def]
    group = ShopEditors.objects.get(merchant=merchant).group
    return set(group.user_set.values_list("email", flat=True))


def test_owners_and_managers_edit_viewers_do_not(acme, alice, mallory, victor) -> None:
    make_shop(acme)
    assert group_members(acme) == {"alice@acme.test", "mallory@acme.test"}

    membership = Membership.objects.get(user=victor)
    membership.role = Role.MANAGER
    membership.save()
    assert "victor@acme.test" in group_members(acme)
    membership.role = Role.VIEWER
    membership.save()
    assert "victor@acme.test" not in group_members(acme)
    Membership.objects.get(user=mallory).delete()
    assert group_members(acme) == {"alice@acme.test"}


def test_viewers_cannot_open_the_cms(client, shop, victor) -> None:
    client.force_login(victor)
    response = client.get("/cms/")
    assert response.status_code in (302, 403)
    assert response.status_code == 403 or "/cms/" not in response.get("Location", "/cms/")[:5]


def test_cms_sign_in_goes_through_allauth(client) -> None:
    response = client.get("/cms/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_editor_sees_only_their_shop(client, catalog, globex, bob, alice) -> None:
    book = make_book(catalog)
    make_shop(globex, root_site=False)
    client.force_login(bob)
    assert client.get(f"/cms/pages/{book.pk}/edit/").status_code == 404
    assert client.get(f"/cms/pages/{book.pk}/").status_code == 404
    assert client.post(f"/cms/pages/{book.pk}/unpublish/").status_code == 404
    assert book.title not in client.get("/cms/choose-page/search/?q=Pragmatic").content.decode()
    client.force_login(alice)
    assert client.get(f"/cms/pages/{book.pk}/edit/").status_code == 200


def edit_form(book: BookPage, **changes: object) -> dict[str, object]:
    data = {
        "title": book.title,
        "slug": book.slug,
        "author": book.author,
        "description": rich_text("<p>A classic.</p>"),
        "book_format": book.book_format,
        "edition": book.edition,
        "currency": book.currency,
        "price": "25.00",
        "stock_limit": "",
        "payment_link": str(book.payment_link_id or ""),
        "comments-TOTAL_FORMS": "0",
        "comments-INITIAL_FORMS": "0",
        "comments-MIN_NUM_FORMS": "0",
        "comments-MAX_NUM_FORMS": "1000",
        "action-publish": "action-publish",
    }
    data.update(changes)
    return nested_form_data(data)


def test_editor_publishes_a_new_price_and_the_link_follows(client, catalog, alice) -> None:
    book = make_book(catalog, user=alice)
    client.force_login(alice)
    response = client.post(f"/cms/pages/{book.pk}/edit/", edit_form(book, price="31.50"))
    assert response.status_code == 302, response.context["form"].errors
    link = PaymentLink.objects.get(pk=book.payment_link_id)
    assert link.amount == 3150
    assert BookPage.objects.get(pk=book.pk).price == 3150


def test_editor_cannot_attach_another_merchants_link(client, catalog, alice, globex) -> None:
    book = make_book(catalog, user=alice)
    theirs = PaymentLinkFactory(merchant=globex, title="Globex vinyl")
    client.force_login(alice)
    response = client.post(
        f"/cms/pages/{book.pk}/edit/", edit_form(book, payment_link=str(theirs.pk))
    )
    assert response.status_code == 200
    assert "payment_link" in response.context["form"].errors
    assert BookPage.objects.get(pk=book.pk).payment_link_id == book.payment_link_id


def test_link_chooser_lists_only_the_editors_merchants_links(client, acme, globex, alice) -> None:
    ours = PaymentLinkFactory(merchant=acme, title="Acme gift card")
    theirs = PaymentLinkFactory(merchant=globex, title="Globex vinyl")
    make_shop(acme)
    client.force_login(alice)
    listing = client.get("/cms/payment_link_chooser/")
    assert listing.status_code == 200
    html = (
        listing.json()["html"]
        if listing["Content-Type"].startswith("application/json")
        else listing.content.decode()
    )
    assert "Acme gift card" in html and "Globex vinyl" not in html
    assert client.get(f"/cms/payment_link_chooser/chosen/{ours.pk}/").status_code == 200
    assert client.get(f"/cms/payment_link_chooser/chosen/{theirs.pk}/").status_code == 404
