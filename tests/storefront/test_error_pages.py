"""404, 403 and 500 with DEBUG off: styled pages of their own for the shop, the console
and /cms/, never Django's debug or bare pages; the 500 page needs no database."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from wagtail.models import Page

from project.errors import server_error
from storefront.models import tree_root

pytestmark = pytest.mark.django_db


def test_shop_404_is_the_shops_own_page(client, shop) -> None:
    response = client.get("/no-such-book/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "We can’t find that page" in html
    assert "storefront/shop.css" in html and 'href="/"' in html
    assert "Page not found at" not in html  # Django's debug page
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_cms_and_console_404s_lead_back_to_their_area(client, alice, shop) -> None:
    client.force_login(alice)
    cms = client.get("/cms/no-such-screen/")
    assert cms.status_code == 404
    assert "Paylinks shop editor" in cms.content.decode()
    assert "Back to the shop editor" in cms.content.decode()
    console = client.get("/admin/paylinks/paymentlink/999999/change/")
    assert console.status_code == 404
    assert "Back to the console" in console.content.decode()
    assert "Page not found" in console.content.decode()


def test_a_refused_request_gets_a_styled_403(client, alice, shop) -> None:
    # Wagtail answers 403 (not its dashboard redirect) to requests made by its scripts.
    welcome = tree_root().add_child(instance=Page(title="Welcome", slug="welcome"))  # no shop
    client.force_login(alice)
    response = client.get(
        f"/cms/pages/{welcome.pk}/edit/", headers={"x-requested-with": "XMLHttpRequest"}
    )
    html = response.content.decode()
    assert response.status_code == 403
    assert "You don’t have access to this page" in html
    assert "Back to the shop editor" in html
    assert "403 Forbidden" not in html


@pytest.mark.urls("tests.storefront.urls_with_errors")
@pytest.mark.parametrize(
    ("path", "back"),
    [("/boom/", "Back to the shop"), ("/admin/boom/", "Back to the console"),
     ("/cms/boom/", "Back to the shop editor")],
)  # fmt: skip
def test_500_pages_of_each_area(path: str, back: str) -> None:
    client = Client(raise_request_exception=False)
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and back in html
    assert "something broke" not in html and "Traceback" not in html


def test_the_500_page_needs_no_database(django_assert_num_queries) -> None:
    request = RequestFactory().get("/cms/pages/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    assert "Back to the shop editor" in response.content.decode()


def test_console_403_is_the_consoles_own_page(client, victor) -> None:
    client.force_login(victor)
    response = client.get("/admin/paylinks/paymentlink/add/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "You don’t have access to this page" in html and "Back to the console" in html
