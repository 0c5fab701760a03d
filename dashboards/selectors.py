"""Merchant-scoped aggregates for the console's home page and analytics.

Plain data in, plain data out: callers pass the merchants a person may see (from
``paylinks.permissions``) and get dataclasses back. Amounts stay in minor units with
their currency beside them; amounts in different currencies are never added together.
"""

from __future__ import annotations

import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Case, CharField, Count, F, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from paylinks import money
from paylinks.labels import (
    OUTCOME_LABELS,
    card_brand_label,
    failure_label,
    method_label,
)
from paylinks.models import (
    LinkState,
    Merchant,
    Payment,
    PaymentEvent,
    PaymentLink,
    PaymentStatus,
    WebhookEvent,
)
from paylinks.models.analytics import (
    BAND_COUNT,
    GROUPINGS,
    DeclineRollup,
    PaymentRollup,
    RefundRollup,
    RollupSummary,
    ViewRollup,
    band_floor,
    day_bounds,
    decline_code,
    local_day,
    month_of,
    refunded_after,
)
from paylinks.models.payments import COMPLETED_STATUSES
from paylinks.selectors.links import with_state

# Attempts that reached an outcome. Pending ones are still open and do not count yet.
FINISHED_STATUSES = frozenset(
    {*COMPLETED_STATUSES, PaymentStatus.FAILED, PaymentStatus.EXPIRED, PaymentStatus.CANCELED}
)


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    amount: int
    """Money taken, in minor units of ``currency`` (before refunds)."""
    refunded: int
    count: int

    @property
    def net(self) -> int:
        return self.amount - self.refunded


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class Overview:
    since: datetime
    days: int
    received: list[CurrencyTotal]
    """One entry per currency, busiest first."""
    by_status: list[StatusCount]
    """Every status, in lifecycle order, zeros included."""
    paid_count: int
    finished_count: int
    active_links: int
    links: int
    links_by_state: list[StatusCount]
    """Every link state, zeros included."""

    @property
    def success_rate(self) -> float | None:
        """Paid share of the attempts that finished; None before any has."""
        if not self.finished_count:
            return None
        return self.paid_count / self.finished_count

    @property
    def payment_count(self) -> int:
        return sum(s.count for s in self.by_status)


def payments_of(merchants: QuerySet[Merchant]) -> QuerySet[Payment]:
    return Payment.objects.filter(merchant__in=merchants)


def links_of(merchants: QuerySet[Merchant]) -> QuerySet[PaymentLink]:
    return PaymentLink.objects.filter(merchant__in=merchants)


def overview(
    *, merchants: QuerySet[Merchant], days: int = 30, now: datetime | None = None
) -> Overview:
    """Money received per currency, payments by status and link counts, over the ``days``
    before ``now`` (instants, not local days), straight from the payments: the merchant
    API's summary of any window. The console's home reads ``home_overview``."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    recent = payments_of(merchants).filter(created_at__gte=since, created_at__lte=now)

    received = [
        CurrencyTotal(
            currency=row["currency"],
            amount=row["amount"] or 0,
            refunded=row["refunded"] or 0,
            count=row["count"],
        )
        for row in recent.filter(status__in=COMPLETED_STATUSES)
        .order_by()
        .values("currency")
        .annotate(amount=Sum("amount"), refunded=Sum("amount_refunded"), count=Count("pk"))
        .order_by("-count", "currency")
    ]

    counts = dict(
        recent.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    by_status = [
        StatusCount(value, label, counts.get(value, 0)) for value, label in PaymentStatus.choices
    ]
    paid = sum(counts.get(s, 0) for s in COMPLETED_STATUSES)
    finished = sum(counts.get(s, 0) for s in FINISHED_STATUSES)

    link_counts = with_state(links_of(merchants), now).aggregate(
        total=Count("pk"),
        **{state: Count("pk", filter=Q(state=state)) for state in LinkState.values},
    )
    links_by_state = [
        StatusCount(value, label, link_counts[value] or 0) for value, label in LinkState.choices
    ]
    return Overview(
        since=since,
        days=days,
        received=received,
        by_status=by_status,
        paid_count=paid,
        finished_count=finished,
        active_links=link_counts[LinkState.ACTIVE.value] or 0,
        links=link_counts["total"] or 0,
        links_by_state=links_by_state,
    )


def home_overview(
    *, merchants: QuerySet[Merchant], zone: str, days: int = 30, today: date | None = None
) -> Overview:
    """The console home's figures: money received per currency and payments by status over
    the last ``days`` local days, today included, read as the analytics page reads them
    (the rollup summaries plus the open payments; each merchant's figures on its own
    days, ``zone`` says which "today"), and link counts from the links' own counters.
    The cost does not grow with the payments (docs/scaling.md)."""
    today = today or local_today(zone)
    period = Period(today - timedelta(days=days - 1), today)
    scope = _Scope(merchants, Filters())
    facts = _facts(scope, period, ("currency", "status"))
    counts: dict[str, int] = defaultdict(int)
    money_in: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (currency, status), (n, amount, refunded) in facts.items():
        counts[status] += n
        if status in COMPLETED_STATUSES:
            total = money_in[currency]
            total[0] += amount
            total[1] += refunded
            total[2] += n
    received = sorted(
        (
            CurrencyTotal(currency=c, amount=a, refunded=r, count=n)
            for c, (a, r, n) in money_in.items()
            if n
        ),
        key=lambda t: (-t.count, t.currency),
    )
    by_status = [
        StatusCount(value, label, counts.get(value, 0)) for value, label in PaymentStatus.choices
    ]
    now = timezone.now()
    link_counts = with_state(links_of(merchants), now, counted=True).aggregate(
        total=Count("pk"),
        **{state: Count("pk", filter=Q(state=state)) for state in LinkState.values},
    )
    return Overview(
        since=day_bounds(period.start, period.end, zoneinfo.ZoneInfo(zone))[0],
        days=days,
        received=received,
        by_status=by_status,
        paid_count=sum(counts.get(s, 0) for s in COMPLETED_STATUSES),
        finished_count=sum(counts.get(s, 0) for s in FINISHED_STATUSES),
        active_links=link_counts[LinkState.ACTIVE.value] or 0,
        links=link_counts["total"] or 0,
        links_by_state=[
            StatusCount(value, label, link_counts[value] or 0) for value, label in LinkState.choices
        ],
    )


def recent_payments(*, merchants: QuerySet[Merchant], limit: int = 8) -> list[Payment]:
    return list(
        payments_of(merchants)
        .select_related("link", "merchant")
        .order_by("-created_at", "-id")[:limit]
    )


def recent_links(*, merchants: QuerySet[Merchant], limit: int = 6) -> list[PaymentLink]:
    """The newest links with their state and ``completed_count`` (the links' counters)."""
    return list(
        with_state(links_of(merchants), counted=True)
        .select_related("merchant")
        .order_by("-created_at", "-id")[:limit]
    )


# === Analytics ==========================================================================
# The analytics pages' data. Figures come from the rollups (``paylinks.models.analytics``,
# kept exact by ``paylinks.services.rollups``) plus the open payments, counted from the
# payments table (they are not rolled up). An amount range cannot be answered from the
# rollups, so a filter on it reads the payments table directly, through the index on
# (merchant, created_at): the cost then grows with the payments in the period (see
# docs/scaling.md). Days are the merchant's own (its reporting time zone); with several
# merchants, each one's figures fall on its own days.

PRESET_DAYS = {"today": 1, "7d": 7, "30d": 30, "90d": 90, "12m": 365}
BUCKETS = ("day", "week", "month")
REFUNDED_STATUSES = frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED})
ENDED_UNPAID = (PaymentStatus.FAILED, PaymentStatus.EXPIRED, PaymentStatus.CANCELED)
NO_METHOD = "none"


