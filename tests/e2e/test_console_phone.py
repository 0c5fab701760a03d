"""The console on a 390 px phone, its times in the merchant's zone, and a refund whose
result shows without a reload -- in Chromium against the live server.

- The home page's recent payments keep every column readable (each wider than 60 px);
  the payments, links, audit and webhook lists never scroll sideways and keep amount,
  status and time on screen.
- The browser runs in New York while Acme reports in Copenhagen: every time reads "CET",
  and Django's calendar adds no "hours behind server time" note to the date filters.
- A refund from the payment's page: the page updates in place (no navigation, a marker
  set on ``window`` survives), the database holds the refund.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from paylinks.gateways import get_gateway
from paylinks.models import Merchant, Payment, PaymentEvent, PaymentStatus, Refund, WebhookEvent
from paylinks.services import links as link_services

from ..factories import PaymentFactory
from ..payments.helpers import drain, paid_payment

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
CET_TIME = re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} CE[S]?T\b")


def session(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def page_for(browser: Any, live_server: Any, user: Any, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, timezone_id="America/New_York")
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "sessionid", "value": session(user), "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return page


def fits(page: Any) -> dict[str, Any]:
    """Widths that would betray sideways scrolling: the page's and the list table's."""
    return page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            return {
                page: document.documentElement.scrollWidth,
                viewport: window.innerWidth,
                table: table ? table.scrollWidth : 0,
                box: table ? table.parentElement.clientWidth : 0,
            };
        }"""
    )


def on_screen(page: Any, selector: str) -> bool:
    """The first element matching ``selector`` is visible and inside the viewport's width."""
    return page.evaluate(
        """(selector) => {
            const el = document.querySelector(selector);
            if (!el) return false;
            const box = el.getBoundingClientRect();
            return box.width > 0 && box.left >= 0 && box.right <= window.innerWidth;
        }""",
        selector,
    )


@pytest.fixture
def shop(acme: Merchant, alice: Any) -> list[Payment]:
    """Acme (Copenhagen) with a long-titled link, payments in several states, audit
    entries (the link's creation) and a few webhook events."""
    Merchant.objects.filter(pk=acme.pk).update(timezone="Europe/Copenhagen")
    acme.refresh_from_db()
    link = link_services.payment_link_create(
        merchant=acme,
        actor=alice,
        title="Signed first edition — The Left Hand of Darkness, with slipcase",
        currency="USD",
        amount=4500,
    )
    now = timezone.now()
    payments = []
    for index, status in enumerate(
        [
            PaymentStatus.SUCCEEDED,
            PaymentStatus.PARTIALLY_REFUNDED,
            PaymentStatus.PENDING,
            PaymentStatus.FAILED,
            PaymentStatus.SUCCEEDED,
        ]
    ):
        payment = PaymentFactory(
            link=link,
            status=status,
            customer_email=f"customer{index}@mail.example",
            payment_method_type="card",
            card_brand="visa",
            card_last4="4242",
        )
        Payment.objects.filter(pk=payment.pk).update(created_at=now - timedelta(hours=index))
        PaymentEvent.objects.create(payment=payment, kind="created", to_status="pending")
        payments.append(payment)
    for index, status in enumerate(["processed", "failed", "ignored"]):
        WebhookEvent.objects.create(
            gateway="sandbox",
            event_id=f"evt_phone_{index}",
            type="checkout.session.async_payment_succeeded",
            object_id=f"cs_test_phone_{index:04d}",
            payload={"id": f"evt_phone_{index}"},
            status=status,
            last_error="GatewayError: the gateway did not answer" if status == "failed" else "",
        )
    return payments


