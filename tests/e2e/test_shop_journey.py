"""The book shop in a real browser, exactly the brief's journey: a customer opens /, picks
a book, presses Buy, pays with 4242 on the sandbox, and the confirmation shows the book,
the total charged and the ``pi_`` id; the payment is in the console under the book's link.
Then an editor changes the book's price in /cms/ and publishes, and the next checkout
charges the new price. Screenshots: shop-*.png and cms-book-edit.png (E2E_SCREENSHOT_DIR).
"""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress

from paylinks.models import Payment, PaymentLink, PaymentStatus
from storefront.covers import cover_image
from storefront.models import BookCategory

from ..factories import PASSWORD
from ..storefront.helpers import make_book, make_shop
from .conftest import SHOTS
from .test_checkout_journeys import CARD_OK, pay_by_card, start_paying, wait_for_status

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("checkout-e2e"),
]

BOOKS = [
    ("Moby-Dick", "Herman Melville", "classics", 1450, {"stock_limit": 12}),
    ("Pride and Prejudice", "Jane Austen", "classics", 999, {}),
    ("Notes on the Analytical Engine", "Ada Lovelace", "programming", 1800, {"stock_limit": 3}),
    ("On the Origin of Species", "Charles Darwin", "science", 500, {"pay_what_you_like": True}),
    ("The Voyage of the Beagle", "Charles Darwin", "science", 1200, {}),
    ("Structure of Small Programs", "Grace Hopper Society", "programming", 3200, {}),
]


def shop_shot(page, name: str, *, full_page: bool = False) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


@pytest.fixture
def bookshop(acme, alice):  # type: ignore[no-untyped-def]
    EmailAddress.objects.create(user=alice, email=alice.email, verified=True, primary=True)
    shop, catalog = make_shop(acme)
    shop.title, shop.tagline = "Acme Books", "Independent booksellers since 1998."
    shop.save_revision().publish()
    shelves = {
        slug: BookCategory.objects.create(merchant=acme, name=name, slug=slug)
        for name, slug in [("Classics", "classics"), ("Science", "science"),
                           ("Programming", "programming")]
    }  # fmt: skip
    books = {}
    for title, author, shelf, price, extra in BOOKS:
        books[title] = make_book(
            catalog,
            title=title,
            author=author,
            price=price,
            cover=cover_image(title, author),
            description=f"<p>{title}, by {author}: a reader's edition.</p>",
            categories=[shelves[shelf]],
            **extra,
        )
    return books


def buy(page, live_server, title: str, email: str = "ada@example.test") -> str:  # type: ignore[no-untyped-def]
    """From the shop's home to the sandbox's confirmation; returns the pi_ id shown."""
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name=title).first.click()
    page.wait_for_url(re.compile(r"/books/"))
    page.get_by_test_id("buy").click()
    page.wait_for_url(re.compile(r"/pay/"))
    start_paying(page, email)
    pay_by_card(page, CARD_OK)
    page.wait_for_url(re.compile(r"/pay/.+/success\?session_id="))
    wait_for_status(page, "succeeded")
    return page.get_by_test_id("payment-id").inner_text()


def test_customer_buys_a_book_and_the_editor_changes_its_price(
    site, page, browser, live_server, bookshop, alice
) -> None:
    book = bookshop["Moby-Dick"]

    # The shop at /, on a desktop and on a phone.
    page.goto(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Acme Books", level=1).is_visible()
    assert page.get_by_text("14.50 USD").first.is_visible()
    shop_shot(page, "shop-home", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    shop_shot(page, "shop-home-mobile", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}{book.url}")
    assert page.get_by_test_id("book-price").inner_text() == "14.50 USD"
    assert page.get_by_test_id("buy").get_attribute("href") == book.payment_link.public_url
    shop_shot(page, "shop-book")
    page.set_viewport_size({"width": 390, "height": 844})
    shop_shot(page, "shop-book-mobile", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Pick the book on the home page, Buy, pay with 4242 on the sandbox.
    payment_id = buy(page, live_server, "Moby-Dick")
    assert page.get_by_test_id("status-amount").inner_text() == "$14.50 USD"
    assert re.fullmatch(r"pi_\w+", payment_id)
    assert "Moby-Dick" in page.get_by_test_id("merchant-message").inner_text()
    shop_shot(page, "shop-confirmation")
    payment = Payment.objects.get(link=book.payment_link)
    assert (payment.status, payment.amount, payment.payment_intent_id) == (
        PaymentStatus.SUCCEEDED, 1450, payment_id
    )  # fmt: skip

    # The editor signs in through allauth and finds the payment under the book's link.
    editor = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    editor.set_default_timeout(15_000)
    cms = editor.new_page()
    cms.goto(f"{live_server.url}/cms/")
    assert "/accounts/login/" in cms.url
    cms.get_by_label("E-mail address").fill(alice.email)
    cms.get_by_label("Password", exact=True).fill(PASSWORD)
    cms.get_by_role("button", name="Sign in", exact=True).click()
    cms.wait_for_url(re.compile(r"/cms/$"))
    cms.goto(f"{live_server.url}/admin/paylinks/payment/?q={payment_id}")
    row = cms.locator("#result_list tbody tr")
    assert row.count() == 1 and "Moby-Dick" in row.inner_text()

    # ...changes the price in /cms/ and publishes.
    cms.goto(f"{live_server.url}/cms/pages/{book.pk}/edit/")
    price = cms.locator("#id_price")
    assert price.input_value() == "14.50"
    price.fill("16.00")
    cms.locator("#id_currency").scroll_into_view_if_needed()
    shop_shot(cms, "cms-book-edit")
    cms.locator("button[name=action-publish]").evaluate("button => button.click()")
    cms.wait_for_url(re.compile(r"/cms/pages/\d+/$"))  # the explorer, after publishing
    link = PaymentLink.objects.get(pk=book.payment_link_id)
    assert link.amount == 1600
    editor.close()

    # The next checkout charges the new price.
    buy(page, live_server, "Moby-Dick", email="grace@example.test")
    assert page.get_by_test_id("status-amount").inner_text() == "$16.00 USD"
    latest = Payment.objects.filter(link=link).latest("created_at")
    assert (latest.amount, latest.status) == (1600, PaymentStatus.SUCCEEDED)