@dataclass(frozen=True)
class Period:
    """Local days ``start`` .. ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"A period cannot end ({self.end}) before it starts ({self.start}).")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def zone_of(merchants: QuerySet[Merchant]) -> str:
    """The merchants' reporting time zone when they share one, else the server's."""
    zones = set(merchants.values_list("timezone", flat=True)[:50])
    return zones.pop() if len(zones) == 1 else settings.TIME_ZONE


def local_today(zone: str, now: datetime | None = None) -> date:
    return local_day(now or timezone.now(), zoneinfo.ZoneInfo(zone))


def period_for(preset: str, *, today: date) -> Period:
    """``today``, ``7d``, ``30d``, ``90d`` or ``12m``, ending today (included)."""
    days = PRESET_DAYS[preset]
    return Period(today - timedelta(days=days - 1), today)


def auto_bucket(period: Period) -> str:
    """Days up to three months, weeks up to a year, months beyond."""
    if period.days <= 92:
        return "day"
    return "week" if period.days <= 366 else "month"


def bucket_of(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())  # Monday
    if bucket == "month":
        return day.replace(day=1)
    return day


def bucket_starts(period: Period, bucket: str) -> list[date]:
    starts: list[date] = []
    day = bucket_of(period.start, bucket)
    while day <= period.end:
        starts.append(max(day, period.start) if not starts else day)
        if bucket == "month":
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            day += timedelta(days=7 if bucket == "week" else 1)
    return starts


def method_key(method: str, card_brand: str = "") -> str:
    """One filter value per payment method: ``card:visa``, ``sepa_debit``, ``none``."""
    if not method:
        return NO_METHOD
    return f"{method}:{card_brand}" if card_brand else method


def method_key_label(key: str) -> str:
    if key == NO_METHOD:
        return "No method (never paid)"
    method, _, brand = key.partition(":")
    return card_brand_label(brand) if brand else method_label(method)


@dataclass(frozen=True)
class Filters:
    """What narrows every figure. Empty means "all"."""

    currencies: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    """``method_key`` values; ``card`` matches every card brand."""
    links: tuple[int, ...] = ()
    amount_min: Decimal | None = None
    """In major units of each currency (10 means USD 10.00 and JPY 10)."""
    amount_max: Decimal | None = None

    @property
    def by_amount(self) -> bool:
        return self.amount_min is not None or self.amount_max is not None


@dataclass(frozen=True)
class Change:
    """A figure beside the same figure for the previous period."""

    current: float
    previous: float

    @property
    def delta(self) -> float:
        return self.current - self.previous

    @property
    def ratio(self) -> float | None:
        """Relative change (0.25 = +25 %); None when the previous figure was zero."""
        return None if not self.previous else self.delta / self.previous


@dataclass(frozen=True)
class CurrencyHeadline:
    currency: str
    gross: Change
    refunded: Change
    """Refunds of the period's payments, whenever they happened."""
    net: Change
    paid: Change


@dataclass(frozen=True)
class Headline:
    started: Change
    """Checkouts started (every payment, open ones included)."""
    paid: Change
    finished: Change
    success_rate: Change | None
    """Paid share of finished attempts; None when neither period has one."""
    failed_attempts: Change
    """Declined attempts plus payments that ended failed."""
    views: Change
    conversion: Change | None
    """Paid per page view; None without views in both periods."""
    currencies: list[CurrencyHeadline]


@dataclass(frozen=True)
class MoneySeries:
    currency: str
    gross: list[int]
    refunded: list[int]
    net: list[int]
    paid: list[int]


@dataclass(frozen=True)
class StatusSeries:
    status: str
    label: str
    counts: list[int]


@dataclass(frozen=True)
class MethodRow:
    key: str
    label: str
    currency: str
    count: int
    amount: int


@dataclass(frozen=True)
class CurrencyAmount:
    currency: str
    gross: int
    net: int


@dataclass(frozen=True)
class LinkFunnel:
    link_id: int
    title: str
    views: int
    started: int
    paid: int
    revenue: list[CurrencyAmount]
    #: Units the paid payments bought (one each, on a link without a quantity).
    units: int = 0

    @property
    def conversion(self) -> float | None:
        """Paid per page view."""
        return self.paid / self.views if self.views else None

    @property
    def checkout_rate(self) -> float | None:
        """Checkouts started per page view."""
        return self.started / self.views if self.views else None

    @property
    def completion(self) -> float | None:
        """Paid per checkout started."""
        return self.paid / self.started if self.started else None


@dataclass(frozen=True)
class AmountBand:
    band: int
    low: int
    high: int
    """Minor units, ``low`` <= amount < ``high``."""
    count: int
    amount: int


@dataclass(frozen=True)
class Distribution:
    currency: str
    bands: list[AmountBand]


@dataclass(frozen=True)
class RefundSeries:
    currency: str
    amounts: list[int]
    counts: list[int]


@dataclass(frozen=True)
class Reason:
    key: str
    label: str
    kind: str
    """``declined`` (an attempt; the customer could try again), ``failed``, ``expired`` or
    ``canceled`` (how a payment ended)."""
    count: int
    share: float


