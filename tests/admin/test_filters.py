"""List filters: whole days in the merchant's time zone, and status / currency / method."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paylinks.models import Merchant, Payment, PaymentStatus
from paylinks.services import rollups

from ..factories import PaymentFactory
from .conftest import ADMIN

pytestmark = pytest.mark.django_db


def paid_at(link, moment: datetime, **kw) -> Payment:  # type: ignore[no-untyped-def]
    payment = PaymentFactory(link=link, status=PaymentStatus.SUCCEEDED, **kw)
    Payment.objects.filter(pk=payment.pk).update(created_at=moment)
    return payment


def listed(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {p.public_id for p in response.context["cl"].result_list}


def test_date_range_includes_the_whole_last_day_in_merchant_time(
    console, alice, acme, acme_link
) -> None:
    Merchant.objects.filter(pk=acme.pk).update(timezone="Europe/Copenhagen")
    # 23:30 UTC on 1 March is already 2 March in Copenhagen.
    late = paid_at(acme_link, datetime(2025, 3, 1, 23, 30, tzinfo=UTC))
    early = paid_at(acme_link, datetime(2025, 3, 1, 10, 0, tzinfo=UTC))
    last = paid_at(acme_link, datetime(2025, 3, 3, 22, 30, tzinfo=UTC))  # 23:30 on 3 March
    after = paid_at(acme_link, datetime(2025, 3, 3, 23, 30, tzinfo=UTC))  # 00:30 on 4 March
    response = console(alice).get(
        f"{ADMIN}/payment/?created_at_from=2025-03-02&created_at_to=2025-03-03"
    )
    assert listed(response) == {late.public_id, last.public_id}
    assert early.public_id not in listed(response) and after.public_id not in listed(response)


# Within the last 400 days: the method filter offers the methods of the last 400 days.
RECENT = datetime.now(UTC) - timedelta(days=3)


def test_status_currency_and_method_filters(console, alice, acme_link, acme_yen_link) -> None:
    card = paid_at(acme_link, RECENT, payment_method_type="card")
    sepa = paid_at(acme_link, RECENT, payment_method_type="sepa_debit")
    yen = paid_at(acme_yen_link, RECENT, payment_method_type="card")
    failed = PaymentFactory(link=acme_link, status=PaymentStatus.FAILED)
    rollups.rebuild(merchant=acme_link.merchant)  # the method choices come from the rollups
    client = console(alice)
    assert listed(client.get(f"{ADMIN}/payment/?status__exact=failed")) == {failed.public_id}
    assert listed(client.get(f"{ADMIN}/payment/?currency=JPY")) == {yen.public_id}
    assert listed(client.get(f"{ADMIN}/payment/?method=sepa_debit")) == {sepa.public_id}
    assert card.public_id in listed(client.get(f"{ADMIN}/payment/?method=card"))


def test_method_filter_names_methods_in_words(console, alice, acme_link) -> None:
    paid_at(acme_link, RECENT, payment_method_type="sepa_debit")
    rollups.rebuild(merchant=acme_link.merchant)  # the method choices come from the rollups
    response = console(alice).get(f"{ADMIN}/payment/")
    spec = next(s for s in response.context["cl"].filter_specs if s.title == "payment method")
    assert spec.lookup_choices == [("sepa_debit", "SEPA Direct Debit")]


def test_link_state_filter(console, alice, acme, acme_link) -> None:
    from ..factories import PaymentLinkFactory

    off = PaymentLinkFactory(merchant=acme, is_active=False)
    response = console(alice).get(f"{ADMIN}/paymentlink/?state=inactive")
    assert [link.pk for link in response.context["cl"].result_list] == [off.pk]


def test_nonsense_filter_values_are_ignored_not_errors(console, alice, acme_link) -> None:
    client = console(alice)
    response = client.get(
        f"{ADMIN}/payment/?status__exact=bogus&currency=zzz&created_at_from=yesterday"
    )
    assert response.status_code == 200
    # An unknown parameter gets Django's "invalid filter" answer, not a server error.
    response = client.get(f"{ADMIN}/payment/?merchant=abc")
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize("value", ["²", "١٢", "４２"])
def test_digits_of_other_scripts_in_a_filter_are_not_ids(console, alice, acme_link, value) -> None:
    """str.isdigit() says yes to "²" and "١٢", and int() then fails on "²": a 500."""
    response = console(alice).get(f"{ADMIN}/payment/", {"merchant": value})
    assert response.status_code in (200, 302)
