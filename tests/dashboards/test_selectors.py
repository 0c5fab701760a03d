"""The analytics selectors answer what the raw rows say, through any filter.

The data comes from a seeded random walk through the real services (``tests/payments/
shop.py``); every figure is checked against the same figure counted longhand from the
payments, their timeline events and the page views.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from dashboards import selectors
from dashboards.selectors import Filters, Period
from paylinks import money
from paylinks.gateways import get_gateway
from paylinks.models import LinkView, Merchant, Payment, PaymentEvent, WebhookEvent
from paylinks.models.payments import COMPLETED_STATUSES

from ..payments.rollup_oracle import band
from ..payments.shop import walk

FINISHED = {*COMPLETED_STATUSES, "failed", "expired", "canceled"}
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
LATE = Period(date(2026, 3, 9), date(2026, 3, 10))  # previous: March 7-8


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """One walk for the whole module (it takes a while), removed afterwards."""
    with django_db_blocker.unblock():
        from django.conf import settings

        settings.PAYLINKS_GATEWAY = "sandbox"
        get_gateway.cache_clear()
        from django.db import transaction

        with transaction.atomic():
            walk(21, steps=300)
            yield
            transaction.set_rollback(True)
        get_gateway.cache_clear()


@pytest.fixture
def data(shop, db):  # type: ignore[no-untyped-def]
    return None


# --- the oracle -------------------------------------------------------------------------
def local(merchant_id: int, moment: Any) -> date:
    zone = zoneinfo.ZoneInfo(Merchant.objects.get(pk=merchant_id).timezone)
    return moment.astimezone(zone).date()


def payments(period: Period, merchants: list[int] | None = None, **where: Any) -> list[Payment]:
    found = []
    for p in Payment.objects.all():
        if merchants is not None and p.merchant_id not in merchants:
            continue
        if local(p.merchant_id, p.created_at) not in period:
            continue
        if all(check(p) for check in where.values()):
            found.append(p)
    return found


def totals(rows: list[Payment]) -> dict[str, tuple[int, int, int]]:
    """currency -> (paid count, gross, refunded) of the completed payments."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for p in rows:
        if p.status in COMPLETED_STATUSES:
            out[p.currency][0] += 1
            out[p.currency][1] += p.amount
            out[p.currency][2] += p.amount_refunded
    return {c: tuple(v) for c, v in out.items()}  # type: ignore[misc]


def headline_totals(result: selectors.Analytics) -> dict[str, tuple[int, int, int]]:
    return {
        c.currency: (int(c.paid.current), int(c.gross.current), int(c.refunded.current))
        for c in result.headline.currencies
        if c.paid.current
    }


def everyone() -> Any:
    return Merchant.objects.all()


# --- tests ------------------------------------------------------------------------------
def test_headline_figures_are_the_payments_own(data) -> None:  # type: ignore[no-untyped-def]
    result = selectors.analytics(merchants=everyone(), period=LATE)
    rows = payments(LATE)
    assert rows, "the walk has payments on these days"
    assert headline_totals(result) == totals(rows)
    assert result.headline.started.current == len(rows)
    paid = sum(p.status in COMPLETED_STATUSES for p in rows)
    finished = sum(p.status in FINISHED for p in rows)
    assert result.headline.paid.current == paid
    assert result.headline.success_rate is not None
    assert result.headline.success_rate.current == pytest.approx(paid / finished)
    for c in result.headline.currencies:
        assert c.net.current == c.gross.current - c.refunded.current


@pytest.mark.parametrize("who", ["everyone", "each"])
def test_the_home_page_figures_are_the_payments_own(data, who: str) -> None:  # type: ignore[no-untyped-def]
    """The console's home reads the rollups and the links' counters: the same numbers as
    the payments, over the last 30 local days (today included) of each merchant."""
    today = date(2026, 3, 20)
    period = Period(date(2026, 2, 19), today)
    scopes = (
        [list(everyone())] if who == "everyone" else [[m] for m in everyone()]
    )  # several merchants: each on its own days
    for merchants in scopes:
        ids = [m.pk for m in merchants]
        chosen = Merchant.objects.filter(pk__in=ids)
        zone = selectors.zone_of(chosen)
        home = selectors.home_overview(merchants=chosen, zone=zone, today=today)
        rows = payments(period, ids)
        received = {t.currency: (t.count, t.amount, t.refunded) for t in home.received}
        assert received == totals(rows)
        assert {s.status: s.count for s in home.by_status if s.count} == dict(
            Counter(p.status for p in rows)
        )
        assert home.paid_count == sum(p.status in COMPLETED_STATUSES for p in rows)
        assert home.finished_count == sum(p.status in FINISHED for p in rows)
        paid: Counter[int] = Counter()  # units sold: a payment counts its quantity
        for p in Payment.objects.filter(merchant_id__in=ids, status__in=COMPLETED_STATUSES):
            paid[p.link_id] += p.quantity
        links = selectors.recent_links(merchants=chosen, limit=100)
        assert links and {link.pk: link.completed_count for link in links} == {
            link.pk: paid.get(link.pk, 0) for link in links
        }
    assert any(payments(period)), "the walk has payments in these 30 days"


