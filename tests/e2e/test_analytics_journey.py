"""The analytics pages in a real browser: the owner signs in, opens analytics, changes the
period and a filter, and the charts plotly.js drew (their data, read from the page) and
the totals change to the numbers the database holds; a viewer sees the same; a member of
another merchant sees none of it. Then a customer opens a link and pays on the sandbox,
and the link's console page shows the visit and the payment in its funnel.
"""

from __future__ import annotations

import re
import time
import zoneinfo
from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from paylinks.models import LinkView, Merchant, Payment, PaymentStatus, Role
from paylinks.models.payments import COMPLETED_STATUSES
from paylinks.services import rollups

from ..factories import (
    PASSWORD,
    MembershipFactory,
    MerchantFactory,
    PaymentFactory,
    PaymentLinkFactory,
    UserFactory,
)
from .test_checkout_journeys import CARD_OK, open_link, pay_by_card, start_paying, wait_for_status

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("checkout-e2e"),
]


@pytest.fixture
def acme(db):  # type: ignore[no-untyped-def]
    return MerchantFactory(name="Acme Books", slug="acme", timezone="Europe/Berlin")


@pytest.fixture
def globex(db):  # type: ignore[no-untyped-def]
    return MerchantFactory(name="Globex Records", slug="globex", default_currency="EUR")


def person(email: str, merchant: Merchant, role: str) -> Any:
    user = UserFactory(email=email)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    MembershipFactory(user=user, merchant=merchant, role=role)
    return user


@pytest.fixture
def people(acme, globex):  # type: ignore[no-untyped-def]
    return {
        "owner": person("olivia@acme.test", acme, Role.OWNER),
        "viewer": person("victor@acme.test", acme, Role.VIEWER),
        "other": person("bob@globex.test", globex, Role.OWNER),
    }


@pytest.fixture
def history(acme, globex):  # type: ignore[no-untyped-def]
    """Paid, refunded and failed payments over the last weeks, in USD and EUR."""
    books = PaymentLinkFactory(merchant=acme, title="Signed edition", amount=4500)
    euros = PaymentLinkFactory(merchant=acme, title="Berlin reading", currency="EUR", amount=1800)
    vinyl = PaymentLinkFactory(merchant=globex, title="Vinyl", currency="EUR", amount=2800)
    plan = [
        (books, "succeeded", 1, {}),
        (books, "succeeded", 2, {"amount": 12000}),
        (books, "partially_refunded", 5, {"amount_refunded": 500}),
        (books, "failed", 3, {}),
        (books, "succeeded", 12, {}),
        (books, "succeeded", 20, {"amount": 7000}),
        (euros, "succeeded", 4, {}),
        (euros, "succeeded", 15, {"amount": 2200}),
        (vinyl, "succeeded", 2, {"amount": 99900}),
    ]
    for link, status, days_ago, extra in plan:
        payment = PaymentFactory(
            link=link, status=status, payment_method_type="card", card_brand="visa", **extra
        )
        moment = timezone.now() - timedelta(days=days_ago, hours=1)
        Payment.objects.filter(pk=payment.pk).update(created_at=moment)
    for merchant in (acme, globex):
        rollups.rebuild(merchant=merchant)


def totals(merchant: Merchant, days: int, currency: str | None = None) -> dict[str, Any]:
    """Counted from the payments table: gross per currency (major units) and checkouts
    started, over the merchant's last ``days`` local days."""
    zone = zoneinfo.ZoneInfo(merchant.timezone)
    first = timezone.now().astimezone(zone).date() - timedelta(days=days - 1)
    gross: dict[str, float] = {}
    started = 0
    for p in Payment.objects.filter(merchant=merchant):
        if p.created_at.astimezone(zone).date() < first:
            continue
        if currency and p.currency != currency:
            continue
        started += 1
        if p.status in COMPLETED_STATUSES:
            gross[p.currency] = gross.get(p.currency, 0) + p.amount / 100
    return {"gross": gross, "started": started}


def sign_in(browser, base: str, user) -> Any:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text) if m.type == "error" and "Content Security" in m.text else None
        ),
    )
    page.errors = errors
    page.goto(f"{base}/accounts/login/?next=/admin/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/$"))
    return page


def drawn(page) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What plotly.js drew: per chart, each trace's name and values; and the headline."""
    page.wait_for_selector("[data-charts-drawn]", state="attached")
    charts = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-chart]')].map(
            el => [el.dataset.chart, (el.data || []).map(t => ({name: t.name || '',
                  y: Array.from(t.y || []), x: Array.from(t.x || [])}))]))"""
    )
    kpis = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-kpi]')].map(
            el => [el.dataset.kpi + ':' + (el.dataset.kpiCurrency || ''),
                   el.querySelector('[data-value]').textContent.trim()]))"""
    )
    mark = page.evaluate("() => performance.getEntriesByName('paylinks-charts-drawn').length")
    assert mark == 1
    return {"charts": charts, "kpis": kpis}