@dataclass(frozen=True)
class Analytics:
    period: Period
    previous: Period
    bucket: str
    starts: list[date]
    """The first day of each bucket, in the period."""
    filters: Filters
    source: str
    """``rollups``, or ``payments`` when an amount range made it read the payments."""
    headline: Headline
    received: list[MoneySeries]
    statuses: list[StatusSeries]
    success_rate: list[float | None]
    methods: list[MethodRow]
    links: list[LinkFunnel]
    distribution: list[Distribution]
    refunds: list[RefundSeries]
    reasons: list[Reason]


# --- the figures' sources --------------------------------------------------------------
Facts = dict[tuple[Any, ...], list[int]]
"""(group values) -> [payments, amount, refunded]."""


class _Scope:
    """The merchants, their zones and the filters every figure of one page shares."""

    def __init__(self, merchants: QuerySet[Merchant], filters: Filters) -> None:
        self.filters = filters
        self.zones = {
            pk: zoneinfo.ZoneInfo(name) for pk, name in merchants.values_list("pk", "timezone")
        }
        self.ids = sorted(self.zones)
        self.raw: dict[tuple[date, date, bool], Facts] = {}

    def bounds(self, period: Period) -> tuple[datetime, datetime]:
        """Instants covering ``period`` in every merchant's zone."""
        edges = [day_bounds(period.start, period.end, zone) for zone in set(self.zones.values())]
        if not edges:  # no merchant: an empty range
            return day_bounds(
                period.start, period.start - timedelta(days=1), zoneinfo.ZoneInfo("UTC")
            )
        return min(e[0] for e in edges), max(e[1] for e in edges)

    def may_have_open(self, period: Period) -> bool:
        """Whether an open payment can fall in ``period``: none is older than the oldest
        one (one index lookup per page), so older periods need no query for them."""
        if not hasattr(self, "_oldest_open"):
            self._oldest_open = (
                Payment.objects.filter(merchant_id__in=self.ids, status=PaymentStatus.PENDING)
                .order_by("created_at")
                .values_list("created_at", flat=True)
                .first()
            )
        return self._oldest_open is not None and self._oldest_open < self.bounds(period)[1]

    def by_zone(self) -> dict[zoneinfo.ZoneInfo, list[int]]:
        grouped: dict[zoneinfo.ZoneInfo, list[int]] = defaultdict(list)
        for pk, zone in self.zones.items():
            grouped[zone].append(pk)
        return grouped

    # -- filters as queries --------------------------------------------------------------
    def method_q(self, method: str = "method", brand: str = "card_brand") -> Q:
        q = Q()
        for key in self.filters.methods:
            name, _, card = key.partition(":")
            part = Q(**{method: "" if name == NO_METHOD else name})
            q |= part & Q(**{brand: card}) if card else part
        return q

    def statuses(self) -> list[str] | None:
        return list(self.filters.statuses) or None

    def amount_q(self, prefix: str = "") -> Q:
        """The amount range, in minor units per currency (of ``prefix`` + amount)."""
        f = self.filters
        currencies = f.currencies or tuple(
            PaymentLink.objects.filter(merchant_id__in=self.ids)
            .order_by()
            .values_list("currency", flat=True)
            .distinct()
        )
        q = Q(pk__in=[])
        for code in currencies:
            places = money.get_currency(code).exponent
            part = Q(**{f"{prefix}currency": code})
            if f.amount_min is not None:
                part &= Q(**{f"{prefix}amount__gte": math.ceil(f.amount_min * 10**places)})
            if f.amount_max is not None:
                part &= Q(**{f"{prefix}amount__lte": math.floor(f.amount_max * 10**places)})
            q |= part
        return q

    def common(self, *, method: str, brand: str, link: str = "link_id") -> Q:
        f = self.filters
        q = Q(merchant_id__in=self.ids)
        if f.currencies:
            q &= Q(currency__in=f.currencies)
        if f.links:
            q &= Q(**{f"{link}__in": f.links})
        if f.methods:
            q &= self.method_q(method, brand)
        return q


# Where each kind of figure is kept in full detail, and its columns by summary name.
@dataclass(frozen=True)
class _Detailed:
    model: type[Any]
    dims: frozenset[str]
    columns: dict[str, str]
    figures: tuple[str, str, str]
    """Columns summed into (n, amount, refunded); "" for none."""


DETAILED: dict[str, _Detailed] = {
    "payments": _Detailed(
        PaymentRollup,
        frozenset({"link_id", "currency", "status", "method", "card_brand", "code", "amount_band"}),
        {"code": "failure_code"},
        ("payments", "amount", "refunded"),
    ),
    "declines": _Detailed(
        DeclineRollup, frozenset({"link_id", "currency", "code"}), {}, ("attempts", "", "")
    ),
    "views": _Detailed(ViewRollup, frozenset({"link_id"}), {}, ("views", "", "")),
    "refunds": _Detailed(
        RefundRollup,
        frozenset({"link_id", "currency", "method", "card_brand"}),
        {},
        ("refunds", "", "refunded"),
    ),
}


def _split(period: Period) -> tuple[list[Period], Period | None]:
    """``period`` as its whole calendar months (one Period of month starts, or None) and
    the days outside them."""
    following = month_of(month_of(period.start) + timedelta(days=32))
    first = period.start if period.start.day == 1 else following
    after = month_of(period.end + timedelta(days=1))  # the month after the last whole one
    if after <= first:
        return [period], None
    edges = []
    if period.start < first:
        edges.append(Period(period.start, first - timedelta(days=1)))
    if after <= period.end:
        edges.append(Period(after, period.end))
    return edges, Period(first, after - timedelta(days=1))


def _rollup_rows(
    scope: _Scope, kind: str, period: Period, group: tuple[str, ...], *, months: bool
) -> Facts:
    """Rollup figures of ``kind`` for ``period``, grouped by ``group`` (summary column
    names, ``merchant_id`` and ``day``), from the smallest table that has the dimensions
    the group and the filters need. With ``months``, whole calendar months may come from
    monthly summaries: ``day`` is then the month's first day for them."""
    need = (set(group) - {"merchant_id", "day"}) | _filter_dims(scope.filters, kind)
    daily = [g for g in GROUPINGS if g.kind == kind and not g.monthly and need <= g.dims]
    monthly = [g for g in GROUPINGS if g.kind == kind and g.monthly and need <= g.dims]
    facts: Facts = defaultdict(lambda: [0, 0, 0])
    edges, whole = _split(period) if months and monthly else ([period], None)
    if not daily:
        for part in edges:
            _read_detailed(scope, kind, part, group, facts)
        edges = []
    # One query: the edge days from the daily grouping, whole months from the monthly one.
    parts = [(daily[0].id, e.start, e.end) for e in edges]
    if whole is not None:
        parts.append((monthly[0].id, whole.start, whole.end))
    if parts:
        _read_summary(scope, kind, parts, group, facts)
    return facts