def test_every_figure_sits_beside_the_previous_period(data) -> None:  # type: ignore[no-untyped-def]
    result = selectors.analytics(merchants=everyone(), period=LATE)
    before = payments(LATE.previous())
    assert result.previous == Period(date(2026, 3, 7), date(2026, 3, 8))
    assert result.headline.started.previous == len(before)
    assert {
        c.currency: (int(c.paid.previous), int(c.gross.previous), int(c.refunded.previous))
        for c in result.headline.currencies
        if c.paid.previous
    } == totals(before)
    started = result.headline.started
    assert started.delta == started.current - started.previous
    if started.previous:
        assert started.ratio == pytest.approx(started.delta / started.previous)


def test_time_series_add_up_to_the_headline(data) -> None:  # type: ignore[no-untyped-def]
    result = selectors.analytics(merchants=everyone(), period=MARCH, bucket="day")
    assert result.starts[0] == MARCH.start and len(result.starts) == 31
    rows = payments(MARCH)
    for series in result.received:
        paid, gross, refunded = totals(rows)[series.currency]
        assert (sum(series.paid), sum(series.gross), sum(series.refunded)) == (
            paid,
            gross,
            refunded,
        )
        assert [g - r for g, r in zip(series.gross, series.refunded, strict=True)] == series.net
    by_status = Counter(p.status for p in rows)
    assert {s.status: sum(s.counts) for s in result.statuses} == dict(by_status)
    for n, day in enumerate(result.starts):
        on_day = [p for p in rows if local(p.merchant_id, p.created_at) == day]
        finished = [p for p in on_day if p.status in FINISHED]
        paid = [p for p in finished if p.status in COMPLETED_STATUSES]
        assert result.success_rate[n] == (len(paid) / len(finished) if finished else None)


def test_weeks_and_months_fold_the_same_days(data) -> None:  # type: ignore[no-untyped-def]
    days = selectors.analytics(merchants=everyone(), period=MARCH, bucket="day")
    for bucket in ("week", "month"):
        folded = selectors.analytics(merchants=everyone(), period=MARCH, bucket=bucket)
        assert folded.starts[0] == MARCH.start
        for a, b in zip(days.received, folded.received, strict=True):
            assert sum(a.gross) == sum(b.gross) and sum(a.net) == sum(b.net)
        # March 2026 starts on a Sunday: that day, then five Monday weeks.
        assert len(folded.starts) == (6 if bucket == "week" else 1)


def test_methods_are_counted_per_currency(data) -> None:  # type: ignore[no-untyped-def]
    result = selectors.analytics(merchants=everyone(), period=MARCH)
    want: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for p in payments(MARCH):
        if p.status in COMPLETED_STATUSES:
            key = selectors.method_key(p.payment_method_type, p.card_brand)
            want[(key, p.currency)][0] += 1
            want[(key, p.currency)][1] += p.amount
    assert {(r.key, r.currency): [r.count, r.amount] for r in result.methods} == dict(want)
    assert all(r.label and ":" not in r.label for r in result.methods)


def test_link_funnels_count_views_checkouts_and_payments(data) -> None:  # type: ignore[no-untyped-def]
    result = selectors.analytics(merchants=everyone(), period=MARCH, top_links=50)
    views: Counter[int] = Counter()
    for v in LinkView.objects.select_related("link"):
        if local(v.link.merchant_id, v.window_start) in MARCH:
            views[v.link_id] += 1
    rows = payments(MARCH)
    for funnel in result.links:
        mine = [p for p in rows if p.link_id == funnel.link_id]
        assert funnel.views == views[funnel.link_id]
        assert funnel.started == len(mine)
        assert funnel.paid == sum(p.status in COMPLETED_STATUSES for p in mine)
        assert funnel.units == sum(p.quantity for p in mine if p.status in COMPLETED_STATUSES)
        assert {r.currency: r.gross for r in funnel.revenue} == {
            c: v[1] for c, v in totals(mine).items()
        }
    assert {f.link_id for f in result.links} >= {p.link_id for p in rows}
    paid = [f.paid for f in result.links]
    assert paid == sorted(paid, reverse=True), "top links first"
    assert result.headline.views.current == sum(views.values())


