"""The customer's side of Paylinks in a real browser: link page -> hosted checkout (the
sandbox gateway) -> signed webhook -> worker -> confirmation page, and every way a link
can say no. Screenshots of each state go to E2E_SCREENSHOT_DIR (var/screenshots)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from paylinks.models import Payment, PaymentStatus

from ..factories import MerchantFactory, PaymentFactory, PaymentLinkFactory
from .conftest import shot

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    # One xdist worker runs them all (make test uses --dist loadgroup): one Next server.
    pytest.mark.xdist_group("checkout-e2e"),
]

CARD_OK = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"
CARD_3DS = "4000 0025 0000 3155"


@pytest.fixture
def acme(db):  # type: ignore[no-untyped-def]
    return MerchantFactory(
        name="Acme Books", slug="acme", brand_color="#F5C518", support_email="help@acme.test"
    )


@pytest.fixture
def globex(db):  # type: ignore[no-untyped-def]
    return MerchantFactory(
        name="Globex Records", slug="globex", brand_color="#0B3D2E", default_currency="EUR"
    )


def open_link(page, site, slug: str, *, status: int = 200):  # type: ignore[no-untyped-def]
    response = page.goto(f"{site.url}/pay/{slug}")
    assert response is not None and response.status == status, response and response.status
    return response


def start_paying(page, email: str = "ada@example.test") -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name=re.compile(r"^Pay")).click()
    page.wait_for_url(re.compile(r"/sandbox/checkout/"))
    assert page.get_by_text("TEST MODE").is_visible()


def pay_by_card(page, number: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Ada Lovelace")
    page.get_by_role("button", name="Pay", exact=True).click()


def wait_for_status(page, status: str, timeout: float = 20_000) -> None:  # type: ignore[no-untyped-def]
    page.locator(f'section[data-status="{status}"]').wait_for(timeout=timeout)


def test_customer_pays_by_card_and_sees_the_payment_id(site, page, acme) -> None:
    link = PaymentLinkFactory(
        merchant=acme,
        title="The Pragmatic Programmer",
        description="Hardcover, 20th anniversary edition.",
        amount=2500,
        currency="USD",
        confirmation_message="Thanks! Your book ships tomorrow.",
    )
    open_link(page, site, link.slug)
    assert page.title() == "Pay Acme Books – The Pragmatic Programmer · Paylinks"
    assert page.get_by_test_id("amount").inner_text() == "$25.00 USD"
    assert page.locator("html").get_attribute("lang") == "en"
    # The Pay button says what will be paid; the merchant is named once, in the header.
    pay = page.get_by_role("button", name=re.compile(r"^Pay"))
    assert pay.inner_text() == "Pay $25.00 USD"
    assert page.get_by_text("Acme Books", exact=True).count() == 1
    # Acme's yellow would not carry white text (1.6:1): the button keeps the default colour.
    assert pay.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(79, 70, 229)"
    # The favicon: an SVG icon the browser can fetch.
    icon = page.locator('link[rel="icon"]').first.get_attribute("href")
    assert icon is not None
    fetched = page.request.get(f"{site.url}{icon}")
    assert fetched.ok and fetched.headers["content-type"].startswith("image/svg+xml")
    # Wide screens: what is bought on the left, paying on the right.
    item = page.locator(".checkout-item").bounding_box()
    paying = page.locator(".checkout-pay").bounding_box()
    assert item and paying and paying["x"] >= item["x"] + item["width"]
    shot(page, "link-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    # Phones: one column, the item above the form.
    item = page.locator(".checkout-item").bounding_box()
    paying = page.locator(".checkout-pay").bounding_box()
    assert item and paying and paying["y"] >= item["y"] + item["height"]
    assert paying["x"] == item["x"]
    shot(page, "link-mobile")
    page.set_viewport_size({"width": 1280, "height": 900})

    start_paying(page)
    pay_by_card(page, CARD_OK)
    page.wait_for_url(re.compile(r"/pay/.+/success\?session_id="))
    wait_for_status(page, "succeeded")
    payment = Payment.objects.get(link=link)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    assert page.get_by_test_id("status-amount").inner_text() == "$25.00 USD"
    payment_id = page.get_by_test_id("payment-id").inner_text()
    assert payment_id.startswith("pi_") and payment_id == payment.payment_intent_id
    assert (
        page.get_by_test_id("merchant-message").inner_text() == "Thanks! Your book ships tomorrow."
    )
    # What was bought, and when, with the time zone.
    assert page.get_by_test_id("status-item").inner_text() == "The Pragmatic Programmer"
    assert page.get_by_test_id("status-date").inner_text().endswith("UTC")
    # The receipt line appears once the worker has sent it (never before), without a reload.
    deadline = time.monotonic() + 20
    while not payment.events.filter(kind="email_sent", data__email="receipt").exists():
        assert page.get_by_test_id("receipt-sent").count() == 0
        assert time.monotonic() < deadline, "the receipt was never sent"
        time.sleep(0.2)
    page.get_by_test_id("receipt-sent").wait_for(timeout=10_000)
    assert "receipt was sent" in page.get_by_test_id("receipt-sent").inner_text()
    shot(page, "success")

    # The same success URL in another browser shows the amount and the status, nothing more.
    other = page.context.browser.new_context()
    try:
        stranger = other.new_page()
        stranger.goto(page.url)
        wait_for_status(stranger, "succeeded")
        assert stranger.get_by_test_id("status-amount").inner_text() == "$25.00 USD"
        assert stranger.get_by_test_id("payment-id").count() == 0
        assert stranger.get_by_test_id("merchant-message").count() == 0
        assert stranger.get_by_test_id("status-item").count() == 0
        assert stranger.get_by_test_id("receipt-sent").count() == 0
        assert "ada@example.test" not in stranger.content()
    finally:
        other.close()


def test_declined_card_shows_why_and_the_customer_retries(site, page, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=1250)
    open_link(page, site, link.slug)
    start_paying(page)
    pay_by_card(page, CARD_DECLINED)
    alert = page.get_by_test_id("payment-error")
    alert.wait_for()
    assert "Your card was declined." in alert.inner_text()
    assert Payment.objects.get(link=link).status == PaymentStatus.PENDING
    pay_by_card(page, CARD_OK)
    page.wait_for_url(re.compile(r"/success\?session_id="))
    wait_for_status(page, "succeeded")
    assert page.get_by_test_id("payment-id").inner_text().startswith("pi_")
    assert Payment.objects.filter(link=link).count() == 1


def test_failed_3d_secure_charges_nothing(site, page, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, title="Reading lamp", amount=1250)
    open_link(page, site, link.slug)
    start_paying(page)
    pay_by_card(page, CARD_3DS)
    page.get_by_role("heading", name="Authenticate your payment").wait_for()
    page.get_by_role("button", name="Fail authentication").click()
    alert = page.get_by_test_id("payment-error")
    alert.wait_for()
    assert "authenticate" in alert.inner_text()
    shot(page, "3ds-failed")
    time.sleep(1.5)  # let any webhook the failure caused be processed
    payment = Payment.objects.get(link=link)
    assert payment.status == PaymentStatus.PENDING
    assert payment.failure_code == "payment_intent_authentication_failure"
    assert not payment.events.filter(to_status=PaymentStatus.SUCCEEDED).exists()
    assert payment.amount_refunded == 0 and payment.completed_at is None

    # The customer gives up: back on the merchant's page, which asks before it cancels
    # (opening the address alone changes nothing), then says nothing was charged.
    page.get_by_role("link", name=re.compile("Cancel and return")).click()
    page.wait_for_url(re.compile(r"/cancel\?payment=pay_[\w-]+&token="))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    page.get_by_role("button", name="Cancel payment").click()
    page.get_by_role("heading", name="Payment canceled").wait_for()
    assert "Nothing was charged" in page.inner_text("main")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELED
    page.get_by_role("link", name="Go back and try again").click()
    page.wait_for_url(re.compile(rf"/pay/{link.slug}$"))


def test_sepa_debit_processes_then_settles_without_a_reload(site, page, globex) -> None:
    link = PaymentLinkFactory(merchant=globex, title="Vinyl box set", amount=4900, currency="EUR")
    open_link(page, site, link.slug)
    start_paying(page)
    page.get_by_role("link", name="SEPA Direct Debit").click()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("IBAN").fill("DE89370400440532013000")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r"/success\?session_id="))
    page.get_by_test_id("processing").wait_for()
    assert page.get_by_role("heading", name="Payment processing").is_visible()
    shot(page, "processing")
    page.evaluate("window.__samePage = true")
    wait_for_status(page, "succeeded", timeout=30_000)
    assert page.evaluate("window.__samePage") is True, "the page was reloaded"
    assert page.get_by_test_id("status-amount").inner_text() == "€49.00 EUR"
    assert page.get_by_test_id("payment-id").inner_text().startswith("pi_")
    assert Payment.objects.get(link=link).status == PaymentStatus.SUCCEEDED


def test_failed_sepa_debit_offers_to_try_again(site, page, globex) -> None:
    link = PaymentLinkFactory(merchant=globex, title="Vinyl box set", amount=4900, currency="EUR")
    open_link(page, site, link.slug)
    start_paying(page)
    page.get_by_role("link", name="SEPA Direct Debit").click()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("IBAN").fill("DE62370400440532013001")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(r"/success\?session_id="))
    wait_for_status(page, "failed", timeout=30_000)
    assert "Nothing was charged" in page.inner_text("main")
    shot(page, "failed")
    page.get_by_role("link", name="Try again").click()
    page.wait_for_url(re.compile(rf"/pay/{link.slug}$"))
    assert page.get_by_role("button", name=re.compile(r"^Pay")).is_enabled()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2", "The least you can pay here is €5.00."),
        ("1e9", "Enter the amount as a plain number"),
        ("-5", "Enter the amount as a plain number"),
        ("12.345", "EUR amounts have at most 2 decimal places."),
        ("600", "The most you can pay here is €500.00."),
    ],
)
def test_customer_amount_is_checked_in_the_page(site, page, globex, typed, message) -> None:
    link = PaymentLinkFactory(
        merchant=globex,
        title="Support the band",
        currency="EUR",
        amount=None,
        amount_type="customer",
        custom_amount_min=500,
        custom_amount_max=50000,
    )
    open_link(page, site, link.slug)
    assert page.get_by_text("Between €5.00 and €500.00").is_visible()
    # Globex's dark green carries white text: the Pay button is in the brand colour.
    pay = page.get_by_role("button", name=re.compile(r"^Pay"))
    assert pay.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 61, 46)"
    # The button follows the typed amount, and says just "Pay" while it is not a valid one.
    page.get_by_label("Amount").fill("45")
    assert pay.inner_text() == "Pay €45.00 EUR"
    page.get_by_label("Amount").fill("45.5")
    assert pay.inner_text() == "Pay €45.50 EUR"
    page.get_by_label("E-mail").fill("ada@example.test")
    page.get_by_label("Amount").fill(typed)
    page.get_by_role("button", name=re.compile(r"^Pay")).click()
    error = page.get_by_test_id("amount-error")
    error.wait_for()
    assert message in error.inner_text()
    assert page.get_by_label("Amount").get_attribute("aria-invalid") == "true"
    assert page.url.endswith(f"/pay/{link.slug}")
    assert not Payment.objects.filter(link=link).exists()
    if typed == "2":
        shot(page, "amount-error")
    # A valid amount goes through, in the customer's own notation.
    page.get_by_label("Amount").fill("12.50")
    page.get_by_role("button", name=re.compile(r"^Pay")).click()
    page.wait_for_url(re.compile(r"/sandbox/checkout/"))
    assert Payment.objects.get(link=link).amount == 1250


def test_closed_links_have_their_own_pages_and_statuses(site, page, acme) -> None:
    expired = PaymentLinkFactory(merchant=acme, title="Early bird ticket")
    type(expired).objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    open_link(page, site, expired.slug, status=410)
    assert page.get_by_role("heading", name="This payment link has expired").is_visible()
    assert page.title().startswith("This payment link has expired")
    shot(page, "expired")

    inactive = PaymentLinkFactory(
        merchant=acme,
        title="Workshop",
        is_active=False,
        inactive_message="Registration is closed. See you next year!",
    )
    open_link(page, site, inactive.slug, status=410)
    assert (
        page.get_by_test_id("state-message").inner_text()
        == "Registration is closed. See you next year!"
    )
    shot(page, "inactive")

    sold = PaymentLinkFactory(merchant=acme, title="Signed copy", payment_limit=1)
    PaymentFactory(link=sold, status=PaymentStatus.SUCCEEDED)
    open_link(page, site, sold.slug, status=409)
    assert page.get_by_role("heading", name="Sold out").is_visible()
    shot(page, "sold-out")

    # Every place held by a checkout nobody has paid yet: not sold out, and it says when
    # to come back (the open checkout closes in 10 minutes).
    held = PaymentLinkFactory(merchant=acme, title="Last signed copy", payment_limit=1)
    PaymentFactory(
        link=held, status=PaymentStatus.PENDING, expires_at=timezone.now() + timedelta(minutes=10)
    )
    open_link(page, site, held.slug, status=409)
    assert page.get_by_role("heading", name="All places are being paid for").is_visible()
    assert "Try again in 10 minutes" in page.get_by_test_id("state-message").inner_text()
    assert page.get_by_role("link", name="Try again").is_visible()
    shot(page, "places-held")

    response = page.goto(f"{site.url}/pay/no-such-link")
    assert response.status == 404
    assert page.get_by_role("heading", name="This payment link does not exist").is_visible()


def test_two_browsers_race_for_the_last_place(site, browser, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, title="Signed copy", amount=5000, payment_limit=1)
    first, second = browser.new_context(), browser.new_context()
    try:
        a, b = first.new_page(), second.new_page()
        for n, page in enumerate((a, b)):
            open_link(page, site, link.slug)
            # Two customers (one address, as on the same network): two e-mail addresses.
            page.get_by_label("E-mail").fill(f"racer{n}@example.test")
        # Both press "Pay" at (nearly) the same moment.
        a.get_by_role("button", name=re.compile(r"^Pay")).click(no_wait_after=True)
        b.get_by_role("button", name=re.compile(r"^Pay")).click(no_wait_after=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            at_gateway = [p for p in (a, b) if "/sandbox/checkout/" in p.url]
            refused = [p for p in (a, b) if p.get_by_test_id("form-error").count()]
            if len(at_gateway) + len(refused) == 2:
                break
            time.sleep(0.1)
        assert len(at_gateway) == 1 and len(refused) == 1, (a.url, b.url)
        winner, loser = at_gateway[0], refused[0]
        assert "paid for right now" in loser.get_by_test_id("form-error").inner_text()
        pay_by_card(winner, CARD_OK)
        winner.wait_for_url(re.compile(r"/success\?session_id="))
        wait_for_status(winner, "succeeded")
        # Now the place is taken for good: the other customer sees the sold-out page.
        response = loser.reload()
        assert response is not None and response.status == 409
        assert loser.get_by_role("heading", name="Sold out").is_visible()
        assert Payment.objects.filter(link=link, status=PaymentStatus.SUCCEEDED).count() == 1
    finally:
        first.close()
        second.close()


def test_pay_works_without_javascript_and_a_double_post_makes_one_session(
    site, browser, acme
) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=2500)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        open_link(page, site, link.slug)
        assert page.get_by_role("button", name=re.compile(r"^Pay")).inner_text() == "Pay $25.00 USD"
        page.get_by_label("E-mail").fill("nojs@example.test")
        page.get_by_role("button", name=re.compile(r"^Pay")).click()
        page.wait_for_url(re.compile(r"/sandbox/checkout/"))
        assert Payment.objects.filter(link=link).count() == 1
        # The same rendered form posted twice (a double-click without JS): one session.
        html = requests.get(f"{site.url}/pay/{link.slug}", timeout=10).text
        key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)
        locations = set()
        for _ in range(2):
            posted = requests.post(
                f"{site.url}/pay/{link.slug}/checkout",
                data={"email": "nojs@example.test", "idempotency_key": key},
                allow_redirects=False,
                timeout=10,
            )
            assert posted.status_code == 303
            locations.add(posted.headers["Location"])
        assert len(locations) == 1 and "/sandbox/checkout/" in locations.pop()
        assert Payment.objects.filter(link=link).count() == 2
        # A bad e-mail comes back to the page, at its field, with what was typed.
        open_link(page, site, link.slug)
        page.get_by_label("E-mail").fill(
            "ada@example"
        )  # the browser accepts it, the server does not
        page.get_by_role("button", name=re.compile(r"^Pay")).click()
        page.wait_for_url(re.compile(rf"/pay/{link.slug}$"))
        assert "valid e-mail" in page.get_by_test_id("email-error").inner_text()
        assert page.get_by_label("E-mail").input_value() == "ada@example"
        # A customer-chosen amount without JavaScript: "Pay", with the limits by the field.
        chosen = PaymentLinkFactory(
            merchant=acme,
            amount=None,
            amount_type="customer",
            custom_amount_min=500,
            custom_amount_max=50000,
        )
        open_link(page, site, chosen.slug)
        assert page.get_by_role("button", name=re.compile(r"^Pay")).inner_text() == "Pay"
        assert page.get_by_text("Between $5.00 and $500.00").is_visible()
    finally:
        context.close()


def test_double_click_on_pay_starts_one_checkout(site, page, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=2500)
    open_link(page, site, link.slug)
    page.get_by_label("E-mail").fill("ada@example.test")
    page.get_by_role("button", name=re.compile(r"^Pay")).dblclick()
    page.wait_for_url(re.compile(r"/sandbox/checkout/"))
    assert Payment.objects.filter(link=link).count() == 1


def test_security_headers_and_bad_input(site, acme) -> None:
    link = PaymentLinkFactory(merchant=acme, amount=2500)
    page = requests.get(f"{site.url}/pay/{link.slug}", timeout=10)
    csp = page.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert "'unsafe-eval'" not in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and "connect-src 'self'" in csp
    assert f'nonce="{nonce}"' in page.text
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert (
        "paylinks_visitor" in page.headers["Set-Cookie"]
        and "HttpOnly" in page.headers["Set-Cookie"]
    )
    again = requests.get(f"{site.url}/pay/{link.slug}", timeout=10)
    assert re.search(r"'nonce-([^']+)'", again.headers["Content-Security-Policy"]).group(1) != nonce

    for path, status in [
        ("/pay/" + "a" * 10_000, 404),
        ("/pay/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404),
        ("/pay/..%2F..%2Fetc", 404),
        # Escapes that decode to no text: Next.js itself answers these with a 500.
        ("/pay/%ff%fe", 404),
        ("/pay/%C0%AF/success?session_id=cs_test_x", 404),
        ("/pay/%E0%A4%A", 404),
        (f"/pay/{link.slug}/success?session_id=cs_test_not_ours", 404),
        (f"/pay/{link.slug}/success?session_id=" + "x" * 5000, 404),
        (f"/pay/{link.slug}/success", 404),
        (f"/pay/{link.slug}/cancel?payment=nope", 200),
        ("/api/v1/public/checkout/cs_test_not_ours", 404),
    ]:
        response = requests.get(f"{site.url}{path}", timeout=10)
        assert response.status_code == status, (path[:80], response.status_code)
        assert "Traceback" not in response.text and "Internal Server Error" not in response.text
    assert (
        requests.get(f"{site.url}/api/v1/public/checkout/nope", timeout=10).json()["error"]["code"]
        == "not_found"
    )

    # The form's target refuses posts from other sites, and bad amounts on a fixed link.
    post = requests.post(
        f"{site.url}/pay/{link.slug}/checkout",
        data={"email": "a@example.test"},
        headers={"Origin": "https://evil.example", "Accept": "application/json"},
        timeout=10,
    )
    assert post.status_code == 403
    for amount in ["1e9", "-5", "12.345"]:
        post = requests.post(
            f"{site.url}/pay/{link.slug}/checkout",
            data={"email": "a@example.test", "amount": amount},
            headers={"Accept": "application/json"},
            timeout=10,
        )
        assert post.status_code == 400 and post.json()["error"]["code"] == "invalid_amount"
    assert not Payment.objects.filter(link=link).exists()


def test_visits_are_counted_once_per_visitor(site, browser, acme) -> None:
    from paylinks.models import LinkView

    link = PaymentLinkFactory(merchant=acme, amount=2500)
    context = browser.new_context()
    try:
        page = context.new_page()
        for _ in range(3):
            open_link(page, site, link.slug)
        deadline = time.monotonic() + 5
        while not LinkView.objects.filter(link=link).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert LinkView.objects.filter(link=link).count() == 1
    finally:
        context.close()
    other = browser.new_context()
    try:
        open_link(other.new_page(), site, link.slug)
        deadline = time.monotonic() + 5
        while LinkView.objects.filter(link=link).count() < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert LinkView.objects.filter(link=link).count() == 2
    finally:
        other.close()
