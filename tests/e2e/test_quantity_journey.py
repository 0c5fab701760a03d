"""Buying more than one: the pay page's quantity stepper, the total on the Pay button, the
sandbox's checkout with the quantity, and a confirmation that names it ("2 x Moby-Dick",
with a times sign). Screenshots go to E2E_SCREENSHOT_DIR (var/screenshots)."""

from __future__ import annotations

import re

import pytest

from paylinks.models import Payment, PaymentStatus

from ..factories import MerchantFactory, PaymentLinkFactory
from .conftest import shot
from .test_checkout_journeys import CARD_OK, open_link, pay_by_card, wait_for_status

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("checkout-e2e"),
]


@pytest.fixture
def acme(db):  # type: ignore[no-untyped-def]
    return MerchantFactory(name="Acme Books", slug="acme", brand_color="#1D4ED8")


def test_customer_buys_two_copies_on_the_sandbox(site, page, acme) -> None:
    link = PaymentLinkFactory(
        merchant=acme,
        title="Moby-Dick",
        description="Paperback, Penguin Classics.",
        amount=1450,
        currency="USD",
        quantity_enabled=True,
        quantity_max=5,
        payment_limit=12,
    )
    open_link(page, site, link.slug)
    pay = page.get_by_role("button", name=re.compile(r"^Pay"))
    assert pay.inner_text() == "Pay $14.50 USD"
    quantity = page.get_by_label("Quantity")
    assert quantity.input_value() == "1"
    # The stepper changes the quantity and the button the total (display only).
    page.get_by_role("button", name="One more").click()
    assert quantity.input_value() == "2"
    assert pay.inner_text() == "Pay $29.00 USD"
    quantity.fill("9")
    page.get_by_label("E-mail").fill("ishmael@example.test")
    pay.click()
    assert "from 1 to 5" in page.get_by_test_id("quantity-error").inner_text()
    assert not Payment.objects.filter(link=link).exists()
    quantity.fill("2")
    assert pay.inner_text() == "Pay $29.00 USD"
    assert page.get_by_test_id("quantity-error").count() == 0  # a valid quantity clears it
    shot(page, "quantity")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "quantity-mobile")
    page.set_viewport_size({"width": 1280, "height": 900})

    pay.click()
    page.wait_for_url(re.compile(r"/sandbox/checkout/"))
    assert page.get_by_test_id("quantity").inner_text() == "2 × 14.50 USD"
    assert page.get_by_test_id("amount").inner_text() == "29.00 USD"
    shot(page, "quantity-sandbox")
    pay_by_card(page, CARD_OK)
    page.wait_for_url(re.compile(r"/pay/.+/success\?session_id="))
    wait_for_status(page, "succeeded")

    payment = Payment.objects.get(link=link)
    assert (payment.status, payment.quantity, payment.amount) == (PaymentStatus.SUCCEEDED, 2, 2900)
    assert page.get_by_test_id("status-item").inner_text() == "2 × Moby-Dick"
    assert page.get_by_test_id("status-amount").inner_text() == "$29.00 USD"
    assert page.get_by_test_id("payment-id").inner_text() == payment.payment_intent_id
    shot(page, "quantity-success")


def test_the_quantity_posts_without_javascript(site, browser, acme) -> None:
    link = PaymentLinkFactory(
        merchant=acme, title="Moby-Dick", amount=1450, currency="USD", quantity_enabled=True,
        quantity_max=3,
    )  # fmt: skip
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        open_link(page, site, link.slug)
        assert page.get_by_role("button", name="One more").count() == 0
        assert "The next page shows the total" in page.get_by_text("$14.50 each").inner_text()
        page.get_by_label("E-mail").fill("nojs@example.test")
        # Beyond the maximum: the server refuses it, and the page says so at the field.
        page.get_by_label("Quantity").evaluate("el => el.removeAttribute('max')")
        page.get_by_label("Quantity").fill("4")
        page.get_by_role("button", name=re.compile(r"^Pay")).click()
        page.wait_for_url(re.compile(rf"/pay/{link.slug}$"))
        assert "from 1 to 3" in page.get_by_test_id("quantity-error").inner_text()
        assert page.get_by_label("Quantity").input_value() == "4"
        page.get_by_label("Quantity").fill("3")
        page.get_by_label("E-mail").fill("nojs@example.test")
        page.get_by_role("button", name=re.compile(r"^Pay")).click()
        page.wait_for_url(re.compile(r"/sandbox/checkout/"))
        payment = Payment.objects.get(link=link)
        assert (payment.quantity, payment.amount) == (3, 4350)
        assert page.get_by_test_id("amount").inner_text() == "43.50 USD"
    finally:
        context.close()
