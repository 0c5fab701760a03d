"""Analytics rollups: kept exact in the transaction of every change, rebuilt from raw rows.

Four tables (``paylinks.models.analytics``) hold the analytics pages' figures per
merchant-local day: finished payments (``PaymentRollup``), refunds by the day they
happened (``RefundRollup``), declined attempts (``DeclineRollup``) and link page views
(``ViewRollup``). Open (pending) payments are not rolled up: they are few, they change
often, and readers count them from the payments table; so starting a checkout -- the hot
path -- writes no rollup row at all. ``RollupSummary`` holds the same figures summed over
fewer dimensions (``paylinks.models.analytics.GROUPINGS``), daily and monthly; every
change to a detailed row moves its summary rows in the same upsert.

**Kept exact.** The services that change a payment call ``payment_changed`` after saving
it, inside their own transaction, with the payment row locked. A payment remembers the
values it was read with (``Payment.rollup_loaded``), so the call subtracts what the
payment contributed before and adds what it contributes now: one upsert per table that
changes, committed or rolled back with the change itself. It can never count twice (a
second call with nothing new is a no-op) and it needs no idea of *which* transition
happened, so any change of status, method, refund or failure code is covered.
``attempt_failed`` and ``link_viewed`` add one to a counter for a new timeline event or
page view the same way. The same call moves the link's ``units_sold`` when the
payment starts or stops counting as paid (the console's home reads it).

**Rebuilt safely while traffic flows.** ``rebuild`` recomputes a merchant's rows from the
raw tables, one calendar month per transaction. On PostgreSQL each month holds the
merchant's advisory lock exclusively, and every writer above takes it shared (for the
rest of its transaction) before touching the rollups. So a month's snapshot either
includes a writer's change (the writer committed before the month locked) or the writer
applies its difference after the month committed, onto rows that show the payment as the
writer read it. SQLite runs one writer at a time, which gives the same guarantee.
"""

from __future__ import annotations

import json
import logging
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max, Min, Model, Q
from django.tasks import task
from django.utils import timezone

from paylinks.logcontext import carries_request_id
from paylinks.models import (
    LinkView,
    Merchant,
    Payment,
    PaymentEvent,
    PaymentLink,
    PaymentStatus,
)
from paylinks.models.analytics import (
    BAND_COUNT,
    GROUPINGS,
    SUMMARY_DIMS,
    DeclineRollup,
    PaymentRollup,
    RefundRollup,
    RollupSummary,
    ViewRollup,
    amount_band,
    band_floor,
    day_bounds,
    decline_code,
    local_day,
    month_of,
    refunded_after,
)
from paylinks.models.payments import COMPLETED_STATUSES, PARTIALLY_LOADED, ROLLUP_FIELDS

logger = logging.getLogger(__name__)

