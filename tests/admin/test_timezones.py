"""Every date-time in the console is in the merchant's reporting zone and says which.

Acme reports in Auckland (UTC+13 in December): a payment made at 01:05 UTC on 2 December
2026 reads "2 Dec 2026, 14:05 NZDT" to Acme's team, on the list, on the payment's page
and in its timeline. Support staff read it in Acme's zone on the payment's page and in
UTC on lists that mix merchants. Only owners change the zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from paylinks.models import AuditEntry, Merchant, Payment, PaymentEvent, PaymentStatus

from ..factories import PaymentFactory
from .conftest import ADMIN, change_url, changelist_url

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 12, 2, 1, 5, tzinfo=UTC)
AUCKLAND = "2 Dec 2026, 14:05 NZDT"
COPENHAGEN = "2 Dec 2026, 02:05 CET"
IN_UTC = "2 Dec 2026, 01:05 UTC"


def reporting_in(merchant: Merchant, zone: str) -> None:
    Merchant.objects.filter(pk=merchant.pk).update(timezone=zone)
    merchant.timezone = zone


def paid_at(link: Any, moment: datetime) -> Payment:
    payment = PaymentFactory(link=link, status=PaymentStatus.SUCCEEDED)
    Payment.objects.filter(pk=payment.pk).update(created_at=moment, completed_at=moment)
    event = PaymentEvent.objects.create(
        payment=payment, kind="status_changed", from_status="pending", to_status="succeeded"
    )
    PaymentEvent.objects.filter(pk=event.pk).update(created_at=moment)
    payment.refresh_from_db()
    return payment


def timeline(response: Any) -> list[str]:
    """The "When" column of the payment's timeline, as rendered."""
    html = response.content.decode()
    cells = re.findall(r'<td class="[^"]*\bfield-when\b[^"]*">(.*?)</td>', html, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def listed(response: Any) -> set[str]:
    return {p.public_id for p in response.context["cl"].result_list}


def settings_form(merchant: Merchant, **changes: str) -> dict[str, str]:
    data = {
        "name": merchant.name,
        "brand_color": merchant.brand_color,
        "default_currency": merchant.default_currency,
        "timezone": merchant.timezone,
        "support_email": merchant.support_email,
        "inactive_message": merchant.inactive_message,
    }
    return {**data, **changes}


@pytest.fixture
def payment(acme: Merchant, acme_link: Any) -> Payment:
    reporting_in(acme, "Pacific/Auckland")
    return paid_at(acme_link, MOMENT)


def test_the_team_reads_the_merchants_local_time_with_its_zone(console, alice, payment) -> None:
    client = console(alice)
    listing = client.get(changelist_url(Payment)).content.decode()
    assert AUCKLAND in listing and IN_UTC not in listing

    page = client.get(change_url(payment))
    html = page.content.decode()
    assert AUCKLAND in html  # "Checkout started" and "Paid"
    assert timeline(page) == [AUCKLAND]


def test_changing_the_zone_changes_every_time_shown(console, alice, acme, payment) -> None:
    client = console(alice)
    response = client.post(change_url(acme), settings_form(acme, timezone="Europe/Copenhagen"))
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.timezone == "Europe/Copenhagen"

    listing = client.get(changelist_url(Payment)).content.decode()
    assert COPENHAGEN in listing and AUCKLAND not in listing
    page = client.get(change_url(payment))
    assert COPENHAGEN in page.content.decode() and timeline(page) == [COPENHAGEN]
    entry = AuditEntry.objects.get(action="merchant.updated", merchant=acme)
    assert entry.changes["timezone"] == ["Pacific/Auckland", "Europe/Copenhagen"]


def test_the_home_page_and_audit_log_say_their_zone(console, alice, acme, payment) -> None:
    client = console(alice)
    home = client.get("/admin/").content.decode()
    assert f'title="{AUCKLAND}"' in home
    client.post(change_url(acme), settings_form(acme, support_email="help@acme.test"))
    entry = AuditEntry.objects.get(action="merchant.updated")  # append-only: now, then
    local = entry.created_at.astimezone(ZoneInfo("Pacific/Auckland"))
    written = f"{local:%-d %b %Y, %H:%M} {local.tzname()}"
    assert local.tzname() in ("NZDT", "NZST")
    assert written in client.get(changelist_url(AuditEntry)).content.decode()
    assert written in client.get(change_url(entry)).content.decode()


def test_support_reads_a_payment_in_its_merchants_zone_and_mixed_lists_in_utc(
    console, sam, payment, globex_payment
) -> None:
    client = console(sam)
    page = client.get(change_url(payment))
    assert AUCKLAND in page.content.decode() and timeline(page) == [AUCKLAND]

    listing = client.get(changelist_url(Payment)).content.decode()
    assert IN_UTC in listing and AUCKLAND not in listing
    assert "date (UTC)" in listing  # the date filter says which days it means
    # Filtered to Acme, the list reads in Acme's zone.
    only_acme = client.get(f"{changelist_url(Payment)}?merchant={payment.merchant_id}")
    assert AUCKLAND in only_acme.content.decode()
    assert "date (Pacific/Auckland)" in only_acme.content.decode()


def test_today_in_a_utc_plus_13_zone_starts_at_its_midnight(
    console, alice, acme, acme_link
) -> None:
    zone = ZoneInfo("Pacific/Tongatapu")  # UTC+13 all year
    reporting_in(acme, "Pacific/Tongatapu")
    today = timezone.now().astimezone(zone).date()
    just_after_midnight = paid_at(acme_link, datetime.combine(today, time(0, 30), tzinfo=zone))
    late_yesterday = paid_at(
        acme_link, datetime.combine(today - timedelta(days=1), time(23, 59), tzinfo=zone)
    )
    response = console(alice).get(
        f"{changelist_url(Payment)}?created_at_from={today}&created_at_to={today}"
    )
    assert listed(response) == {just_after_midnight.public_id}
    assert late_yesterday.public_id not in listed(response)
    html = response.content.decode()
    assert f"{today:%-d %b %Y}, 00:30 UTC+13" in html
    assert "date (Pacific/Tongatapu)" in html


@pytest.mark.parametrize("path", ["payment", "auditentry", "paymentlink"])
def test_date_filters_carry_no_server_time_note(console, alice, payment, path) -> None:
    """Django's calendar adds "You are N hours ahead of server time" in the browser when
    the page gives it the server's offset; the console does not (the Chromium test checks
    the rendered page), and its pages never carry the note themselves."""
    html = console(alice).get(f"{ADMIN}/{path}/").content.decode()
    assert "created_at_from" in html
    assert "server time" not in html and "hours ahead" not in html


def test_only_owners_change_the_zone(console, mallory, victor, acme) -> None:
    for person in (mallory, victor):
        response = console(person).post(
            change_url(acme), settings_form(acme, timezone="Asia/Tokyo")
        )
        assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.timezone == "UTC"
    assert not AuditEntry.objects.filter(action="merchant.updated").exists()


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "CET; DROP TABLE", "", "../../etc/passwd"])
def test_an_unknown_zone_is_a_form_error(console, alice, acme, zone) -> None:
    response = console(alice).post(change_url(acme), settings_form(acme, timezone=zone))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["timezone"]
    acme.refresh_from_db()
    assert acme.timezone == "UTC"


def test_the_settings_page_offers_every_zone_to_owners(console, alice, victor, acme) -> None:
    page = console(alice).get(change_url(acme))
    choices = dict(page.context["adminform"].form.fields["timezone"].choices)
    assert "Pacific/Tongatapu" in choices and "Europe/Copenhagen" in choices
    readonly = console(victor).get(change_url(acme)).content.decode()
    assert "only owners can change these" in readonly