def test_the_console_fits_a_phone_and_says_its_zone(browser, live_server, shop, alice, sam) -> None:
    page = page_for(browser, live_server, alice, PHONE)
    base = live_server.url

    page.goto(f"{base}/admin/")
    widths = page.evaluate(
        """() => Array.from(document.querySelectorAll(
            '[data-table=recent-payments] th, [data-table=recent-payments] tbody tr:first-child td'
        )).map(cell => cell.getBoundingClientRect().width)"""
    )
    assert len(widths) == 6 and min(widths) > 60, widths
    size = fits(page)
    assert size["page"] <= size["viewport"], size

    for path in ("payment", "paymentlink", "auditentry"):
        page.goto(f"{base}/admin/paylinks/{path}/")
        size = fits(page)
        assert size["page"] <= size["viewport"], (path, size)
        assert 0 < size["table"] <= size["box"], (path, size)

    page.goto(f"{base}/admin/paylinks/payment/")
    for column in ("field-reference", "field-amount_label", "field-status_badge", "field-created"):
        assert on_screen(page, f"#result_list .{column}"), column
    assert not on_screen(page, "#result_list .field-method")  # secondary: on the payment's page
    times = CET_TIME.findall(page.inner_text("#result_list"))
    assert len(times) == len(shop), times

    # The date filter means Copenhagen days, says so, and carries no server-time note
    # although the browser is in New York.
    page.click("text=Filters")
    page.wait_for_selector("input[name=created_at_from]", state="attached")
    page.wait_for_timeout(300)  # Django's calendar script runs on window load
    assert page.locator(".timezonewarning").count() == 0
    body = page.inner_text("body")
    assert "server time" not in body and "date (Europe/Copenhagen)" in body

    page.goto(f"{base}/admin/paylinks/payment/{shop[1].pk}/change/")
    assert CET_TIME.search(page.inner_text("#main"))
    assert page.locator(".field-when").count() >= 1
    timeline = [t.strip() for t in page.locator(".field-when").all_inner_texts() if t.strip()]
    assert timeline and all(CET_TIME.fullmatch(text) for text in timeline), timeline
    size = fits(page)
    assert size["page"] <= size["viewport"], size
    assert page.errors == []

    # Wider screens: the payments list fits its box too (secondary columns give way).
    for width in (800, 1024, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base}/admin/paylinks/payment/")
        size = fits(page)
        assert size["page"] <= size["viewport"] and size["table"] <= size["box"], (width, size)
        assert on_screen(page, "#result_list td.field-created"), width

    support = page_for(browser, live_server, sam, PHONE)
    support.goto(f"{base}/admin/paylinks/webhookevent/")
    size = fits(support)
    assert size["page"] <= size["viewport"] and 0 < size["table"] <= size["box"], size
    for column in ("field-event", "field-status_badge", "field-received"):
        assert on_screen(support, f"#result_list .{column}"), column


@pytest.fixture
def sandbox_site(live_server, settings):  # type: ignore[no-untyped-def]
    """The live server with the sandbox gateway delivering its webhooks to it."""
    settings.SITE_URL = live_server.url
    settings.PUBLIC_CHECKOUT_URL = "http://checkout.invalid"
    settings.PAYLINKS_GATEWAY = "sandbox"
    settings.PAYLINKS_RATE_LIMITS = {}
    get_gateway.cache_clear()
    yield live_server.url
    get_gateway.cache_clear()


def test_a_refund_shows_its_result_without_a_reload(
    browser, sandbox_site, live_server, acme, alice
) -> None:
    Merchant.objects.filter(pk=acme.pk).update(timezone="Europe/Copenhagen")
    payment = paid_payment(sandbox_site, acme, 4500, "USD")
    page = page_for(browser, live_server, alice, {"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/paylinks/payment/{payment.pk}/change/")
    page.evaluate("window.paylinksMarker = 'still here'")
    assert "Refund requested" not in page.inner_text("#main")

    page.get_by_role("link", name="Refund").click()
    page.wait_for_selector("#dialog", state="visible")
    page.fill("#dialog input[name=amount]", "12.50")
    page.select_option("#dialog select[name=reason]", "duplicate")
    page.click("#dialog button[type=submit]")

    page.wait_for_selector("text=Refund of 12.50 USD sent")
    assert page.evaluate("window.paylinksMarker") == "still here"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert page.locator("#dialog").is_hidden() or page.locator("#dialog").count() == 0
    main = page.inner_text("#main")
    assert "Refund requested" in main  # the timeline, read again
    assert "12.50 USD" in main  # the refunds table
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == 1250 and refund.reason == "duplicate"

    # The gateway's confirmation (its webhook, processed by the worker) follows on the
    # page by itself: the refunded amount and the status, still without navigation.
    drain()
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 1250)
    page.wait_for_function(
        "() => !document.querySelector('#content-main [data-paylinks-awaiting]')"
        " && /partially refunded/i.test(document.querySelector('#content-main').innerText)",
        timeout=30_000,
    )
    assert page.inner_text("#content-main").count("12.50 USD") >= 2  # refunded, and the refund
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1

    # The page swapped in works like the first: the dialog opens again and a refused
    # amount stays in it as a form error, nothing refunded.
    page.get_by_role("link", name="Refund").click()
    page.wait_for_selector("#dialog", state="visible")
    page.fill("#dialog input[name=amount]", "999")
    page.click("#dialog button[type=submit]")
    page.wait_for_selector("#dialog >> text=at most 32.50 USD")
    assert Refund.objects.filter(payment=payment).count() == 1
    assert page.evaluate("window.paylinksMarker") == "still here"
    assert page.errors == []