def _filter_dims(filters: Filters, kind: str) -> set[str]:
    dims = set()
    if filters.links or (filters.currencies and kind == "views"):
        dims.add("link_id")  # a view's currency is its link's
    if filters.currencies and kind != "views":
        dims.add("currency")
    if filters.statuses and kind == "payments":
        dims.add("status")
    if filters.methods and kind in ("payments", "refunds"):
        dims |= {"method", "card_brand"}
    return dims


def _filter_q(scope: _Scope, kind: str, columns: dict[str, str]) -> Q:
    f = scope.filters

    def col(name: str) -> str:
        return columns.get(name, name)

    q = Q(merchant_id__in=scope.ids)
    if f.links:
        q &= Q(**{f"{col('link_id')}__in": f.links})
    if f.currencies and kind == "views":
        q &= Q(
            link_id__in=PaymentLink.objects.filter(
                merchant_id__in=scope.ids, currency__in=f.currencies
            ).values("pk")
        )
    elif f.currencies:
        q &= Q(**{f"{col('currency')}__in": f.currencies})
    if f.statuses and kind == "payments":
        q &= Q(**{f"{col('status')}__in": f.statuses})
    if f.methods and kind in ("payments", "refunds"):
        q &= scope.method_q(col("method"), col("card_brand"))
    return q


def _collect(rows: Iterable[Any], facts: Facts, width: int) -> None:
    for *key, n, amount, refunded in rows:
        if not (n or amount or refunded):
            continue  # rows a payment moved out of (succeeded, before its refund)
        total = facts[tuple(key[:width])]
        total[0] += n
        total[1] += amount or 0
        total[2] += refunded or 0