#: PostgreSQL advisory locks are (int4, int4) pairs: this namespace, the merchant's id.
LOCK_NAMESPACE = 0x50_4C_52_55  # "PLRU"
REFUND_STATUSES = (PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
ROLLUP_MODELS: tuple[type[Model], ...] = (
    PaymentRollup,
    RefundRollup,
    DeclineRollup,
    ViewRollup,
    RollupSummary,
)
DETAILED_MODELS = ROLLUP_MODELS[:-1]


@dataclass(frozen=True)
class PaymentState:
    """A payment's ``ROLLUP_FIELDS``, by name."""

    merchant_id: int
    link_id: int
    created_at: datetime
    currency: str
    status: str
    payment_method_type: str
    card_brand: str
    failure_code: str
    amount: int
    amount_refunded: int
    quantity: int

    @classmethod
    def of(cls, values: tuple[Any, ...]) -> PaymentState:
        return cls(**dict(zip(ROLLUP_FIELDS, values, strict=True)))


# --- what a payment contributes ---------------------------------------------------------
def payment_key(state: PaymentState, zone: zoneinfo.ZoneInfo) -> tuple[Any, ...] | None:
    """The ``PaymentRollup`` row a payment in ``state`` counts in; None while it is open."""
    if state.status == PaymentStatus.PENDING:
        return None
    return (
        state.merchant_id,
        local_day(state.created_at, zone),
        state.link_id,
        state.currency,
        state.status,
        state.payment_method_type,
        state.card_brand,
        state.failure_code if state.status == PaymentStatus.FAILED else "",
        amount_band(state.amount),
    )


class _Deltas:
    """Changes to rollup counters, merged per row, written as one upsert per table; every
    change to a detailed row also moves the summary rows it is part of."""

    def __init__(self) -> None:
        self.rows: dict[type[Model], dict[tuple[Any, ...], list[int]]] = defaultdict(dict)

    def add(self, model: type[Model], key: tuple[Any, ...], values: Iterable[int]) -> None:
        row = self.rows[model].setdefault(key, [0] * len(_SPECS[model].values))
        for n, value in enumerate(values):
            row[n] += value

    def apply(self) -> None:
        for model, rows in list(self.rows.items()):
            for key, values in rows.items():
                for summary_key, summary_values in summary_rows(model, key, values):
                    self.add(RollupSummary, summary_key, summary_values)
        for model in ROLLUP_MODELS:  # a fixed order, and sorted keys: no deadlocks
            changed = sorted(
                (key, values) for key, values in self.rows.get(model, {}).items() if any(values)
            )
            if changed:
                _upsert(model, changed)


@dataclass(frozen=True)
class _Spec:
    keys: tuple[str, ...]
    values: tuple[str, ...]
    kind: str = ""
    """The ``Grouping.kind`` of a detailed table."""
    summary: tuple[str, str, str] = ("", "", "")
    """Which of ``values`` become the summary's ``n``, ``amount`` and ``refunded``."""


_SPECS: dict[type[Model], _Spec] = {
    PaymentRollup: _Spec(
        keys=(
            "merchant_id",
            "day",
            "link_id",
            "currency",
            "status",
            "method",
            "card_brand",
            "failure_code",
            "amount_band",
        ),
        values=("payments", "amount", "refunded"),
        kind="payments",
        summary=("payments", "amount", "refunded"),
    ),
    RefundRollup: _Spec(
        keys=("merchant_id", "day", "link_id", "currency", "method", "card_brand"),
        values=("refunds", "refunded"),
        kind="refunds",
        summary=("refunds", "", "refunded"),
    ),
    DeclineRollup: _Spec(
        keys=("merchant_id", "day", "link_id", "currency", "code"),
        values=("attempts",),
        kind="declines",
        summary=("attempts", "", ""),
    ),
    ViewRollup: _Spec(
        keys=("merchant_id", "day", "link_id"),
        values=("views",),
        kind="views",
        summary=("views", "", ""),
    ),
    RollupSummary: _Spec(
        keys=("merchant_id", "grouping", "day", *SUMMARY_DIMS),
        values=("n", "amount", "refunded"),
    ),
}
#: A detailed table's column for each summary dimension (the failure code is ``code``).
_SUMMARY_SOURCE: dict[str, dict[type[Model], str]] = {"code": {PaymentRollup: "failure_code"}}


def _source_column(model: type[Model], dim: str) -> str:
    return _SUMMARY_SOURCE.get(dim, {}).get(model, dim)


def summary_rows(
    model: type[Model], key: tuple[Any, ...], values: Iterable[int]
) -> Iterator[tuple[tuple[Any, ...], tuple[int, int, int]]]:
    """The summary rows (``RollupSummary`` key, figures) one detailed row counts in."""
    spec = _SPECS[model]
    if not spec.kind:
        return
    named = dict(zip(spec.keys, key, strict=True))
    figures = dict(zip(spec.values, values, strict=True))
    measures = tuple(figures[name] if name else 0 for name in spec.summary)
    for grouping in GROUPINGS:
        if grouping.kind != spec.kind:
            continue
        day = month_of(named["day"]) if grouping.monthly else named["day"]
        dims = tuple(
            named[_source_column(model, dim)] if dim in grouping.dims else default
            for dim, default in SUMMARY_DIMS.items()
        )
        yield (named["merchant_id"], grouping.id, day, *dims), measures  # type: ignore[misc]


def _upsert(model: type[Model], rows: list[tuple[tuple[Any, ...], list[int]]]) -> None:
    spec = _SPECS[model]
    q = connection.ops.quote_name
    table = q(model._meta.db_table)
    columns = (*spec.keys, *spec.values)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    additions = ", ".join(f"{q(v)} = {table}.{q(v)} + excluded.{q(v)}" for v in spec.values)
    # Only the model's own quoted identifiers are formatted in; values are parameters.
    sql = (
        f"INSERT INTO {table} ({', '.join(q(c) for c in columns)}) "  # noqa: S608
        f"VALUES {', '.join([one] * len(rows))} "
        f"ON CONFLICT ({', '.join(q(k) for k in spec.keys)}) DO UPDATE SET {additions}"
    )
    params = [value for key, values in rows for value in (*key, *values)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _writer_zone(merchant_id: int, merchant: Merchant | None = None) -> zoneinfo.ZoneInfo:
    """The merchant's reporting zone, read under its shared rollup lock on PostgreSQL (held
    until the caller's transaction ends, so a rebuild never runs across this change)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock_shared(%s, %s), "
                "(SELECT timezone FROM paylinks_merchant WHERE id = %s)",
                [LOCK_NAMESPACE, _lock_key(merchant_id), merchant_id],
            )
            return zoneinfo.ZoneInfo(cursor.fetchone()[1])
    if merchant is None:
        merchant = Merchant.objects.only("timezone").get(pk=merchant_id)
    return zoneinfo.ZoneInfo(merchant.timezone)


def _lock_key(merchant_id: int) -> int:
    return merchant_id % 2_147_483_647


def _cached_merchant(obj: Model) -> Merchant | None:
    cached = obj._state.fields_cache.get("merchant")
    return cached if isinstance(cached, Merchant) else None


# --- the hooks the services call --------------------------------------------------------
def payment_changed(payment: Payment) -> None:
    """Move ``payment``'s rollup contribution from what was read to what is now saved.

    Call it after saving, inside the transaction that changed the payment, with its row
    locked. Does nothing (and no query) when nothing the rollups count has changed.
    """
    before, after = payment.rollup_loaded, payment.rollup_values()
    if before == after:
        return
    if before == PARTIALLY_LOADED or not isinstance(after, tuple):
        raise ValueError(f"{payment.public_id}: load every rollup field before changing it")
    old = PaymentState.of(before) if isinstance(before, tuple) else None
    new = PaymentState.of(after)
    zone = _writer_zone(new.merchant_id, _cached_merchant(payment))
    deltas = _Deltas()
    if old is not None and (key := payment_key(old, zone)) is not None:
        deltas.add(PaymentRollup, key, (-1, -old.amount, -old.amount_refunded))
    if (key := payment_key(new, zone)) is not None:
        deltas.add(PaymentRollup, key, (1, new.amount, new.amount_refunded))
    if new.amount_refunded > (old.amount_refunded if old else 0):
        _refund_step(payment.pk, new, zone, deltas)
    deltas.apply()
    _count_completed(old, new)
    payment.rollup_loaded = after


def _count_completed(old: PaymentState | None, new: PaymentState) -> None:
    """Move the links' ``units_sold`` when a payment starts or stops counting as one that
    took money, by its units (``_recount_completed`` says why this is safe beside a
    rebuild). A payment whose quantity changes as it completes (Stripe's adjustable
    quantity) moves by the units it ends with."""
    moves: dict[int, int] = {}
    if old is not None and old.status in COMPLETED_STATUSES:
        moves[old.link_id] = -old.quantity
    if new.status in COMPLETED_STATUSES:
        moves[new.link_id] = moves.get(new.link_id, 0) + new.quantity
    for link_id, step in sorted(moves.items()):
        if step:
            PaymentLink.objects.filter(pk=link_id).update(units_sold=F("units_sold") + step)


def _refund_step(
    payment_id: int, state: PaymentState, zone: zoneinfo.ZoneInfo, deltas: _Deltas
) -> None:
    """Count the refund the payment's newest refund event records, on that event's day.

    Refunds are counted from the timeline, as ``rebuild`` counts them: each refund event
    carries the total refunded after it, and the step is the growth over the event
    before it.
    """
    if state.status not in REFUND_STATUSES:
        return
    latest = list(
        refund_events(Q(payment_id=payment_id))
        .order_by("-created_at", "-id")
        .values_list("created_at", "data")[:2]
    )
    if not latest or refunded_after(latest[0][1]) != state.amount_refunded:
        logger.warning("Payment %s: refund without its timeline event; not rolled up", payment_id)
        return
    step = state.amount_refunded - (refunded_after(latest[1][1]) if len(latest) > 1 else 0)
    key = (
        state.merchant_id,
        local_day(latest[0][0], zone),
        state.link_id,
        state.currency,
        state.payment_method_type,
        state.card_brand,
    )
    deltas.add(RefundRollup, key, (1, step))


def refund_events(where: Q) -> Any:
    return PaymentEvent.objects.filter(where, kind="status_changed", to_status__in=REFUND_STATUSES)


def attempt_failed(event: PaymentEvent, payment: Payment) -> None:
    """Count a declined attempt (an ``attempt_failed`` event just written for ``payment``)."""
    zone = _writer_zone(payment.merchant_id, _cached_merchant(payment))
    deltas = _Deltas()
    deltas.add(
        DeclineRollup,
        (
            payment.merchant_id,
            local_day(event.created_at, zone),
            payment.link_id,
            payment.currency,
            decline_code(event.data),
        ),
        (1,),
    )
    deltas.apply()


def link_viewed(view: LinkView) -> None:
    """Count a page view just recorded (on the local day its counting window starts)."""
    link = view.link
    zone = _writer_zone(link.merchant_id, _cached_merchant(link))
    deltas = _Deltas()
    deltas.add(ViewRollup, (link.merchant_id, local_day(view.window_start, zone), link.pk), (1,))
    deltas.apply()


def links_viewed(views: Iterable[LinkView]) -> None:
    """Count a batch of page views just recorded: one upsert per row they move."""
    deltas = _Deltas()
    for view in views:
        link = view.link
        zone = _writer_zone(link.merchant_id, _cached_merchant(link))
        key = (link.merchant_id, local_day(view.window_start, zone), link.pk)
        deltas.add(ViewRollup, key, (1,))
    deltas.apply()


# --- rebuilding -------------------------------------------------------------------------
@dataclass
class Rebuilt:
    merchant: str
    days: int = 0
    chunks: int = 0
    rows: int = 0


def rebuild(*, merchant: Merchant) -> Rebuilt:
    """Recompute every rollup row of ``merchant`` from the raw tables.

    Safe while payments flow (see the module's docstring): each calendar month is replaced
    in one short transaction, so writers for this merchant wait at most one month's
    rebuild. Rows outside the merchant's data (an earlier time zone's days) are removed.
    """
    result = Rebuilt(merchant=merchant.slug)
    zone = zoneinfo.ZoneInfo(Merchant.objects.get(pk=merchant.pk).timezone)
    first, last = _data_days(merchant, zone)
    first, month = month_of(first), month_of(first)
    while month <= last:
        following = month_of(month + timedelta(days=31))
        result.rows += _rebuild_chunk(merchant.pk, month, following - timedelta(days=1))
        result.chunks += 1
        last_day, month = following - timedelta(days=1), following
    with transaction.atomic():
        _lock_exclusive(merchant.pk)
        outside = Q(merchant_id=merchant.pk) & (Q(day__lt=first) | Q(day__gt=last_day))
        for model in ROLLUP_MODELS:
            model._default_manager.filter(outside).delete()
    with transaction.atomic():
        _recount_completed(merchant.pk)
    result.days = (last_day - first).days + 1
    return result


@task()
@carries_request_id
def rebuild_rollups(merchant_id: int) -> str:
    """Rebuild one merchant's rollups in the worker (after its time zone changed)."""
    merchant = Merchant.objects.get(pk=merchant_id)
    done = rebuild(merchant=merchant)
    return f"{done.merchant}: {done.rows} rows over {done.days} days"


def _data_days(merchant: Merchant, zone: zoneinfo.ZoneInfo) -> tuple[date, date]:
    """The first and last local day that may hold data: from the earliest payment or view
    (refunds and declines come after their payment) to today, or to the last day that
    already has rows if that is later (days of an earlier, more eastern time zone)."""
    today = local_day(timezone.now(), zone)
    earliest = [
        Payment.objects.filter(merchant=merchant).aggregate(at=Min("created_at"))["at"],
        LinkView.objects.filter(link__merchant=merchant).aggregate(at=Min("window_start"))["at"],
    ]
    latest = [
        model._default_manager.filter(merchant=merchant).aggregate(day=Max("day"))["day"]
        for model in ROLLUP_MODELS
    ]
    first = min([today, *(local_day(at, zone) for at in earliest if at is not None)])
    last = max([today, *(day for day in latest if day is not None)])
    return first, last


def _recount_completed(merchant_id: int) -> None:
    """Every link's ``units_sold`` of the merchant, counted afresh.

    Guarded by the links' own rows, not the merchant's rollup lock: a writer moves a
    counter with an ``UPDATE`` of the link's row before it commits, and a payment's success
    locks its link's row *before* it takes the rollup lock (``payment_refresh`` checks the
    link's limit first), so holding the rollup lock here could deadlock with it. The links
    are locked first (waiting for writers that moved a counter to commit); the count, a
    later statement, then sees every change whose +1 it overwrites, and a writer that has
    not reached its link yet adds its +1 after this commits.
    """
    q = connection.ops.quote_name
    links, payments = q(PaymentLink._meta.db_table), q(Payment._meta.db_table)
    statuses = sorted(COMPLETED_STATUSES)
    marks = ", ".join(["%s"] * len(statuses))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT id FROM {links} WHERE merchant_id = %s ORDER BY id FOR UPDATE",  # noqa: S608
                [merchant_id],
            )
        cursor.execute(
            f"UPDATE {links} SET units_sold = ("  # noqa: S608 - table names only
            f"SELECT COALESCE(SUM(p.quantity), 0) FROM {payments} p WHERE p.link_id = {links}.id "
            f"AND p.status IN ({marks})) WHERE merchant_id = %s",
            [*statuses, merchant_id],
        )


def _lock_exclusive(merchant_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, _lock_key(merchant_id)]
            )


