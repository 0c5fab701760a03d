"""The book shop in a real browser, exactly the brief's journey: a customer opens /, picks
a book, presses Buy, pays with 4242 on the sandbox, and the confirmation shows the book,
the total charged and the ``pi_`` id; the payment is in the console under the book's link.
Then an editor changes the book's price in /cms/ and publishes, and the next checkout
charges the new price.

The same purchase through Stripe Checkout: the gateway is ``stripe`` (the real SDK),
pointed by ``STRIPE_API_BASE`` at the project's Stripe stand-in (tests/gateways/
fake_stripe.py, a real HTTP server on 127.0.0.1) whose hosted Checkout page the customer
pays on; the stand-in then POSTs the signed ``checkout.session.completed`` to Paylinks'
webhook endpoint, as Stripe does. The owner finds the payment in the console, in
analytics filtered to the book's link and in the link's funnel.

Screenshots: shop-*.png and cms-book-edit.png (E2E_SCREENSHOT_DIR).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings as django_settings

from paylinks import money
from paylinks.gateways import get_gateway
from paylinks.models import LinkView, Payment, PaymentLink, PaymentStatus, WebhookEvent
from storefront.covers import cover_image
from storefront.models import BookCategory

from ..factories import PASSWORD
from ..gateways.fake_stripe import FakeStripe, StripeContract
from ..gateways.stripe_spec import locate_stripe_spec
from ..storefront.helpers import make_book, make_shop
from .conftest import SHOTS
from .test_analytics_journey import drawn, sign_in
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


# --- the same purchase through Stripe Checkout (the project's Stripe stand-in) ----------
@pytest.fixture(scope="module")
def stripe_contract() -> StripeContract:
    """Stripe's OpenAPI spec and sample objects (the test skips where they are absent)."""
    return StripeContract(locate_stripe_spec(Path(django_settings.BASE_DIR)))


@pytest.fixture
def stripe_stand_in(site, live_server, settings, stripe_contract) -> Iterator[FakeStripe]:  # type: ignore[no-untyped-def]
    """The site with ``PAYLINKS_GATEWAY=stripe``, the real SDK pointed at the stand-in,
    whose hosted Checkout page POSTs its signed events to the live server's endpoint."""
    fake = FakeStripe(
        stripe_contract,
        api_key="sk_test_" + secrets.token_hex(16),
        webhook_secret="whsec_" + secrets.token_hex(16),
    ).start()
    fake.serve_checkout(f"{live_server.url}/webhooks/stripe/")
    settings.PAYLINKS_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = fake.api_key
    settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
    settings.STRIPE_API_BASE = fake.url
    get_gateway.cache_clear()
    yield fake
    fake.stop()
    get_gateway.cache_clear()
    assert not fake.violations, "Requests Stripe would refuse:\n" + "\n".join(fake.violations)