def test_one_links_funnel_for_its_page(data) -> None:  # type: ignore[no-untyped-def]
    link_id = Counter(p.link_id for p in payments(MARCH)).most_common(1)[0][0]
    link = Payment.objects.filter(link_id=link_id).first().link  # type: ignore[union-attr]
    funnel = selectors.link_funnel(merchants=everyone(), link=link, period=MARCH)
    page = next(
        f
        for f in selectors.analytics(merchants=everyone(), period=MARCH, top_links=50).links
        if f.link_id == link_id
    )
    assert funnel == page


def test_the_distribution_counts_paid_amounts_per_currency(data) -> None:  # type: ignore[no-untyped-def]
    result = selectors.analytics(merchants=everyone(), period=MARCH)
    want: Counter[tuple[str, int]] = Counter(
        (p.currency, band(p.amount)) for p in payments(MARCH) if p.status in COMPLETED_STATUSES
    )
    got = {(d.currency, b.band): b.count for d in result.distribution for b in d.bands if b.count}
    assert got == dict(want)
    for d in result.distribution:
        for b in d.bands:
            assert b.low < b.high


def test_refunds_fall_on_the_day_they_happened(data) -> None:  # type: ignore[no-untyped-def]
    result = selectors.analytics(merchants=everyone(), period=MARCH, bucket="day")
    want: dict[tuple[date, str], int] = defaultdict(int)
    so_far: dict[int, int] = defaultdict(int)
    for e in PaymentEvent.objects.filter(
        kind="status_changed", to_status__in=["partially_refunded", "refunded"]
    ).order_by("payment_id", "created_at", "id"):
        total = e.data["amount_refunded"]
        day = local(e.payment.merchant_id, e.created_at)
        if day in MARCH:
            want[(day, e.payment.currency)] += total - so_far[e.payment_id]
        so_far[e.payment_id] = total
    got = {
        (result.starts[n], s.currency): amount
        for s in result.refunds
        for n, amount in enumerate(s.amounts)
        if amount
    }
    assert got == dict(want) and want


def test_decline_reasons_and_endings_with_their_share(data) -> None:  # type: ignore[no-untyped-def]
    result = selectors.analytics(merchants=everyone(), period=MARCH)
    want: Counter[str] = Counter()
    for e in PaymentEvent.objects.filter(kind="attempt_failed").select_related("payment"):
        if local(e.payment.merchant_id, e.created_at) in MARCH:
            want[f"declined:{e.data['code']}"] += 1
    for p in payments(MARCH):
        if p.status == "failed":
            want[f"failed:{p.failure_code}:{p.payment_method_type}".rstrip(":")] += 1
        elif p.status in ("expired", "canceled"):
            want[p.status] += 1
    assert {r.key: r.count for r in result.reasons} == dict(want)
    assert sum(r.share for r in result.reasons) == pytest.approx(1.0)
    labels = {r.key: r.label for r in result.reasons}
    assert labels.get("declined:insufficient_funds", "Insufficient funds") == "Insufficient funds"
    assert labels.get("expired", "Abandoned: checkout expired").startswith("Abandoned")


FILTERS = [
    Filters(currencies=("EUR",)),
    Filters(statuses=("succeeded", "pending")),
    Filters(statuses=("refunded", "partially_refunded")),
    Filters(methods=("card",)),
    Filters(methods=("card:visa", "sepa_debit")),
    Filters(methods=("none",)),
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: repr(f)[8:60])
def test_filters_narrow_every_figure(data, filters: Filters) -> None:  # type: ignore[no-untyped-def]
    def keep(p: Payment) -> bool:
        if filters.currencies and p.currency not in filters.currencies:
            return False
        if filters.statuses and p.status not in filters.statuses:
            return False
        if filters.methods:
            key = selectors.method_key(p.payment_method_type, p.card_brand)
            if not any(key == m or key.startswith(m + ":") for m in filters.methods):
                return False
        return True

    result = selectors.analytics(merchants=everyone(), period=MARCH, filters=filters)
    rows = [p for p in payments(MARCH) if keep(p)]
    assert headline_totals(result) == totals(rows)
    assert result.headline.started.current == len(rows)