def _read_summary(
    scope: _Scope,
    kind: str,
    parts: list[tuple[int, date, date]],
    group: tuple[str, ...],
    facts: Facts,
) -> None:
    """The page's most frequent query, written out: a summary read is a handful of rows,
    and building it through the ORM cost more than running it."""
    if not scope.ids:
        return
    ops = connection.ops
    q = ops.quote_name
    params: list[Any] = list(scope.ids)
    where = [f"merchant_id IN ({', '.join(['%s'] * len(scope.ids))})"]
    spans = []
    for grouping, first, last in parts:
        spans.append("(grouping = %s AND day >= %s AND day <= %s)")
        params += [grouping, ops.adapt_datefield_value(first), ops.adapt_datefield_value(last)]
    where.append("(" + " OR ".join(spans) + ")")
    f = scope.filters

    def among(column: str, values: Sequence[Any]) -> None:
        where.append(f"{q(column)} IN ({', '.join(['%s'] * len(values))})")
        params.extend(values)

    if f.links:
        among("link_id", f.links)
    if f.currencies and kind == "views":  # a view's currency is its link's
        links = list(
            PaymentLink.objects.filter(
                merchant_id__in=scope.ids, currency__in=f.currencies
            ).values_list("pk", flat=True)
        )
        among("link_id", links or [0])
    elif f.currencies:
        among("currency", f.currencies)
    if f.statuses and kind == "payments":
        among("status", f.statuses)
    if f.methods and kind in ("payments", "refunds"):
        methods = []
        for key in f.methods:
            name, _, brand = key.partition(":")
            methods.append("(method = %s" + (" AND card_brand = %s)" if brand else ")"))
            params += [("" if name == NO_METHOD else name), *([brand] if brand else [])]
        where.append("(" + " OR ".join(methods) + ")")
    columns = ", ".join(q(c) for c in group)
    sums = ", ".join(f"CAST(SUM({c}) AS BIGINT)" for c in ("n", "amount", "refunded"))
    # Only fixed column names are formatted in; every value is a parameter.
    sql = (
        f"SELECT {columns + ', ' if columns else ''}{sums} "  # noqa: S608
        f"FROM {q(RollupSummary._meta.db_table)} WHERE {' AND '.join(where)}"
        + (f" GROUP BY {columns}" if columns else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if "day" in group:  # SQLite hands dates back as text
        at = group.index("day")
        rows = [(*r[:at], _as_date(r[at]), *r[at + 1 :]) for r in rows]
    _collect(rows, facts, len(group))


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _read_detailed(
    scope: _Scope, kind: str, period: Period, group: tuple[str, ...], facts: Facts
) -> None:
    detailed = DETAILED[kind]
    columns = [detailed.columns.get(g, g) for g in group]
    sums = {
        f"figure_{n}": Sum(name) if name else Value(0, output_field=IntegerField())
        for n, name in enumerate(detailed.figures)
    }
    rows = (
        detailed.model.objects.filter(
            _filter_q(scope, kind, detailed.columns), day__gte=period.start, day__lte=period.end
        )
        .order_by()
        .values_list(*columns)
        .annotate(**sums)
    )
    _collect(rows, facts, len(group))


def _facts(scope: _Scope, period: Period, group: tuple[str, ...], *, months: bool = True) -> Facts:
    """Payments started in ``period`` (the merchants' local days), grouped by ``group``
    (``merchant_id``, ``day`` and summary column names): the rollups plus the open
    payments, or the payments table when the filters include an amount range."""
    if scope.filters.by_amount:
        if "link_id" in group or ("day" not in group and "method" not in group):
            # The links table, and the previous period's totals: narrower queries of their own.
            return _raw_facts(scope, period, group)
        return _fold(_payments_table(scope, period), group)
    statuses = scope.statuses()
    if statuses == [PaymentStatus.PENDING]:
        facts: Facts = defaultdict(lambda: [0, 0, 0])
    else:
        facts = _rollup_rows(scope, "payments", period, group, months=months)
    if statuses is None or PaymentStatus.PENDING in statuses:
        _fold(_payments_table(scope, period, open_only=True), group, facts)
    return facts


#: What a page reads from the payments table, summed in the database once per period and
#: folded into each figure's grouping in Python.
RAW_GROUP = (
    "merchant_id",
    "day",
    "link_id",
    "currency",
    "status",
    "method",
    "card_brand",
    "code",
    "amount_band",
)


def _payments_table(scope: _Scope, period: Period, *, open_only: bool = False) -> Facts:
    """Payments read directly, grouped by ``RAW_GROUP``: the open ones (not rolled up: few
    at any moment, they change often), or all of them except by link when an amount range
    rules the rollups out."""
    key = (period.start, period.end, open_only)
    if open_only and key not in scope.raw and not scope.may_have_open(period):
        scope.raw[key] = {}
    if key not in scope.raw:
        group = RAW_GROUP if open_only else tuple(g for g in RAW_GROUP if g != "link_id")
        facts = _raw_facts(
            scope,
            period,
            group,
            statuses=[PaymentStatus.PENDING] if open_only else None,
            by_amount=not open_only,
        )
        if not open_only:  # no link: by link the amount range has its own query
            facts = {(*k[:2], 0, *k[2:]): v for k, v in facts.items()}
        scope.raw[key] = facts
    return scope.raw[key]


def _fold(source: Facts, group: tuple[str, ...], into: Facts | None = None) -> Facts:
    facts: Facts = into if into is not None else defaultdict(lambda: [0, 0, 0])
    positions = [RAW_GROUP.index(g) for g in group]
    for values, (n, amount, refunded) in source.items():
        total = facts[tuple(values[p] for p in positions)]
        total[0] += n
        total[1] += amount
        total[2] += refunded
    return facts


def _band_case(low: int = 0, high: int = BAND_COUNT - 1) -> Any:
    """``amount_band`` in SQL, as a binary search over the ladder: five comparisons per
    payment rather than thirty."""
    if low == high:
        return Value(low)
    middle = (low + high + 1) // 2
    return Case(
        When(amount__lt=band_floor(middle), then=_band_case(low, middle - 1)),
        default=_band_case(middle, high),
        output_field=IntegerField(),
    )


def _raw_facts(
    scope: _Scope,
    period: Period,
    group: tuple[str, ...],
    *,
    statuses: list[str] | None = None,
    by_amount: bool = True,
) -> Facts:
    """The same figures straight from the payments table: for filters the rollups cannot
    answer (an amount range), and for the open payments. One query per time zone among
    the merchants, through the indexes on (merchant, created_at) and (merchant, status,
    created_at)."""
    facts: Facts = defaultdict(lambda: [0, 0, 0])
    for zone, ids in scope.by_zone().items():
        start, end = day_bounds(period.start, period.end, zone)
        expressions: dict[str, Any] = {
            "day": TruncDate("created_at", tzinfo=zone),
            "method": F("payment_method_type"),
            "code": Case(
                When(status=PaymentStatus.FAILED, then=F("failure_code")),
                default=Value(""),
                output_field=CharField(),
            ),
            "amount_band": _band_case(),
        }
        qs = Payment.objects.filter(
            scope.common(method="payment_method_type", brand="card_brand"),
            scope.amount_q() if by_amount else Q(),
            merchant_id__in=ids,
            created_at__gte=start,
            created_at__lt=end,
        )
        if wanted := statuses or scope.statuses():
            qs = qs.filter(status__in=wanted)
        aliases = {f"g_{name}": expressions[name] for name in group if name in expressions}
        columns = [f"g_{name}" if name in expressions else name for name in group]
        rows = (
            qs.annotate(**aliases)
            .order_by()
            .values_list(*columns)
            .annotate(Count("pk"), Sum("amount"), Sum("amount_refunded"))
        )
        _collect(rows, facts, len(group))
    return facts


def _declines(scope: _Scope, period: Period, group: tuple[str, ...]) -> dict[tuple[Any, ...], int]:
    """Declined attempts on the period's days, grouped by ``group`` (``day``, ``code``, ...).

    Status and method filters do not apply: an attempt is not a payment's final state.
    """
    f = scope.filters
    if f.statuses and not set(f.statuses) & {PaymentStatus.PENDING, *ENDED_UNPAID}:
        return {}  # only paid payments asked for: nothing was declined in them
    if not f.by_amount:
        rows = _rollup_rows(scope, "declines", period, group, months=True)
        return {key: n for key, (n, _, _) in rows.items()}
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    start, end = scope.bounds(period)
    events = PaymentEvent.objects.filter(
        scope.amount_q("payment__"),
        kind="attempt_failed",
        created_at__gte=start,
        created_at__lt=end,
        payment__merchant_id__in=scope.ids,
    )
    if f.currencies:
        events = events.filter(payment__currency__in=f.currencies)
    if f.links:
        events = events.filter(payment__link_id__in=f.links)
    for at, data, merchant_id, link_id, currency in events.values_list(
        "created_at", "data", "payment__merchant_id", "payment__link_id", "payment__currency"
    ):
        day = local_day(at, scope.zones[merchant_id])
        if day in period:
            row = {
                "merchant_id": merchant_id,
                "day": day,
                "link_id": link_id,
                "currency": currency,
                "code": decline_code(data),
            }
            counts[tuple(row[g] for g in group)] += 1
    return counts


def _refund_steps(
    scope: _Scope, period: Period, *, months: bool
) -> dict[tuple[date, str], list[int]]:
    """Refunds that happened on the period's days: (day, currency) -> [refunds, amount]."""
    f = scope.filters
    steps: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    if f.statuses and not set(f.statuses) & REFUNDED_STATUSES:
        return steps
    if not f.by_amount:
        rows = _rollup_rows(scope, "refunds", period, ("day", "currency"), months=months)
        for key, (n, _, refunded) in rows.items():
            steps[(key[0], key[1])] = [n, refunded]
        return steps
    start, end = scope.bounds(period)
    refunds = PaymentEvent.objects.filter(
        scope.amount_q("payment__"),
        Q(
            payment__in=Payment.objects.filter(
                scope.common(method="payment_method_type", brand="card_brand")
            )
        ),
        kind="status_changed",
        to_status__in=list(REFUNDED_STATUSES),
        created_at__gte=start,
        created_at__lt=end,
    )
    found = list(
        refunds.values_list(
            "payment_id", "created_at", "id", "data", "payment__merchant_id", "payment__currency"
        )
    )
    # Each refund's step is its total minus the refund event before it, which may be older
    # than the period.
    earlier: dict[int, list[tuple[datetime, int, int]]] = defaultdict(list)
    for payment_id, at, pk, data in PaymentEvent.objects.filter(
        payment_id__in={row[0] for row in found},
        kind="status_changed",
        to_status__in=list(REFUNDED_STATUSES),
    ).values_list("payment_id", "created_at", "id", "data"):
        earlier[payment_id].append((at, pk, refunded_after(data)))
    for payment_id, at, pk, data, merchant_id, currency in found:
        day = local_day(at, scope.zones[merchant_id])
        if day not in period:
            continue
        before = [t for a, p, t in earlier[payment_id] if (a, p) < (at, pk)]
        steps[(day, currency)][0] += 1
        steps[(day, currency)][1] += refunded_after(data) - (max(before) if before else 0)
    return steps


def _views(scope: _Scope, period: Period, group: tuple[str, ...]) -> dict[tuple[Any, ...], int]:
    """Page views on the period's days. A view has no amount, status or method: only the
    link and currency filters apply (a link's views count for its currency)."""
    rows = _rollup_rows(scope, "views", period, group, months=True)
    return {key: n for key, (n, _, _) in rows.items()}


# --- the page ---------------------------------------------------------------------------
def analytics(
    *,
    merchants: QuerySet[Merchant],
    period: Period,
    filters: Filters | None = None,
    bucket: str | None = None,
    top_links: int = 10,
) -> Analytics:
    """Everything the analytics page shows for ``period``, beside the previous period."""
    filters = filters or Filters()
    bucket = bucket or auto_bucket(period)
    if bucket not in BUCKETS:
        raise ValueError(f"bucket must be one of {BUCKETS}")
    scope = _Scope(merchants, filters)
    previous = period.previous()
    starts = bucket_starts(period, bucket)
    months = bucket == "month"

    series = _facts(scope, period, ("day", "currency", "status"), months=months)
    kinds = _facts(scope, period, ("currency", "status", "method", "card_brand", "code"))
    before = _facts(scope, previous, ("currency", "status"))
    declines = _declines(scope, period, ("code",))
    declined_before = sum(_declines(scope, previous, ()).values())
    link_views = _views(scope, period, ("link_id",))
    views = sum(link_views.values())
    views_before = sum(_views(scope, previous, ()).values())
    by_link = _facts(scope, period, ("link_id", "currency", "status"))
    bands = _facts(scope, period, ("currency", "status", "amount_band"))

    return Analytics(
        period=period,
        previous=previous,
        bucket=bucket,
        starts=starts,
        filters=filters,
        source="payments" if filters.by_amount else "rollups",
        headline=_headline(
            kinds,
            before,
            (sum(declines.values()), declined_before),
            (views, views_before),
        ),
        received=_received(series, starts, bucket),
        statuses=_status_series(series, starts, bucket),
        success_rate=_success_series(series, starts, bucket),
        methods=_methods(kinds),
        links=_with_units(scope, period, _links(by_link, link_views, top_links)),
        distribution=_distribution(bands),
        refunds=_refund_series(_refund_steps(scope, period, months=months), starts, bucket),
        reasons=_reasons(kinds, declines),
    )


def link_funnel(*, merchants: QuerySet[Merchant], link: PaymentLink, period: Period) -> LinkFunnel:
    """One link's funnel (its console page): views -> checkouts started -> paid, units
    sold, revenue."""
    scope = _Scope(merchants.filter(pk=link.merchant_id), Filters(links=(link.pk,)))
    funnels = _links(
        _facts(scope, period, ("link_id", "currency", "status")),
        _views(scope, period, ("link_id",)),
        top=1,
    )
    funnels = _with_units(scope, period, funnels)
    return funnels[0] if funnels else LinkFunnel(link.pk, link.title, 0, 0, 0, [])


def _headline(
    now: Facts, before: Facts, declined: tuple[int, int], views: tuple[int, int]
) -> Headline:
    """From facts grouped by currency and status (first), for each period."""

    def count(facts: Facts, statuses: Any) -> int:
        return sum(v[0] for k, v in facts.items() if statuses is None or k[1] in statuses)

    def change(statuses: Any) -> Change:
        return Change(count(now, statuses), count(before, statuses))

    def rate(part: Change, whole: Change) -> Change | None:
        if not whole.current and not whole.previous:
            return None
        return Change(
            part.current / whole.current if whole.current else 0.0,
            part.previous / whole.previous if whole.previous else 0.0,
        )

    def money_in(facts: Facts, code: str) -> tuple[int, int, int]:
        rows = [v for k, v in facts.items() if k[0] == code and k[1] in COMPLETED_STATUSES]
        return sum(v[0] for v in rows), sum(v[1] for v in rows), sum(v[2] for v in rows)

    per_currency = []
    for code in sorted({k[0] for k in (*now, *before)}):
        (n, gross, refunded), (n0, gross0, refunded0) = money_in(now, code), money_in(before, code)
        per_currency.append(
            CurrencyHeadline(
                currency=code,
                gross=Change(gross, gross0),
                refunded=Change(refunded, refunded0),
                net=Change(gross - refunded, gross0 - refunded0),
                paid=Change(n, n0),
            )
        )
    per_currency.sort(key=lambda c: (-c.paid.current, c.currency))
    paid, finished = change(COMPLETED_STATUSES), change(FINISHED_STATUSES)
    failed = change({PaymentStatus.FAILED})
    view_count = Change(*views)
    return Headline(
        started=change(None),
        paid=paid,
        finished=finished,
        success_rate=rate(paid, finished),
        failed_attempts=Change(declined[0] + failed.current, declined[1] + failed.previous),
        views=view_count,
        conversion=rate(paid, view_count),
        currencies=per_currency,
    )


def _slot(starts: list[date], bucket: str) -> dict[date, int]:
    """Bucket (its full start, before clipping to the period) -> position."""
    return {bucket_of(start, bucket): n for n, start in enumerate(starts)}


def _received(facts: Facts, starts: list[date], bucket: str) -> list[MoneySeries]:
    slots = _slot(starts, bucket)
    out: dict[str, MoneySeries] = {}
    for (day, currency, status, *_), (n, amount, refunded) in facts.items():
        if status not in COMPLETED_STATUSES:
            continue
        series = out.get(currency) or out.setdefault(
            currency, MoneySeries(currency, *([0] * len(starts) for _ in range(4)))
        )
        i = slots[bucket_of(day, bucket)]
        series.gross[i] += amount
        series.refunded[i] += refunded
        series.net[i] += amount - refunded
        series.paid[i] += n
    return sorted(out.values(), key=lambda s: (-sum(s.paid), s.currency))


def _status_series(facts: Facts, starts: list[date], bucket: str) -> list[StatusSeries]:
    slots = _slot(starts, bucket)
    counts = {value: [0] * len(starts) for value in PaymentStatus.values}
    for (day, _, status, *_), (n, _, _) in facts.items():
        counts[status][slots[bucket_of(day, bucket)]] += n
    return [
        StatusSeries(value, label, counts[value])
        for value, label in PaymentStatus.choices
        if any(counts[value])
    ]


def _success_series(facts: Facts, starts: list[date], bucket: str) -> list[float | None]:
    slots = _slot(starts, bucket)
    paid, finished = [0] * len(starts), [0] * len(starts)
    for (day, _, status, *_), (n, _, _) in facts.items():
        i = slots[bucket_of(day, bucket)]
        if status in COMPLETED_STATUSES:
            paid[i] += n
        if status in FINISHED_STATUSES:
            finished[i] += n
    return [p / f if f else None for p, f in zip(paid, finished, strict=True)]


def _methods(facts: Facts) -> list[MethodRow]:
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (currency, status, method, brand, _), (n, amount, _) in facts.items():
        if status in COMPLETED_STATUSES:
            rows[(method_key(method, brand), currency)][0] += n
            rows[(method_key(method, brand), currency)][1] += amount
    return sorted(
        (
            MethodRow(key, method_key_label(key), currency, n, amount)
            for (key, currency), (n, amount) in rows.items()
        ),
        key=lambda r: (r.currency, -r.count, r.key),
    )


def _links(facts: Facts, views: dict[tuple[Any, ...], int], top: int) -> list[LinkFunnel]:
    per_link: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"started": 0, "paid": 0, "revenue": defaultdict(lambda: [0, 0])}
    )
    for (link_id, currency, status), (n, amount, refunded) in facts.items():
        entry = per_link[link_id]
        entry["started"] += n
        if status in COMPLETED_STATUSES:
            entry["paid"] += n
            entry["revenue"][currency][0] += amount
            entry["revenue"][currency][1] += amount - refunded
    for (link_id,) in views:
        per_link[link_id]
    ranked = sorted(per_link, key=lambda pk: (-per_link[pk]["paid"], -views.get((pk,), 0), pk))
    titles = dict(PaymentLink.objects.filter(pk__in=ranked[:top]).values_list("pk", "title"))
    return [
        LinkFunnel(
            link_id=pk,
            title=titles[pk],
            views=views.get((pk,), 0),
            started=per_link[pk]["started"],
            paid=per_link[pk]["paid"],
            revenue=[
                CurrencyAmount(code, gross, net)
                for code, (gross, net) in sorted(per_link[pk]["revenue"].items())
            ],
        )
        for pk in ranked[:top]
        if pk in titles  # a deleted link's summary rows
    ]