def _rebuild_chunk(merchant_id: int, first: date, last: date) -> int:
    with transaction.atomic():
        _lock_exclusive(merchant_id)
        # The zone as of now, under the lock: a writer waiting behind us will read the same.
        zone = zoneinfo.ZoneInfo(Merchant.objects.get(pk=merchant_id).timezone)
        where = Q(merchant_id=merchant_id, day__gte=first, day__lte=last)
        for model in ROLLUP_MODELS:
            model._default_manager.filter(where).delete()
        start, end = day_bounds(first, last, zone)
        rows = _insert_payments(merchant_id, zone, start, end)
        rows += _insert_views(merchant_id, zone, start, end)
        if connection.vendor == "postgresql":  # set-based, as the payments above
            rows += _insert_refunds(merchant_id, zone, start, end)
            rows += _insert_declines(merchant_id, zone, start, end)
        else:
            rows += _bulk(RefundRollup, _refund_rows(merchant_id, zone, start, end))
            rows += _bulk(DeclineRollup, _decline_rows(merchant_id, zone, start, end))
        return rows + _insert_summaries(merchant_id, first, last)


def _insert_summaries(merchant_id: int, first: date, last: date) -> int:
    """Every grouping's rows for the days ``first`` .. ``last`` (whole months), summed from
    the detailed rows just written."""
    q = connection.ops.quote_name
    spec = _SPECS[RollupSummary]
    columns = ", ".join(q(c) for c in (*spec.keys, *spec.values))
    written = 0
    for model in DETAILED_MODELS:
        source = _SPECS[model]
        for grouping in (g for g in GROUPINGS if g.kind == source.kind):
            kept = [
                q(_source_column(model, dim)) if dim in grouping.dims else "%s"
                for dim in SUMMARY_DIMS
            ]
            defaults = [d for dim, d in SUMMARY_DIMS.items() if dim not in grouping.dims]
            day = "%s" if grouping.monthly else q("day")
            sums = ", ".join(f"SUM({q(v)})" if v else "0" for v in source.summary)
            by = [q(_source_column(model, d)) for d in SUMMARY_DIMS if d in grouping.dims]
            group = ", ".join([*([] if grouping.monthly else [q("day")]), *by]) or "1"
            sql = (
                f"INSERT INTO {q(RollupSummary._meta.db_table)} ({columns}) "  # noqa: S608
                f"SELECT merchant_id, %s, {day}, {', '.join(kept)}, {sums} "
                f"FROM {q(model._meta.db_table)} "
                f"WHERE merchant_id = %s AND {q('day')} >= %s AND {q('day')} <= %s "
                f"GROUP BY merchant_id, {group}"
            )
            params: list[Any] = [grouping.id]
            if grouping.monthly:
                params.append(first)
            params += [*defaults, merchant_id, first, last]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                written += max(cursor.rowcount, 0)
    return written