def until(check, what: str, timeout: float = 20):  # type: ignore[no-untyped-def]
    """Poll ``check`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return found


def test_customer_buys_a_book_through_stripe_checkout_and_the_owner_sees_it_in_analytics(
    stripe_stand_in, page, browser, live_server, bookshop, alice
) -> None:
    fake = stripe_stand_in
    title = "Notes on the Analytical Engine"
    book = bookshop[title]
    link = book.payment_link

    # Pick the book on the home page, Buy, and Pay: Paylinks sends the customer on to
    # Stripe Checkout, here the stand-in's hosted page.
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name=title).first.click()
    page.wait_for_url(re.compile(r"/books/"))
    page.get_by_test_id("buy").click()
    page.wait_for_url(re.compile(r"/pay/"))
    page.get_by_label("E-mail").fill("ada@example.test")
    page.get_by_role("button", name=re.compile(r"^Pay")).click()
    page.wait_for_url(f"{fake.url}/c/pay/cs_test_*")
    assert page.get_by_test_id("total").inner_text() == "18.00 USD"
    assert title in page.inner_text("main")
    assert page.get_by_label("Email").input_value() == "ada@example.test"
    session_id = page.url.rsplit("/", 1)[1]
    sent = fake.calls("post", "/v1/checkout/sessions")[-1].typed
    assert sent["line_items"][0]["price_data"]["unit_amount"] == 1800  # from the server
    assert sent["line_items"][0]["price_data"]["product_data"]["name"] == title
    shop_shot(page, "shop-stripe-checkout")

    # Pay with 4242 there: back on Paylinks' confirmation, as Stripe redirects.
    pay_by_card(page, CARD_OK)
    page.wait_for_url(re.compile(rf"/pay/{link.slug}/success\?session_id={session_id}$"))
    wait_for_status(page, "succeeded")
    payment_id = page.get_by_test_id("payment-id").inner_text()
    assert page.get_by_test_id("status-item").inner_text() == title
    assert page.get_by_test_id("status-amount").inner_text() == "$18.00 USD"
    assert title in page.get_by_test_id("merchant-message").inner_text()
    assert re.fullmatch(r"pi_\w+", payment_id)
    assert payment_id == fake.sessions[session_id]["payment_intent"]  # Stripe's own id
    shop_shot(page, "shop-confirmation-stripe")

    payment = Payment.objects.get(link=link)
    assert (payment.gateway, payment.gateway_session_id) == ("stripe", session_id)
    assert (payment.status, payment.amount, payment.currency, payment.payment_intent_id) == (
        PaymentStatus.SUCCEEDED, 1800, "USD", payment_id
    )  # fmt: skip
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")

    # Stripe's webhook reached Paylinks' endpoint, signed, and was processed from the inbox.
    completed = until(
        lambda: next(
            (d for d in fake.checkout.deliveries if d.type == "checkout.session.completed"), None
        ),
        "the stand-in's checkout.session.completed",
    )
    until(lambda: completed.delivered, "the webhook's delivery")
    event = until(
        lambda: WebhookEvent.objects.filter(
            gateway="stripe", event_id=completed.event_id, status=WebhookEvent.Status.PROCESSED
        ).first(),
        "the event to be processed",
    )
    assert event.object_id == session_id

    # The owner, in the console: the payment in the list ...
    owner = sign_in(browser, live_server.url, alice)
    owner.goto(f"{live_server.url}/admin/paylinks/payment/?q={payment_id}")
    row = owner.locator("#result_list tbody tr")
    assert row.count() == 1 and title in row.inner_text()

    # ... in analytics filtered to the book's link (the rollups were written with the
    # payment's transition: nothing is rebuilt here) ...
    owner.goto(f"{live_server.url}/admin/analytics/")
    owner.select_option("select[name=link]", str(link.pk))
    owner.get_by_role("button", name="Apply").click()
    owner.wait_for_url(re.compile(rf"link={link.pk}"))
    seen = drawn(owner)
    paid = Payment.objects.filter(link=link, status=PaymentStatus.SUCCEEDED)
    started = Payment.objects.filter(link=link).count()
    gross = sum(p.amount for p in paid)
    assert (paid.count(), started, gross) == (1, 1, 1800)
    assert seen["kpis"]["paid:USD"] == str(paid.count())
    assert seen["kpis"]["gross:USD"] == f"{gross / 100:,.2f} USD"
    assert seen["kpis"]["started:"] == str(started)
    received = [t for t in seen["charts"]["received"] if t["name"] == "Gross (USD)"]
    assert [round(sum(t["y"]), 2) for t in received] == [gross / 100]
    assert seen["charts"]["funnel"][0]["x"][-1] == paid.count()
    views = LinkView.objects.filter(link=link).count()
    assert views >= 1
    rows = owner.locator("[data-table=top_links] tbody tr")
    assert rows.count() == 1
    units = sum(p.quantity for p in paid)
    assert rows.first.locator("td, th").all_inner_texts()[:7] == [
        title, str(views), str(started), str(paid.count()), str(units), "100.0 %",
        money.format_money(gross, "USD"),
    ]  # fmt: skip
    assert not owner.errors

    # ... and in the link's own funnel: the visit, the checkout, the payment.
    owner.goto(f"{live_server.url}/admin/paylinks/paymentlink/{link.pk}/change/")
    funnel = owner.locator("[data-funnel]")
    steps = {
        name: funnel.locator(f'[data-step="{name}"] [data-value]').first.inner_text()
        for name in ("views", "started", "paid", "revenue")
    }
    assert steps == {
        "views": str(views),
        "started": str(started),
        "paid": str(paid.count()),
        "revenue": money.format_money(gross, "USD"),
    }
    assert not owner.errors