def gross_drawn(seen: dict[str, Any]) -> dict[str, float]:
    out = {}
    for trace in seen["charts"]["received"]:
        found = re.fullmatch(r"Gross \((\w{3})\)", trace["name"])
        if found:
            out[found[1]] = round(sum(trace["y"]), 2)
    return out


def started_drawn(seen: dict[str, Any]) -> int:
    return sum(sum(t["y"]) for t in seen["charts"]["statuses"])


def check(seen: dict[str, Any], expected: dict[str, Any]) -> None:
    assert gross_drawn(seen) == {c: round(v, 2) for c, v in expected["gross"].items()}
    assert started_drawn(seen) == expected["started"]
    for code, amount in expected["gross"].items():
        assert seen["kpis"][f"gross:{code}"] == f"{amount:,.2f} {code}"
    assert seen["kpis"]["started:"] == str(expected["started"])


def test_owner_changes_period_and_filter_viewer_sees_the_same_outsider_sees_nothing(
    live_server, browser, acme, globex, people, history
) -> None:
    base = live_server.url
    owner = sign_in(browser, base, people["owner"])

    # From the sidebar to the default 30 days.
    owner.get_by_role("link", name="Analytics").first.click()
    owner.wait_for_url(re.compile(r"/admin/analytics/$"))
    thirty = drawn(owner)
    check(thirty, totals(acme, 30))
    assert set(gross_drawn(thirty)) == {"USD", "EUR"}

    # The last 7 days: fewer payments, other totals.
    owner.get_by_role("link", name="Last 7 days").click()
    owner.wait_for_url(re.compile(r"period=7d"))
    seven = drawn(owner)
    check(seven, totals(acme, 7))
    assert gross_drawn(seven) != gross_drawn(thirty)

    # And only euros.
    owner.select_option("select[name=currency]", "EUR")
    owner.get_by_role("button", name="Apply").click()
    owner.wait_for_url(re.compile(r"currency=EUR"))
    euros = drawn(owner)
    check(euros, totals(acme, 7, "EUR"))
    assert set(gross_drawn(euros)) == {"EUR"}
    filtered_url = owner.url
    assert not owner.errors

    # The viewer opens the same (bookmarked) address and sees the same.
    viewer = sign_in(browser, base, people["viewer"])
    viewer.goto(filtered_url)
    assert drawn(viewer) == euros
    assert not viewer.errors

    # Globex's owner: only Globex's money; picking Acme is a 404.
    other = sign_in(browser, base, people["other"])
    other.goto(f"{base}/admin/analytics/")
    theirs = drawn(other)
    check(theirs, totals(globex, 30))
    assert "Signed edition" not in other.content() and "USD" not in gross_drawn(theirs)
    response = other.goto(f"{base}/admin/analytics/?merchant={acme.pk}")
    assert response is not None and response.status == 404
    assert other.goto(f"{base}/admin/analytics/support/").status == 404


def test_link_page_shows_the_visit_and_the_payment(
    site, browser, live_server, acme, people
) -> None:
    link = PaymentLinkFactory(merchant=acme, title="Gift card", amount=1990)
    owner = sign_in(browser, live_server.url, people["owner"])
    owner.goto(f"{live_server.url}/admin/paylinks/paymentlink/{link.pk}/change/")
    funnel = owner.locator("[data-funnel]")
    assert funnel.locator('[data-step="views"] [data-value]').inner_text() == "0"

    customer_context = browser.new_context(viewport={"width": 390, "height": 844})
    customer_context.set_default_timeout(20_000)
    customer = customer_context.new_page()
    open_link(customer, site, link.slug)
    start_paying(customer, "grace@example.test")
    pay_by_card(customer, CARD_OK)
    customer.wait_for_url(re.compile(r"/pay/.+/success\?session_id="))
    wait_for_status(customer, "succeeded")
    customer_context.close()
    assert LinkView.objects.filter(link=link).count() == 1

    deadline = time.monotonic() + 20
    while True:
        owner.reload()
        steps = {
            name: funnel.locator(f'[data-step="{name}"] [data-value]').first.inner_text()
            for name in ("views", "started", "paid", "conversion", "revenue")
        }
        if steps["paid"] == "1" or time.monotonic() > deadline:
            break
        owner.wait_for_timeout(500)
    assert Payment.objects.get(link=link).status == PaymentStatus.SUCCEEDED
    assert steps == {
        "views": "1",
        "started": "1",
        "paid": "1",
        "conversion": "100.0 %",
        "revenue": "19.90 USD",
    }
    assert not owner.errors