def band_case_sql(column: str) -> str:
    """SQL for ``amount_band`` of ``column``: the same ladder, as a CASE."""
    whens = " ".join(f"WHEN {column} < {band_floor(n + 1)} THEN {n}" for n in range(BAND_COUNT - 1))
    return f"CASE {whens} ELSE {BAND_COUNT - 1} END"


def _instants(*moments: datetime) -> list[Any]:
    """Instants as the backend stores them, for raw SQL. SQLite keeps datetimes as text
    ("2026-09-30 22:00:00"): an aware datetime passed as is would be compared as
    "2026-09-30 22:00:00+00:00", which sorts after the stored value of the same instant,
    and a row at exactly ``end`` would be counted in two chunks."""
    return [connection.ops.adapt_datetimefield_value(moment) for moment in moments]


def _insert_payments(
    merchant_id: int, zone: zoneinfo.ZoneInfo, start: datetime, end: datetime
) -> int:
    q = connection.ops.quote_name
    day_sql, day_params = connection.ops.datetime_cast_date_sql(q("created_at"), (), str(zone))
    spec = _SPECS[PaymentRollup]
    columns = ", ".join(q(c) for c in (*spec.keys, *spec.values))
    failed = PaymentStatus.FAILED.value
    sql = (
        f"INSERT INTO {q(PaymentRollup._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT merchant_id, {day_sql}, link_id, currency, status, payment_method_type, "
        f"card_brand, CASE WHEN status = '{failed}' THEN failure_code ELSE '' END, "
        f"{band_case_sql('amount')}, COUNT(*), SUM(amount), SUM(amount_refunded) "
        f"FROM {q(Payment._meta.db_table)} "
        "WHERE merchant_id = %s AND status <> %s AND created_at >= %s AND created_at < %s "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
    )
    params = [*day_params, merchant_id, PaymentStatus.PENDING.value, *_instants(start, end)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _insert_views(merchant_id: int, zone: zoneinfo.ZoneInfo, start: datetime, end: datetime) -> int:
    q = connection.ops.quote_name
    day_sql, day_params = connection.ops.datetime_cast_date_sql(
        f"v.{q('window_start')}", (), str(zone)
    )
    sql = (
        f"INSERT INTO {q(ViewRollup._meta.db_table)} (merchant_id, day, link_id, views) "  # noqa: S608
        f"SELECT l.merchant_id, {day_sql}, v.link_id, COUNT(*) "
        f"FROM {q(LinkView._meta.db_table)} v "
        f"JOIN {q('paylinks_paymentlink')} l ON l.id = v.link_id "
        "WHERE l.merchant_id = %s AND v.window_start >= %s AND v.window_start < %s "
        "GROUP BY 1, 2, 3"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*day_params, merchant_id, *_instants(start, end)])
        return max(cursor.rowcount, 0)


