"""A link's own console page: its funnel (views -> checkouts started -> paid, revenue), and
a new link landing on its share card."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.utils import timezone

from paylinks.models import AmountType, LinkView, Payment, PaymentLink, PaymentStatus
from paylinks.models.payments import COMPLETED_STATUSES
from paylinks.services import rollups

from ..admin.conftest import ADMIN, change_url
from ..factories import PaymentFactory

pytestmark = pytest.mark.django_db


def step(page: str, name: str) -> str:
    found = re.search(rf'data-step="{name}">.*?data-value[^>]*>([^<]*)<', page, re.S)
    assert found is not None, name
    return html.unescape(found[1]).strip()


@pytest.fixture
def traffic(acme_link, globex_link) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    for n in range(9):
        LinkView.objects.create(link=acme_link, visitor_hash=f"v{n}", window_start=now)
    LinkView.objects.create(link=globex_link, visitor_hash="g", window_start=now)
    for status in ("succeeded", "succeeded", "failed", "pending"):
        PaymentFactory(link=acme_link, status=status)
    PaymentFactory(link=acme_link, status=PaymentStatus.REFUNDED, amount_refunded=4500)
    PaymentFactory(link=globex_link, status=PaymentStatus.SUCCEEDED)
    for link in (acme_link, globex_link):
        rollups.rebuild(merchant=link.merchant)


def test_link_page_shows_its_funnel(console, alice, acme_link, traffic) -> None:
    page = console(alice).get(change_url(acme_link)).content.decode()
    payments = Payment.objects.filter(link=acme_link)
    paid = payments.filter(status__in=COMPLETED_STATUSES)
    views = LinkView.objects.filter(link=acme_link).count()
    assert step(page, "views") == str(views) == "9"
    assert step(page, "started") == str(payments.count())
    assert step(page, "paid") == str(paid.count())
    assert step(page, "conversion") == f"{paid.count() / views * 100:.1f} %"
    gross = sum(p.amount for p in paid)
    assert step(page, "revenue") == f"{gross / 100:,.2f} USD"
    assert f"{(gross - 4500) / 100:,.2f} USD after refunds" in html.unescape(page)


def test_viewer_sees_the_same_funnel(console, alice, victor, acme_link, traffic) -> None:
    owner = console(alice).get(change_url(acme_link)).content.decode()
    viewer = console(victor).get(change_url(acme_link)).content.decode()
    for name in ("views", "started", "paid", "conversion", "revenue"):
        assert step(owner, name) == step(viewer, name)


def test_another_merchant_gets_no_page(console, bob, acme_link, traffic) -> None:
    response = console(bob).get(change_url(acme_link))
    assert response.status_code in (302, 404)
    assert b"data-funnel" not in response.content


def test_a_new_link_has_an_empty_funnel(console, alice, acme_link) -> None:
    page = console(alice).get(change_url(acme_link)).content.decode()
    assert step(page, "views") == "0" and step(page, "conversion") == "—"
    assert "Nothing paid yet" in page


def new_link(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Signed first edition",
        "description": "",
        "currency": "USD",
        "amount_type": AmountType.FIXED,
        "amount": "25.00",
        "after_payment": "message",
        "confirmation_message": "",
        "redirect_url": "",
        "metadata": "{}",
        **extra,
    }


class TestSavingANewLink:
    def test_lands_on_its_share_card(self, console, alice, acme) -> None:
        client = console(alice)
        response = client.post(f"{ADMIN}/paymentlink/add/", new_link(_save="Save"))
        link = PaymentLink.objects.get(merchant=acme, title="Signed first edition")
        assert response.status_code == 302
        assert response["Location"] == change_url(link)
        page = client.get(change_url(link)).content.decode()
        assert 'id="share"' in page and f'data-copy="{link.public_url}"' in page
        assert "ready: copy its address or download the QR code" in html.unescape(page)

    def test_save_and_add_another_still_adds_another(self, console, alice, acme) -> None:
        response = console(alice).post(
            f"{ADMIN}/paymentlink/add/", new_link(_addanother="Save and add another")
        )
        assert response.status_code == 302
        assert response["Location"].endswith("/paymentlink/add/")

    def test_a_change_still_goes_back_to_the_list(self, console, alice, acme_link) -> None:
        client = console(alice)
        data = new_link(_save="Save", title="Renamed")
        response = client.post(change_url(acme_link), data)
        assert response.status_code == 302
        assert response["Location"].split("?")[0] == f"{ADMIN}/paymentlink/"
        assert PaymentLink.objects.get(pk=acme_link.pk).title == "Renamed"
