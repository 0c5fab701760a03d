"""Screenshots of the outgoing webhooks in the console and of the payment e-mails.

Not a test: run it by hand after changing these pages or e-mails, then *look* at them.

    .venv/bin/python tests/webhooks_out/screenshots.py   # -> docs/screenshots/

Builds a fresh SQLite database in a temporary folder with a merchant, endpoints and a
delivery log (seeded rows: a real delivery log needs days of retries), starts
``runserver`` on 127.0.0.1 and drives headless Chromium at 1440x900 and 390x844. The
e-mails are rendered by ``payment_mail.render`` from a payment's outgoing event and
opened in Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.admin.screenshots import (  # noqa: E402
    CHROMIUM_ARGS,
    OUT,
    PHONE,
    VIEWPORT,
    free_port,
    server_env,
    session_cookie,
    wait_for,
)


def seed() -> dict[str, Any]:
    from django.utils import timezone

    from paylinks.models import (
        Delivery,
        OutgoingEvent,
        Payment,
        PaymentLink,
        PaymentStatus,
        User,
        WebhookEndpoint,
    )
    from paylinks.notifications.outbox import link_data, payment_data
    from paylinks.services import merchants as merchant_services

    now = timezone.now()
    alice = User.objects.create_user(email="owner@acme.test", password="paylinks-demo")
    alice.first_name, alice.last_name = "Alice", "Moreau"
    alice.save()
    acme = merchant_services.merchant_create(
        name="Acme Books",
        slug="acme",
        owner=alice,
        default_currency="USD",
        timezone="Europe/Copenhagen",
        support_email="help@acme-books.example",
        brand_color="#4F46E5",
    )
    link = PaymentLink.objects.create(
        merchant=acme, title="Signed first edition: The Atlas of Lost Maps", currency="USD",
        amount=4500,
    )  # fmt: skip
    payment = Payment.objects.create(
        merchant=acme, link=link, amount=4500, currency="USD", gateway="sandbox",
        status=PaymentStatus.SUCCEEDED, payment_intent_id="pi_3QfX8kLm2Ndq7RsT0vW1",
        gateway_session_id="cs_test_a1B2c3D4", payment_method_type="card",
        card_brand="visa", card_last4="4242", customer_email="ada@example.test",
        customer_name="Ada Lovelace", completed_at=now - timedelta(minutes=3),
    )  # fmt: skip
    shop = WebhookEndpoint.objects.create(
        merchant=acme, url="https://shop.acme-books.example/paylinks/webhooks",
        description="Order fulfilment", created_by=alice,
        events=["payment.succeeded", "payment.refunded", "payment.partially_refunded"],
    )  # fmt: skip
    WebhookEndpoint.objects.create(
        merchant=acme, url="https://erp.acme-books.example/hooks/payments",
        description="Accounting (ERP)", created_by=alice,
        events=["payment.succeeded", "payment.failed", "payment.refunded"],
    )  # fmt: skip
    WebhookEndpoint.objects.create(
        merchant=acme, url="https://old-shop.acme-books.example/notify", enabled=False,
        description="Old shop", events=["link.sold_out", "link.expired"],
        disabled_reason="Disabled automatically: every delivery failed for 72 hours.",
        failing_since=now - timedelta(days=3, hours=2),
    )  # fmt: skip
    rows = [
        ("payment.succeeded", "succeeded", 1, 200, 84, None),
        ("payment.succeeded", "succeeded", 2, 200, 131, None),
        ("payment.partially_refunded", "pending", 3, 503, 10002, timedelta(minutes=9)),
        ("payment.succeeded", "succeeded", 1, 204, 57, None),
        ("payment.refunded", "failed", 15, 500, 240, None),
        ("test", "succeeded", 1, 200, 66, None),
    ]
    for n, (type_, status, attempts, code, latency, retry) in enumerate(rows):
        created = now - timedelta(hours=n * 5 + 1)
        data = payment_data(payment, link) if type_ != "test" else {"object": "test"}
        event = OutgoingEvent(merchant=acme, type=type_, object_id=payment.public_id)
        event.payload = {"id": event.public_id, "type": type_, "timestamp": "", "data": data}
        event.save()
        OutgoingEvent.objects.filter(pk=event.pk).update(created_at=created)
        Delivery.objects.create(
            event=event, endpoint=shop, status=status, attempts=attempts, status_code=code,
            latency_ms=latency, last_attempt_at=created + timedelta(seconds=2),
            next_attempt_at=now + retry if retry else None,
            error="" if code < 300 else (
                "Timed out after 10 s" if latency > 9000 else f"HTTP {code}"),
            response_body='{"ok": true}' if code < 300 else "Service Unavailable",
        )  # fmt: skip
    _ = link_data
    return {"alice": alice, "acme": acme, "payment": payment, "link": link, "shop": shop}


def render_emails(data: dict[str, Any], workdir: Path) -> dict[str, Path]:
    from django.utils import timezone

    from paylinks.models import EventType, OutgoingEvent, Payment, PaymentStatus
    from paylinks.notifications import payment_mail
    from paylinks.notifications.outbox import payment_data

    payment: Payment = data["payment"]
    files: dict[str, Path] = {}

    def event(type_: str) -> OutgoingEvent:
        # The outbox row as payment_event writes it, without deliveries (no endpoint
        # of this demo is reachable).
        row = OutgoingEvent(
            merchant_id=payment.merchant_id, type=type_, object_id=payment.public_id
        )
        row.payload = {
            "id": row.public_id,
            "type": type_,
            "timestamp": timezone.now().isoformat(),
            "data": payment_data(payment, data["link"]),
        }
        row.save()
        return row

    receipt = event(EventType.PAYMENT_SUCCEEDED)
    payment.status, payment.amount_refunded = PaymentStatus.PARTIALLY_REFUNDED, 1500
    refund = event(EventType.PAYMENT_PARTIALLY_REFUNDED)
    for name, kind, event in (
        ("receipt", payment_mail.RECEIPT, receipt),
        ("refund", payment_mail.REFUND, refund),
    ):
        subject, _text, html = payment_mail.render(kind, event, data["acme"])
        path = workdir / f"email-{name}.html"
        path.write_text(html, encoding="utf-8")
        files[name] = path
        print(f"{name}: {subject}")
    return files


def shoot(base: str, cookie: str, data: dict[str, Any], emails: dict[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    shop = data["shop"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for suffix, viewport in (("", VIEWPORT), ("-mobile", PHONE)):
            context = browser.new_context(
                viewport=viewport, device_scale_factor=1, timezone_id="Europe/Copenhagen"
            )
            context.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
            page = context.new_page()

            def snap(name: str, path: str | None = None, page: Any = page) -> None:
                if path is not None:
                    response = page.goto(base + path)
                    assert response is not None and response.ok, path
                page.wait_for_load_state("networkidle")
                target = OUT / f"console-{name}{suffix}.png"  # noqa: B023 - used at once
                page.screenshot(path=str(target))
                print(target)

            snap("webhook-endpoints", "/admin/paylinks/webhookendpoint/")
            snap(
                "webhook-deliveries",
                f"/admin/paylinks/delivery/?endpoint__id__exact={shop.pk}",
            )
            page.goto(f"{base}/admin/paylinks/webhookendpoint/{shop.pk}/rotate-secret/")
            page.locator("button[type=submit]", has_text="Rotate secret").first.click()
            snap("webhook-endpoint-secret")
            context.close()
        context = browser.new_context(viewport={"width": 720, "height": 900})
        page = context.new_page()
        for name, path in emails.items():
            page.goto(path.as_uri())
            target = OUT / f"email-{name}.png"
            page.screenshot(path=str(target), full_page=True)
            print(target)
        browser.close()


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="paylinks-webhook-screens-"))
    env = server_env(workdir / "console.sqlite3")
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    data = seed()
    emails = render_emails(data, workdir)
    cookie = session_cookie(data["alice"])
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
        shoot(base, cookie, data, emails)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