def _with_units(scope: _Scope, period: Period, links: list[LinkFunnel]) -> list[LinkFunnel]:
    """The top links with the units their paid payments bought in ``period``, under the
    page's filters: one unit per paid payment (``paid``, from the rollups) plus the extra
    units of the payments that bought more than one.

    Only those payments are read from the payments table (their partial index,
    ``payment_multi_unit``), one query per time zone among the merchants: nothing for a
    merchant who sells no quantities, and never the period's every payment. (The rollups
    count payments and sum amounts; units would be one more column in every one of their
    rows for a figure only this table needs.)
    """
    paid = [s for s in (scope.statuses() or COMPLETED_STATUSES) if s in COMPLETED_STATUSES]
    if not links or not paid:
        return links
    extra: dict[int, int] = defaultdict(int)
    for zone, ids in scope.by_zone().items():
        start, end = day_bounds(period.start, period.end, zone)
        rows = (
            Payment.objects.filter(
                scope.common(method="payment_method_type", brand="card_brand"),
                scope.amount_q() if scope.filters.by_amount else Q(),
                merchant_id__in=ids,
                link_id__in=[f.link_id for f in links],
                status__in=paid,
                quantity__gt=1,
                created_at__gte=start,
                created_at__lt=end,
            )
            .order_by()
            .values_list("link_id")
            .annotate(extra=Sum(F("quantity") - 1))
        )
        for link_id, n in rows:
            extra[link_id] += n or 0
    return [replace(f, units=f.paid + extra[f.link_id]) for f in links]