def test_the_link_filter_narrows_views_too(data) -> None:  # type: ignore[no-untyped-def]
    link_id = Counter(p.link_id for p in payments(MARCH)).most_common(1)[0][0]
    result = selectors.analytics(
        merchants=everyone(), period=MARCH, filters=Filters(links=(link_id,))
    )
    assert [f.link_id for f in result.links] == [link_id]
    assert result.headline.views.current == result.links[0].views
    assert result.headline.started.current == len(
        [p for p in payments(MARCH) if p.link_id == link_id]
    )


@pytest.mark.parametrize("filters", [Filters(), *FILTERS], ids=lambda f: repr(f)[8:60])
def test_the_payments_table_path_gives_the_rollups_answer(data, filters: Filters) -> None:  # type: ignore[no-untyped-def]
    """An amount range reads the payments directly; with a range that keeps everything it
    must give exactly the rollups' figures, every chart included."""
    rolled = selectors.analytics(merchants=everyone(), period=MARCH, filters=filters)
    direct = selectors.analytics(
        merchants=everyone(), period=MARCH, filters=replace(filters, amount_min=Decimal(0))
    )
    assert direct.source == "payments" and rolled.source == "rollups"
    for name in (
        "headline",
        "received",
        "statuses",
        "success_rate",
        "methods",
        "links",
        "distribution",
        "refunds",
        "reasons",
    ):
        assert getattr(direct, name) == getattr(rolled, name), name


def test_an_amount_range_in_major_units_per_currency(data) -> None:  # type: ignore[no-untyped-def]
    low, high = Decimal("10"), Decimal("30")
    result = selectors.analytics(
        merchants=everyone(), period=MARCH, filters=Filters(amount_min=low, amount_max=high)
    )

    def inside(p: Payment) -> bool:
        places = money.get_currency(p.currency).exponent
        return low * 10**places <= p.amount <= high * 10**places

    rows = [p for p in payments(MARCH) if inside(p)]
    assert rows and len(rows) < len(payments(MARCH)), "the range keeps some and not others"
    assert headline_totals(result) == totals(rows)
    assert result.headline.started.current == len(rows)


def test_a_merchant_sees_only_its_own_figures(data) -> None:  # type: ignore[no-untyped-def]
    kiwi = Merchant.objects.get(slug="kiwi")
    result = selectors.analytics(
        merchants=Merchant.objects.filter(pk=kiwi.pk), period=MARCH, top_links=50
    )
    mine = payments(MARCH, merchants=[kiwi.pk])
    assert headline_totals(result) == totals(mine)
    assert {f.link_id for f in result.links} <= set(kiwi.links.values_list("pk", flat=True))  # type: ignore[attr-defined]
    assert {c.currency for c in result.headline.currencies} <= {"NZD", "JPY"}
    # Another merchant's link id as a filter finds nothing, it does not leak.
    coast_link = Payment.objects.exclude(merchant=kiwi).first().link_id  # type: ignore[union-attr]
    leak = selectors.analytics(
        merchants=Merchant.objects.filter(pk=kiwi.pk),
        period=MARCH,
        filters=Filters(links=(coast_link,)),
    )
    assert leak.headline.started.current == 0 and leak.links == []
    assert (
        selectors.analytics(
            merchants=Merchant.objects.none(), period=MARCH
        ).headline.started.current
        == 0
    )


