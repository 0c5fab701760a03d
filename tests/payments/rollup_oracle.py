"""The analytics rollups, computed independently from the raw rows, to check the real ones.

Written out longhand, row by row in Python, without the rollups module: if the service
and this oracle ever disagree, one of them misunderstands what a figure means.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter, defaultdict
from typing import Any

from paylinks.models import LinkView, Merchant, Payment, PaymentEvent, PaymentLink
from paylinks.models.analytics import (
    GROUPINGS,
    DeclineRollup,
    PaymentRollup,
    RefundRollup,
    RollupSummary,
    ViewRollup,
)
from paylinks.models.payments import COMPLETED_STATUSES

LADDER = [step * 10**power for power in range(10) for step in (1, 2, 5)]


def band(amount: int) -> int:
    """Index of the largest 1-2-5 step not above ``amount`` (0 below 2)."""
    return max(0, max((n for n, floor in enumerate(LADDER) if floor <= amount), default=0))


def expected() -> dict[str, Counter[tuple[Any, ...]]]:
    zones = {m.pk: zoneinfo.ZoneInfo(m.timezone) for m in Merchant.objects.all()}
    out: dict[str, Counter[tuple[Any, ...]]] = defaultdict(Counter)

    def day(merchant_id: int, moment: Any) -> Any:
        return moment.astimezone(zones[merchant_id]).date()

    payments = {p.pk: p for p in Payment.objects.all()}
    for p in payments.values():
        if p.status == "pending":
            continue
        key = (
            p.merchant_id,
            day(p.merchant_id, p.created_at),
            p.link_id,
            p.currency,
            p.status,
            p.payment_method_type,
            p.card_brand,
            p.failure_code if p.status == "failed" else "",
            band(p.amount),
        )
        out["payments"][(*key, "payments")] += 1
        out["payments"][(*key, "amount")] += p.amount
        out["payments"][(*key, "refunded")] += p.amount_refunded

    refunded_so_far: dict[int, int] = defaultdict(int)
    for e in PaymentEvent.objects.filter(
        kind="status_changed", to_status__in=["partially_refunded", "refunded"]
    ).order_by("payment_id", "created_at", "id"):
        p = payments[e.payment_id]
        total = int(e.data.get("amount_refunded") or 0)
        key = (
            p.merchant_id,
            day(p.merchant_id, e.created_at),
            p.link_id,
            p.currency,
            p.payment_method_type,
            p.card_brand,
        )
        out["refunds"][(*key, "refunds")] += 1
        out["refunds"][(*key, "refunded")] += total - refunded_so_far[p.pk]
        refunded_so_far[p.pk] = total

    for e in PaymentEvent.objects.filter(kind="attempt_failed"):
        p = payments[e.payment_id]
        key = (p.merchant_id, day(p.merchant_id, e.created_at), p.link_id, p.currency)
        out["declines"][(*key, e.data.get("code", ""), "attempts")] += 1

    for v in LinkView.objects.select_related("link"):
        merchant_id = v.link.merchant_id
        out["views"][(merchant_id, day(merchant_id, v.window_start), v.link_id, "views")] += 1
    out["summary"] = _summaries(out)
    return {name: _nonzero(counter) for name, counter in out.items()}


# The detailed rows' dimension names, per table, as the summary calls them.
DIMENSIONS = {
    "payments": ("link_id", "currency", "status", "method", "card_brand", "code", "amount_band"),
    "refunds": ("link_id", "currency", "method", "card_brand"),
    "declines": ("link_id", "currency", "code"),
    "views": ("link_id",),
}
FIGURES = {
    "payments": "payments",
    "views": "views",
    "declines": "attempts",
    "refunds": "refunds",
    "amount": "amount",
    "refunded": "refunded",
}
EMPTY = {"link_id": 0, "currency": "", "status": "", "method": "", "card_brand": "", "code": ""}
EMPTY["amount_band"] = -1


def _summaries(out: dict[str, Counter[tuple[Any, ...]]]) -> Counter[tuple[Any, ...]]:
    """Each grouping: the detailed rows summed over the dimensions it leaves out."""
    summary: Counter[tuple[Any, ...]] = Counter()
    for kind, names in DIMENSIONS.items():
        for (merchant_id, day, *values, figure), number in out[kind].items():
            named = dict(zip(names, values, strict=True))
            column = {"amount": "amount", "refunded": "refunded"}.get(figure, "n")
            for g in GROUPINGS:
                if g.kind != kind:
                    continue
                when = day.replace(day=1) if g.monthly else day
                dims = tuple(named[d] if d in g.dims else EMPTY[d] for d in EMPTY)
                summary[(merchant_id, g.id, when, *dims, column)] += number
    return summary


def stored() -> dict[str, Counter[tuple[Any, ...]]]:
    tables = {
        "payments": (
            PaymentRollup,
            (
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
            ("payments", "amount", "refunded"),
        ),
        "refunds": (
            RefundRollup,
            ("merchant_id", "day", "link_id", "currency", "method", "card_brand"),
            ("refunds", "refunded"),
        ),
        "declines": (
            DeclineRollup,
            ("merchant_id", "day", "link_id", "currency", "code"),
            ("attempts",),
        ),
        "views": (ViewRollup, ("merchant_id", "day", "link_id"), ("views",)),
        "summary": (
            RollupSummary,
            ("merchant_id", "grouping", "day", *EMPTY),
            ("n", "amount", "refunded"),
        ),
    }
    out: dict[str, Counter[tuple[Any, ...]]] = {}
    for name, (model, keys, values) in tables.items():
        counter: Counter[tuple[Any, ...]] = Counter()
        for row in model._default_manager.values(*keys, *values):
            for value in values:
                counter[(*(row[k] for k in keys), value)] += row[value]
        out[name] = _nonzero(counter)
    return {name: counter for name, counter in out.items() if counter}


def _nonzero(counter: Counter[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    """Without the zero entries (a rollup row a payment moved out of), negatives kept."""
    return Counter({key: value for key, value in counter.items() if value != 0})


def assert_exact() -> None:
    want, have = expected(), stored()
    for name in sorted(set(want) | set(have)):
        mine, theirs = want.get(name, Counter()), have.get(name, Counter())
        wrong = {
            key: (theirs.get(key, 0), mine.get(key, 0))
            for key in set(mine) | set(theirs)
            if theirs.get(key, 0) != mine.get(key, 0)
        }
        assert not wrong, f"{name}: (stored, expected) differ at {wrong}"
    paid: Counter[int] = Counter()
    for link_id, quantity in Payment.objects.filter(status__in=COMPLETED_STATUSES).values_list(
        "link_id", "quantity"
    ):
        paid[link_id] += quantity
    counters = dict(PaymentLink.objects.values_list("pk", "units_sold"))
    wrong_links = {
        pk: (count, paid.get(pk, 0)) for pk, count in counters.items() if count != paid.get(pk, 0)
    }
    assert not wrong_links, f"links' units_sold (stored, counted) differ: {wrong_links}"