def _distribution(facts: Facts) -> list[Distribution]:
    per_currency: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (currency, status, band), (n, amount, _) in facts.items():
        if status in COMPLETED_STATUSES:
            per_currency[currency][band][0] += n
            per_currency[currency][band][1] += amount
    out = []
    for currency, bands in sorted(per_currency.items()):
        low, high = min(bands), max(bands)
        out.append(
            Distribution(
                currency,
                [
                    AmountBand(b, band_floor(b), band_floor(b + 1), *bands.get(b, [0, 0]))
                    for b in range(low, high + 1)
                ],
            )
        )
    return out


def _refund_series(
    steps: dict[tuple[date, str], list[int]], starts: list[date], bucket: str
) -> list[RefundSeries]:
    slots = _slot(starts, bucket)
    out: dict[str, RefundSeries] = {}
    for (day, currency), (n, amount) in steps.items():
        if not n and not amount:
            continue
        series = out.get(currency) or out.setdefault(
            currency, RefundSeries(currency, [0] * len(starts), [0] * len(starts))
        )
        i = slots[bucket_of(day, bucket)]
        series.amounts[i] += amount
        series.counts[i] += n
    return sorted(out.values(), key=lambda s: s.currency)


def _reasons(facts: Facts, declines: dict[tuple[Any, ...], int]) -> list[Reason]:
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for (code,), n in declines.items():
        counts[("declined", code, "")] += n
    for (_, status, method, _, failure), (n, _, _) in facts.items():
        if status == PaymentStatus.FAILED:
            counts[("failed", failure, method)] += n
        elif status in (PaymentStatus.EXPIRED, PaymentStatus.CANCELED):
            counts[(status, "", "")] += n
    total = sum(counts.values())
    reasons = [
        Reason(
            key=f"{kind}:{code}:{method}".rstrip(":"),
            label=OUTCOME_LABELS[kind] if kind in OUTCOME_LABELS else failure_label(code, method),
            kind=kind,
            count=n,
            share=n / total,
        )
        for (kind, code, method), n in counts.items()
        if n
    ]
    return sorted(reasons, key=lambda r: (-r.count, r.key))