#: PostgreSQL's reading of ``refunded_after`` and ``decline_code`` for the values the
#: services write (an integer total, a text code); events holding anything else (none do)
#: are left to the Python functions themselves.
_PG_REFUNDED = "(e.data ->> 'amount_refunded')::bigint"
_PG_PLAIN_REFUND = (
    "COALESCE(jsonb_typeof(e.data -> 'amount_refunded'), 'null') = 'null' "
    "OR (e.data ->> 'amount_refunded') ~ '^[0-9]{1,18}$'"
)
_PG_PLAIN_CODE = "COALESCE(jsonb_typeof(e.data -> 'code'), 'null') IN ('null', 'string')"


def _insert_refunds(
    merchant_id: int, zone: zoneinfo.ZoneInfo, start: datetime, end: datetime
) -> int:
    """``_refund_rows`` in one statement: each refund event's step is its total minus the
    one before it (``LAG`` over the payment's refund events, which may lie before
    ``start``)."""
    refunded = f"COALESCE({_PG_REFUNDED}, 0)"
    statuses = list(REFUND_STATUSES)
    odd = [merchant_id, *statuses, *_instants(start, end)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM paylinks_paymentevent e "  # noqa: S608 - fixed SQL fragments only
            "JOIN paylinks_payment p ON p.id = e.payment_id WHERE p.merchant_id = %s "
            "AND e.kind = 'status_changed' AND e.to_status IN (%s, %s) "
            f"AND e.created_at >= %s AND e.created_at < %s AND NOT ({_PG_PLAIN_REFUND}))",
            odd,
        )
        if cursor.fetchone()[0]:
            return _bulk(RefundRollup, _refund_rows(merchant_id, zone, start, end))
        cursor.execute(
            "INSERT INTO paylinks_refundrollup "  # noqa: S608 - fixed SQL fragments only
            "(merchant_id, day, link_id, currency, method, card_brand, refunds, refunded) "
            "SELECT p.merchant_id, (x.created_at AT TIME ZONE %s)::date, p.link_id, p.currency, "
            "p.payment_method_type, p.card_brand, COUNT(*), SUM(x.total - x.before) "
            "FROM ("
            f"  SELECT e.payment_id, e.created_at, {refunded} AS total, "
            f"  LAG({refunded}, 1, 0) OVER (PARTITION BY e.payment_id "
            "    ORDER BY e.created_at, e.id) AS before "
            "  FROM paylinks_paymentevent e "
            "  WHERE e.kind = 'status_changed' AND e.to_status IN (%s, %s) "
            "  AND e.payment_id IN ("
            "    SELECT r.payment_id FROM paylinks_paymentevent r "
            "    JOIN paylinks_payment q ON q.id = r.payment_id WHERE q.merchant_id = %s "
            "    AND r.kind = 'status_changed' AND r.to_status IN (%s, %s) "
            "    AND r.created_at >= %s AND r.created_at < %s)"
            ") x JOIN paylinks_payment p ON p.id = x.payment_id "
            "WHERE x.created_at >= %s AND x.created_at < %s "
            "GROUP BY 1, 2, 3, 4, 5, 6",
            [str(zone), *statuses, *odd, *_instants(start, end)],
        )
        return max(cursor.rowcount, 0)


