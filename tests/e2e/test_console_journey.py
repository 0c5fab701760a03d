"""The whole product as one, in a real browser: the merchant signs in to the console and
creates a link, copies its address; a customer opens it on the checkout page and pays by
card on the sandbox's hosted checkout; the signed webhook reaches Django over HTTP, the
worker applies it; the customer sees the amount and the ``pi_`` id, and the merchant sees
the payment succeeded with the card's brand and last four digits -- then refunds part of
it from the payment's page and watches the status follow the gateway's confirmation.
"""

from __future__ import annotations

import re
import time

import pytest
from allauth.account.models import EmailAddress

from paylinks.models import Payment, PaymentLink, PaymentStatus, Role

from ..factories import PASSWORD, MembershipFactory, MerchantFactory, UserFactory
from .conftest import shot
from .test_checkout_journeys import CARD_OK, pay_by_card, start_paying, wait_for_status

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("checkout-e2e"),
]


@pytest.fixture
def acme(db):  # type: ignore[no-untyped-def]
    return MerchantFactory(name="Acme Books", slug="acme", brand_color="#F5C518")


@pytest.fixture
def owner(acme):  # type: ignore[no-untyped-def]
    user = UserFactory(email="olivia@acme.test", first_name="Olivia")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    MembershipFactory(user=user, merchant=acme, role=Role.OWNER)
    return user


def reload_until(page, text: str, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    """The console is a server-rendered page: reload it until the worker has caught up."""
    deadline = time.monotonic() + timeout
    while text not in page.content():
        assert time.monotonic() < deadline, f"{text!r} never appeared on {page.url}"
        page.wait_for_timeout(500)
        page.reload()


def test_merchant_creates_a_link_a_customer_pays_the_console_shows_it(
    site, browser, live_server, acme, owner
) -> None:
    console = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    console.set_default_timeout(15_000)
    console.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    merchant = console.new_page()

    # Sign in through allauth: the console's own login page sends the merchant there.
    merchant.goto(f"{live_server.url}/admin/")
    assert "/accounts/login/" in merchant.url
    merchant.get_by_label("E-mail address").fill(owner.email)
    merchant.get_by_label("Password", exact=True).fill(PASSWORD)
    merchant.get_by_role("button", name="Sign in", exact=True).click()
    merchant.wait_for_url(re.compile(r"/admin/$"))

    # A new link, the amount typed in major units.
    merchant.goto(f"{live_server.url}/admin/paylinks/paymentlink/add/")
    merchant.fill("#id_title", "Gift card")
    merchant.fill("#id_description", "A gift card for any book in the shop.")
    merchant.select_option("#id_currency", "USD")
    merchant.fill("#id_amount", "19.90")
    merchant.click("button[name=_continue]")
    merchant.wait_for_url(re.compile(r"/admin/paylinks/paymentlink/\d+/change/"))
    link = PaymentLink.objects.get(merchant=acme, title="Gift card")
    assert (link.amount, link.currency) == (1990, "USD")

    # Copy its address, as the merchant would to paste it into an e-mail.
    merchant.get_by_role("button", name="Copy the payment link").click()
    merchant.get_by_role("status").filter(has_text="Link copied").wait_for()
    copied = merchant.evaluate("navigator.clipboard.readText()")
    assert copied == f"{site.url}/pay/{link.slug}"
    shot(merchant, "console-link-created", full_page=False)

    # The customer, in a browser of their own, opens the copied address and pays.
    customer_context = browser.new_context(viewport={"width": 390, "height": 844})
    customer_context.set_default_timeout(15_000)
    customer = customer_context.new_page()
    customer.goto(copied)
    assert customer.get_by_test_id("amount").inner_text() == "$19.90 USD"
    start_paying(customer, "grace@example.test")
    pay_by_card(customer, CARD_OK)
    customer.wait_for_url(re.compile(r"/pay/.+/success\?session_id="))
    wait_for_status(customer, "succeeded")
    assert customer.get_by_test_id("status-amount").inner_text() == "$19.90 USD"
    payment_id = customer.get_by_test_id("payment-id").inner_text()
    assert re.fullmatch(r"pi_\w+", payment_id)
    payment = Payment.objects.get(link=link)
    assert payment.payment_intent_id == payment_id
    customer_context.close()

    # The console: the payment is in the list as succeeded, its page shows the card.
    merchant.goto(f"{live_server.url}/admin/paylinks/payment/?q={payment_id}")
    row = merchant.locator("#result_list tbody tr")
    assert row.count() == 1
    listed = row.inner_text()
    assert "succeeded" in listed.lower()  # the badge is upper-cased by CSS
    assert "19.90 USD" in listed and "Visa •••• 4242" in listed
    merchant.goto(f"{live_server.url}/admin/paylinks/payment/{payment.pk}/change/")
    assert merchant.get_by_text("Visa •••• 4242").count() >= 1
    assert merchant.get_by_text(payment_id).count() >= 1

    # A partial refund from the payment's page: the result shows in place, and the
    # status follows charge.refunded (the page reads itself again until it does).
    merchant.click("text=Refund")
    merchant.wait_for_selector("#dialog", state="visible")
    merchant.fill("#dialog input[name=amount]", "4.90")
    merchant.select_option("#dialog select[name=reason]", "requested_by_customer")
    merchant.click("#dialog button[type=submit]")
    merchant.wait_for_selector("text=Refund of 4.90 USD sent")
    reload_until(merchant, "Partially refunded")
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 490)
    shot(merchant, "console-payment-refunded", full_page=False)
    console.close()
