"""Screenshots of every console page, for review and for the README.

Not a test: run it by hand after changing the console, then *look* at the images.

    .venv/bin/python tests/admin/screenshots.py            # -> docs/screenshots/console-*.png
    .venv/bin/python tests/admin/screenshots.py --keep     # leave the server up to poke at
    .venv/bin/python tests/admin/screenshots.py --only analytics   # the analytics pages only
    .venv/bin/python tests/admin/screenshots.py --only home        # the home page only

The home page and the payments list are also shot at 390 px wide (``*-mobile.png``);
more pages worth seeing on a phone go to var/screenshots/ (not kept in the repository).

It builds a fresh SQLite database in a temporary folder, fills it with a small,
realistic data set (two merchants, links in every state and several currencies,
payments with timelines), starts ``runserver`` on 127.0.0.1, signs in by writing a
session (the sign-in pages are not part of the console) and drives headless Chromium
at 1440x900 through Playwright.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
PHONE_OUT = ROOT / "var" / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "true",
        "PAYLINKS_SKIP_DOTENV": "1",
        "PAYLINKS_REQUIRE_MFA": "false",
        "PAYLINKS_GATEWAY": "sandbox",
        "PAYLINKS_TASK_BACKEND": "immediate",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "PUBLIC_CHECKOUT_URL": "https://pay.acme-books.example",
        "PYTHONPATH": str(ROOT),
    }


# --- data -------------------------------------------------------------------------------
def seed() -> dict[str, Any]:
    """A small world: Acme Books (owner, manager, viewer) and Globex Records."""
    from django.utils import timezone

    from paylinks.models import (
        AmountType,
        Payment,
        PaymentEvent,
        PaymentStatus,
        Role,
        User,
    )
    from paylinks.services import links as link_services
    from paylinks.services import merchants as merchant_services

    rng = random.Random(20240501)
    now = timezone.now()

    def person(email: str, first: str, last: str, **extra: Any) -> User:
        user = User.objects.create_user(email=email, password="paylinks-demo", **extra)
        user.first_name, user.last_name = first, last
        user.save()
        return user

    alice = person("owner@acme.test", "Alice", "Moreau")
    mallory = person("manager@acme.test", "Mallory", "Chen")
    victor = person("viewer@acme.test", "Victor", "Okafor")
    bob = person("owner@globex.test", "Bob", "Lindqvist")
    sam = person("support@paylinks.test", "Sam", "Rivera", is_support=True)
    root = User.objects.create_superuser(email="root@paylinks.test", password="paylinks-demo")

    acme = merchant_services.merchant_create(
        name="Acme Books",
        slug="acme",
        owner=alice,
        default_currency="USD",
        timezone="Europe/Copenhagen",
        support_email="help@acme-books.example",
        brand_color="#4F46E5",
    )
    globex = merchant_services.merchant_create(
        name="Globex Records", slug="globex", owner=bob, default_currency="EUR"
    )
    for user, role in ((mallory, Role.MANAGER), (victor, Role.VIEWER)):
        merchant_services.membership_add(merchant=acme, actor=alice, email=user.email, role=role)

    def link(merchant: Any, title: str, currency: str, amount: int | None, **kw: Any) -> Any:
        if amount is None:
            kw.setdefault("amount_type", AmountType.CUSTOMER)
        return link_services.payment_link_create(
            merchant=merchant, actor=alice if merchant == acme else bob,
            title=title, currency=currency, amount=amount, **kw,
        )  # fmt: skip

    acme_links = [
        link(acme, "Signed first edition — The Left Hand of Darkness", "USD", 4500,
             description="Hardback, signed by the translator. Ships in 3 days.",
             payment_limit=50, collect_name=True, collect_billing_address=True,
             metadata={"sku": "LHD-1969-S"}),
        link(acme, "Gift card — you choose the amount", "USD", None,
             custom_amount_min=1000, custom_amount_max=50000, custom_amount_preset=2500,
             description="Spend it in the shop or online."),
        link(acme, "Book club membership (12 months)", "GBP", 6000, collect_name=True),
        link(acme, "Tokyo book fair catalogue", "JPY", 1500),
        link(acme, "Rare map of Copenhagen, 1761", "DKK", 245000, payment_limit=1),
        link(acme, "Summer reading box", "EUR", 3900),
        link(acme, "Author talk — livestream ticket", "USD", 800),
        link(acme, "Bookbinding workshop, Saturday", "EUR", 12000,
             expires_at=now + timedelta(days=12), payment_limit=40, collect_phone=True),
        link(acme, "Donation to the reading programme", "EUR", None,
             custom_amount_min=500, description="Every euro buys books for the school library."),
    ]  # fmt: skip
    globex_links = [
        link(globex, "Vinyl pre-order — Neon Harbour", "EUR", 2800),
        link(globex, "Concert ticket — Aarhus", "DKK", 35000),
    ]
    link_services.payment_link_deactivate(
        link=acme_links[6], actor=alice, message="The livestream is over: thank you for watching!"
    )
    type(acme_links[5]).objects.filter(pk=acme_links[5].pk).update(
        expires_at=now - timedelta(days=3)
    )

    statuses = (
        [PaymentStatus.SUCCEEDED] * 70
        + [PaymentStatus.FAILED] * 9
        + [PaymentStatus.EXPIRED] * 8
        + [PaymentStatus.PENDING] * 4
        + [PaymentStatus.CANCELED] * 3
        + [PaymentStatus.REFUNDED] * 3
        + [PaymentStatus.PARTIALLY_REFUNDED] * 2
    )
    cards = [("visa", "4242"), ("mastercard", "4444"), ("amex", "8431"), ("visa", "1881")]
    names = ["Ana Lima", "Jonas Berg", "Mia Novak", "Liam O'Brien", "Yuki Sato", "Sara Khan"]

    def pay(target: Any, status: str, age: timedelta, declined: bool | None = None) -> None:
        amount = target.amount or rng.choice([1500, 2500, 5000, 7500, 12000])
        method, brand, last4 = "card", *rng.choice(cards)
        if target.currency == "EUR" and rng.random() < 0.3:
            method, brand, last4 = "sepa_debit", "", ""
        customer = rng.choice(names)
        refunded = {
            PaymentStatus.REFUNDED: amount,
            PaymentStatus.PARTIALLY_REFUNDED: amount // 2,
        }.get(status, 0)
        email = customer.lower().replace(" ", ".").replace("'", "") + "@mail.example"
        if declined is None:
            declined = status == PaymentStatus.PENDING and rng.random() < 0.5
        payment = Payment.objects.create(
            merchant=target.merchant, link=target, amount=amount, currency=target.currency,
            status=status, gateway="sandbox", amount_refunded=refunded,
            gateway_session_id=f"cs_test_{rng.getrandbits(64):016x}",
            payment_intent_id=f"pi_{rng.getrandbits(64):016x}",
            payment_method_type=method if status != PaymentStatus.PENDING else "",
            card_brand=brand if status != PaymentStatus.PENDING else "",
            card_last4=last4 if status != PaymentStatus.PENDING else "",
            customer_email=email,
            customer_name=customer if target.collect_name else "",
            customer_phone="+45 20 12 34 56" if target.collect_phone else "",
            billing_address=(
                '{"line1": "Nørrebrogade 12", "postal_code": "2200", "city": "København N",'
                ' "country": "DK"}' if target.collect_billing_address else ""
            ),
            failure_code="card_declined" if status == PaymentStatus.FAILED or declined else "",
            failure_message=(
                "Your card was declined." if status == PaymentStatus.FAILED
                else "Your card has insufficient funds." if declined else ""
            ),
        )  # fmt: skip
        created = now - age
        completed = created + timedelta(minutes=2) if status in (
            PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED
        ) else None  # fmt: skip
        Payment.objects.filter(pk=payment.pk).update(
            created_at=created, completed_at=completed, session_completed_at=completed
        )
        events = [
            (
                "created",
                "",
                PaymentStatus.PENDING,
                f"Checkout started for {payment.amount_display}",
                created,
            )
        ]
        if status == PaymentStatus.FAILED:
            events.append(
                (
                    "attempt_failed",
                    "",
                    "",
                    "Your card was declined.",
                    created + timedelta(minutes=1),
                )
            )
        if declined:
            events.append(
                (
                    "attempt_failed",
                    "",
                    "",
                    "Your card has insufficient funds.",
                    created + timedelta(minutes=1),
                )
            )
        if status != PaymentStatus.PENDING:
            first = PaymentStatus.SUCCEEDED if completed else status
            events.append(
                ("status_changed", PaymentStatus.PENDING, first, "", created + timedelta(minutes=2))
            )
        refund_delay = min(age / 2, timedelta(days=1))
        if refunded:
            events.append(
                (
                    "refund_requested",
                    "",
                    "",
                    "Requested by the customer",
                    created + refund_delay,
                )
            )
            events.append(
                (
                    "status_changed",
                    PaymentStatus.SUCCEEDED,
                    status,
                    "",
                    created + refund_delay + timedelta(minutes=1),
                )
            )
        for kind, before, after, message, at in events:
            code = {
                "Your card has insufficient funds.": "insufficient_funds",
                "Your card was declined.": "generic_decline",
            }.get(message)
            event = PaymentEvent.objects.create(
                payment=payment, kind=kind, from_status=before, to_status=after,
                message=message, source="gateway" if kind != "created" else "system",
                data={"code": code} if kind == "attempt_failed" and code
                # A refund's status change records the total refunded (as the services
                # write it, and as the analytics count refunds).
                else {"amount_refunded": refunded}
                if kind == "status_changed" and before == PaymentStatus.SUCCEEDED
                else {},
            )  # fmt: skip
            PaymentEvent.objects.filter(pk=event.pk).update(created_at=at)

    weights = [5, 4, 3, 2, 0, 3, 2, 2, 2]
    for _ in range(150):
        target = rng.choices(acme_links, weights=weights)[0]
        pay(
            target,
            rng.choice(statuses),
            timedelta(days=rng.uniform(0, 40), minutes=rng.randint(0, 600)),
        )
    for index in range(3):
        pay(acme_links[0], PaymentStatus.SUCCEEDED, timedelta(hours=3 + index))
    pay(acme_links[4], PaymentStatus.SUCCEEDED, timedelta(days=6))
    pay(acme_links[3], PaymentStatus.SUCCEEDED, timedelta(minutes=14))
    pay(acme_links[0], PaymentStatus.PARTIALLY_REFUNDED, timedelta(minutes=40))
    pay(acme_links[0], PaymentStatus.PENDING, timedelta(minutes=6), declined=True)
    for _ in range(20):
        pay(rng.choice(globex_links), rng.choice(statuses), timedelta(days=rng.uniform(0, 30)))

    link_services.payment_link_update(link=acme_links[2], actor=mallory, amount=5500)

    from paylinks.models import WebhookEvent

    inbox = [
        ("checkout.session.completed", "processed", ""),
        ("charge.refunded", "processed", ""),
        ("customer.created", "ignored", ""),
        ("checkout.session.async_payment_succeeded", "failed",
         "GatewayError: the gateway did not answer within 10 s (attempt 2 of 8)"),
        ("checkout.session.expired", "pending", ""),
    ]  # fmt: skip
    done = ("processed", "ignored")
    for index, (kind, status, error) in enumerate(inbox * 3):
        event = WebhookEvent.objects.create(
            gateway="sandbox", event_id=f"evt_test_{index:04d}{rng.randrange(10**8):08d}",
            type=kind, object_id=f"cs_test_{rng.randrange(10**12):012d}",
            payload={"id": f"evt_{index}", "type": kind, "data": {"object": {}}},
            status=status, attempts=2 if error else 1, last_error=error,
            processed_at=(now - timedelta(minutes=index * 7)) if status in done else None,
        )  # fmt: skip
        WebhookEvent.objects.filter(pk=event.pk).update(
            received_at=now - timedelta(minutes=index * 7)
        )
    # Visitors opening the links (a few per day), then the analytics rollups built from
    # everything above (the payments were written directly, not through the services).
    from paylinks.models import LinkView
    from paylinks.services import rollups

    for target, daily in zip(
        acme_links + globex_links, [9, 7, 4, 3, 1, 3, 2, 3, 3, 5, 2], strict=True
    ):
        for day in range(40):
            for visitor in range(rng.randint(0, daily * 2)):
                view = LinkView.objects.create(
                    link=target, visitor_hash=f"{target.pk}-{day}-{visitor}", window_start=now
                )
                moment = now - timedelta(days=day, minutes=rng.randint(0, 1400))
                LinkView.objects.filter(pk=view.pk).update(created_at=moment, window_start=moment)
    # A book sold in copies: the customer chooses how many, the limit is the stock.
    copies = link(acme, "Moby-Dick — Penguin Classics paperback", "USD", 1450,
                  quantity_enabled=True, quantity_max=5, payment_limit=40)  # fmt: skip
    for index, units in enumerate([2, 1, 3, 1, 2, 1]):
        sold = Payment.objects.create(
            merchant=acme, link=copies, amount=1450 * units, unit_amount=1450, quantity=units,
            currency="USD", status=PaymentStatus.SUCCEEDED, gateway="sandbox",
            gateway_session_id=f"cs_test_{rng.getrandbits(64):016x}",
            payment_intent_id=f"pi_{rng.getrandbits(64):016x}", payment_method_type="card",
            card_brand="visa", card_last4="4242", customer_email=f"reader{index}@mail.example",
        )  # fmt: skip
        Payment.objects.filter(pk=sold.pk).update(
            created_at=now - timedelta(hours=2 + index * 5),
            completed_at=now - timedelta(hours=2 + index * 5) + timedelta(minutes=2),
        )
    for merchant in (acme, globex):
        rollups.rebuild(merchant=merchant)
    # The links were made before their payments (which are backdated above).
    type(acme_links[0]).objects.filter(merchant__in=[acme, globex]).update(
        created_at=now - timedelta(days=45)
    )
    return {
        "alice": alice,
        "victor": victor,
        "sam": sam,
        "root": root,
        "acme_links": acme_links,
        "copies": copies,
    }


def known_to_the_sandbox(payment: Any) -> None:
    """Give a seeded payment its paid intent in the sandbox, so a refund of it goes through
    the gateway like a real one."""
    from datetime import timedelta

    from django.utils import timezone

    from paylinks.gateways.sandbox.models import SandboxPaymentIntent, SandboxSession

    session = SandboxSession.objects.create(
        id=payment.gateway_session_id, status="complete", payment_status="paid",
        amount_total=payment.amount, currency=payment.currency, title=payment.link.title,
        merchant_name=payment.merchant.name, success_url="https://pay.example/ok",
        cancel_url="https://pay.example/cancel", expires_at=timezone.now() + timedelta(hours=1),
        idempotency_key=f"screens-{payment.pk}",
    )  # fmt: skip
    SandboxPaymentIntent.objects.create(
        id=payment.payment_intent_id, session=session, amount=payment.amount,
        currency=payment.currency, status="succeeded", payment_method_type="card",
        card_brand=payment.card_brand, last4=payment.card_last4,
        charge_id=f"ch_{payment.payment_intent_id[3:]}", amount_refunded=payment.amount_refunded,
    )  # fmt: skip


def session_cookie(user: Any) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


# --- pages ------------------------------------------------------------------------------
def shoot(
    base: str, cookies: dict[str, str], data: dict[str, Any], only: str | None = None
) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from paylinks.models import Payment

    OUT.mkdir(parents=True, exist_ok=True)
    link = data["acme_links"][0]
    payment = (
        Payment.objects.filter(link=link, status="partially_refunded")
        .order_by("-created_at")
        .first()
    )
    assert payment is not None
    declined = (
        Payment.objects.filter(status="pending", events__kind="attempt_failed")
        .order_by("-created_at")
        .first()
    )
    assert declined is not None
    known_to_the_sandbox(payment)  # refunded for real further down
    shots: list[Path] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS
        )

        def context_for(who: str, viewport: dict[str, int] = VIEWPORT, **extra: Any) -> Any:
            context = browser.new_context(
                viewport=viewport,
                device_scale_factor=1,
                timezone_id="Europe/Copenhagen",
                **extra,
            )
            context.add_cookies([{"name": "sessionid", "value": cookies[who], "url": base}])
            return context

        if only == "analytics":
            shots += analytics_pages(base, context_for, data)
            browser.close()
            return shots
        if only == "home":  # the console's home, desktop and phone
            for name, viewport in (("home", VIEWPORT), ("home-mobile", PHONE)):
                home = context_for("alice", viewport=viewport).new_page()
                response = home.goto(base + "/admin/")
                assert response is not None and response.ok
                home.wait_for_load_state("networkidle")
                target = OUT / f"console-{name}.png"
                home.screenshot(path=str(target), full_page=name == "home-mobile")
                shots.append(target)
                print(f"  {target.relative_to(ROOT)}")
                home.context.close()
            browser.close()
            return shots
        if only == "quantity":
            shots += quantity_pages(base, context_for, data)
            browser.close()
            return shots

        page = context_for("alice").new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

        def scroll_to(selector: str) -> None:
            page.locator(selector).first.evaluate(
                "el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 160)"
            )
            page.wait_for_timeout(200)

        def snap(name: str, path: str | None = None, full_page: bool = False) -> None:
            if path is not None:
                response = page.goto(base + path)
                assert response is not None and response.ok, (
                    f"{path}: {response and response.status}"
                )
            page.wait_for_load_state("networkidle")
            target = OUT / f"console-{name}.png"
            page.screenshot(path=str(target), full_page=full_page)
            shots.append(target)
            print(f"  {target.relative_to(ROOT)}")

        snap("home", "/admin/")
        snap("links", "/admin/paylinks/paymentlink/")
        snap("link-add", "/admin/paylinks/paymentlink/add/")

        # A mistake a merchant makes: half a yen, and a redirect that is not a web address.
        page.fill("#id_title", "Limited print — Hokusai wave")
        page.select_option("#id_currency", "JPY")
        page.fill("#id_amount", "12.5")
        page.check("input[name=after_payment][value=redirect]")
        page.fill("#id_redirect_url", "javascript:alert(1)")
        page.click("button[name=_save]")
        page.wait_for_load_state("networkidle")
        scroll_to(".errorlist")
        snap("link-add-error")

        snap("link-change", f"/admin/paylinks/paymentlink/{link.pk}/change/")
        page.goto(base + f"/admin/paylinks/paymentlink/{data['acme_links'][1].pk}/change/")
        scroll_to("#id_currency")
        snap("link-customer-chooses")

        # Deactivate from the link's page: a dialog asks for the customers' message.
        page.goto(base + f"/admin/paylinks/paymentlink/{link.pk}/change/")
        page.click("text=Deactivate")
        page.wait_for_selector("#dialog", state="visible")
        page.fill("#dialog textarea", "Sold out for now: a reprint is coming in spring.")
        page.wait_for_timeout(300)
        snap("link-deactivate-dialog")
        with page.expect_navigation():
            page.click("#dialog button[type=submit]")
        page.wait_for_load_state("networkidle")
        if "inactive" not in page.inner_text(".paylinks-share").lower():
            raise SystemExit(f"Deactivating did not show on {page.url}")
        snap("link-deactivated")
        page.click("text=Activate")
        page.wait_for_selector("#dialog", state="visible")
        with page.expect_navigation():
            page.click("#dialog button[type=submit]")

        snap("payments", "/admin/paylinks/payment/")
        snap("payments-filtered", "/admin/paylinks/payment/?status__exact=failed")
        page.click("text=Filters")
        page.wait_for_timeout(400)
        snap("payments-filters")
        snap("payment-detail", f"/admin/paylinks/payment/{payment.pk}/change/")
        scroll_to(".tabular, #events-group, fieldset:last-of-type")
        snap("payment-timeline")
        page.goto(base + f"/admin/paylinks/payment/{payment.pk}/change/")
        page.click("text=Refund")
        page.wait_for_selector("#dialog", state="visible")
        page.fill("#dialog input[name=amount]", "10.00")
        page.wait_for_timeout(300)
        snap("payment-refund-dialog")
        # Submitted: the page reads itself again in place (no navigation), with the
        # message, the refund and the timeline entry.
        page.evaluate("window.paylinksMarker = 1")
        page.click("#dialog button[type=submit]")
        page.wait_for_selector("text=Refund of 10.00 USD sent")
        page.wait_for_timeout(400)
        if page.evaluate("window.paylinksMarker") != 1:
            raise SystemExit("The refund reloaded the page instead of updating it in place")
        snap("payment-refunded-inline")
        snap("team", "/admin/paylinks/membership/")
        snap("team-add", "/admin/paylinks/membership/add/")
        page.goto(base + "/admin/paylinks/merchant/")
        scroll_to("#id_default_currency")
        snap("merchant-settings")
        snap("audit", "/admin/paylinks/auditentry/")
        entry = page.locator("#result_list tbody tr a").first
        entry.click()
        page.wait_for_load_state("networkidle")
        snap("audit-entry")

        others = [
            ("victor", "link-viewer", f"/admin/paylinks/paymentlink/{link.pk}/change/"),
            ("sam", "links-support", "/admin/paylinks/paymentlink/"),
            ("sam", "home-support", "/admin/"),
            ("root", "users", "/admin/paylinks/user/"),
            ("root", "webhook-inbox", "/admin/paylinks/webhookevent/"),
            ("root", "webhook-failed", "/admin/paylinks/webhookevent/?status=failed"),
        ]
        for who, name, path in others:
            other = context_for(who).new_page()
            response = other.goto(base + path)
            assert response is not None and response.ok, (
                f"{who} {path}: {response and response.status}"
            )
            other.wait_for_load_state("networkidle")
            target = OUT / f"console-{name}.png"
            other.screenshot(path=str(target))
            shots.append(target)
            print(f"  {target.relative_to(ROOT)}")
            other.context.close()

        shots += support_and_phone(base, context_for, payment, declined)
        shots += analytics_pages(base, context_for, data)
        browser.close()
    if errors:
        print("Browser errors:\n  " + "\n  ".join(errors))
    return shots


def support_and_phone(base: str, context_for: Any, payment: Any, declined: Any) -> list[Path]:
    """Support staff's view of payments (masked, then one customer revealed), and the
    payment pages on a 390 px phone for an owner and for support staff."""
    shots: list[Path] = []
    PHONE_OUT.mkdir(parents=True, exist_ok=True)

    def save(page: Any, target: Path) -> None:
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(target))
        shots.append(target)
        print(f"  {target.relative_to(ROOT)}")

    def visit(page: Any, path: str) -> None:
        response = page.goto(base + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"

    phone = context_for("alice", viewport=PHONE).new_page()
    visit(phone, "/admin/")
    phone.locator("[data-table=recent-payments]").evaluate(
        "el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 140)"
    )
    save(phone, OUT / "console-home-mobile.png")
    visit(phone, "/admin/paylinks/payment/")
    save(phone, OUT / "console-payments-mobile.png")
    phone.context.close()

    for who in ("alice", "sam"):
        phone = context_for(who, viewport=PHONE).new_page()
        for name, path in (
            ("payments", "/admin/paylinks/payment/"),
            ("payment", f"/admin/paylinks/payment/{payment.pk}/change/"),
            ("declined", f"/admin/paylinks/payment/{declined.pk}/change/"),
        ):
            visit(phone, path)
            save(phone, PHONE_OUT / f"phone-{who}-{name}.png")
        phone.context.close()

    page = context_for("sam").new_page()
    visit(page, "/admin/paylinks/payment/")
    save(page, OUT / "console-payments-support.png")
    visit(page, f"/admin/paylinks/payment/{payment.pk}/change/")
    save(page, OUT / "console-payment-detail-support.png")
    page.screenshot(path=str(PHONE_OUT / "support-payment-masked-full.png"), full_page=True)
    page.click("text=Reveal customer")
    page.wait_for_selector("#dialog", state="visible")
    page.fill("#dialog textarea", "Ticket 4821: the customer asks for a copy of the receipt")
    page.wait_for_timeout(300)
    save(page, PHONE_OUT / "support-reveal-dialog.png")
    with page.expect_navigation():
        page.click("#dialog button[type=submit]")
    save(page, PHONE_OUT / "support-revealed.png")
    page.screenshot(path=str(PHONE_OUT / "support-payment-revealed-full.png"), full_page=True)
    visit(page, "/admin/paylinks/auditentry/?action=group%3Asupport")
    save(page, PHONE_OUT / "support-audit.png")
    page.locator("#result_list tbody tr a").first.click()
    save(page, PHONE_OUT / "support-audit-entry.png")
    visit(page, f"/admin/paylinks/payment/{declined.pk}/change/")
    page.screenshot(path=str(PHONE_OUT / "support-declined-full.png"), full_page=True)
    page.context.close()
    return shots


def analytics_pages(base: str, context_for: Any, data: dict[str, Any]) -> list[Path]:
    """The analytics pages (desktop 1280 px, a 390 px phone, dark mode), the support
    overview, a link's funnel and a new link's share card. Each waits for plotly.js to
    have drawn every chart, and fails if a page is wider than the screen."""
    shots: list[Path] = []
    desktop = {"width": 1280, "height": 900}
    errors: list[str] = []

    def open_page(who: str, path: str, viewport: dict[str, int], dark: bool = False) -> Any:
        context = context_for(who, viewport=viewport)
        if dark:
            context.close()
            context = context_for(who, viewport=viewport, color_scheme="dark")
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "console",
            # DEBUG's CSP names http://[::1]:* for development, which Chromium ignores.
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and "invalid source" not in m.text
                else None
            ),
        )
        response = page.goto(base + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        page.wait_for_load_state("networkidle")
        if page.locator("[data-charts]").count():
            page.wait_for_selector("[data-charts-drawn]", state="attached")
            page.wait_for_timeout(300)
        wide = page.evaluate("() => document.documentElement.scrollWidth")
        if wide > viewport["width"]:
            raise SystemExit(f"{path} is {wide} px wide on a {viewport['width']} px screen")
        return page

    def save(page: Any, name: str, full_page: bool = True) -> None:
        target = OUT / f"console-{name}.png"
        page.screenshot(path=str(target), full_page=full_page)
        shots.append(target)
        print(f"  {target.relative_to(ROOT)}")
        page.context.close()

    save(open_page("alice", "/admin/analytics/?period=30d", desktop), "analytics")
    save(open_page("alice", "/admin/analytics/?period=30d", PHONE), "analytics-mobile")
    save(open_page("alice", "/admin/analytics/?period=90d", desktop, dark=True), "analytics-dark")
    save(open_page("sam", "/admin/analytics/support/", desktop), "analytics-support")
    link = data["acme_links"][0]
    page = open_page("alice", f"/admin/paylinks/paymentlink/{link.pk}/change/", desktop)
    page.locator("[data-funnel]").scroll_into_view_if_needed()
    page.evaluate("() => window.scrollTo(0, 0)")
    save(page, "link-funnel", full_page=False)

    # A new link: saving it lands on its share card.
    page = open_page("alice", "/admin/paylinks/paymentlink/add/", desktop)
    page.fill("#id_title", "Poetry evening — ticket")
    page.select_option("#id_currency", "EUR")
    page.fill("#id_amount", "15.00")
    with page.expect_navigation():
        page.click("button[name=_save]")
    page.wait_for_load_state("networkidle")
    if not re.search(r"/paymentlink/\d+/change/$", page.url) or "is ready" not in page.content():
        raise SystemExit(f"Saving a new link went to {page.url}, not its share card")
    save(page, "link-share-card", full_page=False)
    if errors:
        raise SystemExit("Browser errors:\n  " + "\n  ".join(errors))
    return shots


def wait_for(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"The dev server did not answer at {url}")


def quantity_pages(base: str, context_for: Any, data: dict[str, Any]) -> list[Path]:
    """A link sold in copies: its page (units sold, the quantity fields), the payments."""
    shots = []
    copies = data["copies"]
    for suffix, viewport in (("", VIEWPORT), ("-mobile", PHONE)):
        page = context_for("alice", viewport).new_page()
        for name, path in (
            ("link-quantity", f"/admin/paylinks/paymentlink/{copies.pk}/change/"),
            ("payments-quantity", f"/admin/paylinks/payment/?link={copies.pk}"),
        ):
            response = page.goto(base + path)
            assert response is not None and response.ok, f"{path}: {response and response.status}"
            page.wait_for_load_state("networkidle")
            if name == "link-quantity":
                page.locator("#id_quantity_enabled").evaluate(
                    "el => window.scrollTo(0, el.getBoundingClientRect().top + scrollY - 420)"
                )
                page.wait_for_timeout(200)
            target = OUT / f"console-{name}{suffix}.png"
            page.screenshot(path=str(target))
            shots.append(target)
            print(f"  {target.relative_to(ROOT)}")
        page.context.close()
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the server running")
    parser.add_argument(
        "--only",
        choices=["analytics", "home", "quantity"],
        help="shoot only these pages (analytics: issue 11's; home: the console's home page; "
        "quantity: links sold in units)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="paylinks-screens-"))
    database = workdir / "console.sqlite3"
    env = server_env(database)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.core.management import call_command

    print(f"Database: {database}")
    call_command("migrate", verbosity=0)
    data = seed()
    cookies = {who: session_cookie(data[who]) for who in ("alice", "victor", "sam", "root")}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "server.log", "w"),  # noqa: SIM115 - closed with the process
    )
    try:
        wait_for(base + "/static/theme/console.css")
        print(f"Console: {base}/admin/ (server log: {workdir / 'server.log'})")
        shoot(base, cookies, data, only=args.only)
        if args.keep:
            print("Ctrl-C to stop the server.")
            server.wait()
    finally:
        server.terminate()
        server.wait(timeout=10)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