def test_support_overview_has_a_row_per_merchant(data) -> None:  # type: ignore[no-untyped-def]
    kiwi, coast = Merchant.objects.get(slug="kiwi"), Merchant.objects.get(slug="coast")
    session = Payment.objects.filter(merchant=coast).exclude(gateway_session_id="").first()
    assert session is not None
    WebhookEvent.objects.create(
        gateway="stripe", event_id="evt_1", type="checkout.session.completed",
        object_id="cs_other", status="failed",
        payload={"data": {"object": {"metadata": {"paylinks_merchant": str(kiwi.pk)}}}},
    )  # fmt: skip
    WebhookEvent.objects.create(
        gateway="stripe", event_id="evt_2", type="checkout.session.expired",
        object_id=session.gateway_session_id, status="failed", payload={"data": {"object": {}}},
    )  # fmt: skip
    WebhookEvent.objects.create(
        gateway="stripe", event_id="evt_3", type="charge.refunded",
        object_id="ch_unknown", status="failed", payload={"data": {"object": {}}},
    )  # fmt: skip
    WebhookEvent.objects.create(
        gateway="stripe", event_id="evt_4", type="charge.refunded",
        object_id=session.gateway_session_id, status="processed", payload={"data": {"object": {}}},
    )  # fmt: skip
    today = selectors.local_today("UTC")
    overview = selectors.support_overview(merchants=everyone(), period=MARCH)
    rows = {r.slug: r for r in overview.rows}
    for merchant in (kiwi, coast):
        mine = payments(MARCH, merchants=[merchant.pk])
        row = rows[merchant.slug]
        assert row.started == len(mine)
        assert row.paid == sum(p.status in COMPLETED_STATUSES for p in mine)
        assert {v.currency: v.gross for v in row.volume} == {
            c: t[1] for c, t in totals(mine).items()
        }
        declined = sum(
            1
            for e in PaymentEvent.objects.filter(kind="attempt_failed", payment__merchant=merchant)
            if local(merchant.pk, e.created_at) in MARCH
        )
        assert row.failed_attempts == declined + sum(p.status == "failed" for p in mine)
    # The webhook events were received today, not in March.
    assert overview.webhook_failures == 0
    recent = selectors.support_overview(merchants=everyone(), period=Period(today, today))
    recent_rows = {r.slug: r for r in recent.rows}
    assert recent_rows["kiwi"].webhook_failures == 1
    assert recent_rows["coast"].webhook_failures == 1
    assert recent.unattributed_webhook_failures == 1 and recent.webhook_failures == 3


def test_filter_choices_come_from_links_and_rollups(data) -> None:  # type: ignore[no-untyped-def]
    choices = selectors.filter_choices(merchants=everyone(), since=date(2026, 1, 1))
    assert [c.value for c in choices.currencies] == ["EUR", "JPY", "NZD", "USD"]
    keys = {c.value for c in choices.methods}
    seen = {
        selectors.method_key(p.payment_method_type, p.card_brand) for p in Payment.objects.all()
    }
    assert seen <= keys and "card" in keys
    assert {c.value for c in choices.statuses} >= {"pending", "succeeded", "refunded"}


# --- periods and buckets --------------------------------------------------------------------
def test_presets_end_today_and_buckets_follow_the_length() -> None:
    today = date(2026, 5, 14)
    assert selectors.period_for("today", today=today) == Period(today, today)
    assert selectors.period_for("7d", today=today) == Period(date(2026, 5, 8), today)
    assert selectors.period_for("12m", today=today).days == 365
    assert selectors.auto_bucket(Period(date(2026, 1, 1), date(2026, 3, 31))) == "day"
    assert selectors.auto_bucket(Period(date(2025, 5, 15), today)) == "week"
    assert selectors.auto_bucket(Period(date(2024, 1, 1), today)) == "month"
    weeks = selectors.bucket_starts(Period(date(2026, 5, 6), date(2026, 5, 20)), "week")
    assert weeks == [date(2026, 5, 6), date(2026, 5, 11), date(2026, 5, 18)]
    months = selectors.bucket_starts(Period(date(2025, 12, 15), date(2026, 2, 1)), "month")
    assert months == [date(2025, 12, 15), date(2026, 1, 1), date(2026, 2, 1)]
    with pytest.raises(ValueError):
        Period(today, date(2026, 5, 1))


def test_a_period_splits_into_edge_days_and_whole_months() -> None:
    split = selectors._split
    assert split(Period(date(2026, 1, 31), date(2026, 4, 2))) == (
        [Period(date(2026, 1, 31), date(2026, 1, 31)), Period(date(2026, 4, 1), date(2026, 4, 2))],
        Period(date(2026, 2, 1), date(2026, 3, 31)),
    )
    assert split(Period(date(2026, 3, 1), date(2026, 3, 31))) == ([], MARCH)
    assert split(Period(date(2026, 3, 5), date(2026, 4, 20))) == (
        [Period(date(2026, 3, 5), date(2026, 4, 20))],
        None,
    )
    assert split(Period(date(2025, 12, 2), date(2026, 12, 1)))[1] == Period(
        date(2026, 1, 1), date(2026, 11, 30)
    )