def _insert_declines(
    merchant_id: int, zone: zoneinfo.ZoneInfo, start: datetime, end: datetime
) -> int:
    """``_decline_rows`` in one statement; an event whose code is not text (none the
    services write) is counted by ``decline_code`` itself and merged in."""
    where = (
        "e.kind = 'attempt_failed' AND p.merchant_id = %s "
        "AND e.created_at >= %s AND e.created_at < %s"
    )
    params = [merchant_id, *_instants(start, end)]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO paylinks_declinerollup "  # noqa: S608 - fixed SQL fragments only
            "(merchant_id, day, link_id, currency, code, attempts) "
            "SELECT p.merchant_id, (e.created_at AT TIME ZONE %s)::date, p.link_id, p.currency, "
            "COALESCE(LEFT(e.data ->> 'code', 60), ''), COUNT(*) "
            "FROM paylinks_paymentevent e JOIN paylinks_payment p ON p.id = e.payment_id "
            f"WHERE {where} AND {_PG_PLAIN_CODE} GROUP BY 1, 2, 3, 4, 5",
            [str(zone), *params],
        )
        written = max(cursor.rowcount, 0)
        cursor.execute(
            "SELECT e.created_at, e.data, p.link_id, p.currency "  # noqa: S608 - fixed SQL fragments only
            "FROM paylinks_paymentevent e JOIN paylinks_payment p ON p.id = e.payment_id "
            f"WHERE {where} AND NOT ({_PG_PLAIN_CODE})",
            params,
        )
        odd: dict[tuple[Any, ...], list[int]] = {}
        for at, data, link_id, currency in cursor.fetchall():
            data = json.loads(data) if isinstance(data, str) else data
            key = (merchant_id, local_day(at, zone), link_id, currency, decline_code(data))
            odd.setdefault(key, [0])[0] += 1
    if odd:
        _upsert(DeclineRollup, sorted(odd.items()))
    return written + len(odd)