# --- support ----------------------------------------------------------------------------
@dataclass(frozen=True)
class MerchantRow:
    merchant_id: int
    name: str
    slug: str
    volume: list[CurrencyAmount]
    """Money taken in the period, per currency (gross and net of refunds)."""
    started: int
    paid: int
    finished: int
    failed_attempts: int
    """Declined attempts plus payments that ended failed."""
    webhook_failures: int
    """Webhook events received in the period whose processing failed (and is retried)."""

    @property
    def success_rate(self) -> float | None:
        return self.paid / self.finished if self.finished else None


@dataclass(frozen=True)
class SupportOverview:
    period: Period
    rows: list[MerchantRow]
    """Busiest first (payments started)."""
    webhook_failures: int
    unattributed_webhook_failures: int
    """Failed events Paylinks could not tie to a merchant (for instance a payment it does
    not know)."""


def support_overview(
    *, merchants: QuerySet[Merchant], period: Period, filters: Filters | None = None
) -> SupportOverview:
    """Every merchant's volume, success rate, failed attempts and failing webhook events.

    For support staff (``permissions.sees_all_merchants``); read-only figures.
    """
    scope = _Scope(merchants, filters or Filters())
    facts = _facts(scope, period, ("merchant_id", "currency", "status"))
    declines = _declines(scope, period, ("merchant_id",))
    failures, unattributed = _webhook_failures(scope, period)
    per: dict[int, dict[str, Any]] = defaultdict(
        lambda: {
            "started": 0,
            "paid": 0,
            "finished": 0,
            "failed": 0,
            "volume": defaultdict(lambda: [0, 0]),
        }
    )
    for (merchant_id, currency, status), (n, amount, refunded) in facts.items():
        entry = per[merchant_id]
        entry["started"] += n
        if status in COMPLETED_STATUSES:
            entry["paid"] += n
            entry["volume"][currency][0] += amount
            entry["volume"][currency][1] += amount - refunded
        if status in FINISHED_STATUSES:
            entry["finished"] += n
        if status == PaymentStatus.FAILED:
            entry["failed"] += n
    names = {
        pk: (name, slug)
        for pk, name, slug in Merchant.objects.filter(pk__in=scope.ids).values_list(
            "pk", "name", "slug"
        )
    }
    rows = [
        MerchantRow(
            merchant_id=pk,
            name=names[pk][0],
            slug=names[pk][1],
            volume=[CurrencyAmount(c, g, n) for c, (g, n) in sorted(per[pk]["volume"].items())],
            started=per[pk]["started"],
            paid=per[pk]["paid"],
            finished=per[pk]["finished"],
            failed_attempts=per[pk]["failed"] + declines.get((pk,), 0),
            webhook_failures=failures.get(pk, 0),
        )
        for pk in scope.ids
    ]
    rows.sort(key=lambda r: (-r.started, r.name))
    return SupportOverview(
        period=period,
        rows=rows,
        webhook_failures=sum(failures.values()) + unattributed,
        unattributed_webhook_failures=unattributed,
    )


def _webhook_failures(scope: _Scope, period: Period) -> tuple[dict[int, int], int]:
    """Failed inbox events received in the period, per merchant. Events carry no merchant:
    it comes from the Paylinks metadata on the gateway object, or from the payment whose
    session or payment intent the event is about. Failing events are few (an index covers
    them)."""
    start, end = scope.bounds(period)
    events = list(
        WebhookEvent.objects.filter(
            status=WebhookEvent.Status.FAILED, received_at__gte=start, received_at__lt=end
        ).values_list("object_id", "payload")
    )
    by_merchant: dict[int, int] = defaultdict(int)
    unknown: list[str] = []
    for object_id, payload in events:
        obj = ((payload or {}).get("data") or {}).get("object") or {}
        merchant = str((obj.get("metadata") or {}).get("paylinks_merchant") or "")
        if merchant.isdigit():
            by_merchant[int(merchant)] += 1
        else:
            unknown.append(object_id or str(obj.get("id") or ""))
    found = dict(
        Payment.objects.filter(gateway_session_id__in=[u for u in unknown if u]).values_list(
            "gateway_session_id", "merchant_id"
        )
    )
    found |= dict(
        Payment.objects.filter(payment_intent_id__in=[u for u in unknown if u]).values_list(
            "payment_intent_id", "merchant_id"
        )
    )
    unattributed = 0
    for object_id in unknown:
        if object_id in found:
            by_merchant[found[object_id]] += 1
        else:
            unattributed += 1
    visible = set(scope.ids)
    return {pk: n for pk, n in by_merchant.items() if pk in visible}, unattributed


# --- filter choices -----------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FilterChoices:
    currencies: list[Choice]
    methods: list[Choice]
    links: list[Choice]
    statuses: list[Choice]


def filter_choices(*, merchants: QuerySet[Merchant], since: date | None = None) -> FilterChoices:
    """The values the filters offer, without scanning payments: currencies from the links
    (a payment is in its link's currency), methods from the rollups (from ``since``, a
    local day; default: the last 400 days) and the open payments."""
    ids = list(merchants.values_list("pk", flat=True))
    links = PaymentLink.objects.filter(merchant_id__in=ids)
    currencies = sorted(set(links.order_by().values_list("currency", flat=True)))
    since = since or (timezone.now() - timedelta(days=400)).date()
    # The monthly summary by method: a few hundred rows a month, where the detailed rows
    # of a busy merchant's year are hundreds of thousands (370 ms at 1M payments).
    by_method = next(
        g.id for g in GROUPINGS if g.kind == "payments" and g.monthly and "method" in g.dims
    )
    pairs = set(
        RollupSummary.objects.filter(
            merchant_id__in=ids, grouping=by_method, day__gte=month_of(since)
        )
        .order_by()
        .values_list("method", "card_brand")
        .distinct()
    )
    pairs |= set(
        Payment.objects.filter(merchant_id__in=ids, status=PaymentStatus.PENDING)
        .order_by()
        .values_list("payment_method_type", "card_brand")
        .distinct()
    )
    keys = sorted({method_key(m, b) for m, b in pairs} | {m for m, b in pairs if b})
    return FilterChoices(
        currencies=[Choice(c, c) for c in currencies],
        methods=[Choice(k, method_key_label(k)) for k in keys],
        links=[
            Choice(str(pk), title)
            for pk, title in links.order_by("title").values_list("pk", "title")
        ],
        statuses=[Choice(v, label) for v, label in PaymentStatus.choices],
    )