def _refund_rows(
    merchant_id: int, zone: zoneinfo.ZoneInfo, start: datetime, end: datetime
) -> Iterator[tuple[tuple[Any, ...], tuple[int, ...]]]:
    """Each refund event in [start, end) as a step: its total minus the one before it."""
    events = list(
        refund_events(
            Q(payment__merchant_id=merchant_id, created_at__gte=start, created_at__lt=end)
        ).values_list(
            "id",
            "payment_id",
            "created_at",
            "data",
            "payment__link_id",
            "payment__currency",
            "payment__payment_method_type",
            "payment__card_brand",
        )
    )
    history: dict[int, list[tuple[datetime, int, int]]] = defaultdict(list)
    payment_ids = sorted({e[1] for e in events})
    for n in range(0, len(payment_ids), 500):
        for pid, at, pk, data in refund_events(
            Q(payment_id__in=payment_ids[n : n + 500])
        ).values_list("payment_id", "created_at", "id", "data"):
            history[pid].append((at, pk, refunded_after(data)))
    for steps in history.values():
        steps.sort()
    for pk, pid, at, data, link_id, currency, method, brand in events:
        steps = history[pid]
        index = next(i for i, s in enumerate(steps) if s[1] == pk)
        before = steps[index - 1][2] if index else 0
        key = (merchant_id, local_day(at, zone), link_id, currency, method, brand)
        yield key, (1, refunded_after(data) - before)


def _decline_rows(
    merchant_id: int, zone: zoneinfo.ZoneInfo, start: datetime, end: datetime
) -> Iterator[tuple[tuple[Any, ...], tuple[int, ...]]]:
    declines = PaymentEvent.objects.filter(
        kind="attempt_failed",
        payment__merchant_id=merchant_id,
        created_at__gte=start,
        created_at__lt=end,
    ).values_list("created_at", "data", "payment__link_id", "payment__currency")
    for at, data, link_id, currency in declines.iterator(chunk_size=2000):
        yield (merchant_id, local_day(at, zone), link_id, currency, decline_code(data)), (1,)


def _bulk(model: type[Model], rows: Iterable[tuple[tuple[Any, ...], tuple[int, ...]]]) -> int:
    merged: dict[tuple[Any, ...], list[int]] = {}
    for key, values in rows:
        total = merged.setdefault(key, [0] * len(values))
        for n, value in enumerate(values):
            total[n] += value
    spec = _SPECS[model]
    model._default_manager.bulk_create(
        [
            model(
                **dict(zip(spec.keys, key, strict=True)), **dict(zip(spec.values, v, strict=True))
            )
            for key, v in merged.items()
        ],
        batch_size=1000,
    )
    return len(merged)
